// /api/v1/accounts/{id} (GET, PUT, PATCH, DELETE; conditional with If-Match / If-None-Match like a
// number) and /api/v1/accounts (GET, paginated). DELETE of an account that has numbers is a 409
// naming how many, unless ?cascade=true: then its numbers go with it, in the same transaction.
// Every write goes through AccountRepository.change(), with the request's actor for the audit trail.
import { AccountInUseError } from "../../store/accounts.js";
import { CursorError } from "../../store/numbers.js";
import { HttpError, type Reply } from "../http-io.js";
import { evaluatePreconditions, parsePreconditions } from "../preconditions.js";
import { accountBody, accountIdField, FieldError, limitParam, queryParams, type AccountFields } from "../validation.js";
import type { HandlerDeps, HandlerRequest } from "./context.js";
import { cursorParam, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from "./numbers.js";

export async function accountRoute(d: HandlerDeps, r: HandlerRequest): Promise<Reply> {
  const id = accountIdFromPath(r.param ?? "");
  const q = queryParams(r.query, r.method === "DELETE" ? ["cascade"] : []);
  const cond = parsePreconditions(r.headers);
  switch (r.method) {
    case "GET": {
      const stored = await d.store.accounts.getStored(id);
      const refused = evaluatePreconditions(cond, stored?.etag ?? null, r.method);
      if (refused === 304) return { status: 304, headers: { etag: stored!.etag } };
      if (refused !== undefined) throw preconditionFailed();
      if (!stored) throw notFound();
      return { status: 200, body: await withCount(d, stored.entry), headers: { etag: stored.etag } };
    }
    case "PUT":
    case "PATCH": {
      const put = r.method === "PUT" ? accountBody(r.body, id, d.serviceSet) : undefined;
      const out = await inUse(() =>
        d.store.accounts.change(
          id,
          (cur) => {
            if (evaluatePreconditions(cond, cur?.etag ?? null, r.method) !== undefined) return { keep: true, result: false };
            // RFC 7396 allows a patch to create; PUT creates (as for numbers).
            if (put === undefined && !cur) throw notFound(" (PUT creates)");
            return { put: put ?? accountBody(r.body, id, d.serviceSet, cur!.entry), result: true };
          },
          r.actor,
        ),
      );
      if (!out.result) throw preconditionFailed();
      const after = out.after!;
      return { status: out.before ? 200 : 201, body: await withCount(d, after.entry), headers: { etag: after.etag } };
    }
    case "DELETE": {
      const cascade = cascadeParam(q.get("cascade"));
      const out = await inUse(() =>
        d.store.accounts.change(
          id,
          (cur) => {
            if (evaluatePreconditions(cond, cur?.etag ?? null, r.method) !== undefined) return { keep: true, result: "refused" as const };
            return cur ? { remove: true, cascade, result: "deleted" as const } : { keep: true, result: "absent" as const };
          },
          r.actor,
        ),
      );
      if (out.result === "refused") throw preconditionFailed();
      if (out.result === "absent") throw notFound();
      return cascade ? { status: 200, body: { deleted: id, numbersDeleted: out.numbersDeleted } } : { status: 204 };
    }
  }
  throw new Error(`unrouted method ${r.method}`);
}

export async function listAccounts(d: HandlerDeps, r: HandlerRequest): Promise<Reply> {
  const q = queryParams(r.query, ["limit", "cursor"]);
  const limit = limitParam(q.get("limit"), DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE);
  const cursor = cursorParam(q.get("cursor"));
  try {
    const page = await d.store.accounts.list({ limit, cursor });
    return { status: 200, body: { items: page.items, nextCursor: page.nextCursor } };
  } catch (err) {
    if (err instanceof CursorError) throw new FieldError("cursor", "invalid cursor (pass back nextCursor unchanged)");
    throw err;
  }
}

/** The {id} path segment (percent-decoded, though a valid id never needs encoding). */
function accountIdFromPath(raw: string): string {
  let decoded: string;
  try {
    decoded = decodeURIComponent(raw);
  } catch {
    throw new FieldError("id", "invalid percent-encoding in the path");
  }
  return accountIdField(decoded, "id");
}

/** A single account's representation carries how many numbers it has (not part of its ETag). */
async function withCount(d: HandlerDeps, e: AccountFields): Promise<AccountFields & { numbers: number }> {
  return { ...e, numbers: await d.store.accounts.numberCount(e.id) };
}

function cascadeParam(v: string | null): boolean {
  if (v === null || v === "false") return false;
  if (v === "true") return true;
  throw new FieldError("cascade", "true or false");
}

/** AccountInUseError → 409 naming the field and how many numbers are in the way. */
async function inUse<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof AccountInUseError) throw new HttpError(409, "conflict", err.message, err.field, undefined, { numbers: err.numbers });
    throw err;
  }
}

function notFound(suffix = ""): HttpError {
  return new HttpError(404, "not_found", `account not found${suffix}`);
}

function preconditionFailed(): HttpError {
  return new HttpError(412, "precondition_failed", "the account's current state does not satisfy If-Match / If-None-Match");
}
