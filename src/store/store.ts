// The store: one async interface over SQLite or PostgreSQL (chosen by store.url), with the
// repositories for numbers, call records and statistics, and the key-rotation operations.
import { isAbsolute, resolve } from "node:path";
import type { Logger } from "pino";
import type { StoreConfig } from "../config/schema/store.js";
import { KeyringError, type Keyring } from "./crypto/keyring.js";
import { ensureKeyFile, loadKeyring } from "./crypto/key-file.js";
import type { Dialect, SqlDriver } from "./db/driver.js";
import { openDriver } from "./db/open.js";
import { migrate } from "./migrations.js";
import { StoreContext } from "./context.js";
import { NumberRepository } from "./numbers.js";
import { CallRecordRepository } from "./call-records.js";
import { StatisticsRepository } from "./statistics.js";
import { keyUsage, reencryptAll, type ReencryptResult } from "./rotation.js";

export interface Store {
  readonly dialect: Dialect;
  readonly numbers: NumberRepository;
  readonly callRecords: CallRecordRepository;
  readonly statistics: StatisticsRepository;
  /** The keyring in force. */
  readonly keyring: Keyring;
  /** Switch keyrings (after a rotation); the index key must be the same. */
  useKeyring(k: Keyring): void;
  /** Re-encrypts every stored value not yet under the active key. */
  reencrypt(opts?: { batchSize?: number }): Promise<ReencryptResult>;
  /** Stored values per key id. */
  keyUsage(): Promise<Record<string, number>>;
  close(): Promise<void>;
}

export interface OpenStoreOptions {
  /** `sqlite:PATH` or `postgres://…`. */
  url: string;
  /** Use this keyring; otherwise load from TRUNKGATE_STORE_KEY or keyFile. */
  keyring?: Keyring;
  keyFile?: string;
  /** Create keyFile when it does not exist (first run). */
  createKeyFile?: boolean;
  env?: NodeJS.ProcessEnv;
  /** Relative sqlite paths and key files resolve against this (default: cwd). */
  baseDir?: string;
  logger?: Logger;
  now?: () => Date;
  /** store.statistics.minGroupSize: statistics rows never describe fewer calls (default 5). */
  statisticsMinGroupSize?: number;
}

export async function openStore(opts: OpenStoreOptions): Promise<Store> {
  const baseDir = opts.baseDir ?? process.cwd();
  const env = opts.env ?? process.env;
  const keyFile = opts.keyFile === undefined ? undefined : isAbsolute(opts.keyFile) ? opts.keyFile : resolve(baseDir, opts.keyFile);
  let created = false;
  let keyring = opts.keyring;
  let reload: (() => Keyring) | undefined;
  if (!keyring) {
    if (!keyFile) throw new KeyringError("store: no keyring and no store.encryptionKeyFile");
    if (opts.createKeyFile && !env.TRUNKGATE_STORE_KEY) {
      created = ensureKeyFile(keyFile).created;
      if (created) opts.logger?.warn({ file: keyFile }, "created a new store key file: back it up, data is unreadable without it");
    }
    const loaded = loadKeyring(keyFile, env);
    for (const w of loaded.warnings) opts.logger?.warn(w);
    keyring = loaded.keyring;
    if (loaded.source === "file") reload = () => loadKeyring(keyFile, env).keyring;
  }
  const db = openDriver(opts.url, baseDir);
  try {
    await migrate(db);
    await checkFingerprint(db, keyring, created);
  } catch (err) {
    await db.close().catch(() => {});
    throw err;
  }
  return new SqlStore(new StoreContext(db, keyring, opts.now ?? (() => new Date()), reload), opts.statisticsMinGroupSize);
}

/** Opens the store described by the `store` config section (paths relative to baseDir/cwd). */
export function openStoreFromConfig(
  cfg: StoreConfig,
  opts: { baseDir?: string; env?: NodeJS.ProcessEnv; logger?: Logger; now?: () => Date } = {},
): Promise<Store> {
  return openStore({
    url: cfg.url,
    keyFile: cfg.encryptionKeyFile,
    createKeyFile: cfg.createKeyFileIfMissing,
    statisticsMinGroupSize: cfg.statistics.minGroupSize,
    ...opts,
  });
}

/**
 * The database remembers a fingerprint of the index key it was first used with: opening it with a
 * different key (wrong file, lost file replaced by a new one) fails loudly instead of writing rows
 * nobody can look up again.
 */
async function checkFingerprint(db: SqlDriver, keyring: Keyring, justCreated: boolean): Promise<void> {
  const fp = keyring.fingerprint();
  await db.run("INSERT INTO store_meta (name, value) VALUES ('keyring_fingerprint', ?) ON CONFLICT (name) DO NOTHING", [fp]);
  const rows = await db.all<{ value: string }>("SELECT value FROM store_meta WHERE name = 'keyring_fingerprint'");
  if (rows[0]?.value !== fp) {
    throw new KeyringError(
      `store.encryptionKeyFile: this database was created with another index key${justCreated ? " (the key file was missing and has just been created: restore the original key file)" : ""}`,
    );
  }
}

class SqlStore implements Store {
  readonly numbers: NumberRepository;
  readonly callRecords: CallRecordRepository;
  readonly statistics: StatisticsRepository;

  constructor(
    private readonly ctx: StoreContext,
    minGroupSize?: number,
  ) {
    this.numbers = new NumberRepository(ctx);
    this.statistics = new StatisticsRepository(ctx, minGroupSize);
    this.callRecords = new CallRecordRepository(ctx, this.statistics);
  }

  get dialect(): Dialect {
    return this.ctx.db.dialect;
  }

  get keyring(): Keyring {
    return this.ctx.keys;
  }

  useKeyring(k: Keyring): void {
    if (k.fingerprint() !== this.ctx.keys.fingerprint()) throw new KeyringError("useKeyring: the index key must not change");
    this.ctx.setKeyring(k);
  }

  reencrypt(opts?: { batchSize?: number }): Promise<ReencryptResult> {
    return reencryptAll(this.ctx, opts);
  }

  keyUsage(): Promise<Record<string, number>> {
    return keyUsage(this.ctx);
  }

  close(): Promise<void> {
    return this.ctx.db.close();
  }
}
