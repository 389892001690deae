// POST /api/v1/numbers:batch (upsert) and POST /api/v1/numbers:batchDelete: many numbers in one
// request, one result per entry (its index, the normalised number when valid, what happened or
// why it was refused, named numbers[i].field). Atomic by default: one invalid entry refuses the
// whole batch (400, with every entry's result) and nothing is written. With ?atomic=false the
// valid entries are applied (in one transaction) and the invalid ones reported. One request, so it
// counts once against the rate limit. Each applied entry gets its audit trail entry in the
// batch's transaction (the store writes it), so a refused atomic batch leaves none.
import { HttpError, type Reply } from "../http-io.js";
import { NumberInputError } from "../../store/numbers.js";
import { atomicParam, batchItems, deleteItem, queryParams, upsertItem, type BatchItem, type EntryInput } from "../validation.js";
import type { HandlerDeps, HandlerRequest } from "./context.js";

/** skipped: a valid entry of an atomic batch that was refused because of another entry. */
export type ItemStatus = "created" | "updated" | "deleted" | "not_found" | "failed" | "skipped";

export interface ItemResult {
  index: number;
  number?: string;
  status: ItemStatus;
  error?: { field: string; message: string };
}

export async function batchUpsert(d: HandlerDeps, r: HandlerRequest): Promise<Reply> {
  const prepared = prepare(d, r, upsertItem(d.serviceSet), (e) => e.number, ".number");
  const { atomic } = prepared;
  const items = await refuseUnresolved(d, prepared.items);
  const valid = items.filter((i): i is Valid<EntryInput> => i.ok);
  const results = refusedResults(items);
  if (valid.length < items.length && atomic) throw refused(items, results);
  let written: Awaited<ReturnType<typeof d.store.numbers.upsertManyReport>>;
  try {
    written = await d.store.numbers.upsertManyReport(
      valid.map((i) => i.value),
      r.actor,
    );
  } catch (err) {
    // The store's own check (an account deleted meanwhile): name the entry by its request index.
    if (err instanceof NumberInputError) {
      const at = err.index !== undefined ? valid[err.index]?.index : valid.length === 1 ? valid[0]!.index : undefined;
      throw new HttpError(400, "invalid_request", `nothing was written: ${err.reason}`, at !== undefined ? `numbers[${at}].${err.field}` : err.field);
    }
    throw err;
  }
  written.forEach((w, k) => {
    results[valid[k]!.index] = { index: valid[k]!.index, number: w.entry.number, status: w.created ? "created" : "updated" };
  });
  return { status: 200, body: summary(atomic, results, { upserted: written.length }) };
}

export async function batchDelete(d: HandlerDeps, r: HandlerRequest): Promise<Reply> {
  const { atomic, items, valid } = prepare(d, r, deleteItem, (n) => n, "");
  const results = refusedResults(items);
  if (valid.length < items.length && atomic) throw refused(items, results);
  const deleted = await d.store.numbers.deleteMany(
    valid.map((i) => i.value),
    r.actor,
  );
  deleted.forEach((gone, k) => {
    results[valid[k]!.index] = { index: valid[k]!.index, number: valid[k]!.value, status: gone ? "deleted" : "not_found" };
  });
  return { status: 200, body: summary(atomic, results, { deleted: deleted.filter(Boolean).length, notFound: deleted.filter((g) => !g).length }) };
}

type Valid<T> = Extract<BatchItem<T>, { ok: true }>;

/**
 * Entries naming an account that does not exist, or inheriting the service of an account that has
 * no default one, are refused like any invalid entry (one query for all the batch's accounts).
 */
async function refuseUnresolved(d: HandlerDeps, items: BatchItem<EntryInput>[]): Promise<BatchItem<EntryInput>[]> {
  const ids = items.flatMap((i) => (i.ok && i.value.account !== null ? [i.value.account] : []));
  if (ids.length === 0) return items;
  const defaults = await d.store.accounts.defaultServices(ids);
  return items.map((i): BatchItem<EntryInput> => {
    if (!i.ok || i.value.account === null) return i;
    const f = `numbers[${i.index}]`;
    if (!defaults.has(i.value.account)) return { index: i.index, ok: false, field: `${f}.account`, message: "unknown account (create it first: PUT /api/v1/accounts/{id})" };
    if (i.value.service === null && defaults.get(i.value.account) === null) {
      return { index: i.index, ok: false, field: `${f}.service`, message: "required: the number's account has no default service" };
    }
    return i;
  });
}

function prepare<T>(d: HandlerDeps, r: HandlerRequest, check: (item: unknown, f: string) => T, numberOf: (v: T) => string, suffix: string) {
  const atomic = atomicParam(queryParams(r.query, ["atomic"]).get("atomic"));
  const list = (r.body as { numbers?: unknown } | null)?.numbers;
  // Checked before validating entries so an oversized batch costs no per-entry work.
  if (Array.isArray(list) && list.length > d.maxBatchSize) {
    throw new HttpError(413, "payload_too_large", `batch of ${list.length} entries; at most ${d.maxBatchSize}`, "numbers");
  }
  const items = batchItems(r.body, check, numberOf, suffix);
  return { atomic, items, valid: items.filter((i): i is Valid<T> => i.ok) };
}

/** Results array with the refused entries filled in (the others are set once written). */
function refusedResults<T>(items: readonly BatchItem<T>[]): ItemResult[] {
  return items.map((i): ItemResult => (i.ok ? { index: i.index, status: "skipped" } : { index: i.index, status: "failed", error: { field: i.field, message: i.message } }));
}

/** Atomic batch with refused entries: 400 naming the first, every entry's result in `results`. */
function refused<T>(items: readonly BatchItem<T>[], results: ItemResult[]): HttpError {
  const bad = items.filter((i): i is Extract<BatchItem<T>, { ok: false }> => !i.ok);
  const first = bad[0]!;
  return new HttpError(400, "invalid_request", `${bad.length} entr${bad.length === 1 ? "y" : "ies"} invalid; nothing was written (first: ${first.message})`, first.field, undefined, {
    failed: bad.length,
    results, // valid entries of a refused batch are "skipped"
  });
}

function summary(atomic: boolean, results: ItemResult[], counts: Record<string, number>): Record<string, unknown> {
  return { atomic, ...counts, failed: results.filter((x) => x.status === "failed").length, results };
}
