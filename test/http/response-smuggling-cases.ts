// The response side of the smuggling set: hand-written HTTP/1.1 responses a fake upstream sends
// for one request, each with what the client behind the proxy sees and whether the proxy may use
// the upstream connection again. The rule (issue 12): every bad framing, syntax or size is a 502
// (or, once the head went out, a reset response) and the connection is dropped, never reused.
// `undici` records where undici's answer differs (recorded against undici 7.30 with
// TRUNKGATE_RECORD_SMUGGLING=1); the lean client must be at least as strict everywhere but for
// interim responses, which RFC 9110 §15.2 says a client must be able to read.

export interface ResponseOutcome {
  /** Status the downstream client gets, or "cut": the head went out, then the response was reset. */
  status: number | "cut";
  /** The body it gets, when the status is not "cut" (default: not checked). */
  body?: string;
  /** Whether the proxy sends the next request on the same upstream connection. */
  keeps: boolean;
  /** "cut" is as good an answer (the head went out, whether the client read it before the reset depends on the engine). */
  orCut?: boolean;
}

export interface ResponseCase {
  name: string;
  /** What the fake upstream writes in answer to the request. */
  response: string;
  /** The fake upstream closes the connection after writing. */
  close?: boolean;
  /** Request method (default GET). */
  method?: "GET" | "HEAD";
  lean: ResponseOutcome;
  /** undici's answer where it differs from the lean client's. */
  undici?: ResponseOutcome;
}

const OK = "HTTP/1.1 200 OK\r\n";
const BAD: ResponseOutcome = { status: 502, keeps: false };
const CUT: ResponseOutcome = { status: "cut", keeps: false };
const manyFields = (n: number): string => {
  let s = "";
  for (let i = 0; i < n; i++) s += `X-H${i}: v\r\n`;
  return s;
};

export const RESPONSE_CASES: readonly ResponseCase[] = [
  // Controls: well-formed responses are forwarded and the connection is kept.
  { name: "control: Content-Length", response: `${OK}Content-Length: 5\r\n\r\nhello`, lean: { status: 200, body: "hello", keeps: true } },
  {
    name: "control: chunked",
    response: `${OK}Transfer-Encoding: chunked\r\n\r\n3\r\nhel\r\n2;ext=1\r\nlo\r\n0\r\nX-Trailer: t\r\n\r\n`,
    lean: { status: 200, body: "hello", keeps: true },
  },
  { name: "control: close-delimited", response: `${OK}\r\nhello`, close: true, lean: { status: 200, body: "hello", keeps: false } },
  { name: "control: 204 without body", response: "HTTP/1.1 204 No Content\r\n\r\n", lean: { status: 204, body: "", keeps: true } },
  // undici checks a 304's Content-Length against its (absent) body and fails it after the head.
  { name: "control: 304 with Content-Length, no body", response: "HTTP/1.1 304 Not Modified\r\nContent-Length: 5\r\n\r\n", lean: { status: 304, body: "", keeps: true }, undici: { status: 304, body: "", keeps: false, orCut: true } },
  // Both clients close after HEAD: a server sending a body anyway would answer the next request.
  { name: "control: HEAD with Content-Length, no body", method: "HEAD", response: `${OK}Content-Length: 5\r\n\r\n`, lean: { status: 200, body: "", keeps: false } },
  { name: "control: Connection: close", response: `${OK}Content-Length: 2\r\nConnection: close\r\n\r\nok`, lean: { status: 200, body: "ok", keeps: false } },
  { name: "control: HTTP/1.0 without keep-alive", response: "HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok", lean: { status: 200, body: "ok", keeps: false } },
  // Interim answers: dropped, the final one forwarded (RFC 9110 §15.2: a client must read 1xx it did
  // not expect). undici fails an unexpected 100 Continue: the one case where the lean client is laxer.
  { name: "103 Early Hints, then 200", response: `HTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\n\r\n${OK}Content-Length: 2\r\n\r\nok`, lean: { status: 200, body: "ok", keeps: true } },
  { name: "100 Continue, then 200", response: `HTTP/1.1 100 Continue\r\n\r\n${OK}Content-Length: 2\r\n\r\nok`, lean: { status: 200, body: "ok", keeps: true }, undici: BAD },
  { name: "101 not asked for", response: "HTTP/1.1 101 Switching Protocols\r\nConnection: upgrade\r\nUpgrade: x\r\n\r\n", lean: BAD },
  // Framing conflicts.
  { name: "CL + TE", response: `${OK}Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`, lean: BAD },
  { name: "TE + CL", response: `${OK}Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n`, lean: BAD },
  { name: "duplicate CL, different", response: `${OK}Content-Length: 1\r\nContent-Length: 2\r\n\r\nab`, lean: BAD },
  { name: "duplicate CL, same", response: `${OK}Content-Length: 2\r\nContent-Length: 2\r\n\r\nab`, lean: BAD },
  { name: "CL list", response: `${OK}Content-Length: 2, 2\r\n\r\nab`, lean: BAD },
  { name: "CL not a number", response: `${OK}Content-Length: abc\r\n\r\n`, lean: BAD },
  { name: "CL negative", response: `${OK}Content-Length: -1\r\n\r\n`, lean: BAD },
  { name: "CL with plus sign", response: `${OK}Content-Length: +2\r\n\r\nab`, lean: BAD },
  { name: "CL overflow", response: `${OK}Content-Length: 99999999999999999999999\r\n\r\n`, lean: BAD },
  // undici reads these up to the close (RFC 9112 §6.3 allows it); the lean client refuses them.
  { name: "TE unknown coding", response: `${OK}Transfer-Encoding: gzip\r\n\r\nab`, close: true, lean: BAD, undici: { status: 200, body: "ab", keeps: false } },
  { name: "TE chunked not last", response: `${OK}Transfer-Encoding: chunked, gzip\r\n\r\nab`, close: true, lean: BAD, undici: { status: 200, body: "ab", keeps: false } },
  { name: "TE with space before colon", response: `${OK}Transfer-Encoding : chunked\r\n\r\n0\r\n\r\n`, lean: BAD },
  { name: "TE on HTTP/1.0", response: "HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", lean: BAD, undici: { status: 200, body: "", keeps: false } },
  // Line folding and line ends.
  { name: "obs-fold", response: `${OK}Content-Length: 2\r\nX-A: b\r\n c\r\n\r\nok`, lean: BAD },
  { name: "bare LF after status line", response: "HTTP/1.1 200 OK\nContent-Length: 2\r\n\r\nok", lean: BAD },
  { name: "bare LF in header section", response: `${OK}Content-Length: 2\nX-A: b\r\n\r\nok`, lean: BAD },
  { name: "bare CR in header value", response: `${OK}Content-Length: 2\r\nX-A: b\rc\r\n\r\nok`, lean: BAD },
  { name: "NUL in header value", response: `${OK}Content-Length: 2\r\nX-A: b\u0000c\r\n\r\nok`, lean: BAD },
  { name: "header without colon", response: `${OK}Content-Length: 2\r\nXA\r\n\r\nok`, lean: BAD },
  // Status line.
  { name: "HTTP/2.0 status line", response: "HTTP/2.0 200 OK\r\nContent-Length: 2\r\n\r\nok", lean: BAD, undici: { status: 200, body: "ok", keeps: false } },
  { name: "four-digit status", response: "HTTP/1.1 2000 OK\r\nContent-Length: 2\r\n\r\nok", lean: BAD },
  { name: "lower-case version", response: "http/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", lean: BAD },
  { name: "not HTTP at all", response: "ICY 200 OK\r\n\r\nok", close: true, lean: BAD },
  // Limits (defaults: 16 KiB head, 100 fields).
  { name: "head over maxHeaderBytes", response: `${OK}X-Big: ${"a".repeat(20_000)}\r\nContent-Length: 2\r\n\r\nok`, lean: BAD },
  // undici counts no fields, only bytes; the lean client holds responses to http.limits.maxHeaders.
  { name: "fields over maxHeaders", response: `${OK}${manyFields(120)}Content-Length: 2\r\n\r\nok`, lean: BAD, undici: { status: 200, body: "ok", keeps: true } },
  // Chunked framing (the head is forwarded before the body goes wrong: the response is cut).
  { name: "chunk size not hex", response: `${OK}Transfer-Encoding: chunked\r\n\r\nzz\r\nab\r\n0\r\n\r\n`, lean: CUT },
  { name: "chunk size negative", response: `${OK}Transfer-Encoding: chunked\r\n\r\n-1\r\nab\r\n0\r\n\r\n`, lean: CUT },
  { name: "chunk size overflow", response: `${OK}Transfer-Encoding: chunked\r\n\r\nfffffffffffffffff1\r\nab\r\n0\r\n\r\n`, lean: CUT },
  { name: "chunk size with 0x", response: `${OK}Transfer-Encoding: chunked\r\n\r\n0x2\r\nab\r\n0\r\n\r\n`, lean: CUT },
  { name: "chunk data longer than size", response: `${OK}Transfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n0\r\n\r\n`, lean: CUT },
  { name: "chunk size bare LF", response: `${OK}Transfer-Encoding: chunked\r\n\r\n2\nab\r\n0\r\n\r\n`, lean: CUT },
  // Body length.
  { name: "body shorter than CL, then close", response: `${OK}Content-Length: 10\r\n\r\nabc`, close: true, lean: CUT },
  { name: "bytes after a CL body", response: `${OK}Content-Length: 2\r\n\r\nokHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n`, lean: { status: 200, body: "ok", keeps: false } },
];
