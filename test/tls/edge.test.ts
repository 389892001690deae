// The mTLS edge end to end: the real App, real TLS, openssl s_client and Node clients as peers.
import t from "tap";
import { connect, type ConnectionOptions, type TLSSocket } from "node:tls";
import { makeTestPki, type CertFiles, type TestPki } from "../helpers/pki.js";
import { startEdge, metricTotal, metricValue, type RunningEdge } from "../helpers/edge.js";
import { sClient, waitFor } from "../helpers/openssl.js";
import { TLS12_CIPHERS, TLS13_SUITES } from "../../src/tls/policy.js";
import { patience } from "../helpers/time.js";

let pki: TestPki;
let edge: RunningEdge;
let port: number;

t.before(async () => {
  pki = await makeTestPki();
  edge = await startEdge(pki, { config: { tls: { trust: { crls: [pki.crl.path] } } } });
  port = edge.port("sip");
});
t.teardown(async () => {
  await edge?.stop();
  await pki?.cleanup();
});

const clientArgs = () => ["-cert", pki.client.certPath, "-key", pki.client.keyPath, "-CAfile", pki.ca.certPath];

/** Connects with Node; resolves once the server has accepted (socket still open after a round trip) or refused. */
function nodeConnect(opts: ConnectionOptions): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: "127.0.0.1", port, ca: pki.ca.cert, ...opts }, () => resolve(s));
    s.once("error", reject);
    s.setTimeout(patience(5000), () => s.destroy(new Error("timeout")));
  });
}

/** Resolves with how a connection ended: "closed" (refused after the handshake) or the error code. */
function outcome(cert: CertFiles | undefined, extra: ConnectionOptions = {}): Promise<string> {
  return new Promise((resolve) => {
    const s = connect({
      host: "127.0.0.1",
      port,
      ca: pki.ca.cert,
      ...(cert ? { cert: cert.cert, key: cert.key } : {}),
      ...extra,
    });
    s.on("error", (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
    s.on("close", () => resolve("closed"));
    s.resume();
    s.setTimeout(patience(5000), () => s.destroy(new Error("timeout")));
  });
}

async function failures(reason: string): Promise<number> {
  return metricTotal(await edge.metrics(), "trunkgate_tls_handshake_failures_total", { listener: "sip", reason });
}

t.test("TLS 1.3 is chosen when offered, with the server's preferred suite", async (t) => {
  const r = await sClient(port, clientArgs());
  t.equal(r.protocol, "TLSv1.3", r.out);
  t.equal(r.cipher, "TLS_AES_256_GCM_SHA384");
  await waitFor(async () => metricValue(await edge.metrics(), 'trunkgate_tls_handshakes_total{listener="sip",protocol="TLSv1.3",cipher="TLS_AES_256_GCM_SHA384",peer="dev-trunk"}') >= 1);
});

t.test("every TLS 1.3 suite of the policy is accepted", async (t) => {
  for (const suite of TLS13_SUITES) {
    const r = await sClient(port, [...clientArgs(), "-tls1_3", "-ciphersuites", suite]);
    t.equal(r.cipher, suite, r.out);
  }
});

t.test("every TLS 1.2 cipher of the policy is accepted (RSA and ECDSA certificates served together)", async (t) => {
  for (const cipher of TLS12_CIPHERS) {
    const r = await sClient(port, [...clientArgs(), "-tls1_2", "-cipher", cipher]);
    t.equal(r.protocol, "TLSv1.2", `${cipher}: ${r.out}`);
    t.equal(r.cipher, cipher);
  }
});

t.test("suites outside the policy are refused", async (t) => {
  const refused12 = [
    "ECDHE-ECDSA-CHACHA20-POLY1305",
    "ECDHE-RSA-CHACHA20-POLY1305",
    "ECDHE-RSA-AES128-SHA",
    "ECDHE-ECDSA-AES256-SHA",
    "AES128-GCM-SHA256",
    "AES256-SHA256",
    "DHE-RSA-AES128-GCM-SHA256",
  ];
  const before = await failures("no_shared_cipher");
  for (const cipher of refused12) {
    const r = await sClient(port, [...clientArgs(), "-tls1_2", "-cipher", `${cipher}:@SECLEVEL=0`]);
    t.equal(r.cipher, undefined, `${cipher} must be refused: ${r.out}`);
    t.not(r.code, 0);
  }
  const r = await sClient(port, [...clientArgs(), "-tls1_3", "-ciphersuites", "TLS_CHACHA20_POLY1305_SHA256"]);
  t.equal(r.cipher, undefined, `CHACHA20 on TLS 1.3 must be refused: ${r.out}`);
  await waitFor(async () => (await failures("no_shared_cipher")) >= before + refused12.length + 1, 5000, "no_shared_cipher count");
});

t.test("TLS 1.0 and 1.1 are refused and counted as protocol_version", async (t) => {
  const before = await failures("protocol_version");
  for (const v of ["-tls1", "-tls1_1"]) {
    const r = await sClient(port, [...clientArgs(), v, "-cipher", "DEFAULT:@SECLEVEL=0"]);
    t.equal(r.protocol, undefined, `${v}: ${r.out}`);
    t.not(r.code, 0);
  }
  await waitFor(async () => (await failures("protocol_version")) >= before + 2, 5000, "protocol_version count");
});

t.test("the RSA certificate is served to RSA-only clients, ECDSA to the rest", async (t) => {
  const rsa = await nodeConnect({ cert: pki.client.cert, key: pki.client.key, sigalgs: "rsa_pss_rsae_sha256", servername: "localhost" });
  t.equal(rsa.getPeerX509Certificate()?.publicKey.asymmetricKeyType, "rsa");
  rsa.destroy();
  const ec = await nodeConnect({ cert: pki.client.cert, key: pki.client.key, servername: "localhost" });
  t.equal(ec.getPeerX509Certificate()?.publicKey.asymmetricKeyType, "ec");
  ec.destroy();
});

t.test("client-initiated renegotiation is refused", async (t) => {
  const s = await nodeConnect({ cert: pki.client.cert, key: pki.client.key, maxVersion: "TLSv1.2", servername: "localhost" });
  t.equal(s.getProtocol(), "TLSv1.2");
  const result = await new Promise<string>((resolve) => {
    s.on("error", (e: NodeJS.ErrnoException) => resolve(`error ${e.code ?? e.message}`));
    s.on("close", () => resolve("closed"));
    const ok = s.renegotiate({ rejectUnauthorized: true }, (err) => resolve(err ? `refused ${err.message}` : "renegotiated"));
    if (!ok) resolve("refused locally");
  });
  t.not(result, "renegotiated", result);
  s.destroy();
});

t.test("bad client certificates are refused and counted under their reason", async (t) => {
  const cases: [string, CertFiles | undefined, string][] = [
    ["none", undefined, "no_certificate"],
    ["self-signed", pki.selfSigned, "untrusted"],
    ["foreign CA", pki.foreign, "untrusted"],
    ["expired", pki.expired, "expired"],
    ["not yet valid", pki.notYetValid, "expired"],
    ["no clientAuth EKU", pki.serverAuthOnly, "bad_purpose"],
    ["revoked", pki.revoked, "revoked"],
    ["unknown peer", pki.unknownPeer, "peer_not_allowed"],
  ];
  for (const [what, cert, reason] of cases) {
    const before = await failures(reason);
    const end = await outcome(cert);
    t.not(end, "timeout", `${what}: connection ended (${end})`);
    await waitFor(async () => (await failures(reason)) === before + 1, 5000, `${what} counted as ${reason}`);
    t.pass(`${what} refused as ${reason}`);
  }
});

t.test("openssl s_client without -cert is refused and counted as no_certificate", async (t) => {
  const before = await failures("no_certificate");
  const r = await sClient(port, ["-CAfile", pki.ca.certPath], { holdOpen: true });
  t.match(r.out, /closed|certificate required|alert|errno|error/i, r.out);
  await waitFor(async () => (await failures("no_certificate")) === before + 1);
});

t.test("allowed identities: SAN dNSName, CN only without SAN, URI SAN needs a uris entry, intermediate chain", async (t) => {
  const ok = await nodeConnect({ cert: pki.clientCnOnly.cert, key: pki.clientCnOnly.key, servername: "localhost" });
  ok.destroy();
  const ok2 = await nodeConnect({ cert: pki.clientRsa.cert, key: pki.clientRsa.key, servername: "localhost" });
  ok2.destroy();
  const ok3 = await nodeConnect({ cert: pki.viaIntermediate.chain, key: pki.viaIntermediate.key, servername: "localhost" });
  ok3.destroy();
  const before = await failures("peer_not_allowed");
  t.equal(await outcome(pki.clientUri), "ERR_SSL_TLSV1_ALERT_ACCESS_DENIED", "URI-only certificate matches no peer here: refused with access_denied");
  await waitFor(async () => (await failures("peer_not_allowed")) === before + 1);
});

t.test("active connections gauge and handshake histogram", async (t) => {
  const s = await nodeConnect({ cert: pki.client.cert, key: pki.client.key, servername: "localhost" });
  await waitFor(async () => metricValue(await edge.metrics(), 'trunkgate_active_connections{listener="sip"}') >= 1);
  const text = await edge.metrics();
  t.ok(metricValue(text, 'trunkgate_tls_handshake_duration_seconds_count{listener="sip"}') >= 1);
  t.match(text, /trunkgate_trusted_root_not_after_timestamp_seconds\{subject=".*Baltimore CyberTrust Root.*"\} 1747094340/);
  t.match(text, /trunkgate_certificate_not_after_timestamp_seconds\{role="server"/);
  t.match(text, /trunkgate_build_info\{version="/);
  t.match(text, /process_cpu_seconds_total/);
  s.destroy();
});

t.test("startup warns that the bundled Baltimore root has expired", async (t) => {
  t.ok(edge.logs.some((l) => l.includes("trusted root has expired") && l.includes("Baltimore")));
});

t.test("admin endpoints", async (t) => {
  t.equal((await fetch(`${edge.adminUrl}/healthz`)).status, 200);
  t.equal((await fetch(`${edge.adminUrl}/readyz`)).status, 200);
  t.equal((await fetch(`${edge.adminUrl}/nope`)).status, 404);
  t.equal((await fetch(`${edge.adminUrl}/metrics`, { method: "POST" })).status, 405);
});

t.test("no TLS session resumption unless tls.sessionResumption (trunks keep connections; tickets cost CPU)", async (t) => {
  const first = await nodeConnect({ cert: pki.client.cert, key: pki.client.key, servername: "localhost" });
  let session: Buffer | undefined;
  first.on("session", (s: Buffer) => (session = s));
  // A CRLF keepalive ping answered by a pong: by then any ticket has arrived (sent right after the handshake).
  const pong = new Promise<void>((resolve) => first.once("data", () => resolve()));
  first.write("\r\n\r\n");
  await pong;
  first.destroy();
  const second = await nodeConnect({ cert: pki.client.cert, key: pki.client.key, servername: "localhost", ...(session ? { session } : {}) });
  t.equal(second.isSessionReused(), false);
  second.destroy();
});
