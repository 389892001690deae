// Accounts: a customer of the operator, grouping numbers and giving them defaults (service, custom
// header) that a number inherits unless it sets its own. Inheritance is resolved when a number is
// read (number-accounts.ts), never copied into the numbers' rows: changing an account's default
// changes what its numbers route to at once. Such a change moves numbers_version (and notifies
// every replica on PostgreSQL) like a number's change, and this replica's routing cache holds it
// before the write resolves. Every mutation goes through change(): one place to record them in the
// audit trail (audit-trail.ts), in the transaction that makes it: one entry for the account and,
// for a cascade delete, one per number deleted with it (every change to numbers is audited).
import type { SqlTx } from "./db/driver.js";
import type { StoreContext } from "./context.js";
import { validateAccountInput, type AccountEntry, type AccountInput } from "./account-rules.js";
import { normaliseAccountId } from "./number-rules.js";
import { transactionWithRetry } from "./tx-retry.js";
import { bumpVersion, CursorError, type NumberRepository } from "./numbers.js";
import { UNATTRIBUTED, type AuditActor, type AuditChange, type AuditFields, type AuditTrail } from "./audit-trail.js";
import { NUMBER_AUDIT_COLUMNS, storedNumberAuditFields, type NumberAuditRow } from "./number-audit.js";

export { validateAccountInput, type AccountEntry, type AccountInput } from "./account-rules.js";

const T = "accounts";
const ETAG_DOMAIN = "account-etag";

export interface StoredAccount {
  entry: AccountEntry;
  etag: string;
}

export interface AccountPage {
  items: AccountEntry[];
  nextCursor: string | null;
}

/** What change() does with an account given its current state. `cascade`: delete its numbers too. */
export type AccountDecision<T> = { put: AccountInput; result: T } | { remove: true; cascade: boolean; result: T } | { keep: true; result: T };

export interface AccountChangeResult<T> {
  result: T;
  before: StoredAccount | null;
  after: StoredAccount | null;
  /** Numbers deleted with the account (cascade). */
  numbersDeleted: number;
}

export class AccountInputError extends Error {
  override name = "AccountInputError";
  constructor(
    readonly field: string,
    readonly reason: string,
  ) {
    super(`${field}: ${reason}`);
  }
}

/** The change would leave numbers without a service or an account: refused, nothing written. */
export class AccountInUseError extends Error {
  override name = "AccountInUseError";
  constructor(
    readonly field: string,
    readonly numbers: number,
    message: string,
  ) {
    super(message);
  }
}

interface AccountRow {
  account_id: string;
  name_enc: string | null;
  service: string | null;
  custom_header_enc: string | null;
}

const SELECT = "SELECT account_id, name_enc, service, custom_header_enc FROM accounts";

export class AccountRepository {
  constructor(
    private readonly ctx: StoreContext,
    private readonly numbers: NumberRepository,
    private readonly audit: AuditTrail,
  ) {}

  async get(id: string): Promise<AccountEntry | null> {
    if (!normaliseAccountId(id).ok) return null;
    const rows = await this.ctx.db.all<AccountRow>(`${SELECT} WHERE account_id = ?`, [id]);
    return rows[0] ? this.decode(rows[0]) : null;
  }

  async getStored(id: string): Promise<StoredAccount | null> {
    const entry = await this.get(id);
    return entry ? { entry, etag: this.etagOf(entry) } : null;
  }

  /** A keyed hash of the fields, like a number's (number-etag.ts). */
  etagOf(e: AccountEntry): string {
    const tag = this.ctx.keys.blindIndex(ETAG_DOMAIN, JSON.stringify([e.id, e.name, e.service, e.customHeader]));
    return `"${tag.slice(0, 27)}"`;
  }

  /** The default service (null: none) of each of these accounts that exists. */
  async defaultServices(ids: readonly string[]): Promise<Map<string, string | null>> {
    const out = new Map<string, string | null>();
    const valid = [...new Set(ids)].filter((id) => normaliseAccountId(id).ok);
    for (let i = 0; i < valid.length; i += 500) {
      const chunk = valid.slice(i, i + 500);
      const rows = await this.ctx.db.all<{ account_id: string; service: string | null }>(
        `SELECT account_id, service FROM accounts WHERE account_id IN (${chunk.map(() => "?").join(", ")})`,
        chunk,
      );
      for (const r of rows) out.set(r.account_id, r.service);
    }
    return out;
  }

  /** How many numbers belong to the account. */
  async numberCount(id: string): Promise<number> {
    return countNumbers(this.ctx.db, id, false);
  }

  /** In id order; the cursor is opaque. */
  async list(opts: { cursor?: string | null; limit?: number } = {}): Promise<AccountPage> {
    const limit = Math.min(Math.max(Math.trunc(opts.limit ?? 100), 1), 1000);
    const after = opts.cursor ? decodeCursor(opts.cursor) : "";
    const rows = await this.ctx.db.all<AccountRow>(`${SELECT} WHERE account_id > ? ORDER BY account_id LIMIT ?`, [after, limit + 1]);
    const more = rows.length > limit;
    const page = more ? rows.slice(0, limit) : rows;
    const items: AccountEntry[] = [];
    for (const r of page) {
      const e = this.ctx.readable(T, r.account_id, () => this.decode(r));
      if (e) items.push(e);
    }
    return { items, nextCursor: more ? encodeCursor(page[page.length - 1]!.account_id) : null };
  }

  /**
   * Read-decide-write of one account in one transaction, the row locked in between (as
   * NumberRepository.change). Refused with AccountInUseError, nothing written: removing a default
   * service some of its numbers inherit, or deleting an account that has numbers without cascade.
   */
  async change<R>(id: string, decide: (current: StoredAccount | null) => AccountDecision<R>, actor: AuditActor = UNATTRIBUTED): Promise<AccountChangeResult<R>> {
    const valid = normaliseAccountId(id);
    if (!valid.ok) throw new AccountInputError("id", valid.reason);
    const forUpdate = this.ctx.db.dialect === "postgres" ? " FOR UPDATE" : "";
    for (let attempt = 1; ; attempt++) {
      const out = await transactionWithRetry(this.ctx.db, async (tx) => {
        const rows = await tx.all<AccountRow>(`${SELECT} WHERE account_id = ?${forUpdate}`, [id]);
        const current = rows[0] ? this.decode(rows[0]) : null;
        const before = current ? { entry: current, etag: this.etagOf(current) } : null;
        const d = decide(before);
        if ("keep" in d) return { result: d.result, before, after: before, numbersDeleted: 0, routingChanged: false };
        if ("remove" in d) {
          if (!before) return { result: d.result, before, after: null, numbersDeleted: 0, routingChanged: false };
          const n = await countNumbers(tx, id, false);
          if (n > 0 && !d.cascade) {
            throw new AccountInUseError("account", n, `the account has ${n} number(s): delete or move them first, or delete them with it (?cascade=true)`);
          }
          const gone = n > 0 ? await tx.all<NumberAuditRow>(`DELETE FROM numbers WHERE account_id = ? RETURNING ${NUMBER_AUDIT_COLUMNS}`, [id]) : [];
          await tx.run("DELETE FROM accounts WHERE account_id = ?", [id]);
          // RETURNING gives no order: the numbers' entries follow their blind index; the account's
          // comes last (its numbers went first), so a newest-first read shows it above them.
          gone.sort((x, y) => (x.number_index < y.number_index ? -1 : 1));
          const changes: AuditChange[] = gone.map((r) => ({ kind: "number", op: "delete", actor, target: r.number_index, before: storedNumberAuditFields(this.ctx, r), after: null }));
          changes.push({ kind: "account", op: "delete", actor, target: id, before: accountAuditFields(current!), after: null });
          await this.audit.record(tx, changes);
          if (gone.length > 0) await bumpVersion(tx);
          return { result: d.result, before, after: null, numbersDeleted: gone.length, routingChanged: gone.length > 0 };
        }
        const v = validateAccountInput(d.put);
        if (!v.ok) throw new AccountInputError(v.field, v.reason);
        if (v.entry.id !== id) throw new AccountInputError("id", "differs from the account changed");
        const e = v.entry;
        if (before && e.service === null && before.entry.service !== null) {
          const inheriting = await countNumbers(tx, id, true);
          if (inheriting > 0) {
            throw new AccountInUseError("service", inheriting, `${inheriting} number(s) of the account have no service of their own and route to this default: give them one first`);
          }
        }
        const at = this.ctx.now().getTime();
        const row = [id, this.ctx.encryptOpt(e.name, T, "name_enc", id), e.service, this.ctx.encryptOpt(e.customHeader, T, "custom_header_enc", id), at, at];
        const insert = "INSERT INTO accounts (account_id, name_enc, service, custom_header_enc, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)";
        const sql = before
          ? `${insert} ON CONFLICT (account_id) DO UPDATE SET name_enc = excluded.name_enc, service = excluded.service, custom_header_enc = excluded.custom_header_enc, updated_at = excluded.updated_at`
          : `${insert} ON CONFLICT (account_id) DO NOTHING`;
        if ((await tx.run(sql, row)) === 0) return undefined; // created concurrently: decide again
        await this.audit.record(tx, { kind: "account", op: before ? "update" : "create", actor, target: id, before: current ? accountAuditFields(current) : null, after: accountAuditFields(e) });
        // Its numbers resolve to the new defaults: every routing cache reloads.
        const routingChanged = before !== null && (before.entry.service !== e.service || before.entry.customHeader !== e.customHeader) && (await countNumbers(tx, id, false)) > 0;
        if (routingChanged) await bumpVersion(tx);
        return { result: d.result, before, after: { entry: e, etag: this.etagOf(e) }, numbersDeleted: 0, routingChanged };
      });
      if (out === undefined) {
        if (attempt < 3) continue;
        throw new Error("account changed concurrently on every attempt");
      }
      if (out.routingChanged) await this.numbers.announceCommitted();
      return { result: out.result, before: out.before, after: out.after, numbersDeleted: out.numbersDeleted };
    }
  }

  private decode(r: AccountRow): AccountEntry {
    return {
      id: r.account_id,
      name: this.ctx.decryptOpt(r.name_enc, T, "name_enc", r.account_id),
      service: r.service,
      customHeader: this.ctx.decryptOpt(r.custom_header_enc, T, "custom_header_enc", r.account_id),
    };
  }
}

/** What the audit trail keeps of an account (encrypted there like here; the id is its target). */
function accountAuditFields(e: AccountEntry): AuditFields {
  return { name: e.name, service: e.service, customHeader: e.customHeader };
}

/** Numbers of the account (only those inheriting its default service, with `inheriting`). */
async function countNumbers(db: Pick<SqlTx, "all">, id: string, inheriting: boolean): Promise<number> {
  const rows = await db.all<{ n: number | string }>(`SELECT COUNT(*) AS n FROM numbers WHERE account_id = ?${inheriting ? " AND service IS NULL" : ""}`, [id]);
  return Number(rows[0]?.n ?? 0);
}

function encodeCursor(id: string): string {
  return Buffer.from(`a1:${id}`, "utf8").toString("base64url");
}

function decodeCursor(cursor: string): string {
  const s = Buffer.from(cursor, "base64url").toString("utf8");
  if (!s.startsWith("a1:") || s.length < 4) throw new CursorError("invalid cursor");
  return s.slice(3);
}
