// Builders for messages the proxy originates: responses to a request (100 Trying, 4xx/5xx),
// OPTIONS probes, CANCEL (RFC 3261 §9.1) and the ACK for a non-2xx final response (§17.1.1.3).
// Copied header lines (Via, From, To, Call-ID, CSeq, Route) are sliced verbatim from the source.
import { randomFillSync } from "node:crypto";
import type { SipRequest, SipResponse } from "../parse/message.js";
import { assertHeaderName, assertHeaderText, SegmentWriter } from "./writer.js";

const rnd = Buffer.alloc(8 * 256);
let rndPos = rnd.length;
/** 16 hex chars from a pooled random buffer (one randomFillSync per 256 calls). */
function randomHex(): string {
  if (rndPos >= rnd.length) {
    randomFillSync(rnd);
    rndPos = 0;
  }
  const s = rnd.toString("hex", rndPos, rndPos + 8);
  rndPos += 8;
  return s;
}

/** A new RFC 3261 branch ("z9hG4bK" magic cookie + 64 random bits). */
export function newBranch(): string {
  return "z9hG4bK" + randomHex();
}

/** A new From/To tag (64 random bits). */
export function newTag(): string {
  return randomHex();
}

export interface ResponseOptions {
  /** To tag to add when the request has none (ignored for 100); a random tag when omitted. */
  toTag?: string;
  /** Extra headers, e.g. [["Retry-After", "30"], ["Unsupported", "foo"]]. */
  headers?: ReadonlyArray<readonly [string, string]>;
  body?: Buffer;
  contentType?: string;
}

function addExtras(w: SegmentWriter, headers: ReadonlyArray<readonly [string, string]> | undefined): void {
  if (headers === undefined) return;
  for (const [name, value] of headers) {
    assertHeaderName(name);
    assertHeaderText(`value of header ${name}`, value);
    w.text(`${name}: ${value}\r\n`);
  }
}

function finishBody(w: SegmentWriter, body: Buffer | undefined, contentType: string | undefined): Buffer {
  if (body !== undefined && body.length > 0 && contentType !== undefined) {
    assertHeaderText("contentType", contentType);
    w.text(`Content-Type: ${contentType}\r\n`);
  }
  w.text(`Content-Length: ${body?.length ?? 0}\r\n\r\n`);
  return w.finish(body);
}

/**
 * A response to `req` (RFC 3261 §8.2.6): Via lines, From, To, Call-ID, CSeq copied; a To tag
 * added when absent (except for 100 Trying, §8.2.6.2); extra headers; Content-Length.
 * Throws RangeError when status is not 100-699 or a text contains CR/LF.
 */
export function buildResponse(req: SipRequest, status: number, reason: string, opts: ResponseOptions = {}): Buffer {
  if (!Number.isInteger(status) || status < 100 || status > 699) throw new RangeError(`status must be 100-699, got ${status}`);
  assertHeaderText("reason", reason);
  const w = new SegmentWriter(req.buf);
  w.text(`SIP/2.0 ${status} ${reason}\r\n`);
  for (const h of req.headers) {
    switch (h.name) {
      case "via":
      case "from":
      case "call-id":
      case "cseq":
        w.span(h.lineStart, h.lineEnd);
        break;
      case "to":
        if (req.to.tag !== undefined || status === 100) w.span(h.lineStart, h.lineEnd);
        else {
          const tag = opts.toTag ?? newTag();
          assertHeaderText("toTag", tag);
          w.text(`To: ${req.to.raw};tag=${tag}\r\n`);
        }
        break;
    }
  }
  addExtras(w, opts.headers);
  return finishBody(w, opts.body, opts.contentType);
}

export interface RequestSpec {
  method: string;
  requestUri: string;
  /** Value of the single Via (use newBranch() for the branch). */
  via: string;
  /** Full From value including its tag, e.g. "<sip:trunkgate@proxy.example.net>;tag=…". */
  from: string;
  /** Full To value. */
  to: string;
  callId: string;
  cseq: number;
  maxForwards?: number;
  headers?: ReadonlyArray<readonly [string, string]>;
  body?: Buffer;
  contentType?: string;
}

const EMPTY = Buffer.alloc(0);

/** A request from scratch (e.g. an OPTIONS health probe). Throws RangeError on CR/LF in any text. */
export function buildRequest(spec: RequestSpec): Buffer {
  for (const [k, v] of [["method", spec.method], ["requestUri", spec.requestUri], ["via", spec.via],
    ["from", spec.from], ["to", spec.to], ["callId", spec.callId]] as const) assertHeaderText(k, v);
  const w = new SegmentWriter(EMPTY);
  w.text(
    `${spec.method} ${spec.requestUri} SIP/2.0\r\nVia: ${spec.via}\r\nMax-Forwards: ${spec.maxForwards ?? 70}\r\n` +
      `From: ${spec.from}\r\nTo: ${spec.to}\r\nCall-ID: ${spec.callId}\r\nCSeq: ${spec.cseq} ${spec.method}\r\n`,
  );
  addExtras(w, spec.headers);
  return finishBody(w, spec.body, spec.contentType);
}

/** Shared by CANCEL and ACK: start line, top Via only, Routes, From, To, Call-ID, CSeq n METHOD. */
function hopRequest(method: string, invite: SipRequest, toSource: SipRequest | SipResponse): Buffer {
  const w = new SegmentWriter(invite.buf);
  w.text(`${method} ${invite.requestUri} SIP/2.0\r\nVia: ${invite.topVia.raw}\r\nMax-Forwards: 70\r\n`);
  for (const h of invite.headers) {
    if (h.name === "route" || h.name === "from" || h.name === "call-id") w.span(h.lineStart, h.lineEnd);
  }
  if (toSource === invite) {
    for (const h of invite.headers) if (h.name === "to") w.span(h.lineStart, h.lineEnd);
  } else w.text(`To: ${toSource.to.raw}\r\n`);
  w.text(`CSeq: ${invite.cseq.seq} ${method}\r\nContent-Length: 0\r\n\r\n`);
  return w.finish();
}

/**
 * CANCEL for an INVITE as the proxy sent it (RFC 3261 §9.1): same Request-URI, Call-ID, From,
 * To, CSeq number, the single top Via (same branch), and the request's Route headers.
 */
export function buildCancel(sentInvite: SipRequest): Buffer {
  return hopRequest("CANCEL", sentInvite, sentInvite);
}

/**
 * ACK for a non-2xx final response to an INVITE the proxy sent (RFC 3261 §17.1.1.3): the INVITE's
 * Request-URI, top Via, Route, From, Call-ID and CSeq number; To from the response (with its tag).
 */
export function buildAckForNon2xx(sentInvite: SipRequest, response: SipResponse): Buffer {
  return hopRequest("ACK", sentInvite, response);
}
