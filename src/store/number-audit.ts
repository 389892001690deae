// What the audit trail keeps of a number (audit-trail.ts): its own fields (service, custom header,
// account), never the number itself (the entry's target is its blind index). Shared by the two
// places numbers change: numbers.ts and an account's cascade delete (accounts.ts).
import type { StoreContext } from "./context.js";
import type { AuditFields } from "./audit-trail.js";
import type { NumberEntry } from "./number-rules.js";

/** The columns a number's audit fields are read from (a SELECT or a DELETE … RETURNING). */
export const NUMBER_AUDIT_COLUMNS = "number_index, service, custom_header_enc, account_id";

export interface NumberAuditRow {
  number_index: string;
  service: string | null;
  custom_header_enc: string | null;
  account_id: string | null;
}

/** An entry's own fields: what it sets itself, not what it inherits from its account. */
export function numberAuditFields(e: NumberEntry): AuditFields {
  return { service: e.service, customHeader: e.customHeader, account: e.account ?? null };
}

/**
 * A stored row's fields. A header value that cannot be decrypted (tampered, key gone) is recorded
 * as unreadable rather than refusing the change that overwrites or deletes the row.
 */
export function storedNumberAuditFields(ctx: StoreContext, r: NumberAuditRow): AuditFields {
  const customHeader = ctx.readable("numbers", r.number_index, () => ctx.decryptOpt(r.custom_header_enc, "numbers", "custom_header_enc", r.number_index));
  return customHeader === undefined
    ? { service: r.service, customHeader: null, customHeaderUnreadable: 1, account: r.account_id }
    : { service: r.service, customHeader, account: r.account_id };
}
