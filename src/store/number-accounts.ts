// How numbers meet their accounts in SQL: the SELECT that reads a number with its account's
// defaults (resolved when read: an account's change reaches its numbers without touching their
// rows), and the check, in the writing transaction, that a number's account exists and that the
// number resolves to a service. On PostgreSQL the accounts read are locked FOR SHARE until commit,
// so a concurrent account delete (FOR UPDATE) cannot leave a number pointing at nothing.
import type { SqlTx } from "./db/driver.js";
import type { StoreContext } from "./context.js";
import type { NumberEntry } from "./number-rules.js";

export const ACCOUNTS_TABLE = "accounts";

/** A numbers row joined with its account's defaults (all null without an account). */
export interface NumberRow {
  number_index: string;
  number_enc: string;
  service: string | null;
  custom_header_enc: string | null;
  account_id: string | null;
  account_service: string | null;
  account_header_enc: string | null;
}

export const NUMBER_SELECT = `SELECT n.number_index, n.number_enc, n.service, n.custom_header_enc, n.account_id,
  a.service AS account_service, a.custom_header_enc AS account_header_enc
  FROM numbers n LEFT JOIN accounts a ON a.account_id = n.account_id`;

/**
 * Decodes a row. `headers` memoises account header values per scan: a reload of the routing table
 * decrypts each account's default once, not once per number.
 */
export function decodeNumber(ctx: StoreContext, r: NumberRow, headers?: Map<string, string | null>): NumberEntry {
  const e: NumberEntry = {
    number: ctx.decrypt(r.number_enc, "numbers", "number_enc", r.number_index),
    service: r.service,
    customHeader: ctx.decryptOpt(r.custom_header_enc, "numbers", "custom_header_enc", r.number_index),
  };
  if (r.account_id === null) return e;
  let accountHeader = headers?.get(r.account_id);
  if (accountHeader === undefined) {
    accountHeader = ctx.decryptOpt(r.account_header_enc, ACCOUNTS_TABLE, "custom_header_enc", r.account_id);
    headers?.set(r.account_id, accountHeader);
  }
  e.account = r.account_id;
  e.effective = { service: e.service ?? r.account_service, customHeader: e.customHeader ?? accountHeader };
  return e;
}

export class NumberAccountError extends Error {
  override name = "NumberAccountError";
  constructor(
    readonly field: "account" | "service",
    readonly reason: string,
    /** Position in the entries checked. */
    readonly position: number,
  ) {
    super(`${field}: ${reason}`);
  }
}

const IN_CHUNK = 500;

/**
 * In the writing transaction: every entry's account exists, and an entry without its own service
 * has an account with a default one. Throws NumberAccountError naming the first that does not.
 */
export async function checkNumberAccounts(tx: SqlTx, entries: readonly NumberEntry[]): Promise<void> {
  const ids = [...new Set(entries.flatMap((e) => (e.account !== undefined ? [e.account] : [])))].sort();
  if (ids.length === 0) return;
  const lock = tx.dialect === "postgres" ? " ORDER BY account_id FOR SHARE" : "";
  const defaults = new Map<string, string | null>();
  for (let i = 0; i < ids.length; i += IN_CHUNK) {
    const chunk = ids.slice(i, i + IN_CHUNK);
    const rows = await tx.all<{ account_id: string; service: string | null }>(
      `SELECT account_id, service FROM accounts WHERE account_id IN (${chunk.map(() => "?").join(", ")})${lock}`,
      chunk,
    );
    for (const r of rows) defaults.set(r.account_id, r.service);
  }
  entries.forEach((e, i) => {
    if (e.account === undefined) return;
    if (!defaults.has(e.account)) throw new NumberAccountError("account", "unknown account (create it first: PUT /api/v1/accounts/{id})", i);
    if (e.service === null && defaults.get(e.account) === null) {
      throw new NumberAccountError("service", "required: the number's account has no default service", i);
    }
  });
}
