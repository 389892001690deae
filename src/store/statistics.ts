// Anonymised daily statistics per (UTC day, service, peer), the only thing left of call records
// once they pass the retention limit. Rows are merged, not recomputed, because one day's records
// are purged across several runs: counts and sums add, and the duration distribution is kept as a
// coarse histogram (1 s buckets below 1 min, 10 s below 10 min, 1 min below 1 h, 10 min above) so
// p95 of the merged day stays correct to the bucket width (one row per bucket in
// daily_statistics_durations). A record is rolled up in the same transaction that writes it, so it
// is counted exactly once; every count is an atomic increment, so concurrent writers never lose one.
import type { SqlExecutor, SqlTx, SqlValue } from "./db/driver.js";
import { upsertSorted, type UpsertSql } from "./sorted-upsert.js";
import { transactionWithRetry } from "./tx-retry.js";
import type { StoreContext } from "./context.js";
import { STATUS_CLASSES, type StatusClass } from "./statistics-types.js";
import { coarsenDay, groupId, isSuppressed, OTHER, zeroStatus, type GroupRow } from "./statistics-groups.js";

/** Default minimum number of calls a statistics row may describe (store.statistics.minGroupSize). */
export const DEFAULT_MIN_GROUP_SIZE = 5;

export { STATUS_CLASSES, type StatusClass } from "./statistics-types.js";

export interface DailyStatistics {
  /** UTC day, YYYY-MM-DD. */
  day: string;
  /** null: calls without a service, or (merged) all other services. */
  service: string | null;
  /** null: calls without a peer, or (merged) all other peers. */
  peer: string | null;
  /** This row merges groups smaller than the minimum group size (service/peer null = all others). */
  merged: boolean;
  calls: number;
  /** null (like everything below) when even the merged row counts fewer calls than the minimum. */
  answered: number | null;
  /** answered / calls (answer-seizure ratio), 0 when no calls. */
  asr: number | null;
  /** Mean duration of answered calls in ms; null when none answered. */
  meanDurationMs: number | null;
  /** 95th percentile duration of answered calls, as the upper edge of its histogram bucket. */
  p95DurationMs: number | null;
  statusClasses: Record<StatusClass, number> | null;
}

/** What the rollup needs from one call record (already decrypted). */
export interface RollupInput {
  startedAt: number;
  answered: boolean;
  durationMs: number | null;
  finalStatus: number | null;
  service: string | null;
  peer: string | null;
}

/** A group being rolled up: its peer still in clear (encrypted once per group when written). */
type Aggregate = Omit<GroupRow, "peerEnc"> & { peer: string | null };

const T = "daily_statistics";
const PEER_DOMAIN = "peer";

export function bucketUpperMs(durationMs: number): number {
  const d = Math.max(0, durationMs);
  const width = d <= 60_000 ? 1_000 : d <= 600_000 ? 10_000 : d <= 3_600_000 ? 60_000 : 600_000;
  return Math.ceil(d / width) * width;
}

export function statusClassOf(status: number | null): StatusClass {
  if (status === null || !Number.isInteger(status) || status < 100 || status > 699) return "none";
  return `${Math.floor(status / 100)}xx` as StatusClass;
}

export function utcDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

function p95(h: Map<number, number>, n: number): number | null {
  if (n === 0) return null;
  const rank = Math.ceil(0.95 * n);
  let seen = 0;
  for (const upper of [...h.keys()].sort((a, b) => a - b)) {
    seen += h.get(upper)!;
    if (seen >= rank) return upper;
  }
  return null;
}

interface StatsRow {
  id: string;
  day: string;
  service: string;
  peer_index: string;
  peer_enc: string | null;
  calls: number;
  answered: number;
  duration_sum_ms: number;
  status_1xx: number;
  status_2xx: number;
  status_3xx: number;
  status_4xx: number;
  status_5xx: number;
  status_6xx: number;
  status_none: number;
}

const COLUMNS =
  "id, day, service, peer_index, peer_enc, calls, answered, duration_sum_ms, status_1xx, status_2xx, status_3xx, status_4xx, status_5xx, status_6xx, status_none";

// Every count is added to what is stored in the same statement (no read-modify-write), so
// concurrent roll-ups from several replicas or the worker and a purge never lose an increment.
const STATS_UPSERT: UpsertSql = {
  head: `INSERT INTO daily_statistics (${COLUMNS})`,
  row: "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
  tail: `ON CONFLICT (id) DO UPDATE SET calls = daily_statistics.calls + excluded.calls,
    answered = daily_statistics.answered + excluded.answered,
    duration_sum_ms = daily_statistics.duration_sum_ms + excluded.duration_sum_ms,
    ${STATUS_CLASSES.map((c) => `status_${c} = daily_statistics.status_${c} + excluded.status_${c}`).join(", ")}`,
};
const DURATIONS_UPSERT: UpsertSql = {
  head: "INSERT INTO daily_statistics_durations (stat_id, bucket_ms, calls)",
  row: "(?, ?, ?)",
  tail: "ON CONFLICT (stat_id, bucket_ms) DO UPDATE SET calls = daily_statistics_durations.calls + excluded.calls",
};

export class StatisticsRepository {
  constructor(
    private readonly ctx: StoreContext,
    /** Rows describing fewer calls are merged (statistics-groups.ts); 1 turns merging off. */
    readonly minGroupSize: number = DEFAULT_MIN_GROUP_SIZE,
  ) {}

  /** Adds records to their day's rows (inside the caller's transaction). */
  async rollup(tx: SqlTx, records: readonly RollupInput[]): Promise<void> {
    const groups = new Map<string, Aggregate>();
    // A batch comes from a handful of peers: one HMAC per distinct peer, not one per record.
    const peerIndexes = new Map<string, string>();
    for (const r of records) {
      const day = utcDay(r.startedAt);
      const service = r.service ?? "";
      let peerIndex = "";
      if (r.peer !== null) {
        peerIndex = peerIndexes.get(r.peer) ?? this.ctx.keys.blindIndex(PEER_DOMAIN, r.peer);
        peerIndexes.set(r.peer, peerIndex);
      }
      const id = groupId(day, peerIndex, service);
      let g = groups.get(id);
      if (!g) {
        g = { day, service, peerIndex, peer: r.peer, calls: 0, answered: 0, durationSumMs: 0, histogram: new Map(), status: zeroStatus() };
        groups.set(id, g);
      }
      g.calls++;
      g.status[statusClassOf(r.finalStatus)]++;
      if (r.answered) {
        g.answered++;
        const d = Math.max(0, r.durationMs ?? 0);
        g.durationSumMs += d;
        const b = bucketUpperMs(d);
        g.histogram.set(b, (g.histogram.get(b) ?? 0) + 1);
      }
    }
    const statRows: SqlValue[][] = [];
    const bucketRows: SqlValue[][] = [];
    for (const id of [...groups.keys()].sort()) {
      const g = groups.get(id)!;
      // peer_enc only matters for a new row: an existing row keeps its own (same peer, same row key).
      const peerEnc = this.ctx.encryptOpt(g.peer, T, "peer_enc", id);
      statRows.push([id, g.day, g.service, g.peerIndex, peerEnc, g.calls, g.answered, g.durationSumMs, ...STATUS_CLASSES.map((c) => g.status[c])]);
      for (const b of [...g.histogram.keys()].sort((x, y) => x - y)) bucketRows.push([id, b, g.histogram.get(b)!]);
    }
    await upsertSorted(tx, STATS_UPSERT, statRows);
    await upsertSorted(tx, DURATIONS_UPSERT, bucketRows);
  }

  /**
   * Rows for UTC days from..to inclusive (YYYY-MM-DD or Date), ordered by day, service, peer, with
   * groups smaller than the minimum group size merged (statistics-groups.ts).
   */
  async dailyStatistics(range: { from: string | Date; to: string | Date }, db: SqlExecutor = this.ctx.db): Promise<DailyStatistics[]> {
    const from = dayArg(range.from, "from");
    const to = dayArg(range.to, "to");
    const k = this.minGroupSize;
    const out: DailyStatistics[] = [];
    for (const rows of groupByDay(await this.readRows(db, "day >= ? AND day <= ?", [from, to]))) {
      for (const g of coarsenDay(rows, k)) out.push(this.present(g, k));
    }
    return out;
  }

  /**
   * Writes the merge back for days whose call records are all purged (days before `beforeDay`):
   * afterwards no stored row of those days describes fewer than minGroupSize calls. Returns the
   * number of days rewritten.
   */
  async coarsenFinalDays(beforeDay: string): Promise<number> {
    const k = this.minGroupSize;
    if (k <= 1) return 0;
    const days = await this.ctx.db.all<{ day: string }>(
      "SELECT DISTINCT day FROM daily_statistics WHERE day < ? AND calls < ? AND NOT (service = ? AND peer_index = ?) ORDER BY day",
      [beforeDay, k, OTHER, OTHER],
    );
    for (const { day } of days) {
      await transactionWithRetry(this.ctx.db, async (tx) => {
        // Locks the day's rows (PostgreSQL) so a late roll-up waits instead of being overwritten.
        const rows = await this.readRows(tx, "day = ?", [day], tx.dialect === "postgres" ? " FOR UPDATE" : "");
        const coarse = coarsenDay(rows, k);
        await tx.run("DELETE FROM daily_statistics_durations WHERE stat_id IN (SELECT id FROM daily_statistics WHERE day = ?)", [day]);
        await tx.run("DELETE FROM daily_statistics WHERE day = ?", [day]);
        const statRows: SqlValue[][] = [];
        const bucketRows: SqlValue[][] = [];
        for (const g of coarse) {
          const id = groupId(g.day, g.peerIndex, g.service);
          statRows.push([id, g.day, g.service, g.peerIndex, g.peerEnc, g.calls, g.answered, g.durationSumMs, ...STATUS_CLASSES.map((c) => g.status[c])]);
          for (const b of [...g.histogram.keys()].sort((x, y) => x - y)) bucketRows.push([id, b, g.histogram.get(b)!]);
        }
        statRows.sort((x, y) => ((x[0] as string) < (y[0] as string) ? -1 : 1));
        await upsertSorted(tx, STATS_UPSERT, statRows);
        await upsertSorted(tx, DURATIONS_UPSERT, bucketRows.sort((x, y) => ((x[0] as string) < (y[0] as string) ? -1 : (x[0] as string) > (y[0] as string) ? 1 : (x[1] as number) - (y[1] as number))));
      });
    }
    return days.length;
  }

  private async readRows(db: SqlExecutor, where: string, params: SqlValue[], suffix = ""): Promise<GroupRow[]> {
    const rows = await db.all<StatsRow>(`SELECT ${COLUMNS} FROM daily_statistics WHERE ${where} ORDER BY day, service, peer_index${suffix}`, params);
    const buckets = await db.all<{ stat_id: string; bucket_ms: number; calls: number }>(
      `SELECT stat_id, bucket_ms, calls FROM daily_statistics_durations WHERE stat_id IN (SELECT id FROM daily_statistics WHERE ${where})`,
      params,
    );
    const histograms = new Map<string, Map<number, number>>();
    for (const b of buckets) {
      let h = histograms.get(b.stat_id);
      if (!h) histograms.set(b.stat_id, (h = new Map()));
      h.set(Number(b.bucket_ms), Number(b.calls));
    }
    return rows.map((r) => {
      const status = zeroStatus();
      for (const c of STATUS_CLASSES) status[c] = Number(r[`status_${c}` as keyof StatsRow]);
      return {
        day: r.day,
        service: r.service,
        peerIndex: r.peer_index,
        peerEnc: r.peer_enc,
        calls: Number(r.calls),
        answered: Number(r.answered),
        durationSumMs: Number(r.duration_sum_ms),
        histogram: histograms.get(r.id) ?? new Map<number, number>(),
        status,
      };
    });
  }

  private present(g: GroupRow, k: number): DailyStatistics {
    const merged = g.service === OTHER || g.peerIndex === OTHER;
    const base = {
      day: g.day,
      service: g.service === "" || g.service === OTHER ? null : g.service,
      peer: g.peerIndex === OTHER ? null : this.ctx.decryptOpt(g.peerEnc, T, "peer_enc", groupId(g.day, g.peerIndex, g.service)),
      merged,
      calls: g.calls,
    };
    if (isSuppressed(g, k)) return { ...base, answered: null, asr: null, meanDurationMs: null, p95DurationMs: null, statusClasses: null };
    return {
      ...base,
      answered: g.answered,
      asr: g.calls === 0 ? 0 : g.answered / g.calls,
      meanDurationMs: g.answered === 0 ? null : g.durationSumMs / g.answered,
      p95DurationMs: p95(g.histogram, g.answered),
      statusClasses: g.status,
    };
  }
}

function groupByDay(rows: GroupRow[]): GroupRow[][] {
  const days: GroupRow[][] = [];
  for (const r of rows) {
    const last = days[days.length - 1];
    if (last && last[0]!.day === r.day) last.push(r);
    else days.push([r]);
  }
  return days;
}

export class StatisticsRangeError extends Error {
  override name = "StatisticsRangeError";
}

function dayArg(v: string | Date, name: string): string {
  if (v instanceof Date) {
    if (Number.isNaN(v.getTime())) throw new StatisticsRangeError(`${name}: invalid date`);
    return utcDay(v.getTime());
  }
  if (!/^\d{4}-\d{2}-\d{2}$/.test(v) || Number.isNaN(Date.parse(`${v}T00:00:00Z`))) {
    throw new StatisticsRangeError(`${name}: expected YYYY-MM-DD`);
  }
  return v;
}
