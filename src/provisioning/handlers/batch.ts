// POST /api/v1/numbers:batch — upsert many numbers, all or nothing: every entry is validated first
// (the first problem is answered, named numbers[i].field), then the store writes them in one
// transaction. One request, so it counts once against the rate limit.
import { HttpError, type Reply } from "../http-io.js";
import { batchBody, queryParams } from "../validation.js";
import type { HandlerDeps, HandlerRequest } from "./context.js";

export async function batchUpsert(d: HandlerDeps, r: HandlerRequest): Promise<Reply> {
  if (r.query.length > 0) queryParams(r.query, []);
  const list = (r.body as { numbers?: unknown } | null)?.numbers;
  // Checked before validating entries so an oversized batch costs no per-entry work.
  if (Array.isArray(list) && list.length > d.maxBatchSize) {
    throw new HttpError(413, "payload_too_large", `batch of ${list.length} entries; at most ${d.maxBatchSize}`, "numbers");
  }
  const entries = batchBody(r.body, d.serviceSet);
  await d.store.numbers.upsertMany(entries);
  return { status: 200, body: { upserted: entries.length } };
}
