// Provisioned numbers: E.164 number → communications service, optionally with a number-specific
// custom SIP header value. The number and header value are stored encrypted; the primary key is
// the number's blind index (HMAC), which also orders pagination without revealing anything.
// Every change bumps `numbers_version` in the same transaction so routing caches on every replica
// can poll one integer instead of reloading the table; on PostgreSQL it also notifies every
// replica at commit, and this replica's cache is refreshed before the write resolves. Every
// change is also recorded in the audit trail (audit-trail.ts), in the transaction that makes it:
// this file is the one place numbers change (besides an account's cascade delete, accounts.ts,
// which records its numbers the same way), so no path can skip the record. `actor` says who made
// the change (a caller that names none is recorded as such, never skipped).
import type { SqlTx, SqlValue } from "./db/driver.js";
import type { StoreContext } from "./context.js";
import { normaliseE164 } from "./e164.js";
import { upsertSorted, type UpsertSql } from "./sorted-upsert.js";
import { transactionWithRetry } from "./tx-retry.js";
import { NUMBERS_CHANNEL } from "./number-change-feed.js";
import { numberEtag } from "./number-etag.js";
import { checkNumberAccounts, decodeNumber, NUMBER_SELECT, NumberAccountError, type NumberRow } from "./number-accounts.js";
import { UNATTRIBUTED, type AuditActor, type AuditChange, type AuditFields, type AuditTrail } from "./audit-trail.js";
import { NUMBER_AUDIT_COLUMNS, numberAuditFields, storedNumberAuditFields, type NumberAuditRow } from "./number-audit.js";

import { validateNumberInput, type NumberEntry, type NumberInput } from "./number-rules.js";

export { normaliseE164, type E164Result } from "./e164.js";
export { validateNumberInput, type NumberEntry, type NumberInput, type NumberValidation } from "./number-rules.js";

export interface NumberPage {
  items: NumberEntry[];
  /** Pass back to list() for the next page; null on the last page. Opaque. */
  nextCursor: string | null;
}

/** An entry as stored, with its entity tag (number-etag.ts). */
export interface StoredNumber {
  entry: NumberEntry;
  etag: string;
}

/** What change() should do with a number, given its current state; `result` is handed back. */
export type NumberDecision<T> = { put: NumberInput; result: T } | { remove: true; result: T } | { keep: true; result: T };

export interface NumberChangeResult<T> {
  result: T;
  /** The state before (as `decide` saw it) and after the change. */
  before: StoredNumber | null;
  after: StoredNumber | null;
}

export class NumberInputError extends Error {
  override name = "NumberInputError";
  constructor(readonly field: string, readonly reason: string, readonly index?: number) {
    super(`${index !== undefined ? `item ${index}: ` : ""}${field}: ${reason}`);
  }
}

const NUMBER_DOMAIN = "number";
const NUMBERS_UPSERT: UpsertSql = {
  head: "INSERT INTO numbers (number_index, number_enc, service, custom_header_enc, account_id, created_at, updated_at)",
  row: "(?, ?, ?, ?, ?, ?, ?)",
  tail: `ON CONFLICT (number_index) DO UPDATE SET number_enc = excluded.number_enc, service = excluded.service,
    custom_header_enc = excluded.custom_header_enc, account_id = excluded.account_id, updated_at = excluded.updated_at`,
};
const T = "numbers";

export class NumberRepository {
  private readonly committed = new Set<() => Promise<unknown>>();

  constructor(
    private readonly ctx: StoreContext,
    private readonly audit: AuditTrail,
  ) {}

  /**
   * Runs `fn` after each committed change made through this repository, and the write resolves
   * only once it settled: this replica's routing cache then holds a change before the API answers
   * for it. Returns the unsubscribe function.
   */
  onCommitted(fn: () => Promise<unknown>): () => void {
    this.committed.add(fn);
    return () => this.committed.delete(fn);
  }

  /**
   * Runs the committed-change listeners for a change made elsewhere that changes what numbers
   * resolve to (an account's defaults, accounts.ts): the routing cache reloads before it resolves.
   */
  announceCommitted(): Promise<void> {
    return this.afterCommit();
  }

  private async afterCommit(): Promise<void> {
    // The change is committed whatever a listener does: its failure (logged by the listener) must
    // not turn a successful write into an error.
    await Promise.all([...this.committed].map((fn) => fn().catch(() => {})));
  }

  /** Blind index of an already-normalised E.164 number. */
  indexOf(e164: string): string {
    return this.ctx.keys.blindIndex(NUMBER_DOMAIN, e164);
  }

  async upsert(input: NumberInput, actor: AuditActor = UNATTRIBUTED): Promise<NumberEntry> {
    const [entry] = await this.upsertMany([input], actor);
    return entry!;
  }

  /**
   * All or nothing: validates every entry first (the shared rules, service by form only: the
   * store does not know the SIP configuration), then writes them in one transaction.
   */
  async upsertMany(inputs: readonly NumberInput[], actor: AuditActor = UNATTRIBUTED): Promise<NumberEntry[]> {
    return (await this.upsertManyReport(inputs, actor)).map((r) => r.entry);
  }

  /**
   * upsertMany(), telling per entry whether it created the number. Which rows existed is read in
   * the writing transaction: exact on SQLite (transactions are exclusive); on PostgreSQL two
   * batches creating the same new number at once may both report it created.
   */
  async upsertManyReport(inputs: readonly NumberInput[], actor: AuditActor = UNATTRIBUTED): Promise<{ entry: NumberEntry; created: boolean }[]> {
    const entries = inputs.map((input, i) => {
      const v = validateNumberInput(input);
      if (!v.ok) throw new NumberInputError(v.field, v.reason, inputs.length > 1 ? i : undefined);
      return v.entry;
    });
    if (entries.length === 0) return [];
    const at = this.ctx.now().getTime();
    // Rows in blind-index order: two overlapping batches then lock their common rows in the same
    // order and one waits for the other, where opposite orders deadlocked (PostgreSQL 40P01). The
    // same number twice keeps the last entry (one statement cannot upsert a row twice).
    const byIndex = new Map<string, NumberEntry>();
    for (const e of entries) byIndex.set(this.indexOf(e.number), e);
    const sorted = [...byIndex.keys()].sort();
    const rows: SqlValue[][] = sorted.map((idx) => {
      const e = byIndex.get(idx)!;
      return [idx, this.ctx.encrypt(e.number, T, "number_enc", idx), e.service, this.ctx.encryptOpt(e.customHeader, T, "custom_header_enc", idx), e.account ?? null, at, at];
    });
    const existed = await transactionWithRetry(this.ctx.db, async (tx) => {
      await checkAccounts(tx, entries, inputs.length > 1);
      const found = await this.existingFields(tx, sorted);
      await upsertSorted(tx, NUMBERS_UPSERT, rows);
      const changes = sorted.map((idx): AuditChange => {
        const before = found.get(idx) ?? null;
        return { kind: "number", op: before ? "update" : "create", actor, target: idx, before, after: numberAuditFields(byIndex.get(idx)!) };
      });
      await this.audit.record(tx, changes);
      await bumpVersion(tx);
      return found;
    });
    await this.afterCommit();
    return entries.map((entry) => ({ entry, created: !existed.has(this.indexOf(entry.number)) }));
  }

  /**
   * Deletes the given (normalised) numbers in one transaction; returns, per number, whether it was
   * provisioned. The version moves once, and only when something was deleted.
   */
  async deleteMany(numbers: readonly string[], actor: AuditActor = UNATTRIBUTED): Promise<boolean[]> {
    if (numbers.length === 0) return [];
    const indexes = numbers.map((n) => this.indexOf(n));
    const sorted = [...new Set(indexes)].sort();
    const deleted = await transactionWithRetry(this.ctx.db, async (tx) => {
      const gone = new Set<string>();
      const changes: AuditChange[] = [];
      for (let i = 0; i < sorted.length; i += IN_CHUNK) {
        const chunk = sorted.slice(i, i + IN_CHUNK);
        const rows = await tx.all<NumberAuditRow>(`DELETE FROM numbers WHERE number_index IN (${placeholders(chunk.length)}) RETURNING ${NUMBER_AUDIT_COLUMNS}`, chunk);
        // RETURNING gives no order: the audit entries follow the (sorted) request order.
        const byIdx = new Map(rows.map((r) => [r.number_index, r]));
        for (const idx of chunk) {
          const r = byIdx.get(idx);
          if (!r) continue;
          gone.add(idx);
          changes.push({ kind: "number", op: "delete", actor, target: idx, before: storedNumberAuditFields(this.ctx, r), after: null });
        }
      }
      if (gone.size > 0) {
        await this.audit.record(tx, changes);
        await bumpVersion(tx);
      }
      return gone;
    });
    if (deleted.size > 0) await this.afterCommit();
    // A number named twice was deleted by its first mention only.
    const seen = new Set<string>();
    return indexes.map((idx) => {
      const first = !seen.has(idx);
      seen.add(idx);
      return first && deleted.has(idx);
    });
  }

  /** Looks a number up in any accepted notation; null when not provisioned or not a valid number. */
  async get(number: string): Promise<NumberEntry | null> {
    const n = normaliseE164(number);
    if (!n.ok) return null;
    const rows = await this.ctx.db.all<NumberRow>(`${NUMBER_SELECT} WHERE n.number_index = ?`, [this.indexOf(n.e164)]);
    return rows[0] ? this.decode(rows[0]) : null;
  }

  /** get() with the entry's entity tag. */
  async getStored(number: string): Promise<StoredNumber | null> {
    const entry = await this.get(number);
    return entry ? { entry, etag: this.etagOf(entry) } : null;
  }

  etagOf(entry: NumberEntry): string {
    return numberEtag(this.ctx.keys, entry);
  }

  /**
   * Read-decide-write of one number in one transaction, the row locked in between (FOR UPDATE on
   * PostgreSQL; SQLite transactions are exclusive), so a conditional request (If-Match) or a
   * created-vs-updated answer is decided on the state the write replaces. A number created by
   * someone else between the read and the insert makes the insert a no-op: then the whole
   * decision runs again on the row that now exists.
   */
  async change<T>(number: string, decide: (current: StoredNumber | null) => NumberDecision<T>, actor: AuditActor = UNATTRIBUTED): Promise<NumberChangeResult<T>> {
    const n = normaliseE164(number);
    if (!n.ok) throw new NumberInputError("number", `not an E.164 number: ${n.reason}`);
    const idx = this.indexOf(n.e164);
    const forUpdate = this.ctx.db.dialect === "postgres" ? " FOR UPDATE OF n" : "";
    for (let attempt = 1; ; attempt++) {
      const out = await transactionWithRetry(this.ctx.db, async (tx) => {
        const rows = await tx.all<NumberRow>(`${NUMBER_SELECT} WHERE n.number_index = ?${forUpdate}`, [idx]);
        const current = rows[0] ? this.decode(rows[0]) : null;
        const before = current ? { entry: current, etag: this.etagOf(current) } : null;
        const d = decide(before);
        if ("keep" in d) return { result: d.result, before, after: before, changed: false };
        if ("remove" in d) {
          const changed = (await tx.run("DELETE FROM numbers WHERE number_index = ?", [idx])) > 0;
          if (changed) {
            await this.audit.record(tx, { kind: "number", op: "delete", actor, target: idx, before: numberAuditFields(current!), after: null });
            await bumpVersion(tx);
          }
          return { result: d.result, before, after: null, changed };
        }
        const v = validateNumberInput(d.put);
        if (!v.ok) throw new NumberInputError(v.field, v.reason);
        if (v.entry.number !== n.e164) throw new NumberInputError("number", "differs from the number changed");
        await checkAccounts(tx, [v.entry], false);
        const at = this.ctx.now().getTime();
        const e = v.entry;
        const row = [idx, this.ctx.encrypt(e.number, T, "number_enc", idx), e.service, this.ctx.encryptOpt(e.customHeader, T, "custom_header_enc", idx), e.account ?? null, at, at];
        const sql = before ? `${NUMBERS_UPSERT.head} VALUES ${NUMBERS_UPSERT.row} ${NUMBERS_UPSERT.tail}` : `${NUMBERS_UPSERT.head} VALUES ${NUMBERS_UPSERT.row} ON CONFLICT (number_index) DO NOTHING`;
        if ((await tx.run(sql, row)) === 0) return undefined; // created concurrently: decide again
        await this.audit.record(tx, { kind: "number", op: current ? "update" : "create", actor, target: idx, before: current ? numberAuditFields(current) : null, after: numberAuditFields(e) });
        await bumpVersion(tx);
        // Read back: the entry as stored, with its account's defaults resolved.
        const written = (await tx.all<NumberRow>(`${NUMBER_SELECT} WHERE n.number_index = ?`, [idx]))[0]!;
        const after = this.decode(written);
        return { result: d.result, before, after: { entry: after, etag: this.etagOf(after) }, changed: true };
      });
      if (out === undefined) {
        if (attempt < 3) continue;
        throw new Error("number changed concurrently on every attempt");
      }
      if (out.changed) await this.afterCommit();
      return { result: out.result, before: out.before, after: out.after };
    }
  }

  /** Returns whether a row was deleted. */
  async delete(number: string, actor: AuditActor = UNATTRIBUTED): Promise<boolean> {
    const n = normaliseE164(number);
    if (!n.ok) return false;
    const [deleted] = await this.deleteMany([n.e164], actor);
    return deleted!;
  }

  /**
   * Stable order (by blind index: meaningless to a reader, unlike an order by number). `service`:
   * only numbers routed to that service, their own or inherited from their account (the
   * numbers_service index serves the own ones); `account`: only that account's numbers (served by
   * the numbers_account index). Both together: both hold. A cursor stays valid.
   */
  async list(opts: { cursor?: string | null; limit?: number; service?: string; account?: string } = {}): Promise<NumberPage> {
    const limit = Math.min(Math.max(Math.trunc(opts.limit ?? 100), 1), 1000);
    const after = opts.cursor ? decodeCursor(opts.cursor) : "";
    const where: string[] = [];
    const params: SqlValue[] = [];
    if (opts.account !== undefined) {
      where.push("n.account_id = ?");
      params.push(opts.account);
    }
    if (opts.service !== undefined) {
      where.push("(n.service = ? OR (n.service IS NULL AND a.service = ?))");
      params.push(opts.service, opts.service);
    }
    where.push("n.number_index > ?");
    params.push(after, limit + 1);
    const rows = await this.ctx.db.all<NumberRow>(`${NUMBER_SELECT} WHERE ${where.join(" AND ")} ORDER BY n.number_index LIMIT ?`, params);
    const more = rows.length > limit;
    const page = more ? rows.slice(0, limit) : rows;
    // One bad row (tampered, unknown key) is reported and skipped, not fatal to the whole scan.
    const items: NumberEntry[] = [];
    const accountHeaders = new Map<string, string | null>();
    for (const r of page) {
      const e = this.ctx.readable(T, r.number_index, () => this.decode(r, accountHeaders));
      if (e) items.push(e);
    }
    return { items, nextCursor: more ? encodeCursor(page[page.length - 1]!.number_index) : null };
  }

  async count(): Promise<number> {
    const rows = await this.ctx.db.all<{ n: number | string }>("SELECT COUNT(*) AS n FROM numbers");
    return Number(rows[0]?.n ?? 0);
  }

  /** Increases on every change (upsert, delete): compare to decide whether to reload. */
  async version(): Promise<number> {
    const rows = await this.ctx.db.all<{ value: number }>("SELECT value FROM store_counters WHERE name = 'numbers_version'");
    return Number(rows[0]?.value ?? 0);
  }

  /** Own fields of the rows that exist among `sorted` (the audit's before). */
  private async existingFields(tx: SqlTx, sorted: readonly string[]): Promise<Map<string, AuditFields>> {
    const found = new Map<string, AuditFields>();
    for (let i = 0; i < sorted.length; i += IN_CHUNK) {
      const chunk = sorted.slice(i, i + IN_CHUNK);
      const rows = await tx.all<NumberAuditRow>(`SELECT ${NUMBER_AUDIT_COLUMNS} FROM numbers WHERE number_index IN (${placeholders(chunk.length)})`, chunk);
      for (const r of rows) found.set(r.number_index, storedNumberAuditFields(this.ctx, r));
    }
    return found;
  }

  private decode(r: NumberRow, accountHeaders?: Map<string, string | null>): NumberEntry {
    return decodeNumber(this.ctx, r, accountHeaders);
  }
}

/** Parameters per IN (…) list: far below SQLite's 32 766 and PostgreSQL's 65 535. */
const IN_CHUNK = 500;

function placeholders(n: number): string {
  return new Array(n).fill("?").join(", ");
}

/** checkNumberAccounts() with its refusal as a NumberInputError (indexed for a batch). */
async function checkAccounts(tx: SqlTx, entries: readonly NumberEntry[], indexed: boolean): Promise<void> {
  try {
    await checkNumberAccounts(tx, entries);
  } catch (err) {
    if (err instanceof NumberAccountError) throw new NumberInputError(err.field, err.reason, indexed ? err.position : undefined);
    throw err;
  }
}

/** Moves numbers_version (and notifies every replica): also after an account's change. */
export async function bumpVersion(tx: SqlTx): Promise<void> {
  await tx.run("UPDATE store_counters SET value = value + 1 WHERE name = 'numbers_version'");
  // Delivered to every replica's LISTEN at commit (nothing on rollback): see number-change-feed.ts.
  if (tx.dialect === "postgres") await tx.run("SELECT pg_notify(?, '')", [NUMBERS_CHANNEL]);
}

export class CursorError extends Error {
  override name = "CursorError";
}

function encodeCursor(index: string): string {
  return Buffer.from(`n1:${index}`, "utf8").toString("base64url");
}

function decodeCursor(cursor: string): string {
  const s = Buffer.from(cursor, "base64url").toString("utf8");
  if (!s.startsWith("n1:") || s.length < 4) throw new CursorError("invalid cursor");
  return s.slice(3);
}
