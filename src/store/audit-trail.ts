// The audit trail: one row per change to customer data (and per CLI key or export operation),
// written by the repository that makes the change, in the transaction that makes it: a change
// never commits without its row, and a change that rolls back leaves none. Who (token subject and
// client-certificate peer, or `cli:<os user>`), what (kind, op, the path or command that carried
// it), which target (a number only as its blind index, never in clear) and the fields before and
// after, encrypted like every other customer value (AES-GCM under the active data key, the row id
// in the associated data; re-encrypted by a key rotation like the other tables).
//
// Row ids start with the zero-padded time in milliseconds and a per-process sequence within that
// millisecond, so ordering by id is ordering by time (within a process, even for changes in the
// same millisecond; across replicas entries of the same millisecond have no defined order), a
// time range is an id range on the primary key, and a cursor (the last id seen) stays stable
// while new entries arrive: they sort after every cursor a walk (newest first) hands out.
import type { StoreContext } from "./context.js";
import { pooledRandomBytes } from "./crypto/random-pool.js";
import type { SqlExecutor, SqlValue } from "./db/driver.js";
import { reclaimDeletedSpace } from "./reclaim.js";

export const AUDIT_TABLE = "audit_trail";

/** What an entry is about. "account" is for the accounts repository (issue 15 item 4). */
export type AuditKind = "number" | "account" | "keys" | "export";
export const AUDIT_KINDS: readonly AuditKind[] = ["number", "account", "keys", "export"];

/** The fields of the target before or after the change (e.g. service, customHeader). */
export type AuditFields = Readonly<Record<string, string | number | null>>;

export interface AuditActor {
  /** The token's `sub` (API) or `cli:<os user>` (CLI); null for a token without `sub`. */
  subject: string | null;
  /** The configured peer name of the client certificate (API); null outside the API. */
  peer: string | null;
  /** What carried the change: `PUT /api/v1/numbers/{e164}`, `cli numbers import`, … */
  via: string;
}

/** Changes made without naming an actor (tests, future internal callers) are still recorded. */
export const UNATTRIBUTED: AuditActor = { subject: null, peer: null, via: "store" };

export interface AuditChange {
  kind: AuditKind;
  /** create, update, delete (numbers, accounts); rotate, prune (keys); export. */
  op: string;
  actor: AuditActor;
  /** Numbers: the blind index. Absent for keys and export. */
  target?: string | null;
  before?: AuditFields | null;
  after?: AuditFields | null;
}

export interface AuditEntry {
  id: string;
  at: Date;
  kind: AuditKind;
  op: string;
  subject: string | null;
  peer: string | null;
  via: string;
  target: string | null;
  before: AuditFields | null;
  after: AuditFields | null;
}

export interface AuditFilter {
  /** Inclusive. */
  from?: Date;
  /** Exclusive. */
  to?: Date;
  subject?: string;
  /** Only entries of this kind (with `target`: an account id and a blind index never collide). */
  kind?: AuditKind;
  /** Blind index (numbers) or other target key. */
  target?: string;
  cursor?: string | null;
  limit?: number;
}

export interface AuditPage {
  items: AuditEntry[];
  nextCursor: string | null;
}

export class AuditCursorError extends Error {
  override name = "AuditCursorError";
}

interface AuditRow {
  id: string;
  at: number | string;
  kind: string;
  op: string;
  subject: string | null;
  peer: string | null;
  via: string;
  target: string | null;
  before_enc: string | null;
  after_enc: string | null;
}

const T = AUDIT_TABLE;
const COLUMNS = "id, at, kind, op, subject, peer, via, target, before_enc, after_enc";
const ROW = "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
/** Rows per INSERT on PostgreSQL (10 parameters each). */
const PG_ROWS_PER_STATEMENT = 500;
/** 15 digits: epoch milliseconds up to the year 33658, so the text order is the time order. */
const AT_DIGITS = 15;

export function auditIdPrefix(ms: number): string {
  return String(Math.max(0, Math.trunc(ms))).padStart(AT_DIGITS, "0");
}

export class AuditTrail {
  #lastMs = -1;
  #seq = 0;

  constructor(private readonly ctx: StoreContext) {}

  /** `<ms>.<sequence in that ms>.<random>.`: the random part keeps ids of two processes apart. */
  private nextStem(at: number): string {
    // A clock that steps back keeps the previous millisecond: ids never go backwards in a process.
    const ms = Math.max(at, this.#lastMs);
    this.#seq = ms === this.#lastMs ? this.#seq + 1 : 0;
    this.#lastMs = ms;
    return `${auditIdPrefix(ms)}.${String(this.#seq).padStart(6, "0")}.${pooledRandomBytes(6).toString("hex")}.`;
  }

  /**
   * Writes the entries with `tx`, the executor of the transaction making the changes (never a
   * transaction of its own: that is what ties each entry to its change).
   */
  async record(tx: SqlExecutor, changes: AuditChange | readonly AuditChange[]): Promise<void> {
    const list: readonly AuditChange[] = Array.isArray(changes) ? changes : [changes as AuditChange];
    if (list.length === 0) return;
    const at = this.ctx.now().getTime();
    // One stem per call, then the position: the entries of one batch stay together, in order.
    const stem = this.nextStem(at);
    const rows = list.map((c, i) => this.encode(c, `${stem}${String(i).padStart(6, "0")}`, at));
    if (tx.dialect === "sqlite") {
      for (const r of rows) await tx.run(`INSERT INTO ${T} (${COLUMNS}) VALUES ${ROW}`, r);
      return;
    }
    for (let start = 0; start < rows.length; start += PG_ROWS_PER_STATEMENT) {
      const chunk = rows.slice(start, start + PG_ROWS_PER_STATEMENT);
      await tx.run(`INSERT INTO ${T} (${COLUMNS}) VALUES ${new Array(chunk.length).fill(ROW).join(", ")}`, chunk.flat());
    }
  }

  /** Records changes in a transaction of their own (operations that change no table row: export, keys). */
  recordAlone(changes: AuditChange | readonly AuditChange[]): Promise<void> {
    return this.ctx.db.transaction((tx) => this.record(tx, changes));
  }

  /** Newest first. A row that cannot be decrypted is reported (unreadable rows) and skipped. */
  async list(f: AuditFilter = {}): Promise<AuditPage> {
    const limit = Math.min(Math.max(Math.trunc(f.limit ?? 100), 1), 1000);
    const where: string[] = [];
    const params: SqlValue[] = [];
    if (f.from) {
      where.push("id >= ?");
      params.push(auditIdPrefix(f.from.getTime()));
    }
    if (f.to) {
      where.push("id < ?");
      params.push(auditIdPrefix(f.to.getTime()));
    }
    if (f.cursor) {
      where.push("id < ?");
      params.push(decodeCursor(f.cursor));
    }
    if (f.subject !== undefined) {
      where.push("subject = ?");
      params.push(f.subject);
    }
    if (f.kind !== undefined) {
      where.push("kind = ?");
      params.push(f.kind);
    }
    if (f.target !== undefined) {
      where.push("target = ?");
      params.push(f.target);
    }
    const rows = await this.ctx.db.all<AuditRow>(
      `SELECT ${COLUMNS} FROM ${T}${where.length ? ` WHERE ${where.join(" AND ")}` : ""} ORDER BY id DESC LIMIT ?`,
      [...params, limit + 1],
    );
    const more = rows.length > limit;
    const page = more ? rows.slice(0, limit) : rows;
    const items: AuditEntry[] = [];
    for (const r of page) {
      const e = this.ctx.readable(T, r.id, () => this.decode(r));
      if (e) items.push(e);
    }
    return { items, nextCursor: more ? encodeCursor(page[page.length - 1]!.id) : null };
  }

  /** Deletes entries recorded before `cutoff`, in batches (one transaction each); returns how many. */
  async purgeBefore(cutoff: Date, opts: { batchSize?: number } = {}): Promise<number> {
    const batchSize = Math.max(1, Math.min(opts.batchSize ?? 500, 5000));
    const bound = auditIdPrefix(cutoff.getTime());
    let total = 0;
    for (;;) {
      const n = await this.ctx.db.transaction(async (tx) => {
        const rows = await tx.all<{ id: string }>(`SELECT id FROM ${T} WHERE id < ? ORDER BY id LIMIT ?`, [bound, batchSize]);
        if (rows.length === 0) return 0;
        await tx.run(`DELETE FROM ${T} WHERE id IN (${rows.map(() => "?").join(", ")})`, rows.map((r) => r.id));
        return rows.length;
      });
      total += n;
      if (n < batchSize) return total;
    }
  }

  /** After a purge: purged values unreadable from the database files too (reclaim.ts). */
  reclaimPurgedSpace(): Promise<void> {
    return reclaimDeletedSpace(this.ctx.db, [T]);
  }

  private encode(c: AuditChange, id: string, at: number): SqlValue[] {
    const enc = (fields: AuditFields | null | undefined, column: string) =>
      fields === null || fields === undefined ? null : this.ctx.encrypt(JSON.stringify(fields), T, column, id);
    return [id, at, c.kind, c.op, c.actor.subject, c.actor.peer, c.actor.via, c.target ?? null, enc(c.before, "before_enc"), enc(c.after, "after_enc")];
  }

  private decode(r: AuditRow): AuditEntry {
    const dec = (token: string | null, column: string): AuditFields | null =>
      token === null ? null : (JSON.parse(this.ctx.decrypt(token, T, column, r.id)) as AuditFields);
    return {
      id: r.id,
      at: new Date(Number(r.at)),
      kind: r.kind as AuditKind,
      op: r.op,
      subject: r.subject,
      peer: r.peer,
      via: r.via,
      target: r.target,
      before: dec(r.before_enc, "before_enc"),
      after: dec(r.after_enc, "after_enc"),
    };
  }
}

function encodeCursor(id: string): string {
  return Buffer.from(`a1:${id}`, "utf8").toString("base64url");
}

function decodeCursor(cursor: string): string {
  const s = Buffer.from(cursor, "base64url").toString("utf8");
  if (!s.startsWith("a1:") || s.length < 4) throw new AuditCursorError("invalid cursor");
  return s.slice(3);
}
