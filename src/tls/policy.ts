// The one TLS policy of trunkgate, used by every listener and every upstream connection.
// TLS 1.3 preferred, TLS 1.2 fallback, nothing lower; exactly these suites; ECDHE groups X25519,
// P-256, P-384; no renegotiation. Config may narrow the suites (checked by the schema), never widen.
import { constants } from "node:crypto";
import type { SecureContextOptions } from "node:tls";

export const TLS13_SUITES = ["TLS_AES_256_GCM_SHA384", "TLS_AES_128_GCM_SHA256"] as const;

export const TLS12_CIPHERS = [
  "ECDHE-ECDSA-AES256-GCM-SHA384",
  "ECDHE-ECDSA-AES128-GCM-SHA256",
  "ECDHE-RSA-AES256-GCM-SHA384",
  "ECDHE-RSA-AES128-GCM-SHA256",
  "ECDHE-ECDSA-AES256-SHA384",
  "ECDHE-ECDSA-AES128-SHA256",
  "ECDHE-RSA-AES256-SHA384",
  "ECDHE-RSA-AES128-SHA256",
] as const;

export const ECDH_CURVES = "X25519:P-256:P-384";

export interface PolicyChoice {
  tls12Ciphers: readonly string[];
  tls13Suites: readonly string[];
  minVersion: "TLSv1.2" | "TLSv1.3";
}

export const DEFAULT_POLICY: PolicyChoice = {
  tls12Ciphers: TLS12_CIPHERS,
  tls13Suites: TLS13_SUITES,
  minVersion: "TLSv1.2",
};

/**
 * Node hands one `ciphers` string to OpenSSL for both versions: the TLS 1.3 suites must be named in
 * it, or OpenSSL keeps its default 1.3 list (which includes CHACHA20-POLY1305).
 */
export function cipherString(p: PolicyChoice = DEFAULT_POLICY): string {
  return [...p.tls13Suites, ...p.tls12Ciphers].join(":");
}

/**
 * Options shared by server and client contexts. SSL_OP_NO_RENEGOTIATION makes OpenSSL refuse a
 * client-initiated renegotiation (Node allows a few by default); listeners also call
 * disableRenegotiation() on each socket. TLS compression is off in OpenSSL 3 already.
 */
export function policyOptions(p: PolicyChoice = DEFAULT_POLICY): SecureContextOptions {
  return {
    minVersion: p.minVersion,
    maxVersion: "TLSv1.3",
    ciphers: cipherString(p),
    ecdhCurve: ECDH_CURVES,
    honorCipherOrder: true,
    secureOptions: constants.SSL_OP_NO_RENEGOTIATION | constants.SSL_OP_CIPHER_SERVER_PREFERENCE,
  };
}
