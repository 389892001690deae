// Reading and writing the keyring file (JSON, mode 0600):
//   { "version": 1, "active": "k2", "keys": { "k1": "<base64 32 bytes>", "k2": "…" }, "indexKey": "<base64>" }
// or the environment variable TRUNKGATE_STORE_KEY: base64 of that same JSON, or base64 of one
// 32-byte master key from which a one-key keyring is derived (HKDF). Keys never come from the YAML.
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, statSync, unlinkSync, writeSync } from "node:fs";
import { dirname } from "node:path";
import { hkdfSync, randomBytes } from "node:crypto";
import { KEY_BYTES, Keyring, KeyringError } from "./keyring.js";

export const STORE_KEY_ENV = "TRUNKGATE_STORE_KEY";
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$|^[A-Za-z0-9_-]+$/;

export interface LoadedKeyring {
  keyring: Keyring;
  source: "env" | "file";
}

export interface KeyFileRules {
  /**
   * Accept a key file the owner's group may read (mode 0640/0440: a Kubernetes Secret mounted with
   * fsGroup). Write access for the group and any access for others are always refused.
   */
  allowGroupReadable?: boolean;
}

export function serializeKeyring(k: Keyring): string {
  const d = k.toData();
  const keys: Record<string, string> = {};
  for (const [kid, key] of Object.entries(d.keys)) keys[kid] = key.toString("base64");
  return `${JSON.stringify({ version: 1, active: d.active, keys, indexKey: d.indexKey.toString("base64") }, null, 2)}\n`;
}

export function parseKeyring(text: string, source: string): Keyring {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new KeyringError(`${source}: not valid JSON`);
  }
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) throw new KeyringError(`${source}: expected a JSON object`);
  const o = raw as Record<string, unknown>;
  const problems: string[] = [];
  for (const k of Object.keys(o)) if (!["version", "active", "keys", "indexKey"].includes(k)) problems.push(`${k}: unknown key`);
  if (o.version !== undefined && o.version !== 1) problems.push("version: must be 1");
  if (typeof o.active !== "string") problems.push("active: expected a key id string");
  const keys: Record<string, Buffer> = {};
  if (typeof o.keys !== "object" || o.keys === null || Array.isArray(o.keys)) problems.push("keys: expected an object of key id → base64 key");
  else {
    for (const [kid, v] of Object.entries(o.keys as Record<string, unknown>)) {
      const b = decodeKey(v);
      if (!b) problems.push(`keys.${kid}: expected base64 of ${KEY_BYTES} bytes`);
      else keys[kid] = b;
    }
  }
  const indexKey = decodeKey(o.indexKey);
  if (!indexKey) problems.push(`indexKey: expected base64 of ${KEY_BYTES} bytes`);
  if (problems.length > 0) throw new KeyringError(`${source}: ${problems.join("; ")}`);
  try {
    return new Keyring({ active: o.active as string, keys, indexKey: indexKey! });
  } catch (err) {
    throw new KeyringError(`${source}: ${(err as Error).message}`);
  }
}

function decodeKey(v: unknown): Buffer | undefined {
  if (typeof v !== "string" || !BASE64.test(v)) return undefined;
  const b = Buffer.from(v, v.includes("-") || v.includes("_") ? "base64url" : "base64");
  return b.length === KEY_BYTES ? b : undefined;
}

/** TRUNKGATE_STORE_KEY: base64 keyring JSON, or base64 of a single 32-byte master key. */
export function keyringFromEnv(value: string): Keyring {
  const trimmed = value.trim();
  if (!BASE64.test(trimmed)) throw new KeyringError(`${STORE_KEY_ENV}: not base64`);
  const bytes = Buffer.from(trimmed, "base64");
  if (bytes.length === KEY_BYTES) {
    // Separate derived keys for encryption and indexing, so neither reveals the other.
    const derive = (info: string) => Buffer.from(hkdfSync("sha256", bytes, Buffer.alloc(0), info, KEY_BYTES));
    return new Keyring({ active: "env", keys: { env: derive("trunkgate data key") }, indexKey: derive("trunkgate index key") });
  }
  return parseKeyring(bytes.toString("utf8"), STORE_KEY_ENV);
}

/** The keyring in force: the environment variable when set, else the key file. */
export function loadKeyring(file: string, env: NodeJS.ProcessEnv = process.env, rules: KeyFileRules = {}): LoadedKeyring {
  const fromEnv = env[STORE_KEY_ENV];
  if (fromEnv !== undefined && fromEnv !== "") return { keyring: keyringFromEnv(fromEnv), source: "env" };
  let text: string;
  try {
    checkKeyFileMode(file, rules);
    text = readFileSync(file, "utf8");
  } catch (err) {
    if (err instanceof KeyringError) throw err;
    throw new KeyringError(`store.encryptionKeyFile: cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  return { keyring: parseKeyring(text, file), source: "file" };
}

/**
 * Whoever can read the key file can read every number in the store: a file other users may read is
 * a refusal, not a warning (a warning in a log nobody reads protected nothing). The mode is that of
 * the file a symlink points to (Kubernetes mounts Secrets as symlinks into ..data/).
 */
export function checkKeyFileMode(file: string, rules: KeyFileRules = {}): void {
  const mode = statSync(file).mode & 0o777;
  const allowed = rules.allowGroupReadable ? 0o740 : 0o700;
  if ((mode & ~allowed) === 0) return;
  const fix = rules.allowGroupReadable
    ? "chmod 640 (or 600) it"
    : "chmod 600 it, or for a group-readable Secret mount (0640/0440) set store.allowGroupReadableKeyFile: true";
  throw new KeyringError(`store.encryptionKeyFile: ${file} has mode ${mode.toString(8).padStart(3, "0")}: other users could read the store's keys; ${fix}`);
}

/** Atomic replace (temp file + rename) so a crash never leaves a half-written keyring. */
export function writeKeyFile(path: string, keyring: Keyring): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.${randomBytes(6).toString("hex")}.tmp`;
  const fd = openSync(tmp, "wx", 0o600);
  try {
    writeSync(fd, serializeKeyring(keyring));
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    renameSync(tmp, path);
  } catch (err) {
    unlinkSync(tmp);
    throw err;
  }
}

/** `keys init`: a new keyring file; refuses to overwrite unless `force`. */
export function createKeyFile(path: string, opts: { force?: boolean } = {}): Keyring {
  if (!opts.force && existsSync(path)) throw new KeyringError(`${path} already exists (refusing to overwrite: its keys may protect data)`);
  const keyring = Keyring.generate();
  if (opts.force) writeKeyFile(path, keyring);
  else {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    const fd = openSync(path, "wx", 0o600); // wx: fails if another process created it meanwhile
    try {
      writeSync(fd, serializeKeyring(keyring));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  }
  return keyring;
}

/** First run: create the key file when it does not exist. Returns whether it was created. */
export function ensureKeyFile(path: string): { created: boolean } {
  if (existsSync(path)) return { created: false };
  try {
    createKeyFile(path);
    return { created: true };
  } catch (err) {
    if (existsSync(path)) return { created: false }; // lost a race with another process: fine
    throw err;
  }
}
