// The store: one async interface over SQLite or PostgreSQL (chosen by store.url), with the
// repositories for numbers, call records and statistics, and the key-rotation operations.
import { existsSync } from "node:fs";
import { isAbsolute, resolve } from "node:path";
import type { Logger } from "pino";
import type { StoreConfig } from "../config/schema/store.js";
import { KeyringError, type Keyring } from "./crypto/keyring.js";
import { ensureKeyFile, loadKeyring } from "./crypto/key-file.js";
import type { Dialect, SqlDriver } from "./db/driver.js";
import { openDriver } from "./db/open.js";
import { migrate } from "./migrations.js";
import { StoreContext, type UnreadableRow } from "./context.js";
import { NumberRepository } from "./numbers.js";
import { AccountRepository } from "./accounts.js";
import { AuditTrail } from "./audit-trail.js";
import { CallRecordRepository } from "./call-records.js";
import { StatisticsRepository } from "./statistics.js";
import { keyUsage, reencryptAll, type ReencryptResult } from "./rotation.js";
import { InstanceRegistry, liveInstances, type InstanceInfo } from "./instances.js";
import { recoverOrphanedCalls, type RecoveredOwner, type RecoveryOptions } from "./call-journal-recovery.js";

export interface Store {
  readonly dialect: Dialect;
  readonly numbers: NumberRepository;
  /** Accounts grouping numbers, with the defaults their numbers inherit. */
  readonly accounts: AccountRepository;
  readonly callRecords: CallRecordRepository;
  readonly statistics: StatisticsRepository;
  /** Who changed what (audit-trail.ts); number and account changes are recorded by `numbers` and `accounts` themselves. */
  readonly audit: AuditTrail;
  /** The keyring in force. */
  readonly keyring: Keyring;
  /** Switch keyrings (after a rotation); the index key must be the same. */
  useKeyring(k: Keyring): void;
  /** Re-encrypts every stored value not yet under the active key. */
  reencrypt(opts?: { batchSize?: number }): Promise<ReencryptResult>;
  /** Stored values per key id. */
  keyUsage(): Promise<Record<string, number>>;
  /** Called for every row a scan skipped because it could not be decrypted. */
  onUnreadable(listener: (u: UnreadableRow) => void): void;
  /** Called after every keyring change (useKeyring, or a reload for an unknown key id). */
  onKeyringChange(listener: (k: Keyring) => void): void;
  /** This process's row in store_instances (a running instance records the keys it writes with). */
  instanceRegistry(heartbeatMs: number): InstanceRegistry;
  /** Instances recorded in the store whose heartbeat has not expired. */
  liveInstances(): Promise<InstanceInfo[]>;
  /** Records the journaled calls of instances that are gone (call-journal-recovery.ts). */
  recoverOrphanedCalls(opts: RecoveryOptions): Promise<RecoveredOwner[]>;
  close(): Promise<void>;
}

export interface OpenStoreOptions {
  /** `sqlite:PATH` or `postgres://…`. */
  url: string;
  /** Use this keyring; otherwise load from TRUNKGATE_STORE_KEY or keyFile. */
  keyring?: Keyring;
  keyFile?: string;
  /** Create keyFile when it does not exist and the store is empty (first run). */
  createKeyFile?: boolean;
  /** Accept a group-readable key file (store.allowGroupReadableKeyFile). */
  allowGroupReadableKeyFile?: boolean;
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
  if (!opts.keyring && !keyFile) throw new KeyringError("store: no keyring and no store.encryptionKeyFile");
  const rules = { allowGroupReadable: opts.allowGroupReadableKeyFile === true };
  const db = openDriver(opts.url, baseDir);
  let keyring = opts.keyring;
  let reload: (() => Keyring) | undefined;
  try {
    await migrate(db);
    let created = false;
    if (!keyring) {
      const file = keyFile!;
      if (!env.TRUNKGATE_STORE_KEY && !existsSync(file)) {
        // A fresh key for a store that already holds data would make every row unreadable and
        // every lookup miss: only an empty store gets one.
        const fp = await storedFingerprint(db);
        if (fp !== undefined) {
          throw new KeyringError(
            `store.encryptionKeyFile: ${file} does not exist, but the store already holds data encrypted with another key file (index key fingerprint ${fp}): restore that key file (or set TRUNKGATE_STORE_KEY); a new key is only created for an empty store`,
          );
        }
        if (opts.createKeyFile) {
          created = ensureKeyFile(file).created;
          if (created) opts.logger?.warn({ file }, "created a new store key file: back it up, data is unreadable without it");
        }
      }
      const loaded = loadKeyring(file, env, rules);
      keyring = loaded.keyring;
      if (loaded.source === "file") reload = () => loadKeyring(file, env, rules).keyring;
    }
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
    allowGroupReadableKeyFile: cfg.allowGroupReadableKeyFile,
    statisticsMinGroupSize: cfg.statistics.minGroupSize,
    ...opts,
  });
}

async function storedFingerprint(db: SqlDriver): Promise<string | undefined> {
  const rows = await db.all<{ value: string }>("SELECT value FROM store_meta WHERE name = 'keyring_fingerprint'");
  return rows[0]?.value;
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
  readonly accounts: AccountRepository;
  readonly callRecords: CallRecordRepository;
  readonly statistics: StatisticsRepository;
  readonly audit: AuditTrail;

  constructor(
    private readonly ctx: StoreContext,
    minGroupSize?: number,
  ) {
    this.audit = new AuditTrail(ctx);
    this.numbers = new NumberRepository(ctx, this.audit);
    this.accounts = new AccountRepository(ctx, this.numbers, this.audit);
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

  onKeyringChange(listener: (k: Keyring) => void): void {
    this.ctx.onKeyringChange(listener);
  }

  onUnreadable(listener: (u: UnreadableRow) => void): void {
    this.ctx.onUnreadable(listener);
  }

  instanceRegistry(heartbeatMs: number): InstanceRegistry {
    return new InstanceRegistry(this.ctx.db, heartbeatMs);
  }

  liveInstances(): Promise<InstanceInfo[]> {
    return liveInstances(this.ctx.db);
  }

  recoverOrphanedCalls(opts: RecoveryOptions): Promise<RecoveredOwner[]> {
    return recoverOrphanedCalls(this.ctx, this.callRecords, opts);
  }

  close(): Promise<void> {
    return this.ctx.db.close();
  }
}
