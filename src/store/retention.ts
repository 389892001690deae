// Call records live at most store.callRecordRetentionDays (≤ 30). The purge deletes records older
// than that; their anonymised daily statistics were added when they were written (see
// CallRecordRepository.insertMany), so only aggregates remain. The scheduler purges with a look-ahead
// of one interval, so a record is gone before it passes the limit, not up to an interval after.
// The same run purges audit trail entries older than store.auditRetentionDays (their own limit).
import type { Logger } from "pino";
import type { Registry } from "prom-client";
import type { Store } from "./store.js";
import { storeMetrics } from "./metrics.js";
import { utcDay } from "./statistics.js";

export const MAX_RETENTION_DAYS = 30;
export const MAX_AUDIT_RETENTION_DAYS = 3650;
const DAY_MS = 86_400_000;

export interface RetentionOptions {
  retentionDays: number;
  /** store.auditRetentionDays: also purge audit entries older than this (not purged when absent). */
  auditRetentionDays?: number;
  now?: () => Date;
  /** Also purge records that would pass the limit within this many ms (default 0). */
  lookaheadMs?: number;
  batchSize?: number;
  logger?: Logger;
  registry?: Registry;
}

export interface PurgeResult {
  purged: number;
  /** Records started before this instant were purged. */
  cutoff: Date;
  /** Audit entries purged (0 when auditRetentionDays was not given). */
  auditPurged: number;
}

export function retentionCutoff(now: Date, retentionDays: number, lookaheadMs = 0): Date {
  if (!Number.isInteger(retentionDays) || retentionDays < 1 || retentionDays > MAX_RETENTION_DAYS) {
    throw new RangeError(`store.callRecordRetentionDays: must be an integer from 1 to ${MAX_RETENTION_DAYS}`);
  }
  return new Date(now.getTime() - retentionDays * DAY_MS + Math.max(0, lookaheadMs));
}

/** Audit entries recorded before the returned instant are past store.auditRetentionDays. */
export function auditRetentionCutoff(now: Date, auditRetentionDays: number, lookaheadMs = 0): Date {
  if (!Number.isInteger(auditRetentionDays) || auditRetentionDays < 1 || auditRetentionDays > MAX_AUDIT_RETENTION_DAYS) {
    throw new RangeError(`store.auditRetentionDays: must be an integer from 1 to ${MAX_AUDIT_RETENTION_DAYS}`);
  }
  return new Date(now.getTime() - auditRetentionDays * DAY_MS + Math.max(0, lookaheadMs));
}

export async function purgeExpiredCallRecords(store: Store, opts: RetentionOptions): Promise<PurgeResult> {
  const now = (opts.now ?? (() => new Date()))();
  const cutoff = retentionCutoff(now, opts.retentionDays, opts.lookaheadMs);
  const auditCutoff = opts.auditRetentionDays === undefined ? undefined : auditRetentionCutoff(now, opts.auditRetentionDays, opts.lookaheadMs);
  const metrics = opts.registry ? storeMetrics(opts.registry) : undefined;
  try {
    const purged = await store.callRecords.purgeStartedBefore(cutoff, { batchSize: opts.batchSize });
    // Days before the cutoff's day have no records left: their statistics are final, so rows
    // below the minimum group size are merged for good (what survives never describes < k calls).
    const coarsened = await store.statistics.coarsenFinalDays(utcDay(cutoff.getTime()));
    const auditPurged = auditCutoff ? await store.audit.purgeBefore(auditCutoff, { batchSize: opts.batchSize }) : 0;
    if (purged > 0 || coarsened > 0) await store.callRecords.reclaimPurgedSpace();
    if (auditPurged > 0) await store.audit.reclaimPurgedSpace();
    metrics?.callRecordsPurged.inc(purged);
    metrics?.auditEntriesPurged.inc(auditPurged);
    metrics?.purgeRuns.labels("success").inc();
    if (purged > 0) opts.logger?.info({ purged, cutoff: cutoff.toISOString() }, "call records past retention purged; their daily statistics remain");
    if (auditPurged > 0) opts.logger?.info({ auditPurged, cutoff: auditCutoff!.toISOString() }, "audit trail entries past store.auditRetentionDays purged");
    return { purged, cutoff, auditPurged };
  } catch (err) {
    metrics?.purgeRuns.labels("error").inc();
    throw err;
  }
}

export interface RetentionScheduler {
  /** Runs a purge now (or joins the one running). */
  runNow(): Promise<PurgeResult>;
  stop(): void;
}

/** Purges at start and every intervalMs (timer unref'd: it never keeps the process alive). */
export function startRetentionScheduler(store: Store, opts: RetentionOptions & { intervalMs: number }): RetentionScheduler {
  retentionCutoff(new Date(), opts.retentionDays); // validate now, not at the first tick
  if (opts.auditRetentionDays !== undefined) auditRetentionCutoff(new Date(), opts.auditRetentionDays);
  let running: Promise<PurgeResult> | null = null;
  const runNow = (): Promise<PurgeResult> => {
    if (!running) {
      running = purgeExpiredCallRecords(store, { lookaheadMs: opts.intervalMs, ...opts }).finally(() => (running = null));
    }
    return running;
  };
  const tick = () => {
    runNow().catch((err: unknown) => opts.logger?.error({ err: (err as Error).message }, "retention purge failed; will retry next interval"));
  };
  const timer = setInterval(tick, opts.intervalMs);
  timer.unref();
  const first = setImmediate(tick);
  return {
    runNow,
    stop: () => {
      clearInterval(timer);
      clearImmediate(first);
    },
  };
}
