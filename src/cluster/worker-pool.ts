// The primary's workers: N slots, each running one worker process at a time. A slot keeps its number
// (1..N) across restarts, so logs (`worker` field), per-process metrics and the one worker that
// runs the retention purge (slot 1) stay stable. The pool forks, configures, asks workers for
// metrics and readiness, replaces a worker that died (with backoff), and stops them all.
import cluster, { type Worker } from "node:cluster";
import { EventEmitter } from "node:events";
import type { Config } from "../config/schema/index.js";
import type { Logger } from "../observability/logger.js";
import { isToPrimary, WORKER_SLOT_ENV, type MetricsJson, type ToPrimary, type ToWorker } from "./messages.js";
import { PendingRequests } from "./pending-requests.js";
import { restartDelayMs, STABLE_MS } from "./restart-backoff.js";
import { retire, type ProcessMetrics } from "./metrics-aggregation.js";

/** Deadline for a worker's answer to /metrics and /readyz (Prometheus' default scrape timeout is 10 s). */
const ANSWER_TIMEOUT_MS = 3000;

interface Slot {
  readonly index: number;
  worker: Worker | undefined;
  started: boolean;
  startedAt: number;
  /** Unexpected exits in a row (reset once a worker ran STABLE_MS). */
  failures: number;
  restartTimer: NodeJS.Timeout | undefined;
  /** The current worker's last metrics answer (used when it misses a deadline, retired when it exits). */
  lastMetrics: MetricsJson | undefined;
}

export interface WorkerFailure {
  slot: number;
  code: number;
  lines: string[];
}

export interface WorkerPoolEvents {
  /** Every slot has a started worker for the first time. */
  allStarted: [listeners: Record<string, number | undefined>];
  /** A worker failed before the pool had ever fully started (bad config, port in use…). */
  startupFailed: [WorkerFailure];
  /** Every worker has exited after stop(). */
  stopped: [clean: boolean];
  restart: [slot: number];
}

export class WorkerPool extends EventEmitter<WorkerPoolEvents> {
  readonly #slots: Slot[];
  readonly #metricsRequests = new PendingRequests<MetricsJson>(ANSWER_TIMEOUT_MS);
  readonly #readinessRequests = new PendingRequests<string[]>(ANSWER_TIMEOUT_MS);
  #everyoneStarted = false;
  #stopping = false;
  #clean = true;
  #retired: MetricsJson = [];
  #retiring: Promise<void> = Promise.resolve();

  constructor(
    private readonly o: { size: number; config: Config; logHashKey: string; logger: Logger },
  ) {
    super();
    this.#slots = Array.from({ length: o.size }, (_, i) => ({
      index: i + 1, worker: undefined, started: false, startedAt: 0, failures: 0, restartTimer: undefined, lastMetrics: undefined,
    }));
  }

  get size(): number {
    return this.#slots.length;
  }

  /** Workers that have started and not exited. */
  get running(): number {
    return this.#slots.filter((s) => s.worker !== undefined && s.started).length;
  }

  get stopping(): boolean {
    return this.#stopping;
  }

  start(): void {
    for (const s of this.#slots) this.#fork(s);
  }

  #fork(slot: Slot): void {
    slot.restartTimer = undefined;
    slot.started = false;
    slot.lastMetrics = undefined;
    const worker = cluster.fork({ [WORKER_SLOT_ENV]: String(slot.index) });
    slot.worker = worker;
    worker.on("message", (msg: unknown) => {
      if (isToPrimary(msg)) this.#onMessage(slot, worker, msg);
    });
    worker.on("exit", (code, signal) => this.#onExit(slot, worker, code, signal));
    // An IPC write to a worker that just died fails asynchronously; the exit handler deals with it.
    worker.on("error", (err) => this.o.logger.warn({ worker: slot.index, error: err.message }, "IPC with worker failed"));
  }

  #send(worker: Worker, msg: ToWorker): boolean {
    if (!worker.isConnected()) return false;
    worker.send(msg);
    return true;
  }

  #onMessage(slot: Slot, worker: Worker, msg: ToPrimary): void {
    if (slot.worker !== worker) return; // a message from a worker already replaced
    switch (msg.tg) {
      case "hello":
        this.#send(worker, { tg: "configure", config: this.o.config, logHashKey: this.o.logHashKey });
        return;
      case "started":
        slot.started = true;
        slot.startedAt = Date.now();
        this.o.logger.info({ worker: slot.index, pid: worker.process.pid }, "worker started");
        if (this.#stopping) this.#send(worker, { tg: "stop" });
        else if (!this.#everyoneStarted && this.#slots.every((s) => s.started)) {
          this.#everyoneStarted = true;
          this.emit("allStarted", msg.listeners);
        }
        return;
      case "failed":
        if (!this.#everyoneStarted && !this.#stopping) {
          this.emit("startupFailed", { slot: slot.index, code: msg.code, lines: msg.lines });
        } else {
          this.o.logger.error({ worker: slot.index, error: msg.lines.join(" ") }, "replacement worker failed to start");
        }
        return;
      case "metrics":
        return this.#metricsRequests.settle(msg.id, msg.metrics);
      case "readiness":
        return this.#readinessRequests.settle(msg.id, msg.notReady);
      case "reloaded":
        if (msg.ok) this.o.logger.info({ worker: slot.index }, "worker reloaded its TLS material");
        else this.o.logger.error({ worker: slot.index }, "worker kept its previous TLS material (reload failed; see its log)");
        return;
    }
  }

  #onExit(slot: Slot, worker: Worker, code: number | null, signal: string | null): void {
    if (slot.worker !== worker) return;
    const ranMs = slot.started ? Date.now() - slot.startedAt : 0;
    const last = slot.lastMetrics;
    slot.worker = undefined;
    slot.started = false;
    slot.lastMetrics = undefined;
    if (last !== undefined) this.#retiring = this.#retiring.then(async () => void (this.#retired = await retire(this.#retired, last)));
    if (this.#stopping) {
      if (code !== 0) this.#clean = false;
      this.o.logger.info({ worker: slot.index, code, signal }, "worker exited");
      if (this.#slots.every((s) => s.worker === undefined)) this.emit("stopped", this.#clean);
      return;
    }
    if (!this.#everyoneStarted) {
      // Startup: a worker that exits without a 'failed' message (crash, killed) fails the start too.
      this.emit("startupFailed", {
        slot: slot.index,
        code: 1,
        lines: [`trunkgate: cannot start: worker ${slot.index} exited during startup (${signal ?? `code ${code}`})`],
      });
      return;
    }
    slot.failures = ranMs >= STABLE_MS ? 1 : slot.failures + 1;
    const delay = restartDelayMs(slot.failures);
    this.o.logger.error(
      { worker: slot.index, pid: worker.process.pid, code, signal, restartInMs: delay, failuresInARow: slot.failures },
      "worker exited unexpectedly; replacing it",
    );
    slot.restartTimer = setTimeout(() => {
      if (this.#stopping) return;
      this.emit("restart", slot.index);
      this.#fork(slot);
    }, delay);
  }

  /** Every running worker's metrics (a late worker's previous answer stands in), and the retired totals. */
  async collectMetrics(): Promise<{ processes: ProcessMetrics[]; retired: MetricsJson }> {
    const asked = this.#slots.map(async (slot): Promise<ProcessMetrics | undefined> => {
      const worker = slot.worker;
      if (worker === undefined || !slot.started) return undefined;
      const { id, answer } = this.#metricsRequests.open();
      if (!this.#send(worker, { tg: "metrics", id })) this.#metricsRequests.settle(id, undefined);
      const metrics = await answer;
      if (slot.worker !== worker) return undefined; // exited meanwhile: now in the retired totals
      if (metrics !== undefined && metrics.length > 0) slot.lastMetrics = metrics;
      else this.o.logger.warn({ worker: slot.index }, "worker did not answer the metrics request in time; using its previous answer");
      return slot.lastMetrics === undefined ? undefined : { worker: String(slot.index), metrics: slot.lastMetrics };
    });
    const processes = (await Promise.all(asked)).filter((p): p is ProcessMetrics => p !== undefined);
    await this.#retiring;
    return { processes, retired: this.#retired };
  }

  /** What is not ready, by worker ("worker 2: sip", "worker 1: not running"); empty when all are. */
  async notReady(): Promise<string[]> {
    const answers = await Promise.all(
      this.#slots.map(async (slot): Promise<string[]> => {
        const worker = slot.worker;
        if (worker === undefined || !slot.started) return [`worker ${slot.index}: not running`];
        const { id, answer } = this.#readinessRequests.open();
        if (!this.#send(worker, { tg: "readiness", id })) this.#readinessRequests.settle(id, undefined);
        const failing = await answer;
        if (failing === undefined) return [`worker ${slot.index}: no answer`];
        return failing.map((f) => `worker ${slot.index}: ${f}`);
      }),
    );
    return answers.flat();
  }

  /** The config a worker started from now on gets (a reload's live keys; see config/live-reload.ts). */
  setConfig(config: Config): void {
    this.o.config = config;
  }

  /** Forwards a certificate reload to every running worker (each answers; the answers are logged). */
  reload(): number {
    let n = 0;
    for (const s of this.#slots) if (s.worker !== undefined && s.started && this.#send(s.worker, { tg: "reload" })) n++;
    return n;
  }

  /** Asks every worker to drain and exit; 'stopped' follows when the last one has exited. */
  stop(): void {
    if (this.#stopping) return;
    this.#stopping = true;
    for (const s of this.#slots) {
      if (s.restartTimer !== undefined) clearTimeout(s.restartTimer);
      s.restartTimer = undefined;
      // A worker still starting gets the stop once it has started (see 'started'), or exits at once.
      if (s.worker !== undefined) this.#send(s.worker, { tg: "stop" });
    }
    if (this.#slots.every((s) => s.worker === undefined)) queueMicrotask(() => this.emit("stopped", this.#clean));
  }

  /** Last resort: SIGKILL every worker still alive (second signal, drain deadline passed, failed start). */
  kill(): void {
    this.#stopping = true;
    this.#clean = false;
    for (const s of this.#slots) {
      if (s.restartTimer !== undefined) clearTimeout(s.restartTimer);
      s.restartTimer = undefined;
      s.worker?.process.kill("SIGKILL");
    }
    if (this.#slots.every((s) => s.worker === undefined)) queueMicrotask(() => this.emit("stopped", false));
  }

  /** PIDs of the live workers (diagnostics and tests). */
  pids(): number[] {
    return this.#slots.flatMap((s) => (s.worker?.process.pid !== undefined ? [s.worker.process.pid] : []));
  }
}
