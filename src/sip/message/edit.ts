// Forwarding edits by slicing: untouched header lines are copied byte-for-byte from the received
// buffer; only the lines an edit touches are written anew. New top-of-list headers (Via,
// Record-Route, Max-Forwards when absent) go right after the start line, which keeps them above
// any existing header of the same name — the only ordering SIP cares about (RFC 3261 §7.3.1).
import { canonicalHeaderName, wireName } from "../parse/header-names.js";
import { headerValue, splitList } from "../parse/headers.js";
import type { SipRequest, SipResponse, SipMessage } from "../parse/message.js";
import type { HeaderField } from "../parse/types.js";
import { assertHeaderName, assertHeaderText, SegmentWriter } from "./writer.js";

export interface BodyReplacement {
  bytes: Buffer;
  /** New Content-Type; when omitted the received Content-Type line is kept (or none if bytes is empty and none was there). */
  contentType?: string;
}

interface CommonEdits {
  /** Headers appended at the end of the header section, in order: [name, value]. */
  addHeaders?: ReadonlyArray<readonly [string, string]>;
  /** Header names (any case / compact form) whose every line is dropped. */
  removeHeaders?: readonly string[];
  /** Replace the body; Content-Length follows it. */
  body?: BodyReplacement;
}

export interface RequestEdits extends CommonEdits {
  /** Value of a new top Via, e.g. "SIP/2.0/TLS proxy.example.net:5061;branch=z9hG4bK…". */
  prependVia?: string;
  /** New Request-URI (the start line is rewritten; the rest is copied). */
  requestUri?: string;
  /** Drop the first Route value (loose routing, RFC 3261 §16.4 / §16.12). */
  removeTopRoute?: boolean;
  /** Value of a new top Record-Route, e.g. "<sip:proxy.example.net;transport=tls;lr>". */
  prependRecordRoute?: string;
  /** "decrement" (default): N → N-1, inserting "Max-Forwards: 70" when absent. "keep": as received. */
  maxForwards?: "decrement" | "keep";
}

export interface ResponseEdits extends CommonEdits {
  /** Drop the top Via value (default true: RFC 3261 §16.7 step 3). */
  removeTopVia?: boolean;
}

/** Index of the first header with this canonical name, or -1. */
function firstIndex(headers: readonly HeaderField[], name: string): number {
  for (let i = 0; i < headers.length; i++) if (headers[i]!.name === name) return i;
  return -1;
}

const spanScratch: number[] = [];

/** Write header `h` without its first list element (or nothing when it had only one). */
function writeWithoutFirstElement(w: SegmentWriter, msg: SipMessage, h: HeaderField): void {
  const v = headerValue(msg.buf, h);
  spanScratch.length = 0;
  if (!splitList(v, spanScratch) || spanScratch.length <= 2) return;
  w.text(`${wireName(h.name)}: ${v.slice(spanScratch[2]!)}\r\n`);
}

function serialise(msg: SipMessage, edits: CommonEdits, req: RequestEdits | undefined, removeTopVia: boolean): Buffer {
  const buf = msg.buf;
  const headers = msg.headers;
  const w = new SegmentWriter(buf);
  const firstLineEnd = headers.length > 0 ? headers[0]!.lineStart : msg.bodyStart - 2;

  if (req?.requestUri !== undefined) {
    assertHeaderText("requestUri", req.requestUri);
    w.text(`${(msg as SipRequest).method} ${req.requestUri} SIP/2.0\r\n`);
  } else w.span(0, firstLineEnd);

  let mfIndex = -1;
  if (req !== undefined) {
    if (req.prependVia !== undefined) {
      assertHeaderText("prependVia", req.prependVia);
      w.text(`Via: ${req.prependVia}\r\n`);
    }
    if (req.prependRecordRoute !== undefined) {
      assertHeaderText("prependRecordRoute", req.prependRecordRoute);
      w.text(`Record-Route: ${req.prependRecordRoute}\r\n`);
    }
    if (req.maxForwards !== "keep") {
      mfIndex = firstIndex(headers, "max-forwards");
      if (mfIndex === -1) w.text("Max-Forwards: 70\r\n");
    }
  }
  const routeIndex = req?.removeTopRoute ? firstIndex(headers, "route") : -1;
  const viaIndex = removeTopVia ? firstIndex(headers, "via") : -1;
  let remove: string[] | undefined;
  if (edits.removeHeaders !== undefined && edits.removeHeaders.length > 0) {
    remove = edits.removeHeaders.map(canonicalHeaderName);
  }
  const body = edits.body;
  let sawContentLength = false;
  let sawContentType = false;

  for (let i = 0; i < headers.length; i++) {
    const h = headers[i]!;
    if (remove !== undefined && remove.includes(h.name)) continue;
    if (i === mfIndex) {
      const mf = msg.maxForwards ?? 70;
      w.text(`Max-Forwards: ${mf > 0 ? mf - 1 : 0}\r\n`);
    } else if (i === routeIndex || i === viaIndex) {
      writeWithoutFirstElement(w, msg, h);
    } else if (h.name === "content-length") {
      if (sawContentLength) continue;
      sawContentLength = true;
      if (body !== undefined) w.text(`Content-Length: ${body.bytes.length}\r\n`);
      else w.span(h.lineStart, h.lineEnd);
    } else if (h.name === "content-type" && body !== undefined) {
      sawContentType = true;
      if (body.contentType !== undefined) {
        assertHeaderText("body.contentType", body.contentType);
        w.text(`Content-Type: ${body.contentType}\r\n`);
      } else if (body.bytes.length > 0) w.span(h.lineStart, h.lineEnd);
    } else w.span(h.lineStart, h.lineEnd);
  }
  if (body !== undefined && !sawContentType && body.contentType !== undefined) {
    assertHeaderText("body.contentType", body.contentType);
    w.text(`Content-Type: ${body.contentType}\r\n`);
  }
  if (edits.addHeaders !== undefined) {
    for (const [name, value] of edits.addHeaders) {
      assertHeaderName(name);
      assertHeaderText(`value of header ${name}`, value);
      w.text(`${name}: ${value}\r\n`);
    }
  }
  // Streams need Content-Length on every message (RFC 3261 §18.3), so add it when it was absent.
  if (!sawContentLength) w.text(`Content-Length: ${body !== undefined ? body.bytes.length : msg.contentLength}\r\n`);
  w.text("\r\n");
  if (body !== undefined) return w.finish(body.bytes);
  w.span(msg.bodyStart, msg.bodyStart + msg.contentLength);
  return w.finish();
}

/**
 * Bytes of `req` as the proxy forwards it (RFC 3261 §16.6): optional new top Via, Request-URI,
 * top Route removal, Record-Route, Max-Forwards decrement/insert, added/removed headers, body.
 * Throws RangeError when an edit value contains CR or LF (header injection).
 */
export function forwardRequest(req: SipRequest, edits: RequestEdits): Buffer {
  return serialise(req, edits, edits, false);
}

/** Bytes of `res` as the proxy forwards it upstream-to-downstream (top Via removed by default). */
export function forwardResponse(res: SipResponse, edits: ResponseEdits = {}): Buffer {
  return serialise(res, edits, undefined, edits.removeTopVia !== false);
}
