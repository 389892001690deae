// Bearer token → subject and roles. jose does the cryptography and the registered claims (iss, aud,
// exp, nbf with clock tolerance, allowed algorithms); this adds what the API needs: `exp` is
// required (no eternal tokens), and `roles` must be an array of strings when present. Failures are
// classified for metrics and the WWW-Authenticate header; nothing here ever logs the token.
import { errors, jwtVerify, type JWTVerifyGetKey } from "jose";
import { claimAt } from "./roles-claim.js";

export type AuthFailureReason = "missing" | "invalid" | "expired";

export type AuthResult =
  | { ok: true; subject: string | undefined; roles: readonly string[] }
  | { ok: false; reason: AuthFailureReason; description: string };

export interface TokenVerifierOptions {
  getKey: JWTVerifyGetKey;
  issuer: string;
  audience: string;
  algorithms: string[];
  clockToleranceSeconds: number;
  /** Claim (or dotted path, e.g. realm_access.roles) holding the roles; default "roles". */
  rolesClaim?: string;
}

/** Longer Authorization values are refused before any parsing. */
export const MAX_TOKEN_LENGTH = 8192;

const MISSING: AuthResult = { ok: false, reason: "missing", description: "" };

export class TokenVerifier {
  constructor(private readonly opts: TokenVerifierOptions) {}

  async verify(authorization: string | undefined): Promise<AuthResult> {
    if (authorization === undefined || authorization.length === 0) return MISSING;
    // "Bearer" is case-insensitive (RFC 6750 §2.1 via RFC 7235); other schemes are not ours.
    if (authorization.length < 8 || authorization.slice(0, 7).toLowerCase() !== "bearer ") return MISSING;
    const token = authorization.slice(7).trim();
    if (token.length === 0) return MISSING;
    if (token.length > MAX_TOKEN_LENGTH) return { ok: false, reason: "invalid", description: "token too long" };
    try {
      const { payload } = await jwtVerify(token, this.opts.getKey, {
        issuer: this.opts.issuer,
        audience: this.opts.audience,
        algorithms: this.opts.algorithms,
        clockTolerance: this.opts.clockToleranceSeconds,
        requiredClaims: ["exp"],
      });
      const roles = claimAt(payload, this.opts.rolesClaim ?? "roles");
      if (roles !== undefined && !(Array.isArray(roles) && roles.every((r) => typeof r === "string"))) {
        return { ok: false, reason: "invalid", description: `the ${this.opts.rolesClaim ?? "roles"} claim must be an array of strings` };
      }
      return { ok: true, subject: typeof payload.sub === "string" && payload.sub.length > 0 ? payload.sub : undefined, roles: (roles as string[] | undefined) ?? [] };
    } catch (err) {
      return classify(err);
    }
  }
}

function classify(err: unknown): AuthResult {
  if (err instanceof errors.JWTExpired) return { ok: false, reason: "expired", description: "the token has expired" };
  if (err instanceof errors.JWTClaimValidationFailed) {
    // The claim name (iss, aud, nbf…) helps the client fix its token and reveals nothing secret.
    return { ok: false, reason: "invalid", description: `claim ${err.claim} is not acceptable` };
  }
  if (err instanceof errors.JWKSNoMatchingKey) return { ok: false, reason: "invalid", description: "no key matches the token's key id" };
  if (err instanceof errors.JOSEAlgNotAllowed) return { ok: false, reason: "invalid", description: "signing algorithm not allowed" };
  if (err instanceof errors.JWSSignatureVerificationFailed) return { ok: false, reason: "invalid", description: "signature verification failed" };
  if (err instanceof errors.JWKSTimeout || err instanceof errors.JWKSInvalid) {
    return { ok: false, reason: "invalid", description: "verification keys unavailable" };
  }
  if (err instanceof errors.JOSEError) return { ok: false, reason: "invalid", description: "malformed token" };
  // A JWKS fetch failure (IdP down) also lands here: the token cannot be accepted either way.
  return { ok: false, reason: "invalid", description: "token could not be verified" };
}
