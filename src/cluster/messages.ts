// What the cluster primary and its workers say to each other over the IPC channel. Every message
// carries a `tg` tag so that Node's own cluster messages (and anyone else's) are ignored.
import type { Registry } from "prom-client";
import type { Config } from "../config/schema/index.js";

/** One registry's metrics as prom-client serialises them (getMetricsAsJSON). */
export type MetricsJson = Awaited<ReturnType<Registry["getMetricsAsJSON"]>>;

/** Primary → worker. `id` pairs a request with its answer. */
export type ToWorker =
  /** logHashKey (hex): one key for hashed identifiers in every worker's logs, so they correlate. */
  | { tg: "configure"; config: Config; logHashKey: string }
  | { tg: "metrics"; id: number }
  | { tg: "readiness"; id: number }
  | { tg: "reload" }
  | { tg: "stop" };

/** Worker → primary. */
export type ToPrimary =
  | { tg: "hello" }
  | { tg: "started"; listeners: Record<string, number | undefined> }
  /** The worker could not start: `lines` for stderr, `code` the exit code the CLI would use. */
  | { tg: "failed"; code: number; lines: string[] }
  | { tg: "metrics"; id: number; metrics: MetricsJson }
  | { tg: "readiness"; id: number; notReady: string[] }
  | { tg: "reloaded"; ok: boolean };

export function isToWorker(m: unknown): m is ToWorker {
  return typeof m === "object" && m !== null && typeof (m as { tg?: unknown }).tg === "string";
}

export function isToPrimary(m: unknown): m is ToPrimary {
  return typeof m === "object" && m !== null && typeof (m as { tg?: unknown }).tg === "string";
}

/** The environment variable that tells a forked worker its slot (1..N, kept across restarts). */
export const WORKER_SLOT_ENV = "TRUNKGATE_WORKER_SLOT";
