// Runs the call-journal recovery (call-journal-recovery.ts) in a running instance: once at start-up
// (every owner with entries, before SIP starts, so calls a previous run of this process left are
// recorded before new ones come), then every heartbeat interval for instances that have gone since
// (a row expires after 3 missed heartbeats: their calls are recorded within one more interval).
import type { Logger } from "pino";
import type { Registry } from "prom-client";
import type { Store } from "./store.js";
import type { RecoveredOwner } from "./call-journal-recovery.js";
import { storeMetrics } from "./metrics.js";
import { errorSummary } from "./call-record-wire.js";

export interface CallJournalScheduler {
  /** One periodic pass now (tests). */
  runNow(): Promise<RecoveredOwner[]>;
  stop(): Promise<void>;
}

export async function startCallJournalRecovery(
  store: Store,
  o: { self: string; intervalMs: number; logger?: Logger; registry?: Registry },
): Promise<CallJournalScheduler> {
  const metrics = o.registry ? storeMetrics(o.registry) : undefined;
  let running: Promise<RecoveredOwner[]> = Promise.resolve([]);
  const pass = (full: boolean): Promise<RecoveredOwner[]> => {
    // One pass at a time: a slow one is not overlapped by the next tick.
    running = running.then(async () => {
      try {
        const owners = await store.recoverOrphanedCalls({ self: o.self, full });
        for (const r of owners) {
          metrics?.callsRecovered.inc(r.calls);
          o.logger?.warn(
            { instance: r.owner, host: r.host, pid: r.pid, calls: r.calls, endedAt: new Date(r.endedAt).toISOString(), end: r.end },
            "recorded answered calls of an instance that died before recording them (hangup side unknown)",
          );
        }
        return owners;
      } catch (err) {
        metrics?.callRecoveryErrors.inc();
        o.logger?.error({ err: errorSummary(err) }, "call journal recovery failed; retrying on the next interval");
        return [];
      }
    });
    return running;
  };
  await pass(true);
  const timer = setInterval(() => void pass(false), o.intervalMs);
  timer.unref();
  return {
    runNow: () => pass(false),
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
