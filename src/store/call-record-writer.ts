// Takes call records off the SIP hot path: record() (and answered(), the journal entry of an
// answered call, call-journal.ts) only pushes to an in-memory queue; batches are written every
// `batchSize` entries or `flushIntervalMs` (default 100 ms: what a kill -9 can lose), and on close(). If the store is down the
// queue keeps records (bounded by `maxQueued`, then new ones are dropped and counted) and the timer
// retries; close() writes everything still queued before resolving.
import { randomBytes } from "node:crypto";
import type { Logger } from "pino";
import type { Registry } from "prom-client";
import { CallRecordError, type AnsweredCall, type CallEvent, type CallRecordInput, type InsertManyOptions } from "./call-record-types.js";
import { CallRecordDrops, type DropReason } from "./call-record-drops.js";
import { storeMetrics, type StoreMetrics } from "./metrics.js";
import { errorSummary } from "./call-record-wire.js";

export { errorSummary };

export interface CallRecordSink {
  insertMany(events: readonly CallEvent[], opts?: InsertManyOptions): Promise<number>;
}

/** The default flush interval: records of calls that ended in the last this-many ms are what a kill -9 loses. */
export const DEFAULT_FLUSH_INTERVAL_MS = 100;

/**
 * What the proxy's call recorder and the composition root use: CallRecordWriter (in this thread)
 * and CallRecordWorkerWriter (a worker thread) both implement it.
 */
export interface CallRecordQueue {
  /** O(1), never throws, never waits. Returns false when the record was dropped. */
  record(r: CallRecordInput): boolean;
  /**
   * Queues the journal entry of an answered call (written in the next batch, deleted by the batch
   * with its record). O(1), never throws; false when the queue is closed or full (not counted as a
   * dropped record: the record itself is queued when the call ends).
   */
  answered(c: AnsweredCall): boolean;
  /** Writes what is queued; resolves when done or when the store failed (records stay queued). */
  flush(): Promise<void>;
  /** Stops accepting, writes everything queued; what cannot be written is counted as dropped. */
  close(): Promise<void>;
  readonly queued: number;
  readonly written: number;
  readonly dropped: number;
}

export interface CallRecordWriterOptions {
  /** Write as soon as this many records are queued (default 200). */
  batchSize?: number;
  /** Write whatever is queued at this interval (default DEFAULT_FLUSH_INTERVAL_MS). */
  flushIntervalMs?: number;
  /** Queue bound while the store is unreachable; beyond it records are dropped (default 50 000). */
  maxQueued?: number;
  logger?: Logger;
  registry?: Registry;
  /** The instance's store_instances id, under which journal entries are kept (default: a random id). */
  journalOwner?: string;
}

export class CallRecordWriter implements CallRecordQueue {
  private queue: CallEvent[] = [];
  private flushing: Promise<void> | null = null;
  private scheduled = false;
  private failing = false;
  private closed = false;
  private readonly timer: NodeJS.Timeout;
  private readonly batchSize: number;
  private readonly maxQueued: number;
  private readonly metrics: StoreMetrics | undefined;
  private readonly drops: CallRecordDrops;
  private readonly insertOptions: InsertManyOptions;
  written = 0;

  constructor(
    private readonly sink: CallRecordSink,
    private readonly opts: CallRecordWriterOptions = {},
  ) {
    this.batchSize = Math.max(1, opts.batchSize ?? 200);
    this.maxQueued = Math.max(this.batchSize, opts.maxQueued ?? 50_000);
    this.metrics = opts.registry ? storeMetrics(opts.registry) : undefined;
    this.drops = new CallRecordDrops(this.metrics, opts.logger, this.maxQueued);
    this.insertOptions = { journalOwner: opts.journalOwner ?? randomBytes(9).toString("base64url") };
    this.timer = setInterval(() => {
      if (this.queue.length > 0) void this.flush();
    }, Math.max(10, opts.flushIntervalMs ?? DEFAULT_FLUSH_INTERVAL_MS));
    this.timer.unref();
  }

  get dropped(): number {
    return this.drops.total;
  }

  get queued(): number {
    return this.queue.length;
  }

  /** O(1), never throws, never waits. Returns false when the record was dropped. */
  record(r: CallRecordInput): boolean {
    if (this.closed || this.queue.length >= this.maxQueued) {
      this.drop(1, this.closed ? "closed" : "queue_full");
      return false;
    }
    this.enqueue(r);
    return true;
  }

  answered(c: AnsweredCall): boolean {
    if (this.closed || this.queue.length >= this.maxQueued) return false;
    this.enqueue(c);
    return true;
  }

  private enqueue(r: CallEvent): void {
    this.queue.push(r);
    this.metrics?.callRecordQueueDepth.set(this.queue.length);
    if (this.queue.length >= this.batchSize && !this.scheduled && !this.failing) {
      this.scheduled = true;
      setImmediate(() => {
        this.scheduled = false;
        void this.flush();
      });
    }
  }

  /** Writes what is queued; resolves when done or when the store failed (records stay queued). */
  flush(): Promise<void> {
    if (!this.flushing) this.flushing = this.drain().finally(() => (this.flushing = null));
    return this.flushing;
  }

  /** Stops accepting, writes everything queued; what cannot be written is counted as dropped. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    if (this.flushing) await this.flushing;
    // A flush already in progress may have ended on a failure: one more attempt for what is left.
    if (this.queue.length > 0) await this.flush();
    if (this.queue.length > 0) {
      const n = this.queue.length;
      this.queue = [];
      this.drop(n, "close");
      this.opts.logger?.error({ lost: n }, "call records could not be written before close");
    }
    this.metrics?.callRecordQueueDepth.set(0);
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue.slice(0, this.batchSize);
      try {
        await this.write(batch);
        this.queue.splice(0, batch.length);
        if (this.failing) this.opts.logger?.info("call record writes recovered");
        this.failing = false;
      } catch (err) {
        this.metrics?.callRecordWriteErrors.inc();
        if (!this.failing) this.opts.logger?.error({ err: errorSummary(err), queued: this.queue.length }, "call record write failed; will retry");
        this.failing = true;
        break;
      } finally {
        this.metrics?.callRecordQueueDepth.set(this.queue.length);
      }
    }
  }

  /** A batch with an invalid record is written one by one so only the bad records are lost. */
  private async write(batch: CallEvent[]): Promise<void> {
    try {
      this.count(await this.sink.insertMany(batch, this.insertOptions));
    } catch (err) {
      if (!(err instanceof CallRecordError)) throw err;
      for (const r of batch) {
        try {
          this.count(await this.sink.insertMany([r], this.insertOptions));
        } catch (e) {
          if (!(e instanceof CallRecordError)) throw e;
          this.drop(1, "invalid");
          this.opts.logger?.warn({ err: e.message }, "invalid call record dropped");
        }
      }
    }
  }

  private count(n: number): void {
    this.written += n;
    this.metrics?.callRecordsWritten.inc(n);
  }

  private drop(n: number, reason: DropReason): void {
    this.drops.add(n, reason);
  }
}
