// Verification keys from a JWKS file. The file is re-read when it changes — its stat (inode, size,
// mtime) is compared at most every `checkMs`, lazily when a token arrives, so no timer runs and an
// idle API does no I/O — and also at once when a token names a key id we do not have (a key was just
// added), at most once per `cooldownMs` so a flood of garbage tokens cannot hammer the disk.
// A file that fails to parse keeps the previous keys (and is reported), as TLS reload does.
import { readFileSync, statSync, type Stats } from "node:fs";
import { readFile, stat } from "node:fs/promises";
import { createLocalJWKSet, errors, type JSONWebKeySet, type JWTVerifyGetKey } from "jose";
import type { Logger } from "../../observability/logger.js";

export class JwksError extends Error {
  override name = "JwksError";
}

export interface JwksFileOptions {
  path: string;
  checkMs: number;
  cooldownMs: number;
  logger: Logger;
  now?: () => number;
  onReload?: (result: "success" | "error") => void;
}

type LocalSet = ReturnType<typeof createLocalJWKSet>;

/** Parses and sanity-checks a JWKS document; the message never includes key material. */
export function parseJwks(text: string): JSONWebKeySet {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw new JwksError("not valid JSON");
  }
  const keys = (doc as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(keys)) throw new JwksError('expected a JSON object with a "keys" array (a JWKS)');
  if (keys.length === 0) throw new JwksError("the key set is empty");
  keys.forEach((k: unknown, i) => {
    if (typeof k !== "object" || k === null || typeof (k as { kty?: unknown }).kty !== "string") throw new JwksError(`keys[${i}]: not a JWK (no kty)`);
    // A private key has no business in a verification key set: refuse rather than spread it.
    if ("d" in k || "p" in k || "k" in k) throw new JwksError(`keys[${i}]: contains private or symmetric key material; publish public keys only`);
  });
  return doc as JSONWebKeySet;
}

const signature = (s: Stats): string => `${s.ino}:${s.size}:${s.mtimeMs}`;

export class JwksFileKeys {
  #set: LocalSet;
  #sig: string;
  #lastCheck: number;
  #lastUnknownKid = Number.NEGATIVE_INFINITY;
  #checking: Promise<boolean> | undefined;
  readonly #now: () => number;

  /** Reads the file now: a missing or invalid file is a startup error (JwksError). */
  constructor(private readonly opts: JwksFileOptions) {
    this.#now = opts.now ?? Date.now;
    let text: string;
    let st: Stats;
    try {
      st = statSync(opts.path);
      text = readFileSync(opts.path, "utf8");
    } catch (err) {
      throw new JwksError(`cannot read ${opts.path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
    }
    this.#set = createLocalJWKSet(parseJwks(text));
    this.#sig = signature(st);
    this.#lastCheck = this.#now();
  }

  readonly getKey: JWTVerifyGetKey = async (header, token) => {
    if (this.#now() - this.#lastCheck >= this.opts.checkMs) await this.#check();
    try {
      return await this.#set(header, token);
    } catch (err) {
      if (!(err instanceof errors.JWKSNoMatchingKey)) throw err;
      const now = this.#now();
      if (now - this.#lastUnknownKid < this.opts.cooldownMs) throw err;
      this.#lastUnknownKid = now;
      if (!(await this.#check())) throw err;
      return await this.#set(header, token);
    }
  };

  /** Re-reads the file if it changed; true when new keys were loaded. Concurrent callers share one check. */
  #check(): Promise<boolean> {
    this.#checking ??= this.#doCheck().finally(() => (this.#checking = undefined));
    return this.#checking;
  }

  async #doCheck(): Promise<boolean> {
    this.#lastCheck = this.#now();
    try {
      const st = await stat(this.opts.path);
      const sig = signature(st);
      if (sig === this.#sig) return false;
      const set = createLocalJWKSet(parseJwks(await readFile(this.opts.path, "utf8")));
      this.#set = set;
      this.#sig = sig;
      this.opts.onReload?.("success");
      this.opts.logger.info({ file: this.opts.path }, "provisioning JWKS file reloaded");
      return true;
    } catch (err) {
      this.opts.onReload?.("error");
      this.opts.logger.error({ file: this.opts.path, error: (err as Error).message }, "provisioning JWKS file reload failed; keeping the previous keys");
      return false;
    }
  }
}
