// Everything the running proxy needs from the store, built once by the composition root: the store
// itself, the in-memory number routing table, the batched call-record writer and the retention
// scheduler. close() flushes queued call records before closing the store. Call records are written
// by a worker thread (store.callRecordWriter.mode: worker, the default) or in this thread (inline).
import type { Config } from "../config/schema/index.js";
import type { Logger } from "../observability/logger.js";
import type { Registry } from "prom-client";
import { CallRecordWriter, type CallRecordQueue } from "./call-record-writer.js";
import { CallRecordWorkerWriter } from "./call-record-worker-writer.js";
import { sqlitePathOf } from "./db/open.js";
import { NumberCache } from "./number-cache.js";
import { PgNumberChangeFeed } from "./number-change-feed.js";
import { startRetentionScheduler, type RetentionScheduler } from "./retention.js";
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
  const callRecords: CallRecordQueue =
    // An in-memory SQLite database exists only on this thread's connection: a worker could not see it.
    mode === "inline" || sqlitePathOf(config.store.url) === ":memory:"
      ? new CallRecordWriter(store.callRecords, { ...writerOptions, logger, registry })
      : new CallRecordWorkerWriter({ ...writerOptions, url: config.store.url, keyring: store.keyring, logger, registry });
  const retention = startRetentionScheduler(store, {
    retentionDays: config.store.callRecordRetentionDays,
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
      await numbers.stop();
      await callRecords.close();
      await store.close();
    },
  };
}
