// /api/v1/numbers/{e164} (GET, PUT, PATCH, DELETE; conditional with If-Match / If-None-Match, the ETag
// being the entry's keyed hash) and /api/v1/numbers (GET, paginated).
import { CursorError, type NumberEntry } from "../../store/numbers.js";
import { HttpError, type Reply } from "../http-io.js";
import { evaluatePreconditions, parsePreconditions, type Preconditions } from "../preconditions.js";
import { accountIdField, FieldError, limitParam, mergePatch, numberFromPath, putBody, queryParams, serviceNameField, type EntryInput } from "../validation.js";
import type { HandlerDeps, HandlerRequest } from "./context.js";

export const DEFAULT_PAGE_SIZE = 100;
export const MAX_PAGE_SIZE = 1000;
export const MAX_CURSOR_LENGTH = 256;

export async function numberRoute(d: HandlerDeps, r: HandlerRequest): Promise<Reply> {
  const number = numberFromPath(r.param ?? "");
  if (r.query.length > 0) queryParams(r.query, []);
  const cond = parsePreconditions(r.headers);
  switch (r.method) {
    case "GET": {
      const stored = await d.store.numbers.getStored(number);
      const refused = evaluatePreconditions(cond, stored?.etag ?? null, r.method);
      if (refused === 304) return { status: 304, headers: { etag: stored!.etag } };
      if (refused !== undefined) throw preconditionFailed();
      if (!stored) throw new HttpError(404, "not_found", "number not provisioned");
      return { status: 200, body: stored.entry, headers: { etag: stored.etag } };
    }
    case "PUT": {
      const input = putBody(r.body, number, d.serviceSet);
      return writeNumber(d, r, number, cond, () => input);
    }
    case "PATCH": {
      // RFC 7396 allows a patch to create, but an entry needs a service: 404 rather than a
      // half-specified number (PUT creates).
      return writeNumber(d, r, number, cond, (cur) => {
        if (!cur) throw new HttpError(404, "not_found", "number not provisioned (PUT creates)");
        return mergePatch(cur, r.body, d.serviceSet);
      });
    }
    case "DELETE": {
      const out = await d.store.numbers.change(
        number,
        (cur) => {
          const refused = evaluatePreconditions(cond, cur?.etag ?? null, r.method);
          if (refused !== undefined) return { keep: true, result: "refused" as const };
          return cur ? { remove: true, result: "deleted" as const } : { keep: true, result: "absent" as const };
        },
        r.actor,
      );
      if (out.result === "refused") throw preconditionFailed();
      if (out.result === "absent") throw new HttpError(404, "not_found", "number not provisioned");
      return { status: 204 };
    }
  }
  throw new Error(`unrouted method ${r.method}`);
}

/**
 * PUT and PATCH: the new entry is computed from the current one (`next`, may throw a FieldError)
 * and written in the same transaction that checked the preconditions, so If-Match protects against
 * a lost update and 201 vs 200 is decided on the state the write replaced.
 */
export async function writeNumber(
  d: HandlerDeps,
  r: HandlerRequest,
  number: string,
  cond: Preconditions,
  next: (current: NumberEntry | null) => EntryInput,
): Promise<Reply> {
  const out = await d.store.numbers.change(
    number,
    (cur) => {
      if (evaluatePreconditions(cond, cur?.etag ?? null, r.method) !== undefined) return { keep: true, result: false };
      return { put: next(cur?.entry ?? null), result: true };
    },
    r.actor,
  );
  if (!out.result) throw preconditionFailed();
  const after = out.after!;
  return { status: out.before ? 200 : 201, body: after.entry, headers: { etag: after.etag } };
}

function preconditionFailed(): HttpError {
  return new HttpError(412, "precondition_failed", "the number's current state does not satisfy If-Match / If-None-Match");
}

export async function listNumbers(d: HandlerDeps, r: HandlerRequest): Promise<Reply> {
  const q = queryParams(r.query, ["limit", "cursor", "service", "account"]);
  const limit = limitParam(q.get("limit"), DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE);
  // Any well-formed name, not only configured ones: numbers of a service since removed from the
  // SIP configuration are not routed, and listing them is how an operator finds them.
  // The service a number routes to: its own, or its account's default.
  const service = q.has("service") ? serviceNameField(q.get("service")) : undefined;
  const account = q.has("account") ? accountIdField(q.get("account"), "account") : undefined;
  const cursor = cursorParam(q.get("cursor"));
  try {
    const page = await d.store.numbers.list({ limit, cursor, ...(service !== undefined ? { service } : {}), ...(account !== undefined ? { account } : {}) });
    return { status: 200, body: { items: page.items, nextCursor: page.nextCursor } };
  } catch (err) {
    if (err instanceof CursorError) throw new FieldError("cursor", "invalid cursor (pass back nextCursor unchanged)");
    throw err;
  }
}

/** The opaque cursor of a listing (base64url of bounded length), or null for the first page. */
export function cursorParam(cursor: string | null): string | null {
  if (cursor !== null && (cursor.length === 0 || cursor.length > MAX_CURSOR_LENGTH || !isBase64Url(cursor))) {
    throw new FieldError("cursor", "invalid cursor (pass back nextCursor unchanged)");
  }
  return cursor;
}

export function isBase64Url(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (!((c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 45 || c === 95)) return false;
  }
  return true;
}
