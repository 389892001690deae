// Request body and JSON response plumbing. Every answer is JSON with X-Request-Id; errors share one
// shape: {"error": code, "field"?: name, "message": text}. A response sent before the request body
// was read closes the connection instead of letting Node drain an arbitrarily large body.
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from "node:http";

export class HttpError extends Error {
  override name = "HttpError";
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly field?: string,
    readonly headers?: OutgoingHttpHeaders,
    readonly extra?: Record<string, unknown>,
  ) {
    super(message);
  }
}

export interface Reply {
  status: number;
  body?: unknown;
  headers?: OutgoingHttpHeaders;
}

export function errorBody(e: HttpError): Record<string, unknown> {
  return { error: e.code, ...(e.field !== undefined ? { field: e.field } : {}), message: e.message, ...e.extra };
}

export function sendJson(req: IncomingMessage, res: ServerResponse, requestId: string, reply: Reply): void {
  const payload = reply.body === undefined ? undefined : Buffer.from(JSON.stringify(reply.body), "utf8");
  const headers: OutgoingHttpHeaders = {
    "x-request-id": requestId,
    "cache-control": "no-store",
    "x-content-type-options": "nosniff",
    ...reply.headers,
  };
  if (payload) {
    headers["content-type"] = "application/json; charset=utf-8";
    headers["content-length"] = payload.length;
  }
  if (!req.complete) headers.connection = "close";
  res.writeHead(reply.status, headers);
  res.end(payload);
}

export const JSON_TYPE = "application/json";
/** RFC 7396 JSON Merge Patch: the one body type PATCH takes. */
export const MERGE_PATCH_TYPE = "application/merge-patch+json";

/** Accepts `mediaType` (application/json by default), with no charset or charset=utf-8. */
export function isJsonContentType(v: string | undefined, mediaType: string = JSON_TYPE): boolean {
  if (v === undefined) return false;
  const semi = v.indexOf(";");
  const type = (semi < 0 ? v : v.slice(0, semi)).trim().toLowerCase();
  if (type !== mediaType) return false;
  if (semi < 0) return true;
  for (const p of v.slice(semi + 1).split(";")) {
    const eq = p.indexOf("=");
    if (eq < 0) continue;
    if (p.slice(0, eq).trim().toLowerCase() === "charset" && p.slice(eq + 1).trim().replace(/"/g, "").toLowerCase() !== "utf-8") return false;
  }
  return true;
}

/**
 * A client over the limit that keeps sending is read to its end (discarding, up to this much) so
 * it can read the 413: closing a socket with unread data makes the kernel reset the connection,
 * and the client sees ECONNRESET mid-upload instead of the answer. Beyond this it is cut off.
 */
export const MAX_DISCARD_BYTES = 16 * 1024 * 1024;

/**
 * Reads and parses a JSON body within maxBytes: 415, 413 and 400 as HttpErrors. `writeContinue`
 * answers `Expect: 100-continue` only once the body is wanted (after authentication, and not
 * when the declared length is already over the limit: then the 413 goes out before any upload).
 */
export function readJsonBody(req: IncomingMessage, maxBytes: number, writeContinue: () => void = () => {}, mediaType: string = JSON_TYPE): Promise<unknown> {
  if (!isJsonContentType(req.headers["content-type"], mediaType)) {
    return Promise.reject(new HttpError(415, "unsupported_media_type", `Content-Type must be ${mediaType}`, undefined,
      // RFC 5789 §2.2: a refused patch document says which patch formats are accepted.
      mediaType === MERGE_PATCH_TYPE ? { "accept-patch": MERGE_PATCH_TYPE } : undefined));
  }
  const tooLarge = () => new HttpError(413, "payload_too_large", `request body larger than ${maxBytes} bytes`);
  const declared = req.headers["content-length"];
  if (declared !== undefined && Number(declared) > maxBytes) return Promise.reject(tooLarge());
  if (req.headers.expect?.toLowerCase() === "100-continue") writeContinue();
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    const onData = (c: Buffer) => {
      size += c.length;
      if (over) {
        if (size > maxBytes + MAX_DISCARD_BYTES) finish(tooLarge());
        return;
      }
      if (size > maxBytes) {
        over = true; // keep reading (discarding) to the end, then answer 413
        chunks.length = 0;
        return;
      }
      chunks.push(c);
    };
    const onEnd = () => {
      if (over) return finish(tooLarge());
      cleanup();
      const text = Buffer.concat(chunks, size).toString("utf8");
      if (text.trim().length === 0) return reject(new HttpError(400, "invalid_request", "request body is empty", "body"));
      try {
        resolve(JSON.parse(text));
      } catch {
        reject(new HttpError(400, "invalid_request", "malformed JSON", "body"));
      }
    };
    const finish = (err: Error) => {
      cleanup();
      req.pause();
      reject(err);
    };
    const onError = (err: Error) => finish(err);
    const cleanup = () => {
      req.off("data", onData);
      req.off("end", onEnd);
      req.off("error", onError);
    };
    req.on("data", onData);
    req.on("end", onEnd);
    req.on("error", onError);
  });
}
