import { z } from "zod";

export const storeSchema = z
  .strictObject({
    url: z.string().regex(/^(sqlite:|postgres(ql)?:\/\/)/, "sqlite:PATH or postgres://…").default("sqlite:data/trunkgate.db"),
    /** Keyring file (JSON, mode 0600); TRUNKGATE_STORE_KEY overrides it. Keys never go in YAML. */
    encryptionKeyFile: z.string().min(1).default("data/trunkgate.key"),
    /**
     * First run: create encryptionKeyFile when it does not exist and the store is empty (a store
     * that already holds encrypted data with no key file is an error naming the file).
     */
    createKeyFileIfMissing: z.boolean().default(true),
    /** Accept a key file its group may read (0640/0440, a Secret mounted with fsGroup); otherwise only 0600/0400. */
    allowGroupReadableKeyFile: z.boolean().default(false),
    callRecordRetentionDays: z.number().int().min(1).max(30, "at most 30 days (customer-data policy)").default(30),
    /** Audit trail entries (who changed which number, key operations) are purged after this many days. */
    auditRetentionDays: z.number().int().min(1).max(3650, "at most 3650 days (10 years)").default(365),
    /** How often a running instance checks its key file for a change (rotation, prune). */
    keyFileCheckMs: z.number().int().min(100).max(3_600_000).default(5000),
    /**
     * How often a running instance records the data keys it writes with in the store; `keys prune`
     * ignores an instance not seen for 3 heartbeats (it died without closing).
     */
    instanceHeartbeatMs: z.number().int().min(100).max(600_000).default(10_000),
    /** How often the retention purge runs. */
    retentionIntervalMinutes: z.number().int().min(1).max(1440).default(60),
    /** How often each replica polls the numbers version to refresh its routing cache. */
    numberCacheRefreshMs: z.number().int().min(100).max(600_000).default(2000),
    statistics: z
      .strictObject({
        /**
         * A daily statistics row never describes fewer calls: smaller (day, service, peer) groups
         * are merged into coarser rows (see src/store/README.md). 1 disables merging.
         */
        minGroupSize: z.number().int().min(1).max(1000).default(5),
      })
      .prefault({}),
    callRecordWriter: z
      .strictObject({
        /**
         * worker: batches are encrypted and written by a worker thread with its own store
         * connection, off the SIP event loop. inline: written in the main thread (tests, debugging).
         */
        mode: z.enum(["worker", "inline"]).default("worker"),
        batchSize: z.number().int().min(1).max(5000).default(200),
        /**
         * Queued records (and journal entries of answered calls) are written at least this often:
         * a kill -9 loses the records of calls that ended within about this long (plus the batch
         * being written). Calls still up are journaled and recorded on the next start.
         */
        flushIntervalMs: z.number().int().min(10).max(60_000).default(100),
        maxQueued: z.number().int().min(1).max(10_000_000).default(50_000),
      })
      .prefault({}),
  })
  .prefault({});
export type StoreConfig = z.infer<typeof storeSchema>;
