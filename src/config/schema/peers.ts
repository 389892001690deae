import { z } from "zod";
import { host, port } from "./common.js";

const sipTarget = z.strictObject({
  host,
  port: port.default(5061),
  transport: z.literal("tls").default("tls"),
  serverName: z.string().optional(),
});

export const peerSchema = z.strictObject({
  name: z.string().regex(/^[A-Za-z0-9_.-]+$/, "letters, digits, '_', '.', '-' only"),
  match: z
    .strictObject({
      dnsNames: z.array(z.string().min(1)).default([]),
      uris: z.array(z.string().min(1)).default([]),
      commonNames: z.array(z.string().min(1)).default([]),
      /** base64 SHA-256 of the SubjectPublicKeyInfo (as `certs inspect` prints it). */
      spkiSha256: z.array(z.string().regex(/^[A-Za-z0-9+/]{43}=$/, "base64 SHA-256 (44 chars)")).default([]),
    })
    .refine((m) => m.dnsNames.length + m.uris.length + m.commonNames.length + m.spkiSha256.length > 0, {
      message: "at least one of dnsNames, uris, commonNames, spkiSha256 is required",
    }),
  /** Where trunkgate sends requests toward this peer when it has no open connection from it. */
  sip: z.strictObject({ targets: z.array(sipTarget).default([]) }).prefault({}),
  /** Connection cap for this peer on each listener. */
  maxConnections: z.number().int().positive().default(1000),
});

export const peersSchema = z.array(peerSchema).default([]).refine(
  (ps) => new Set(ps.map((p) => p.name)).size === ps.length,
  { message: "peer names must be unique" },
);

export type PeerConfig = z.infer<typeof peerSchema>;
