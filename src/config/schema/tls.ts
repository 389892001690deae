import { z } from "zod";
import { filePath } from "./common.js";
import { TLS12_CIPHERS, TLS13_SUITES } from "../../tls/policy.js";

const keyPair = z.strictObject({ cert: filePath, key: filePath, passphraseFile: filePath.optional() });

/** Config may narrow the cipher list, never widen it: anything outside the policy is an error. */
const cipherList = (allowed: readonly string[]) =>
  z
    .array(z.string())
    .min(1)
    .refine((xs) => xs.every((x) => allowed.includes(x)), {
      message: `may only narrow the policy; allowed: ${allowed.join(", ")}`,
    });

export const tlsSchema = z
  .strictObject({
    certificates: z.array(keyPair).min(1).default([
      { cert: "certs/dev/server-ecdsa.pem", key: "certs/dev/server-ecdsa.key" },
      { cert: "certs/dev/server-rsa.pem", key: "certs/dev/server-rsa.key" },
    ]),
    clientCertificate: keyPair.default({ cert: "certs/dev/upstream-client.pem", key: "certs/dev/upstream-client.key" }),
    trust: z
      .strictObject({
        bundledRoots: z.boolean().default(true),
        extraRoots: z.array(filePath).default(["certs/dev/ca.pem"]),
        crls: z.array(filePath).default([]),
      })
      .prefault({}),
    /** Generate the development PKI under certs/dev when the configured files are missing. */
    devPki: z
      .strictObject({ autoGenerate: z.boolean().default(false), dir: filePath.default("certs/dev") })
      .prefault({}),
    tls12Ciphers: cipherList(TLS12_CIPHERS).default([...TLS12_CIPHERS]),
    tls13Suites: cipherList(TLS13_SUITES).default([...TLS13_SUITES]),
    minVersion: z.enum(["TLSv1.2", "TLSv1.3"]).default("TLSv1.2"),
    handshakeTimeoutMs: z.number().int().positive().default(10_000),
    /** Require the clientAuth EKU on client certificates (a certificate without EKU is refused too). */
    requireClientAuthEku: z.boolean().default(true),
    /**
     * TLS session resumption by stateless tickets. Off by default (SSL_OP_NO_TICKET: OpenSSL then
     * hands out only session ids that nothing caches): trunks hold long-lived connections, so
     * resumption buys little, while each stateless ticket costs a certificate re-encode in
     * OpenSSL 3.0 (~10% CPU per new connection, measured) and ticket keys weaken forward secrecy.
     */
    sessionResumption: z.boolean().default(false),
    /** Watch certificate, key, root and CRL files and reload on change (SIGHUP always reloads). */
    watch: z.boolean().default(true),
  })
  .prefault({});

export type TlsConfig = z.infer<typeof tlsSchema>;
