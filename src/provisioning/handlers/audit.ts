// GET /api/v1/audit — the audit trail, newest first (Admin only): who changed which number, when,
// from what to what; also the CLI's imports, exports and key operations. Filters: from/to (RFC 3339,
// from inclusive, to exclusive), subject (exact), number (any accepted notation, normalised to
// E.164 and looked up by its blind index). The store keeps a number only as its blind index, a
// keyed hash that cannot be turned back into the number: an entry shows `number` only when the
// request named it (then it is known); otherwise entries about the same number are not linkable
// through this API. account (an account id): the account's own entries (kind "account", its id as
// target, on the (target, id) index). Not its numbers' entries: a number's account is only in its
// encrypted before/after, so finding them would mean decrypting every row; the docs say how to get
// them (list the account's numbers, then filter by number). Each filter also names the kind, because
// a blind index (base64url) is a valid account id: a number and an account never match each other.
import { AuditCursorError, type AuditEntry } from "../../store/audit-trail.js";
import type { Reply } from "../http-io.js";
import { accountIdField, FieldError, instantField, limitParam, numberField, queryParams, subjectField } from "../validation.js";
import type { HandlerDeps, HandlerRequest } from "./context.js";
import { DEFAULT_PAGE_SIZE, isBase64Url, MAX_CURSOR_LENGTH, MAX_PAGE_SIZE } from "./numbers.js";

export async function listAudit(d: HandlerDeps, r: HandlerRequest): Promise<Reply> {
  const q = queryParams(r.query, ["from", "to", "subject", "number", "account", "limit", "cursor"]);
  const limit = limitParam(q.get("limit"), DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE);
  const from = q.has("from") ? instantField(q.get("from")!, "from") : undefined;
  const to = q.has("to") ? instantField(q.get("to")!, "to") : undefined;
  if (from && to && to.getTime() < from.getTime()) throw new FieldError("to", "must not be before from");
  const subject = q.has("subject") ? subjectField(q.get("subject")!, "subject") : undefined;
  const number = q.has("number") ? numberField(q.get("number"), "number") : undefined;
  const account = q.has("account") ? accountIdField(q.get("account"), "account") : undefined;
  // Both would ask for entries that are about a number and about an account at once: none.
  if (account !== undefined && number !== undefined) throw new FieldError("account", "cannot be combined with number (filter by one or the other)");
  const cursor = q.get("cursor");
  if (cursor !== null && (cursor.length === 0 || cursor.length > MAX_CURSOR_LENGTH || !isBase64Url(cursor))) {
    throw new FieldError("cursor", "invalid cursor (pass back nextCursor unchanged)");
  }
  try {
    const page = await d.store.audit.list({
      limit,
      cursor,
      ...(from ? { from } : {}),
      ...(to ? { to } : {}),
      ...(subject !== undefined ? { subject } : {}),
      ...(number !== undefined ? { kind: "number" as const, target: d.store.numbers.indexOf(number) } : {}),
      ...(account !== undefined ? { kind: "account" as const, target: account } : {}),
    });
    return { status: 200, body: { items: page.items.map((e) => auditItem(e, number)), nextCursor: page.nextCursor } };
  } catch (err) {
    if (err instanceof AuditCursorError) throw new FieldError("cursor", "invalid cursor (pass back nextCursor unchanged)");
    throw err;
  }
}

/** The API's form of an entry; `number`: the filter's number (every entry of the page is about it). */
function auditItem(e: AuditEntry, number: string | undefined): Record<string, unknown> {
  return {
    id: e.id,
    at: e.at.toISOString(),
    kind: e.kind,
    op: e.op,
    subject: e.subject,
    peer: e.peer,
    via: e.via,
    ...(e.kind === "number" ? (number !== undefined ? { number } : {}) : e.target !== null ? { target: e.target } : {}),
    before: e.before,
    after: e.after,
  };
}
