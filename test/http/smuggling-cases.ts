// The request-smuggling and protection set: hand-written HTTP/1.1 requests no client library
// would send, each with the answer the proxy gives (status of the first answer, and whether the
// connection is then closed). The expectations were recorded against Node's own HTTP/1.1 server
// (engine "node", commit b26faa2); every engine must give the same answer or a stricter one
// (a 4xx instead of a forward, a close instead of keep-alive).

export interface SmugglingCase {
  name: string;
  request: string;
  /** Status of the first answer. */
  status: number;
  /** Whether the connection closes after it (false: a probe is answered on the same connection). */
  closes: boolean;
  /** Whether the upstream sees the request (exactly once). */
  forwards?: boolean;
  /** Streamed before the defect shows (a bad chunk after the head): the upstream may see it, cut short. */
  mayForward?: boolean;
  /** A stricter answer an engine may give instead (a 400 and a close rather than a forward). */
  stricter?: number;
}

const H = "Host: a.example\r\n";
const manyHeaders = (n: number): string => {
  let s = "";
  for (let i = 0; i < n; i++) s += `X-H${i}: v\r\n`;
  return s;
};

export const SMUGGLING_CASES: readonly SmugglingCase[] = [
  // Controls: the probe works on a healthy connection.
  { name: "control: GET", request: `GET /ok HTTP/1.1\r\n${H}\r\n`, status: 200, closes: false, forwards: true },
  { name: "control: Content-Length body", request: `POST /ok HTTP/1.1\r\n${H}Content-Length: 5\r\n\r\nhello`, status: 200, closes: false, forwards: true },
  {
    name: "control: chunked body",
    request: `POST /ok HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n`,
    status: 200,
    closes: false,
    forwards: true,
  },
  // Framing conflicts.
  { name: "CL + TE", request: `POST / HTTP/1.1\r\n${H}Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`, status: 400, closes: true },
  { name: "TE + CL", request: `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n0\r\n\r\n`, status: 400, closes: true },
  { name: "duplicate CL, different", request: `POST / HTTP/1.1\r\n${H}Content-Length: 1\r\nContent-Length: 2\r\n\r\nab`, status: 400, closes: true },
  { name: "duplicate CL, same", request: `POST / HTTP/1.1\r\n${H}Content-Length: 2\r\nContent-Length: 2\r\n\r\nab`, status: 400, closes: true },
  { name: "CL list", request: `POST / HTTP/1.1\r\n${H}Content-Length: 2, 2\r\n\r\nab`, status: 400, closes: true },
  { name: "CL not a number", request: `POST / HTTP/1.1\r\n${H}Content-Length: abc\r\n\r\n`, status: 400, closes: true },
  { name: "CL negative", request: `POST / HTTP/1.1\r\n${H}Content-Length: -1\r\n\r\n`, status: 400, closes: true },
  { name: "CL with plus sign", request: `POST / HTTP/1.1\r\n${H}Content-Length: +2\r\n\r\nab`, status: 400, closes: true },
  { name: "CL hex", request: `POST / HTTP/1.1\r\n${H}Content-Length: 0x2\r\n\r\nab`, status: 400, closes: true },
  { name: "CL inner space", request: `POST / HTTP/1.1\r\n${H}Content-Length: 1 2\r\n\r\nab`, status: 400, closes: true },
  { name: "CL overflow", request: `POST / HTTP/1.1\r\n${H}Content-Length: 99999999999999999999999\r\n\r\n`, status: 400, closes: true },
  { name: "TE not chunked last", request: `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked, gzip\r\n\r\n0\r\n\r\n`, status: 400, closes: true },
  { name: "TE unknown coding", request: `POST / HTTP/1.1\r\n${H}Transfer-Encoding: gzip\r\n\r\n`, status: 400, closes: true },
  { name: "TE xchunked", request: `POST / HTTP/1.1\r\n${H}Transfer-Encoding: xchunked\r\n\r\n0\r\n\r\n`, status: 400, closes: true },
  { name: "TE with space before colon", request: `POST / HTTP/1.1\r\n${H}Transfer-Encoding : chunked\r\n\r\n0\r\n\r\n`, status: 400, closes: true },
    // Node accepts chunked on HTTP/1.0 (RFC 9112 §6.1 says a server ought to treat it as faulty framing).
  {
    name: "TE on HTTP/1.0",
    request: `POST / HTTP/1.0\r\n${H}Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n`,
    status: 200,
    closes: true,
    forwards: true,
    stricter: 400,
  },
  // Line folding and line ends.
  { name: "obs-fold", request: `GET / HTTP/1.1\r\n${H}X-A: b\r\n c\r\n\r\n`, status: 400, closes: true },
  { name: "obs-fold with tab", request: `GET / HTTP/1.1\r\n${H}X-A: b\r\n\tc\r\n\r\n`, status: 400, closes: true },
  { name: "bare LF after request line", request: `GET / HTTP/1.1\n${H}\r\n`, status: 400, closes: true },
  { name: "bare LF in header section", request: `GET / HTTP/1.1\r\nHost: a.example\nX-A: b\r\n\r\n`, status: 400, closes: true },
  { name: "bare CR in header value", request: `GET / HTTP/1.1\r\n${H}X-A: b\rc\r\n\r\n`, status: 400, closes: true },
  { name: "NUL in header value", request: `GET / HTTP/1.1\r\n${H}X-A: b\u0000c\r\n\r\n`, status: 400, closes: true },
  { name: "space in header name", request: `GET / HTTP/1.1\r\n${H}X A: b\r\n\r\n`, status: 400, closes: true },
  { name: "header without colon", request: `GET / HTTP/1.1\r\n${H}XA\r\n\r\n`, status: 400, closes: true },
  { name: "empty header name", request: `GET / HTTP/1.1\r\n${H}: b\r\n\r\n`, status: 400, closes: true },
  // Request line.
  { name: "lower-case version", request: `GET / http/1.1\r\n${H}\r\n`, status: 400, closes: true },
  // Node's parser accepts it (and forwards "/"); RFC 9112 §3 allows a lenient parse, a 400 is stricter.
  { name: "two spaces in request line", request: `GET  / HTTP/1.1\r\n${H}\r\n`, status: 200, closes: false, forwards: true, stricter: 400 },
  { name: "HTTP/2.0 on an HTTP/1.1 connection", request: `GET / HTTP/2.0\r\n${H}\r\n`, status: 505, closes: true },
  { name: "absolute-form target", request: `GET http://a.example/ HTTP/1.1\r\n${H}\r\n`, status: 400, closes: true },
  { name: "missing Host", request: `GET / HTTP/1.1\r\n\r\n`, status: 400, closes: true },
  { name: "two Host fields", request: `GET / HTTP/1.1\r\n${H}Host: b.example\r\n\r\n`, status: 400, closes: true },
  // Chunked framing.
  { name: "chunk size not hex", request: `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\nzz\r\nab\r\n0\r\n\r\n`, status: 400, closes: true },
  { name: "chunk size negative", request: `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n-1\r\nab\r\n0\r\n\r\n`, status: 400, closes: true },
  {
    name: "chunk size overflow",
    request: `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\nfffffffffffffffff1\r\nab\r\n0\r\n\r\n`,
    status: 400,
    closes: true,
  },
  { name: "chunk size with 0x", request: `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n0x2\r\nab\r\n0\r\n\r\n`, status: 400, closes: true },
  {
    name: "chunk data longer than size",
    request: `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n0\r\n\r\n`,
    status: 400,
    closes: true,
    mayForward: true,
  },
  { name: "chunk size bare LF", request: `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n2\nab\r\n0\r\n\r\n`, status: 400, closes: true },
  // Limits (defaults: 16 KiB header section, 100 fields).
  { name: "header section over maxHeaderBytes", request: `GET / HTTP/1.1\r\n${H}X-Big: ${"a".repeat(20_000)}\r\n\r\n`, status: 431, closes: true },
  { name: "fields over maxHeaders", request: `GET / HTTP/1.1\r\n${H}${manyHeaders(120)}\r\n`, status: 431, closes: true },
  { name: "request line over maxHeaderBytes", request: `GET /${"a".repeat(20_000)} HTTP/1.1\r\n${H}\r\n`, status: 431, closes: true },
  // Methods trunkgate does not forward.
  { name: "CONNECT", request: `CONNECT a.example:443 HTTP/1.1\r\n${H}\r\n`, status: 405, closes: true },
];
