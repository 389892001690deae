// Store metrics: aggregates only (no number, service or peer labels beyond fixed sets).
// Registered once per registry: the writer, cache and retention job may each ask for them.
import { Counter, Gauge, type Registry } from "prom-client";

export interface StoreMetrics {
  callRecordsWritten: Counter;
  callRecordsDropped: Counter<"reason">;
  callRecordsPurged: Counter;
  auditEntriesPurged: Counter;
  callRecordQueueDepth: Gauge;
  callRecordWriteErrors: Counter;
  callsRecovered: Counter;
  callRecoveryErrors: Counter;
  numbersProvisioned: Gauge;
  purgeRuns: Counter<"result">;
  unreadableRows: Counter<"table">;
}

const byRegistry = new WeakMap<Registry, StoreMetrics>();

export function storeMetrics(registry: Registry): StoreMetrics {
  const existing = byRegistry.get(registry);
  if (existing) return existing;
  const registers = [registry];
  const m: StoreMetrics = {
    callRecordsWritten: new Counter({ name: "trunkgate_store_call_records_written_total", help: "Call records written to the store", registers }),
    callRecordsDropped: new Counter({
      name: "trunkgate_store_call_records_dropped_total",
      help: "Call records lost: queue full (store unreachable) or not written at close",
      labelNames: ["reason"],
      registers,
    }),
    callRecordsPurged: new Counter({
      name: "trunkgate_store_call_records_purged_total",
      help: "Call records rolled up into daily statistics and deleted by the retention purge",
      registers,
    }),
    auditEntriesPurged: new Counter({
      name: "trunkgate_store_audit_entries_purged_total",
      help: "Audit trail entries deleted by the retention purge (older than store.auditRetentionDays)",
      registers,
    }),
    callRecordQueueDepth: new Gauge({ name: "trunkgate_store_call_record_queue_depth", help: "Call records waiting to be written", registers }),
    callRecordWriteErrors: new Counter({ name: "trunkgate_store_call_record_write_errors_total", help: "Failed call record batch writes (retried)", registers }),
    callsRecovered: new Counter({
      name: "trunkgate_store_calls_recovered_total",
      help: "Answered calls recorded from the call journal of an instance that died before recording them (hangup side unknown)",
      registers,
    }),
    callRecoveryErrors: new Counter({ name: "trunkgate_store_call_recovery_errors_total", help: "Failed call-journal recovery passes (retried)", registers }),
    numbersProvisioned: new Gauge({ name: "trunkgate_store_numbers_provisioned", help: "Provisioned numbers (as last loaded by the routing cache)", registers }),
    unreadableRows: new Counter({
      name: "trunkgate_store_unreadable_rows_total",
      help: "Stored rows skipped because they could not be decrypted (tampered, or under a key not in the keyring), each time a read met one",
      labelNames: ["table"],
      registers,
    }),
    purgeRuns: new Counter({ name: "trunkgate_store_retention_runs_total", help: "Retention purge runs by result (success, error)", labelNames: ["result"], registers }),
  };
  byRegistry.set(registry, m);
  return m;
}
