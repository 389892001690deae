// GET /api/v1/statistics/daily?from=&to= — anonymised daily aggregates (per UTC day, service and
// peer) that the retention purge leaves behind; never individual call records.
import type { Reply } from "../http-io.js";
import { dayRange, queryParams } from "../validation.js";
import type { HandlerDeps, HandlerRequest } from "./context.js";

/** Keeps one response small: a year of days at most. */
export const MAX_STATISTICS_DAYS = 366;

export async function dailyStatistics(d: HandlerDeps, r: HandlerRequest): Promise<Reply> {
  const q = queryParams(r.query, ["from", "to"]);
  const range = dayRange(q.get("from"), q.get("to"), MAX_STATISTICS_DAYS);
  const days = await d.store.statistics.dailyStatistics(range);
  return { status: 200, body: { from: range.from, to: range.to, days } };
}
