// TLS checks of a carrier endpoint against trunkgate's one TLS policy (src/tls/policy.ts): which
// versions it accepts, which of the ten suites and which others, the key-exchange groups, and
// renegotiation. Every probe presents trunkgate's client certificate, since a mutual-TLS endpoint
// may refuse a handshake without one; a refusal *of the certificate* still proves the version,
// suite or group was accepted, because certificates are judged after those are agreed.
import { getCiphers } from "node:tls";
import { ECDH_CURVES, TLS12_CIPHERS, TLS13_SUITES, policyOptions } from "../tls/policy.js";
import { finding, type Finding } from "./findings.js";
import { probeTls, type ClientIdentity, type ProbeResult, type ProbeTarget } from "./tls-probe.js";

const CERT_ALERTS = new Set([
  "alert unknown_ca",
  "alert bad_certificate",
  "alert certificate_unknown",
  "alert certificate_required",
  "alert certificate_expired",
  "alert certificate_revoked",
  "alert unsupported_certificate",
  "alert access_denied",
]);

/** The server agreed version, suite and group (it may still have refused our certificate). */
export function negotiated(r: ProbeResult): boolean {
  return r.ok || (r.error !== undefined && CERT_ALERTS.has(r.error));
}

export function isCertificateRefusal(r: ProbeResult): boolean {
  return !r.ok && r.error !== undefined && CERT_ALERTS.has(r.error);
}

/** TLS 1.3 suites OpenSSL knows beyond the policy's two. */
const OTHER_TLS13 = ["TLS_CHACHA20_POLY1305_SHA256", "TLS_AES_128_CCM_SHA256"];

/** Every TLS ≤ 1.2 cipher this OpenSSL can offer that the policy does not list. */
function otherTls12(): string[] {
  const policy = new Set<string>(TLS12_CIPHERS);
  return getCiphers()
    .map((c) => c.toUpperCase())
    .filter((c) => !c.startsWith("TLS_") && !policy.has(c));
}

/** Without forward secrecy, or with a broken cipher: a failure, not just outside the policy. */
function isWeak(cipher: string): boolean {
  if (cipher.startsWith("TLS_")) return false; // every TLS 1.3 suite is AEAD with (EC)DHE
  const fs = cipher.startsWith("ECDHE-") || cipher.startsWith("DHE-");
  return !fs || /(^|-)(RC4|DES|3DES|NULL|EXP|MD5|ADH|AECDH|PSK|SRP|CAMELLIA|SEED|IDEA|ARIA)(-|$)/.test(cipher) || cipher.includes("CBC3");
}

const GROUP_NAMES: Record<string, string> = { X25519: "X25519", "P-256": "prime256v1", "P-384": "secp384r1" };
const OTHER_GROUPS = ["P-521", "ffdhe2048", "ffdhe3072"];

export interface TlsAudit {
  findings: Finding[];
  /** The handshake with the real policy (what trunkgate itself would negotiate). */
  baseline: ProbeResult;
}

export async function auditTls(t: ProbeTarget, identity: ClientIdentity): Promise<TlsAudit> {
  const f: Finding[] = [];
  const probe = (o: Parameters<typeof probeTls>[1]) => probeTls(t, { identity, ...o });
  const policy = policyOptions();
  const baseline = await probe({ minVersion: policy.minVersion, maxVersion: policy.maxVersion, ciphers: policy.ciphers as string, ecdhCurve: ECDH_CURVES });
  if (negotiated(baseline)) {
    f.push(finding("tls", "tls.policy", "pass", `handshake with trunkgate's policy: ${baseline.protocol ?? "agreed"}${baseline.standardName ? ` ${baseline.standardName}` : ""}${baseline.group ? `, group ${baseline.group}` : ""}`));
  } else {
    f.push(finding("tls", "tls.policy", "fail", `no handshake with trunkgate's TLS policy (${baseline.error ?? "failed"})`,
      "accept TLS 1.3 or 1.2 with at least one of the ten suites in trunkgate's TLS policy (README \"TLS policy\")"));
  }

  // Versions: below 1.2 must be refused; 1.3 should be there and preferred. Version probes offer
  // OpenSSL's whole default list, so that only the version decides (suites are checked next).
  for (const [v, label] of [["TLSv1", "TLS 1.0"], ["TLSv1.1", "TLS 1.1"]] as const) {
    const r = await probe({ minVersion: v, maxVersion: v, ciphers: "DEFAULT:@SECLEVEL=0" });
    const id = `tls.version.${v === "TLSv1" ? "tls1_0" : "tls1_1"}`;
    f.push(negotiated(r)
      ? finding("tls", id, "fail", `accepts ${label}`, `disable ${label} (and anything below TLS 1.2)`)
      : finding("tls", id, "pass", `refuses ${label}`));
  }
  const v12 = await probe({ minVersion: "TLSv1.2", maxVersion: "TLSv1.2" });
  const v13 = await probe({ minVersion: "TLSv1.3", maxVersion: "TLSv1.3" });
  if (negotiated(v13)) f.push(finding("tls", "tls.version.tls1_3", "pass", "accepts TLS 1.3"));
  else f.push(finding("tls", "tls.version.tls1_3", "warn", "does not accept TLS 1.3", "enable TLS 1.3 (trunkgate prefers it)"));
  f.push(finding("tls", "tls.version.tls1_2", negotiated(v12) ? "pass" : "info", negotiated(v12) ? "accepts TLS 1.2 (fallback)" : "does not accept TLS 1.2 (TLS 1.3 only)"));
  if (negotiated(v13) && baseline.ok && baseline.protocol === "TLSv1.2") {
    f.push(finding("tls", "tls.version.preference", "warn", "negotiates TLS 1.2 although it accepts TLS 1.3", "prefer TLS 1.3"));
  }

  // Suites: each of the ten alone, then whatever else it accepts.
  const accepted: string[] = [];
  for (const s of TLS13_SUITES) if (negotiated(await probe({ minVersion: "TLSv1.3", maxVersion: "TLSv1.3", ciphers: s }))) accepted.push(s);
  for (const s of TLS12_CIPHERS) if (negotiated(await probe({ minVersion: "TLSv1.2", maxVersion: "TLSv1.2", ciphers: s }))) accepted.push(s);
  f.push(accepted.length > 0
    ? finding("tls", "tls.suites.policy", "pass", `accepts ${accepted.length} of the ten policy suites: ${accepted.join(", ")}`)
    : finding("tls", "tls.suites.policy", "fail", "accepts none of the ten policy suites", "enable TLS_AES_256_GCM_SHA384 / TLS_AES_128_GCM_SHA256 (TLS 1.3) or ECDHE-*-AES*-GCM (TLS 1.2)"));
  const others: string[] = [];
  for (const s of OTHER_TLS13) if (negotiated(await probe({ minVersion: "TLSv1.3", maxVersion: "TLSv1.3", ciphers: s }))) others.push(s);
  // Offer every other TLS 1.2 cipher at once; each one the server picks is removed and offered
  // again without it, so this costs one handshake per accepted suite plus one.
  let offer = otherTls12();
  for (let i = 0; i < 40 && offer.length > 0; i++) {
    const r = await probe({ minVersion: "TLSv1", maxVersion: "TLSv1.2", ciphers: `${offer.join(":")}:@SECLEVEL=0` });
    if (!r.ok || !r.cipher) break;
    const picked = r.cipher.toUpperCase();
    others.push(picked);
    offer = offer.filter((c) => c !== picked);
  }
  for (const s of others) {
    f.push(isWeak(s)
      ? finding("tls", `tls.suites.other.${s}`, "fail", `accepts ${s} (weak, outside trunkgate's policy)`, `disable ${s}`)
      : finding("tls", `tls.suites.other.${s}`, "warn", `accepts ${s} (outside trunkgate's ten suites)`, `disable ${s}: trunkgate never offers it`));
  }
  if (others.length === 0) f.push(finding("tls", "tls.suites.other", "pass", "accepts no suite outside the policy"));

  // Key-exchange groups: ours one by one, then a few others for information (default suites, so
  // that only the group decides).
  const groups: string[] = [];
  for (const g of ECDH_CURVES.split(":")) if (negotiated(await probe({ ecdhCurve: g }))) groups.push(g);
  f.push(groups.length > 0
    ? finding("tls", "tls.groups", "pass", `key exchange with ${groups.join(", ")}${baseline.group ? ` (picks ${Object.entries(GROUP_NAMES).find(([, n]) => n === baseline.group)?.[0] ?? baseline.group} by default)` : ""}`)
    : finding("tls", "tls.groups", "fail", `none of trunkgate's key-exchange groups (${ECDH_CURVES.replaceAll(":", ", ")}) accepted`, "enable X25519 or P-256"));
  const otherGroups: string[] = [];
  for (const g of OTHER_GROUPS) if (negotiated(await probe({ ecdhCurve: g }))) otherGroups.push(g);
  if (otherGroups.length > 0) f.push(finding("tls", "tls.groups.other", "info", `also accepts ${otherGroups.join(", ")} (trunkgate never offers them)`));

  f.push(negotiated(v12) ? await renegotiation(t, identity) : finding("tls", "tls.renegotiation", "pass", "no TLS 1.2: renegotiation impossible"));
  return { findings: f, baseline };
}

/** A client-initiated renegotiation on a TLS 1.2 connection must be refused. */
async function renegotiation(t: ProbeTarget, identity: ClientIdentity): Promise<Finding> {
  const r = await probeTls(t, { identity, minVersion: "TLSv1.2", maxVersion: "TLSv1.2", keepOpen: true });
  const s = r.socket;
  if (!s) return finding("tls", "tls.renegotiation", "info", `renegotiation not tested (${r.error ?? "no TLS 1.2 connection"})`);
  const accepted = await new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), t.timeoutMs);
    s.once("error", () => { clearTimeout(timer); resolve(false); });
    const started = s.renegotiate({ rejectUnauthorized: false }, (err) => { clearTimeout(timer); resolve(!err); });
    if (!started) { clearTimeout(timer); resolve(false); }
  });
  s.destroy();
  return accepted
    ? finding("tls", "tls.renegotiation", "warn", "accepts client-initiated renegotiation", "disable renegotiation (a CPU denial-of-service lever)")
    : finding("tls", "tls.renegotiation", "pass", "refuses client-initiated renegotiation");
}
