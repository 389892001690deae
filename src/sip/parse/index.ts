// Public API of the SIP parser: parsed messages (lazy, hot path), URIs and header names. Import
// parsing from here: "../parse/index.js".
//
// Hot-path contract: parseMessage() checks the start line and the headers a proxy relies on, but
// makes only what it needs on every message: start line, top Via and the Via count, Call-ID, CSeq,
// From/To tags and URIs, Max-Forwards, Content-Length/-Type. The other Vias, From/To display
// names and params and the body view are made on first use (cached); every other header stays as
// byte offsets until asked for.

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
 *   buf, headers (HeaderField[]), bodyStart, body, callId, cseq, from, to, topVia, viaCount, viaList, maxForwards
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

// Forwarding edits (forwardRequest/forwardResponse) and builders for messages the proxy originates
// (buildResponse, buildRequest, buildCancel, buildAckForNon2xx, newBranch, newTag) live in
// ../message/edit.js and ../message/build.js and are not re-exported here: the message layer uses
// the parser, so a re-export would make the two folders import each other.
// Stream framing (TLS/TCP) lives in ../transport/framing.js: the parser does not depend on transport.
