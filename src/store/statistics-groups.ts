// Minimum group size for daily statistics: a (day, service, peer) row that counts fewer than k
// calls would describe those few calls (a row with calls 1 keeps that call's exact duration and
// final status). Such rows are merged, per day, into a coarser row: first (day, service, all
// other peers), and what is still below k into (day, all other services and peers). If even that
// last row counts fewer than k calls, only its call count is kept: answered, durations and status
// classes are suppressed. Pure and idempotent: applied when statistics are read (days whose
// records still exist) and written back when the retention purge has removed a day's records, so
// what survives retention never describes fewer than k calls.
import { STATUS_CLASSES, type StatusClass } from "./statistics-types.js";

/** service / peer_index of a merged row ("all other …"); never a valid upstream name or index. */
export const OTHER = "*";

export interface GroupRow {
  day: string;
  service: string;
  peerIndex: string;
  /** Encrypted peer of a fine row (kept as is); merged rows have none. */
  peerEnc: string | null;
  calls: number;
  answered: number;
  durationSumMs: number;
  histogram: Map<number, number>;
  status: Record<StatusClass, number>;
}

export function groupId(day: string, peerIndex: string, service: string): string {
  return `${day}|${peerIndex}|${service}`;
}

export function isSuppressed(r: GroupRow, k: number): boolean {
  return r.service === OTHER && r.peerIndex === OTHER && r.calls < k;
}

/** Rows of one day → rows that each count at least k calls (or a suppressed remainder). */
export function coarsenDay(rows: readonly GroupRow[], k: number): GroupRow[] {
  if (k <= 1 || rows.every((r) => r.calls >= k)) return [...rows];
  const out: GroupRow[] = [];
  const perService = new Map<string, GroupRow>();
  let rest: GroupRow | undefined;
  const mergeInto = (target: GroupRow | undefined, r: GroupRow, service: string, peerIndex: string): GroupRow => {
    const t = target ?? empty(r.day, service, peerIndex);
    add(t, r);
    return t;
  };
  for (const r of rows) {
    if (r.service === OTHER && r.peerIndex === OTHER) rest = mergeInto(rest, r, OTHER, OTHER);
    else if (r.peerIndex === OTHER || r.calls < k) perService.set(r.service, mergeInto(perService.get(r.service), r, r.service, OTHER));
    else out.push(r);
  }
  for (const g of perService.values()) {
    if (g.calls >= k) out.push(g);
    else rest = mergeInto(rest, g, OTHER, OTHER);
  }
  if (rest) {
    if (rest.calls < k) {
      // Still too few calls to say anything about them but how many there were.
      rest.answered = 0;
      rest.durationSumMs = 0;
      rest.histogram = new Map();
      for (const c of STATUS_CLASSES) rest.status[c] = 0;
    }
    out.push(rest);
  }
  return out.sort((a, b) => compareKey(a.service, b.service) || compareKey(a.peerIndex, b.peerIndex));
}

/** Merged ("all other") rows after the rows they summarise. */
function compareKey(a: string, b: string): number {
  if (a === b) return 0;
  if (a === OTHER) return 1;
  if (b === OTHER) return -1;
  return a < b ? -1 : 1;
}

function empty(day: string, service: string, peerIndex: string): GroupRow {
  return { day, service, peerIndex, peerEnc: null, calls: 0, answered: 0, durationSumMs: 0, histogram: new Map(), status: zeroStatus() };
}

function add(t: GroupRow, r: GroupRow): void {
  t.calls += r.calls;
  t.answered += r.answered;
  t.durationSumMs += r.durationSumMs;
  for (const [b, n] of r.histogram) t.histogram.set(b, (t.histogram.get(b) ?? 0) + n);
  for (const c of STATUS_CLASSES) t.status[c] += r.status[c];
}

export function zeroStatus(): Record<StatusClass, number> {
  return { "1xx": 0, "2xx": 0, "3xx": 0, "4xx": 0, "5xx": 0, "6xx": 0, none: 0 };
}
