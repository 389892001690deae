// A TLS alert that tells a refused client why (RFC 8446 §6.2): unknown_ca, certificate_expired…
// instead of a bare close. Node gives a server no way to fail the handshake from a verify callback
// (its OpenSSL callback accepts every chain and JavaScript judges after the handshake) nor to send
// an alert, so the record is written here, onto the TCP socket, at the one moment it is valid:
// synchronously in the handshake-done callback, before Node flushes OpenSSL's last flight.
// - TLS 1.2: the client has sent its Finished and waits for the server's ChangeCipherSpec, which is
//   still unsent: a plaintext alert record is what it reads next.
// - TLS 1.3: the client finished; the server has written nothing under its application traffic
//   key yet (tickets come after), so an alert encrypted with that key at sequence number 0 is the
//   next record. The key derives from SERVER_TRAFFIC_SECRET_0, which Node's 'keylog' event gives.
// Pure: bytes out; the listener decides when (src/listener/refusal-alerts.ts).
import { createCipheriv, createHmac } from "node:crypto";
import type { HandshakeFailureReason } from "../observability/metrics.js";

/** TLS AlertDescription values (RFC 8446 §6). */
export const ALERT = {
  bad_certificate: 42,
  unsupported_certificate: 43,
  certificate_revoked: 44,
  certificate_expired: 45,
  unknown_ca: 48,
  access_denied: 49,
} as const;

/** The alert a refusal reason is announced with; undefined: no alert of ours (OpenSSL sent one, or nothing fits). */
export function alertFor(reason: HandshakeFailureReason): number | undefined {
  switch (reason) {
    case "untrusted": return ALERT.unknown_ca;
    case "expired": return ALERT.certificate_expired;
    case "revoked": return ALERT.certificate_revoked;
    case "bad_purpose": return ALERT.unsupported_certificate;
    case "peer_not_allowed": return ALERT.access_denied;
    case "other": return ALERT.bad_certificate;
    default: return undefined;
  }
}

const FATAL = 2;
const CONTENT_ALERT = 21;
const CONTENT_APPLICATION_DATA = 23;

/** A plaintext TLS 1.2 fatal alert record. */
export function plaintextAlertRecord(description: number): Buffer {
  return Buffer.from([CONTENT_ALERT, 3, 3, 0, 2, FATAL, description]);
}

/** HKDF-Expand-Label (RFC 8446 §7.1) with an empty context, for lengths up to one hash block. */
function expandLabel(hash: "sha256" | "sha384", secret: Buffer, label: string, length: number): Buffer {
  const full = Buffer.from(`tls13 ${label}`, "latin1");
  const info = Buffer.concat([Buffer.from([length >> 8, length & 0xff, full.length]), full, Buffer.from([0, 1])]);
  return createHmac(hash, secret).update(info).digest().subarray(0, length);
}

/**
 * A TLS 1.3 fatal alert record protected with the server's application traffic secret at
 * sequence number 0; undefined for a suite outside the policy's two AES-GCM ones.
 */
export function encryptedAlertRecord(suite: string, serverTrafficSecret: Buffer, description: number): Buffer | undefined {
  const aes256 = suite === "TLS_AES_256_GCM_SHA384";
  if (!aes256 && suite !== "TLS_AES_128_GCM_SHA256") return undefined;
  const hash = aes256 ? "sha384" : "sha256";
  const key = expandLabel(hash, serverTrafficSecret, "key", aes256 ? 32 : 16);
  const nonce = expandLabel(hash, serverTrafficSecret, "iv", 12); // XOR with sequence number 0: unchanged
  const header = Buffer.from([CONTENT_APPLICATION_DATA, 3, 3, 0, 3 + 16]);
  const cipher = createCipheriv(aes256 ? "aes-256-gcm" : "aes-128-gcm", key, nonce);
  cipher.setAAD(header);
  const body = Buffer.concat([cipher.update(Buffer.from([FATAL, description, CONTENT_ALERT])), cipher.final(), cipher.getAuthTag()]);
  return Buffer.concat([header, body]);
}
