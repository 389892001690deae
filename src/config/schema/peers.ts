import { z } from "zod";
import { peerAdmissionSchema } from "./admission.js";
import { host, port } from "./common.js";

const sipTarget = z.strictObject({
  host,
  port: port.default(5061),
  transport: z.literal("tls").default("tls"),
  serverName: z.string().optional(),
});

const LABEL = /^[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?$/;

/**
 * A SAN dNSName to match: a host name, or `*.` + a host name (RFC 6125 §6.4.3: the wildcard is the
 * whole left-most label and matches exactly one label). Anything else (`sbc.*.example`, `*.*.x`,
 * `sbc*.example`) would never match a certificate, so it is an error rather than a silent lockout.
 */
const dnsPattern = z.string().superRefine((v, ctx) => {
  const name = v.startsWith("*.") ? v.slice(2) : v;
  if (name.includes("*")) {
    ctx.addIssue({ code: "custom", message: `"${v}": a wildcard may only be the whole left-most label, once ("*.carrier.example")` });
  } else if (name.length === 0 || name.length > 253 || !name.replace(/\.$/, "").split(".").every((l) => LABEL.test(l))) {
    ctx.addIssue({ code: "custom", message: `"${v}": not a DNS name (letters, digits, '-', labels separated by '.')` });
  }
});

/** A SAN uniformResourceIdentifier to match: scheme ":" something, e.g. sip:carrier.example. */
const uriPattern = z
  .string()
  .regex(/^[A-Za-z][A-Za-z0-9+.-]*:[^\s]+$/, "not a URI: expected scheme:value, e.g. sip:carrier.example or spiffe://carrier/sbc");

export const peerSchema = z.strictObject({
  name: z.string().regex(/^[A-Za-z0-9_.-]+$/, "letters, digits, '_', '.', '-' only"),
  match: z
    .strictObject({
      dnsNames: z.array(dnsPattern).default([]),
      uris: z.array(uriPattern).default([]),
      commonNames: z.array(z.string().min(1)).default([]),
      /** base64 SHA-256 of the SubjectPublicKeyInfo (as `certs inspect` prints it). */
      spkiSha256: z.array(z.string().regex(/^[A-Za-z0-9+/]{43}=$/, "base64 SHA-256 (44 chars)")).default([]),
    })
    .refine((m) => m.dnsNames.length + m.uris.length + m.commonNames.length + m.spkiSha256.length > 0, {
      message: "at least one of dnsNames, uris, commonNames, spkiSha256 is required",
    }),
  /** Where trunkgate sends requests toward this peer when it has no open connection from it. */
  sip: z
    .strictObject({
      targets: z.array(sipTarget).default([]),
      /** This peer's calls are traced (sip.trace) on both legs; false keeps them out of every trace. */
      trace: z.boolean().default(true),
    })
    .prefault({}),
  /** Connection cap for this peer on each listener. */
  maxConnections: z.number().int().positive().default(1000),
  /** Overrides of sip.admission for this peer (unset keys: the sip.admission value). */
  admission: peerAdmissionSchema,
});

export const peersSchema = z.array(peerSchema).default([]).refine(
  (ps) => new Set(ps.map((p) => p.name)).size === ps.length,
  { message: "peer names must be unique" },
);

export type PeerConfig = z.infer<typeof peerSchema>;
