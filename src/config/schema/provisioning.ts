// The provisioning API (src/provisioning/): its own mutual-TLS listener, bearer JWTs verified
// against a JWKS file or URL, per-client rate limiting and request limits. docs/provisioning-api.md
// documents every key; auth is only required when the API is enabled.
import { z } from "zod";
import { filePath, listen } from "./common.js";

export const JWT_ALGORITHMS = ["ES256", "RS256", "EdDSA"] as const;

const auth = z
  .strictObject({
    /** JWKS document on disk; re-read when it changes. Exactly one of jwksFile / jwksUrl. */
    jwksFile: filePath.optional(),
    /** JWKS served by the identity provider (https://, or http:// on loopback only). */
    jwksUrl: z
      .url({ protocol: /^https?$/ })
      .refine((u) => u.startsWith("https:") || /^http:\/\/(127\.\d+\.\d+\.\d+|\[::1\]|localhost)(:\d+)?\//.test(u), {
        message: "must be https:// (http:// only on loopback)",
      })
      .optional(),
    /** Required `iss` claim. */
    issuer: z.string().min(1).optional(),
    /** Required `aud` claim (one of the token's audiences must match). */
    audience: z.string().min(1).optional(),
    algorithms: z.array(z.enum(JWT_ALGORITHMS)).min(1).default([...JWT_ALGORITHMS]),
    /**
     * The claim holding the roles: a name ("roles", Entra ID) or a dotted path into an object
     * ("realm_access.roles", Keycloak). An exact claim name containing dots is found first.
     */
    rolesClaim: z
      .string()
      .regex(/^[^.\s][^\s]*$/, "a claim name or dotted path such as realm_access.roles")
      .refine((c) => c.includes("/") || !c.split(".").includes(""), { message: "a dotted path has no empty segment" })
      .default("roles"),
    /** Leeway for exp / nbf / iat between our clock and the issuer's. */
    clockToleranceSeconds: z.number().int().min(0).max(300).default(30),
    /** jwksFile: its stat (mtime, size, inode) is checked at most this often, lazily on a request. */
    jwksFileCheckMs: z.number().int().min(0).max(3_600_000).default(5_000),
    /**
     * A token whose `kid` no loaded key has triggers an immediate re-read (file) or re-fetch (URL),
     * at most once per this interval, so garbage tokens cannot make us hammer the disk or the IdP.
     */
    unknownKidCooldownMs: z.number().int().min(0).max(3_600_000).default(5_000),
    /** jwksUrl: keys are re-fetched after this long even if no unknown kid shows up. */
    jwksCacheMaxAgeMs: z.number().int().min(1_000).max(86_400_000).default(600_000),
    jwksFetchTimeoutMs: z.number().int().min(100).max(60_000).default(5_000),
  })
  .prefault({});

export const provisioningSchema = z
  .strictObject({
    enabled: z.boolean().default(false),
    listen: listen("127.0.0.1", 8444),
    auth,
    rateLimit: z
      .strictObject({
        /** Sustained requests per minute per client (token `sub`, else the TLS peer name). */
        requestsPerMinute: z.number().int().min(1).max(1_000_000).default(100),
        /** Bucket size (requests allowed at once); default requestsPerMinute. */
        burst: z.number().int().min(1).max(1_000_000).optional(),
      })
      .prefault({}),
    limits: z
      .strictObject({
        /** Request body cap (413). */
        maxBodyBytes: z.number().int().min(1024).max(64 * 1024 * 1024).default(1024 * 1024),
        /** Entries in one POST /api/v1/numbers:batch (413 beyond). */
        maxBatchSize: z.number().int().min(1).max(100_000).default(1000),
        maxConnections: z.number().int().positive().default(1000),
        maxHeaderBytes: z.number().int().min(1024).max(256 * 1024).default(16_384),
      })
      .prefault({}),
    timeouts: z
      .strictObject({
        /** Header section must arrive within this (408). */
        headersMs: z.number().int().positive().default(10_000),
        /** Whole request (headers + body) must arrive within this (408). */
        requestMs: z.number().int().positive().default(30_000),
        keepAliveMs: z.number().int().positive().default(30_000),
      })
      .prefault({}),
  })
  .superRefine((p, ctx) => {
    if (!p.enabled) return;
    const a = p.auth;
    if (a.jwksFile === undefined && a.jwksUrl === undefined) {
      ctx.addIssue({ code: "custom", path: ["auth", "jwksFile"], message: "one of jwksFile or jwksUrl is required when provisioning is enabled" });
    } else if (a.jwksFile !== undefined && a.jwksUrl !== undefined) {
      ctx.addIssue({ code: "custom", path: ["auth", "jwksUrl"], message: "set either jwksFile or jwksUrl, not both" });
    }
    if (a.issuer === undefined) ctx.addIssue({ code: "custom", path: ["auth", "issuer"], message: "required when provisioning is enabled" });
    if (a.audience === undefined) ctx.addIssue({ code: "custom", path: ["auth", "audience"], message: "required when provisioning is enabled" });
  })
  .prefault({});
export type ProvisioningConfig = z.infer<typeof provisioningSchema>;
