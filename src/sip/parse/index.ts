// Public API of the SIP message layer: parsing (lazy, hot path), forwarding edits (slice-based
// serialisation), builders for proxy-generated messages, stream framing, and a sip.js-backed URI
// validator for non-hot-path input. Import everything from here: "../parse/index.js".
//
// Hot-path contract: parseMessage() eagerly decodes only what a proxy needs on every message
// (start line, top Via, Call-ID, CSeq, From/To, Max-Forwards, Content-Length/-Type); every other
// header stays as byte offsets until asked for.

export type {
  SipUri,
  NameAddr,
  Via,
  CSeq,
  HeaderField,
  ParseErrorKind,
  SipParseError,
} from "./types.js";

/**
 * Parsed messages. `SipRequest` (kind "request": method, requestUri, uri) and `SipResponse`
 * (kind "response": status, reason) share the base accessors:
 *   buf, headers (HeaderField[]), bodyStart, body, callId, cseq, from, to, topVia, maxForwards
 *   (undefined when absent), contentLength, contentType,
 *   getHeader(name) first raw value (unfolded) | undefined, getHeaders(name) all values,
 *   comma-split for list headers (Via, Route, Record-Route, Contact, ...), hasHeader(name),
 *   vias() all Via values in order, routes(), recordRoutes(), contacts() (NameAddr[]).
 * Header names passed to the accessors may be any case and compact ("v", "Via", "VIA").
 */
export { SipRequest, SipResponse, type SipMessage, type ParseResult, parseMessage } from "./message.js";

/** Hot-path URI parser: returns the URI or undefined when it is malformed (schemes sip/sips/tel). */
export { parseUri } from "./uri.js";

/** Canonical lower-case full name of a header name (compact forms expanded); "" if not a token. */
export { canonicalHeaderName } from "./header-names.js";

// validateSipUri (sip.js's grammar, config/provisioning input only) lives in ./uri-validate.js and is
// deliberately not re-exported: sip.js must stay out of the per-message import closure.

/**
 * Forwarding edits, slice-based (untouched header lines copied verbatim):
 *   forwardRequest(req, edits: RequestEdits): Buffer — prepend Via, replace Request-URI, remove
 *     top Route, prepend Record-Route, decrement Max-Forwards (insert 70 when absent), add/remove
 *     headers, replace body (Content-Length/Content-Type updated).
 *   forwardResponse(res, edits?: ResponseEdits): Buffer — remove the top Via (default), add/remove
 *     headers, replace body.
 * Neither checks Max-Forwards == 0: the proxy answers 483 before forwarding.
 */
export {
  forwardRequest,
  forwardResponse,
  type RequestEdits,
  type ResponseEdits,
  type BodyReplacement,
} from "../message/edit.js";

/**
 * Builders for messages the proxy originates:
 *   buildResponse(req, status, reason, opts?) — copies Via(s), From, To (adds a To tag unless one
 *     exists or status is 100), Call-ID, CSeq; extra headers; Content-Length: 0 unless a body.
 *   buildRequest(spec) — e.g. OPTIONS health probes.
 *   buildCancel(sentInvite) — §9.1 CANCEL for an INVITE *as the proxy sent it* (parse the bytes
 *     forwardRequest produced): same R-URI, Call-ID, From, To, CSeq number, top Via, Routes.
 *   buildAckForNon2xx(sentInvite, response) — §17.1.1.3 ACK: To from the response (with tag).
 *   newBranch() / newTag() — random "z9hG4bK…" branch and tag tokens.
 */
export {
  buildResponse,
  buildRequest,
  buildCancel,
  buildAckForNon2xx,
  newBranch,
  newTag,
  type ResponseOptions,
  type RequestSpec,
} from "../message/build.js";

// Stream framing (TLS/TCP) lives in ../transport/framing.js: the parser does not depend on transport.
