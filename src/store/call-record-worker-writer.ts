// CallRecordWriter's interface with the writing in a worker thread (call-record-worker.ts): the
// per-record encryption, blind indexes, INSERTs and statistics roll-up (~26 CPU-µs per answered
// call, journal entry and record; synchronous SQLite) no longer run on, or stall, the SIP event
// loop. The main thread only appends each record's fields to a flat array and posts it once per
// batch (batchSize records or every flushIntervalMs), keeping every batch until the worker
// acknowledges it:
// - store down: the worker answers "failed", the batch stays queued (bounded by maxQueued, beyond
//   which new records are dropped and counted) and is retried on the timer, one probe batch at a
//   time until the store answers again;
// - worker dead (crash, terminate): a new worker is started and every unacknowledged batch is
//   posted again under its batch id, from which the record ids derive, so a batch whose commit
//   happened but whose acknowledgement was lost is not stored or counted twice.
// Metrics (written, dropped, queue depth, write errors) are kept here from the acknowledgements.
import { randomBytes } from "node:crypto";
import { Worker } from "node:worker_threads";
import type { Logger } from "pino";
import type { AnsweredCall, CallEvent, CallRecordInput } from "./call-record-types.js";
import { DEFAULT_FLUSH_INTERVAL_MS, type CallRecordQueue, type CallRecordWriterOptions } from "./call-record-writer.js";
import { appendWire, errorSummary, toWireKeyring, WIRE_FIELDS, type FromWorker, type ToWorker, type WireValue, type WorkerInit } from "./call-record-wire.js";
import type { Keyring } from "./crypto/keyring.js";
import { CallRecordDrops, type DropReason } from "./call-record-drops.js";
import { storeMetrics, type StoreMetrics } from "./metrics.js";

export interface CallRecordWorkerWriterOptions extends CallRecordWriterOptions {
  /** The store the worker opens its own connection to (store.url) and what relative paths resolve against. */
  url: string;
  baseDir?: string;
  /** The keyring in force in the main thread; the worker gets a copy of its key material. */
  keyring: Keyring;
  /** The compiled worker script (default: call-record-worker.js next to this module). */
  workerUrl?: URL;
  /** Test hook: the first worker exits after committing this many batches, without acknowledging the last. */
  exitAfterBatches?: number;
}

interface Batch {
  readonly id: string;
  readonly data: WireValue[];
  readonly count: number;
  /** Posted to the current worker and not answered yet. */
  inFlight: boolean;
  /** Resolved by the next answer for this batch (what flush() waits on). */
  answered?: { promise: Promise<void>; resolve: () => void };
}

const CLOSE_TIMEOUT_MS = 10_000;
/** A worker that dies within this long of starting is restarted after a pause, not at once. */
const QUICK_DEATH_MS = 1_000;
const DEFAULT_WORKER_URL = new URL("./call-record-worker.js", import.meta.url);

export class CallRecordWorkerWriter implements CallRecordQueue {
  #pending: WireValue[] = [];
  #pendingCount = 0;
  /** Posted or failed batches, oldest first, until acknowledged. */
  readonly #batches = new Map<string, Batch>();
  #batchedCount = 0;
  #inFlight = 0;
  #worker: Worker | null = null;
  #startedAt = 0;
  #restartTimer: NodeJS.Timeout | null = null;
  #scheduled = false;
  #failing = false;
  #closed = false;
  #stopping = false;
  #closedAnswer: (() => void) | null = null;
  readonly #timer: NodeJS.Timeout;
  readonly #batchSize: number;
  readonly #maxQueued: number;
  readonly #flushIntervalMs: number;
  readonly #metrics: StoreMetrics | undefined;
  readonly #logger: Logger | undefined;
  readonly #init: WorkerInit;
  readonly #workerUrl: URL;
  readonly #postScheduled = () => {
    this.#scheduled = false;
    if (!this.#failing) this.#postPending(true);
  };
  readonly #drops: CallRecordDrops;
  #workerKey: string;
  #keyListener: ((active: string) => void) | null = null;
  written = 0;

  constructor(opts: CallRecordWorkerWriterOptions) {
    this.#batchSize = Math.max(1, opts.batchSize ?? 200);
    this.#maxQueued = Math.max(this.#batchSize, opts.maxQueued ?? 50_000);
    this.#flushIntervalMs = Math.max(10, opts.flushIntervalMs ?? DEFAULT_FLUSH_INTERVAL_MS);
    this.#metrics = opts.registry ? storeMetrics(opts.registry) : undefined;
    this.#logger = opts.logger;
    this.#drops = new CallRecordDrops(this.#metrics, opts.logger, this.#maxQueued);
    this.#workerUrl = opts.workerUrl ?? DEFAULT_WORKER_URL;
    this.#init = {
      url: opts.url,
      baseDir: opts.baseDir ?? process.cwd(),
      keyring: toWireKeyring(opts.keyring),
      journalOwner: opts.journalOwner ?? randomBytes(9).toString("base64url"),
    };
    this.#workerKey = opts.keyring.active;
    this.#timer = setInterval(() => {
      if (this.queued > 0) void this.flush();
    }, this.#flushIntervalMs);
    this.#timer.unref();
    this.#start(opts.exitAfterBatches);
  }

  get dropped(): number {
    return this.#drops.total;
  }

  /** The data key the worker has confirmed it writes with (what this instance records in the store). */
  get writerKeyId(): string {
    return this.#workerKey;
  }

  /**
   * A new keyring (rotation, prune): the worker switches between two batches and confirms; a
   * restarted worker starts with it. onWorkerKey is told each confirmation.
   */
  useKeyring(k: Keyring): void {
    this.#init.keyring = toWireKeyring(k);
    this.#worker?.postMessage({ type: "keyring", keyring: this.#init.keyring } satisfies ToWorker);
  }

  onWorkerKey(listener: (active: string) => void): void {
    this.#keyListener = listener;
  }

  get queued(): number {
    return this.#pendingCount + this.#batchedCount;
  }

  /** O(1), never throws, never waits. Returns false when the record was dropped. */
  record(r: CallRecordInput): boolean {
    if (this.#closed || this.queued >= this.#maxQueued) {
      this.#drop(1, this.#closed ? "closed" : "queue_full");
      return false;
    }
    this.#enqueue(r);
    return true;
  }

  answered(c: AnsweredCall): boolean {
    if (this.#closed || this.queued >= this.#maxQueued) return false;
    this.#enqueue(c);
    return true;
  }

  #enqueue(r: CallEvent): void {
    appendWire(this.#pending, r);
    this.#pendingCount++;
    this.#metrics?.callRecordQueueDepth.set(this.queued);
    if (this.#pendingCount >= this.#batchSize && !this.#scheduled && !this.#failing) {
      this.#scheduled = true;
      setImmediate(this.#postScheduled);
    }
  }

  /**
   * Posts what is queued and resolves when the worker has answered for every batch (written, or
   * failed because the store is down: those records stay queued).
   */
  async flush(): Promise<void> {
    this.#postPending(!this.#failing);
    if (this.#failing) {
      // Store down: one batch probes it; the rest follow once it answers again.
      const probe = this.#oldestIdle();
      if (probe) this.#send(probe);
      await this.#answers();
      if (this.#failing) return;
    }
    for (const b of this.#batches.values()) if (!b.inFlight) this.#send(b);
    await this.#answers();
  }

  /** Stops accepting, writes everything queued, stops the worker; what could not be written is counted as dropped. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#timer);
    await this.flush();
    // The store may have failed during that flush: one more attempt for what is left.
    if (this.queued > 0) await this.flush();
    if (this.queued > 0) {
      const n = this.queued;
      this.#pending = [];
      this.#pendingCount = 0;
      this.#batches.clear();
      this.#batchedCount = 0;
      this.#drop(n, "close");
      this.#logger?.error({ lost: n }, "call records could not be written before close");
    }
    this.#metrics?.callRecordQueueDepth.set(0);
    await this.#stopWorker();
  }

  /** Test hook: kills the worker as a crash would (it is restarted, unacknowledged batches re-posted). */
  async terminateWorkerForTest(): Promise<void> {
    await this.#worker?.terminate();
  }

  /** Turns the queued records into batches; posts them unless the store is down (flush probes first). */
  #postPending(send: boolean): void {
    if (this.#pendingCount === 0) return;
    const data = this.#pending;
    const count = this.#pendingCount;
    this.#pending = [];
    this.#pendingCount = 0;
    // While the store was down the queue may have grown past one batch: post batch-sized pieces.
    const width = this.#batchSize * WIRE_FIELDS;
    for (let start = 0; start < data.length; start += width) {
      const piece = count <= this.#batchSize ? data : data.slice(start, start + width);
      const b: Batch = { id: randomBytes(16).toString("base64url"), data: piece, count: piece.length / WIRE_FIELDS, inFlight: false };
      this.#batches.set(b.id, b);
      this.#batchedCount += b.count;
      if (send) this.#send(b);
    }
  }

  #send(b: Batch): void {
    if (!b.answered) {
      let resolve!: () => void;
      const promise = new Promise<void>((r) => (resolve = r));
      b.answered = { promise, resolve };
    }
    if (!b.inFlight) {
      b.inFlight = true;
      this.#inFlight++;
    }
    // Without a worker (being restarted) the batch is posted by #start().
    if (this.#worker) {
      this.#worker.ref();
      this.#worker.postMessage({ type: "write", id: b.id, data: b.data } satisfies ToWorker);
    }
  }

  #oldestIdle(): Batch | undefined {
    for (const b of this.#batches.values()) if (!b.inFlight) return b;
    return undefined;
  }

  /** Resolves when every batch now in flight has been answered (by this or a restarted worker). */
  async #answers(): Promise<void> {
    const waits: Promise<void>[] = [];
    for (const b of this.#batches.values()) if (b.inFlight && b.answered) waits.push(b.answered.promise);
    await Promise.all(waits);
  }

  #onMessage(m: FromWorker): void {
    if (m.type === "closed") {
      this.#closedAnswer?.();
      return;
    }
    if (m.type === "keyring") {
      this.#workerKey = m.active;
      this.#keyListener?.(m.active);
      return;
    }
    const b = this.#batches.get(m.id);
    if (!b || !b.inFlight) return;
    b.inFlight = false;
    this.#inFlight--;
    if (m.type === "done") {
      this.#batches.delete(b.id);
      this.#batchedCount -= b.count;
      this.written += m.written;
      this.#metrics?.callRecordsWritten.inc(m.written);
      for (const why of m.invalid) {
        this.#drop(1, "invalid");
        this.#logger?.warn({ err: why }, "invalid call record dropped");
      }
      if (this.#failing) this.#logger?.info("call record writes recovered");
      this.#failing = false;
    } else {
      this.#metrics?.callRecordWriteErrors.inc();
      if (!this.#failing) this.#logger?.error({ err: m.error, queued: this.queued }, "call record write failed; will retry");
      this.#failing = true;
    }
    this.#metrics?.callRecordQueueDepth.set(this.queued);
    const answered = b.answered;
    b.answered = undefined;
    answered?.resolve();
    // Idle: the worker must not keep the process alive; busy: it must (someone awaits an answer).
    if (this.#inFlight === 0) this.#worker?.unref();
  }

  #start(exitAfterBatches?: number): void {
    this.#restartTimer = null;
    const worker = new Worker(this.#workerUrl, {
      workerData: { ...this.#init, ...(exitAfterBatches === undefined ? {} : { exitAfterBatches }) } satisfies WorkerInit,
    });
    this.#worker = worker;
    this.#startedAt = Date.now();
    // A restarted worker starts with the latest keyring.
    this.#workerKey = this.#init.keyring.active;
    worker.on("message", (m: FromWorker) => this.#onMessage(m));
    worker.on("error", (err) => this.#logger?.error({ err: errorSummary(err) }, "call record worker failed"));
    worker.on("exit", (code) => this.#onExit(worker, code));
    for (const b of this.#batches.values()) {
      if (b.inFlight) worker.postMessage({ type: "write", id: b.id, data: b.data } satisfies ToWorker);
    }
    if (this.#inFlight === 0) worker.unref();
  }

  #onExit(worker: Worker, code: number): void {
    if (this.#worker !== worker) return;
    this.#worker = null;
    this.#closedAnswer?.();
    if (this.#stopping) return;
    const quick = Date.now() - this.#startedAt < QUICK_DEATH_MS;
    this.#logger?.error({ code, unacknowledged: this.#inFlight }, "call record worker exited; restarting it");
    // At least QUICK_DEATH_MS: with the 100 ms flush interval a worker that cannot start must not
    // be restarted (and logged) ten times a second.
    const delay = quick ? Math.min(Math.max(this.#flushIntervalMs, QUICK_DEATH_MS), 5_000) : 0;
    this.#restartTimer = setTimeout(() => this.#start(), delay);
    if (this.#inFlight === 0) this.#restartTimer.unref();
  }

  async #stopWorker(): Promise<void> {
    this.#stopping = true;
    if (this.#restartTimer) clearTimeout(this.#restartTimer);
    const worker = this.#worker;
    if (!worker) return;
    worker.ref();
    // Let the worker close its store (WAL checkpoint, pool ends), bounded; then end the thread.
    const closed = new Promise<void>((resolve) => (this.#closedAnswer = resolve));
    let timeout: NodeJS.Timeout | undefined;
    worker.postMessage({ type: "close" } satisfies ToWorker);
    await Promise.race([closed, new Promise<void>((resolve) => (timeout = setTimeout(resolve, CLOSE_TIMEOUT_MS)))]);
    clearTimeout(timeout);
    await worker.terminate();
    this.#worker = null;
  }

  #drop(n: number, reason: DropReason): void {
    this.#drops.add(n, reason);
  }

}
