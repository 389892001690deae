// Everything the running proxy needs from the store, built once by the composition root: the store
// itself, the in-memory number routing table, the batched call-record writer and the retention
// scheduler. close() flushes queued call records before closing the store. Call records are written
// by a worker thread (store.callRecordWriter.mode: worker, the default) or in this thread (inline).
import { resolve } from "node:path";
import type { Config } from "../config/schema/index.js";
import type { Logger } from "../observability/logger.js";
import type { Registry } from "prom-client";
import { CallRecordWriter, type CallRecordQueue } from "./call-record-writer.js";
import { CallRecordWorkerWriter } from "./call-record-worker-writer.js";
import { sqlitePathOf } from "./db/open.js";
import { NumberCache } from "./number-cache.js";
import { storeMetrics } from "./metrics.js";
import { startLiveKeys, type LiveKeys } from "./live-keys.js";
import { PgNumberChangeFeed } from "./number-change-feed.js";
import { startRetentionScheduler, type RetentionScheduler } from "./retention.js";
import { startCallJournalRecovery, type CallJournalScheduler } from "./call-journal-scheduler.js";
import { openStoreFromConfig, type Store } from "./store.js";

export interface CustomerData {
  store: Store;
  numbers: NumberCache;
  callRecords: CallRecordQueue;
  retention: RetentionScheduler;
  close(): Promise<void>;
}

export async function openCustomerData(
  config: Config,
  deps: { logger: Logger; registry: Registry; now?: () => Date },
): Promise<CustomerData> {
  const { logger, registry } = deps;
  const store = await openStoreFromConfig(config.store, { logger, ...(deps.now ? { now: deps.now } : {}) });
  reportUnreadableRows(store, logger, registry);
  // PostgreSQL: changes from every replica are pushed (LISTEN/NOTIFY); the poll is the fallback.
  const changeFeed = store.dialect === "postgres" ? new PgNumberChangeFeed(config.store.url, logger) : undefined;
  const numbers = new NumberCache(store.numbers, { refreshIntervalMs: config.store.numberCacheRefreshMs, logger, registry, changeFeed });
  try {
    await numbers.start();
  } catch (err) {
    await numbers.stop();
    await store.close();
    throw err;
  }
  const { mode, ...writerOptions } = config.store.callRecordWriter;
  // This instance's store_instances row: its id also owns the journal of its answered calls.
  const instance = store.instanceRegistry(config.store.instanceHeartbeatMs);
  const journalOwner = instance.id;
  const callRecords: CallRecordQueue =
    // An in-memory SQLite database exists only on this thread's connection: a worker could not see it.
    mode === "inline" || sqlitePathOf(config.store.url) === ":memory:"
      ? new CallRecordWriter(store.callRecords, { ...writerOptions, journalOwner, logger, registry })
      : new CallRecordWorkerWriter({ ...writerOptions, journalOwner, url: config.store.url, keyring: store.keyring, logger, registry });
  let liveKeys: LiveKeys;
  let recovery: CallJournalScheduler;
  try {
    liveKeys = await startLiveKeys({
      registry: instance,
      store,
      keyFile: resolve(config.store.encryptionKeyFile),
      env: process.env,
      rules: { allowGroupReadable: config.store.allowGroupReadableKeyFile },
      keyFileCheckMs: config.store.keyFileCheckMs,
      heartbeatMs: config.store.instanceHeartbeatMs,
      ...(callRecords instanceof CallRecordWorkerWriter ? { writer: callRecords } : {}),
      logger,
    });
    // After this instance's first heartbeat (its own row exists), before SIP takes calls.
    recovery = await startCallJournalRecovery(store, { self: journalOwner, intervalMs: config.store.instanceHeartbeatMs, logger, registry });
  } catch (err) {
    numbers.stop();
    await callRecords.close();
    await store.close();
    throw err;
  }
  const retention = startRetentionScheduler(store, {
    retentionDays: config.store.callRecordRetentionDays,
    auditRetentionDays: config.store.auditRetentionDays,
    intervalMs: config.store.retentionIntervalMinutes * 60_000,
    logger,
    registry,
    ...(deps.now ? { now: deps.now } : {}),
  });
  return {
    store,
    numbers,
    callRecords,
    retention,
    async close() {
      retention.stop();
      await recovery.stop();
      await numbers.stop();
      await callRecords.close();
      await liveKeys.stop();
      await store.close();
    },
  };
}

/** Bad rows: counted every time a read skips one, logged once per row (by blind index or id). */
function reportUnreadableRows(store: Store, logger: Logger, registry: Registry): void {
  const metric = storeMetrics(registry).unreadableRows;
  const logged = new Set<string>();
  store.onUnreadable((u) => {
    metric.labels(u.table).inc();
    const id = `${u.table}:${u.rowKey}`;
    if (logged.has(id) || logged.size >= 10_000) return;
    logged.add(id);
    logger.error({ table: u.table, row: u.rowKey, keyId: u.keyId, reason: u.reason }, "stored row cannot be decrypted: skipped (the other rows are served)");
  });
}
