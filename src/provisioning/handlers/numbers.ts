// /api/v1/numbers/{e164} (GET, PUT, DELETE) and /api/v1/numbers (GET, paginated).
import { CursorError } from "../../store/numbers.js";
import { HttpError, type Reply } from "../http-io.js";
import { FieldError, limitParam, numberFromPath, putBody, queryParams } from "../validation.js";
import type { HandlerDeps, HandlerRequest } from "./context.js";

export const DEFAULT_PAGE_SIZE = 100;
export const MAX_PAGE_SIZE = 1000;
const MAX_CURSOR_LENGTH = 256;

export async function numberRoute(d: HandlerDeps, r: HandlerRequest): Promise<Reply> {
  const number = numberFromPath(r.param ?? "");
  if (r.query.length > 0) queryParams(r.query, []);
  switch (r.method) {
    case "GET": {
      const entry = await d.store.numbers.get(number);
      if (!entry) throw new HttpError(404, "not_found", "number not provisioned");
      return { status: 200, body: entry };
    }
    case "PUT": {
      const input = putBody(r.body, number, d.serviceSet);
      // Created vs updated is decided by a read just before the write; two writers racing on the
      // same new number may both see "created" — the stored result is the same either way.
      const existed = (await d.store.numbers.get(number)) !== null;
      const entry = await d.store.numbers.upsert(input);
      return { status: existed ? 200 : 201, body: entry };
    }
    case "DELETE": {
      if (!(await d.store.numbers.delete(number))) throw new HttpError(404, "not_found", "number not provisioned");
      return { status: 204 };
    }
  }
  throw new Error(`unrouted method ${r.method}`);
}

export async function listNumbers(d: HandlerDeps, r: HandlerRequest): Promise<Reply> {
  const q = queryParams(r.query, ["limit", "cursor"]);
  const limit = limitParam(q.get("limit"), DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE);
  const cursor = q.get("cursor");
  if (cursor !== null && (cursor.length === 0 || cursor.length > MAX_CURSOR_LENGTH || !isBase64Url(cursor))) {
    throw new FieldError("cursor", "invalid cursor (pass back nextCursor unchanged)");
  }
  try {
    const page = await d.store.numbers.list({ limit, cursor });
    return { status: 200, body: { items: page.items, nextCursor: page.nextCursor } };
  } catch (err) {
    if (err instanceof CursorError) throw new FieldError("cursor", "invalid cursor (pass back nextCursor unchanged)");
    throw err;
  }
}

function isBase64Url(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (!((c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 45 || c === 95)) return false;
  }
  return true;
}
