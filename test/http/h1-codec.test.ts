// The lean engine's pure codec: head parsing and chunked decoding, fed whole and byte by byte
// (a TLS record boundary can fall anywhere).
import t from "tap";
import { ChunkedDecoder, CHUNKED_EXT_TOO_LARGE, CHUNKED_MALFORMED, CHUNKED_MORE, CHUNKED_TRAILERS_TOO_LARGE } from "../../src/http/h1-chunked.js";
import { HEAD_BARE_LF, HEAD_INCOMPLETE, headEnd, isHeadError, parseHead, type RequestHead } from "../../src/http/h1-head.js";

const limits = { maxHeaderBytes: 16_384, maxHeaders: 100 };

function head(text: string): RequestHead {
  const b = Buffer.from(text, "latin1");
  const end = headEnd(b, 0, 0, b.length);
  const h = parseHead(b, 0, end, limits);
  if (isHeadError(h)) throw new Error(h.reason);
  return h;
}

t.test("headEnd: found after the blank line, incomplete before it, bare LF refused", async (t) => {
  const b = Buffer.from("GET / HTTP/1.1\r\nHost: a\r\n\r\nNEXT");
  t.equal(headEnd(b, 0, 0, b.length), b.length - 4);
  t.equal(headEnd(b, 0, 0, b.length - 6), HEAD_INCOMPLETE);
  // Resuming the scan where it stopped finds the same end.
  t.equal(headEnd(b, 0, b.length - 6, b.length), b.length - 4);
  const lf = Buffer.from("GET / HTTP/1.1\nHost: a\r\n\r\n");
  t.equal(headEnd(lf, 0, 0, lf.length), HEAD_BARE_LF);
});

t.test("parseHead: fields, framing and connection semantics", async (t) => {
  const h = head("POST /a?b=c HTTP/1.1\r\nHost: x\r\nContent-Length: 12\r\nX-Request-Id: abc\r\nExpect: 100-Continue\r\nX-Empty:\r\n\r\n");
  t.equal(h.method, "POST");
  t.equal(h.target, "/a?b=c");
  t.same(h.rawHeaders, ["Host", "x", "Content-Length", "12", "X-Request-Id", "abc", "Expect", "100-Continue", "X-Empty", ""]);
  t.equal(h.contentLength, 12);
  t.equal(h.requestId, "abc");
  t.equal(h.expect, "100-continue");
  t.ok(h.keepAlive);
  t.notOk(head("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").keepAlive, "close");
  t.notOk(head("GET / HTTP/1.0\r\nHost: x\r\n\r\n").keepAlive, "HTTP/1.0 closes by default");
  t.ok(head("GET / HTTP/1.0\r\nHost: x\r\nConnection: Keep-Alive\r\n\r\n").keepAlive, "HTTP/1.0 keep-alive");
  t.ok(head("GET / HTTP/1.1\r\nHost: x\r\nConnection: keep-alive, Upgrade\r\nUpgrade: websocket\r\n\r\n").upgrade, "upgrade");
  t.notOk(head("GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n\r\n").upgrade, "Upgrade without Connection: upgrade is a request");
  t.ok(head("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: Chunked\r\n\r\n").chunked);
  t.equal(head("GET / HTTP/1.1\r\nHost: x\r\nX-A:  padded \t\r\n\r\n").rawHeaders[3], "padded", "OWS trimmed");
  t.equal(head("GET / HTTP/2.0\r\nHost: x\r\n\r\n").versionMajor, 2, "other versions reach the exchange (505)");
});

t.test("parseHead: the limit on fields is a 431", async (t) => {
  let text = "GET / HTTP/1.1\r\n";
  for (let i = 0; i < 101; i++) text += `X-${i}: v\r\n`;
  const b = Buffer.from(text + "\r\n");
  const h = parseHead(b, 0, b.length, limits);
  t.ok(isHeadError(h) && h.status === 431);
});

/** Decodes `body` fed in pieces of `step` bytes; returns the data, the end index or the error. */
function decodeIn(body: string, step: number): { data: string; result: number } {
  const d = new ChunkedDecoder(1024);
  const b = Buffer.from(body, "latin1");
  let data = "";
  const sink = { chunkData: (buf: Buffer, from: number, to: number) => void (data += buf.toString("latin1", from, to)) };
  for (let i = 0; i < b.length; i += step) {
    const r = d.decode(b, i, Math.min(b.length, i + step), sink);
    if (r !== CHUNKED_MORE) return { data, result: r };
  }
  return { data, result: CHUNKED_MORE };
}

t.test("chunked: data, extensions and trailers, whatever the split", async (t) => {
  const body = "5;name=val\r\nhello\r\n1 ;x\r\n!\r\n0\r\nX-Trailer: t\r\n\r\nNEXT";
  for (const step of [1, 2, 3, 7, body.length]) {
    const r = decodeIn(body, step);
    t.equal(r.data, "hello!", `data (step ${step})`);
    t.equal(r.result, body.length - 4, `ends before the next request (step ${step})`);
  }
});

t.test("chunked: malformed framing and caps", async (t) => {
  for (const bad of ["zz\r\n", "-1\r\n", "0x2\r\nab\r\n", "2\r\nabc\r\n", "2\nab\r\n", "1234567890abcdef0\r\n", "2 x\r\n", "\r\n", "0\r\n ob\r\n\r\n"]) {
    t.equal(decodeIn(bad + "0\r\n\r\n", 1).result, CHUNKED_MALFORMED, JSON.stringify(bad));
  }
  t.equal(decodeIn(`1;${"e".repeat(17_000)}\r\na\r\n0\r\n\r\n`, 4096).result, CHUNKED_EXT_TOO_LARGE);
  t.equal(decodeIn(`0\r\nX: ${"t".repeat(2_000)}\r\n\r\n`, 100).result, CHUNKED_TRAILERS_TOO_LARGE);
});
