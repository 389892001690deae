// Keyed, truncated hashes for identifiers that logs need to correlate (Call-IDs, numbers) but must
// not reveal. HMAC rather than a plain hash: phone numbers are a small space and a plain SHA-256 is
// reversible by enumeration. The key is per process unless configured, so hashes correlate within
// one run; configure logging.hashKeyFile to correlate across restarts and replicas.
import { createHmac, createSecretKey, randomBytes, type KeyObject } from "node:crypto";

// Held as a KeyObject: createHmac with a Buffer key re-imports it on every call, which on Node 24
// costs ~6 µs (its KeyObject/CryptoKey checks), against ~1 µs in all with a KeyObject (one hash
// per SIP transaction log line: docs/benchmarks.md, "SIP hot path, round two").
let hashKey: KeyObject = createSecretKey(randomBytes(32));

export function setLogHashKey(key: Buffer): void {
  hashKey = createSecretKey(key);
}

/** 16 hex chars (64 bits) of HMAC-SHA-256: enough to correlate, too short to be a dictionary. */
export function hashId(value: string): string {
  return createHmac("sha256", hashKey).update(value).digest("hex").slice(0, 16);
}

/**
 * A key for another purpose derived from the log hash key (HMAC with a label): shared by every
 * worker of an instance (the primary hands them one log key) and across restarts and replicas when
 * logging.hashKeyFile is set. Read it after the key is set (App.start), not at import time.
 */
export function derivedKey(label: string): Buffer {
  return createHmac("sha256", hashKey).update(label).digest();
}
