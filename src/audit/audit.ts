// `trunkgate audit`: is a carrier's endpoint ready to connect? TLS against trunkgate's policy,
// the server certificate against its trust store and peers, mutual TLS with its client
// certificate, then SIP. Everything it judges by comes from the same modules the proxy uses.
import { X509Certificate } from "node:crypto";
import type { Config } from "../config/schema/index.js";
import { splitPem } from "../tls/pem.js";
import type { TlsMaterial } from "../tls/material.js";
import { certificateFindings, oneLine } from "./certificate-checks.js";
import { isReady, type AuditReport, type Finding } from "./findings.js";
import { auditSip } from "./sip-checks.js";
import { auditTls } from "./tls-checks.js";
import type { ClientIdentity, ProbeTarget } from "./tls-probe.js";

export interface AuditOptions {
  host: string;
  port: number;
  serverName: string | undefined;
  expectedPeer: string | undefined;
  invite: string | undefined;
  timeoutMs: number;
  /** Overrides tls.clientCertificate (PEM texts). */
  identity: ClientIdentity | undefined;
  now?: Date;
}

/** The trusted root a certificate file's chain ends at, by name; "its issuer" when none is. */
function rootOf(chainPem: string, roots: readonly X509Certificate[]): string {
  const certs = splitPem(chainPem, "CERTIFICATE").map((p) => new X509Certificate(p));
  let last = certs[certs.length - 1];
  for (let i = 0; i < 8 && last; i++) {
    const issuer: X509Certificate | undefined = roots.find((r) => last!.checkIssued(r));
    if (!issuer) break;
    if (issuer.fingerprint256 === last.fingerprint256 || issuer.checkIssued(issuer)) return /CN=([^\n]*)/.exec(issuer.subject)?.[1] ?? oneLine(issuer.subject);
    last = issuer;
  }
  return `its issuer (${oneLine(certs[certs.length - 1]?.issuer ?? "unknown")})`;
}

export async function runAudit(cfg: Config, material: TlsMaterial, o: AuditOptions): Promise<AuditReport> {
  const roots = material.trust.roots.map((r) => r.cert);
  const identity: ClientIdentity = o.identity ?? {
    cert: material.client.cert,
    key: material.client.key,
    ...(material.client.passphrase !== undefined ? { passphrase: material.client.passphrase } : {}),
  };
  const target: ProbeTarget = { host: o.host, port: o.port, serverName: o.serverName, ca: material.trust.caPems, timeoutMs: o.timeoutMs };
  const findings: Finding[] = [];
  const tls = await auditTls(target, identity);
  findings.push(...tls.findings);
  if (tls.baseline.chain.length > 0) {
    findings.push(...certificateFindings({
      chain: tls.baseline.chain,
      authorized: tls.baseline.authorized,
      authorizationError: tls.baseline.authorizationError,
      trustedRoots: roots,
      host: o.host,
      serverName: o.serverName,
      port: o.port,
      peers: cfg.peers,
      expectedPeer: o.expectedPeer,
      now: o.now ?? new Date(),
    }));
  }
  const leaf = new X509Certificate(identity.cert);
  findings.push(...(await auditSip(target, identity, {
    clientSubject: /CN=([^\n]*)/.exec(leaf.subject)?.[1] ?? oneLine(leaf.subject),
    clientRoot: rootOf(identity.cert, roots),
    invite: o.invite,
  })));
  return {
    target: `${o.host.includes(":") ? `[${o.host}]` : o.host}:${o.port}`,
    serverName: o.serverName,
    startedAt: (o.now ?? new Date()).toISOString(),
    findings,
    ready: isReady(findings),
  };
}
