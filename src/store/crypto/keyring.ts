// The data keys of the store: AES-256-GCM data keys (one active, older ones kept for decryption
// until no row uses them) and a separate HMAC key for blind indexes. The index key never rotates
// with the data keys, so lookups by number keep working across a rotation without rebuilding
// indexes. Ciphertexts carry their key id so rows encrypted under different keys can coexist.
import { createCipheriv, createDecipheriv, createHmac, createSecretKey, randomBytes, type KeyObject } from "node:crypto";
import { pooledRandomBytes } from "./random-pool.js";

const FORMAT = "v1";
const IV_BYTES = 12;
const TAG_BYTES = 16;
export const KEY_BYTES = 32;
export const KEY_ID_PATTERN = /^[A-Za-z0-9_-]{1,32}$/;

export interface KeyringData {
  active: string;
  keys: Record<string, Buffer>;
  indexKey: Buffer;
}

export class KeyringError extends Error {
  override name = "KeyringError";
}

/** Decryption failed: unknown key, wrong purpose (swapped value) or tampered bytes. */
export class DecryptError extends Error {
  override name = "DecryptError";
  constructor(message: string, readonly keyId?: string) {
    super(message);
  }
}

export class Keyring {
  readonly active: string;
  private readonly keys: ReadonlyMap<string, Buffer>;
  /**
   * Every key also as a KeyObject, made once: on Node 24, createCipheriv/createDecipheriv/createHmac
   * given a Buffer key spend ~8 µs per call deciding it is not a KeyObject or CryptoKey (two failed
   * brand checks) — an HMAC took 9.1 CPU-µs with the Buffer, 1.4 with a KeyObject.
   */
  private readonly keyObjects: ReadonlyMap<string, KeyObject>;
  private readonly activeKey: KeyObject;
  private readonly indexKey: Buffer;
  private readonly indexKeyObject: KeyObject;
  /** `v1.<active>.` — rows whose ciphertext starts otherwise need re-encryption. */
  readonly activePrefix: string;

  constructor(data: KeyringData) {
    const problems = validateKeyring(data);
    if (problems.length > 0) throw new KeyringError(`invalid keyring: ${problems.join("; ")}`);
    this.active = data.active;
    this.keys = new Map(Object.entries(data.keys));
    this.keyObjects = new Map(Object.entries(data.keys).map(([kid, key]) => [kid, createSecretKey(key)]));
    this.activeKey = this.keyObjects.get(data.active)!;
    this.indexKey = data.indexKey;
    this.indexKeyObject = createSecretKey(data.indexKey);
    this.activePrefix = `${FORMAT}.${this.active}.`;
  }

  keyIds(): string[] {
    return [...this.keys.keys()];
  }

  toData(): KeyringData {
    return { active: this.active, keys: Object.fromEntries(this.keys), indexKey: this.indexKey };
  }

  /**
   * `purpose` is authenticated (AAD) but not stored: it names the column and the row the value
   * belongs to (e.g. `numbers.custom_header:<blind index>`), so a ciphertext copied into another row
   * or column fails to decrypt instead of silently moving data between customers.
   */
  encrypt(plaintext: string, purpose: string): string {
    const iv = pooledRandomBytes(IV_BYTES);
    const cipher = createCipheriv("aes-256-gcm", this.activeKey, iv);
    cipher.setAAD(aad(this.active, purpose));
    // GCM is a stream mode: final() returns nothing, so update + tag is the whole ciphertext.
    const body = cipher.update(plaintext, "utf8");
    cipher.final();
    const ct = Buffer.concat([body, cipher.getAuthTag()]);
    return `${FORMAT}.${this.active}.${iv.toString("base64url")}.${ct.toString("base64url")}`;
  }

  decrypt(token: string, purpose: string): string {
    const parts = token.split(".");
    if (parts.length !== 4 || parts[0] !== FORMAT) throw new DecryptError("not a v1 ciphertext");
    const kid = parts[1]!;
    const key = this.keyObjects.get(kid);
    if (!key) throw new DecryptError(`unknown key id "${kid}"`, kid);
    const iv = Buffer.from(parts[2]!, "base64url");
    const body = Buffer.from(parts[3]!, "base64url");
    if (iv.length !== IV_BYTES || body.length < TAG_BYTES) throw new DecryptError("malformed ciphertext", kid);
    try {
      const decipher = createDecipheriv("aes-256-gcm", key, iv);
      decipher.setAAD(aad(kid, purpose));
      decipher.setAuthTag(body.subarray(body.length - TAG_BYTES));
      return Buffer.concat([decipher.update(body.subarray(0, body.length - TAG_BYTES)), decipher.final()]).toString("utf8");
    } catch {
      throw new DecryptError("authentication failed (wrong key, wrong row/column, or tampered)", kid);
    }
  }

  /** Key id a ciphertext was written under (no decryption). */
  static keyIdOf(token: string): string | undefined {
    const dot = token.indexOf(".", 3);
    return token.startsWith(`${FORMAT}.`) && dot > 3 ? token.slice(3, dot) : undefined;
  }

  /**
   * Deterministic keyed HMAC-SHA-256 (base64url): equality lookups without storing the value.
   * The domain separates index spaces (a number and a Call-ID with equal text get unrelated indexes).
   */
  blindIndex(domain: string, value: string): string {
    return createHmac("sha256", this.indexKeyObject).update(domain).update("\0").update(value).digest("base64url");
  }

  /** Identifies the index key without revealing it: stored in the database to catch a wrong key file. */
  fingerprint(): string {
    return this.blindIndex("keyring-fingerprint", "trunkgate").slice(0, 22);
  }

  /** A new keyring with a fresh data key made active; old keys stay for decryption. */
  withNewActiveKey(): Keyring {
    const data = this.toData();
    let n = data.keys[this.active] ? Object.keys(data.keys).length + 1 : 1;
    while (data.keys[`k${n}`]) n++;
    const kid = `k${n}`;
    return new Keyring({ active: kid, keys: { ...data.keys, [kid]: randomBytes(KEY_BYTES) }, indexKey: data.indexKey });
  }

  /** A keyring without the given (non-active) keys. */
  without(keyIds: readonly string[]): Keyring {
    const data = this.toData();
    const keys = { ...data.keys };
    for (const kid of keyIds) if (kid !== this.active) delete keys[kid];
    return new Keyring({ active: this.active, keys, indexKey: data.indexKey });
  }

  static generate(): Keyring {
    return new Keyring({ active: "k1", keys: { k1: randomBytes(KEY_BYTES) }, indexKey: randomBytes(KEY_BYTES) });
  }
}

function aad(kid: string, purpose: string): Buffer {
  return Buffer.from(`trunkgate-store:${FORMAT}:${kid}:${purpose}`, "utf8");
}

function validateKeyring(d: KeyringData): string[] {
  const problems: string[] = [];
  if (!KEY_ID_PATTERN.test(d.active)) problems.push(`active: key id must match ${KEY_ID_PATTERN.source}`);
  for (const [kid, key] of Object.entries(d.keys)) {
    if (!KEY_ID_PATTERN.test(kid)) problems.push(`keys.${kid}: key id must match ${KEY_ID_PATTERN.source}`);
    if (key.length !== KEY_BYTES) problems.push(`keys.${kid}: must be ${KEY_BYTES} bytes (base64)`);
  }
  if (!d.keys[d.active]) problems.push(`active: no key "${d.active}" in keys`);
  if (d.indexKey.length !== KEY_BYTES) problems.push(`indexKey: must be ${KEY_BYTES} bytes (base64)`);
  return problems;
}
