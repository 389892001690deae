// Counting the call records a writer could not keep, shared by the inline (call-record-writer.ts)
// and the worker-thread (call-record-worker-writer.ts) writers: every drop counts in
// trunkgate_store_call_records_dropped_total by reason; a full queue is also logged, at most once
// per DROP_LOG_INTERVAL_MS with the number dropped since the last line (a store outage at
// thousands of calls per second must not become thousands of log lines).
import type { Logger } from "pino";
import type { StoreMetrics } from "./metrics.js";

export type DropReason = "queue_full" | "closed" | "close" | "invalid";

const DROP_LOG_INTERVAL_MS = 10_000;

export class CallRecordDrops {
  total = 0;
  #lastLog = 0;
  #sinceLog = 0;

  constructor(
    private readonly metrics: StoreMetrics | undefined,
    private readonly logger: Logger | undefined,
    private readonly maxQueued: number,
  ) {}

  add(n: number, reason: DropReason): void {
    this.total += n;
    this.metrics?.callRecordsDropped.labels(reason).inc(n);
    if (reason !== "queue_full") return;
    this.#sinceLog += n;
    const now = Date.now();
    if (now - this.#lastLog >= DROP_LOG_INTERVAL_MS) {
      this.logger?.warn({ dropped: this.#sinceLog, maxQueued: this.maxQueued }, "call record queue full; records dropped");
      this.#lastLog = now;
      this.#sinceLog = 0;
    }
  }
}
