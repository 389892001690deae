// Verification keys fetched from the identity provider's JWKS URL (jose's remote key set: cached,
// re-fetched after cacheMaxAge, and at once on an unknown `kid` subject to the cooldown). The
// server certificate is checked against trunkgate's trust store (bundled roots + tls.trust.extraRoots),
// so an internal IdP under a private CA works without touching the process-wide CAs.
import { createRemoteJWKSet, customFetch, type JWTVerifyGetKey } from "jose";
import { Agent, fetch as undiciFetch } from "undici";

export interface JwksUrlOptions {
  url: string;
  /** PEM CA certificates trusted for the JWKS server. */
  ca: string[];
  cooldownMs: number;
  cacheMaxAgeMs: number;
  timeoutMs: number;
}

export interface JwksUrlKeys {
  getKey: JWTVerifyGetKey;
  /** Fetch now (startup warm-up); rejects when the IdP cannot be reached. */
  reload(): Promise<void>;
  close(): Promise<void>;
}

export function jwksUrlKeys(opts: JwksUrlOptions): JwksUrlKeys {
  const dispatcher = new Agent({ connect: { ca: opts.ca }, connectTimeout: opts.timeoutMs });
  const set = createRemoteJWKSet(new URL(opts.url), {
    cooldownDuration: opts.cooldownMs,
    cacheMaxAge: opts.cacheMaxAgeMs,
    timeoutDuration: opts.timeoutMs,
    [customFetch]: ((url: string, init: Record<string, unknown>) =>
      undiciFetch(url, { ...init, dispatcher } as Parameters<typeof undiciFetch>[1])) as unknown as NonNullable<
      Parameters<typeof createRemoteJWKSet>[1]
    >[typeof customFetch],
  });
  return {
    getKey: set,
    reload: () => set.reload(),
    close: () => dispatcher.close(),
  };
}
