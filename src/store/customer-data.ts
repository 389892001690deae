// Everything the running proxy needs from the store, built once by the composition root: the store
// itself, the in-memory number routing table, the batched call-record writer and the retention
// scheduler. close() flushes queued call records before closing the store.
import type { Config } from "../config/schema/index.js";
import type { Logger } from "../observability/logger.js";
import type { Registry } from "prom-client";
import { CallRecordWriter } from "./call-record-writer.js";
import { NumberCache } from "./number-cache.js";
import { startRetentionScheduler, type RetentionScheduler } from "./retention.js";
import { openStoreFromConfig, type Store } from "./store.js";

export interface CustomerData {
  store: Store;
  numbers: NumberCache;
  callRecords: CallRecordWriter;
  retention: RetentionScheduler;
  close(): Promise<void>;
}

export async function openCustomerData(
  config: Config,
  deps: { logger: Logger; registry: Registry; now?: () => Date },
): Promise<CustomerData> {
  const { logger, registry } = deps;
  const store = await openStoreFromConfig(config.store, { logger, ...(deps.now ? { now: deps.now } : {}) });
  const numbers = new NumberCache(store.numbers, { refreshIntervalMs: config.store.numberCacheRefreshMs, logger, registry });
  try {
    await numbers.start();
  } catch (err) {
    await store.close();
    throw err;
  }
  const callRecords = new CallRecordWriter(store.callRecords, { ...config.store.callRecordWriter, logger, registry });
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
      numbers.stop();
      await callRecords.close();
      await store.close();
    },
  };
}
