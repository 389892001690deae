// Who is on the other end: a verified client certificate is matched against `peers`. Nobody who
// matches no entry gets in, whatever CA issued the certificate; no peers configured = nobody.
import type { X509Certificate } from "node:crypto";
import type { PeerConfig } from "../config/schema/index.js";
import { certificateNames, spkiSha256 } from "./certificate-names.js";

export interface PeerIdentity {
  /** The matching peer, or undefined when the certificate belongs to nobody configured. */
  match(cert: X509Certificate): PeerConfig | undefined;
}

/** `*.example.com` in config matches exactly one left-most label. */
function dnsMatches(pattern: string, name: string): boolean {
  if (pattern.startsWith("*.")) {
    const dot = name.indexOf(".");
    return dot > 0 && name.slice(dot + 1) === pattern.slice(2);
  }
  return pattern === name;
}

/** SIP URIs compare case-insensitively on scheme and host (RFC 5922 §7.2 uses the domain). */
function uriMatches(pattern: string, uri: string): boolean {
  return pattern.toLowerCase() === uri.toLowerCase();
}

export function createPeerIdentity(peers: readonly PeerConfig[]): PeerIdentity {
  const compiled = peers.map((p) => ({
    peer: p,
    dns: p.match.dnsNames.map((d) => d.toLowerCase()),
    uris: p.match.uris,
    cns: p.match.commonNames,
    pins: new Set(p.match.spkiSha256),
  }));
  return {
    match(cert) {
      if (compiled.length === 0) return undefined;
      const names = certificateNames(cert);
      const hasSan = names.dnsNames.length + names.uris.length > 0;
      let pin: string | undefined;
      for (const c of compiled) {
        if (hasSan) {
          if (c.dns.length && names.dnsNames.some((n) => c.dns.some((d) => dnsMatches(d, n)))) return c.peer;
          if (c.uris.length && names.uris.some((u) => c.uris.some((p) => uriMatches(p, u)))) return c.peer;
        } else if (names.commonName !== undefined && c.cns.includes(names.commonName)) {
          return c.peer;
        }
        if (c.pins.size > 0) {
          pin ??= spkiSha256(cert);
          if (c.pins.has(pin)) return c.peer;
        }
      }
      return undefined;
    },
  };
}
