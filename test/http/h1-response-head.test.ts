// The lean upstream client's response head parser, pure: framing per RFC 9112 §6.3, connection
// reuse, the Keep-Alive hint, and the header record it hands the exchange.
import t from "tap";
import { headEnd } from "../../src/http/h1-head.js";
import { BodyFraming, headerRecord, keepAliveTimeoutMs, parseResponseHead, type ResponseHead } from "../../src/http/h1-response-head.js";

const limits = { maxHeaderBytes: 16_384, maxHeaders: 100 };

function parse(text: string, isHead = false): ResponseHead | string {
  const b = Buffer.from(text, "latin1");
  return parseResponseHead(b, 0, headEnd(b, 0, 0, b.length), limits, isHead);
}

function ok(text: string, isHead = false): ResponseHead {
  const h = parse(text, isHead);
  if (typeof h === "string") throw new Error(h);
  return h;
}

t.test("framing: length, chunked, close-delimited, none", async (t) => {
  t.match(ok("HTTP/1.1 200 OK\r\nContent-Length: 12\r\n\r\n"), { status: 200, statusText: "OK", framing: BodyFraming.Length, contentLength: 12, keepAlive: true });
  t.match(ok("HTTP/1.1 200 OK\r\nTransfer-Encoding: Chunked\r\n\r\n"), { framing: BodyFraming.Chunked, keepAlive: true });
  t.match(ok("HTTP/1.1 200 OK\r\n\r\n"), { framing: BodyFraming.Close, keepAlive: false }, "no length: up to the close, never reused");
  t.match(ok("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"), { framing: BodyFraming.None, keepAlive: true });
  t.match(ok("HTTP/1.1 204 No Content\r\n\r\n"), { framing: BodyFraming.None, keepAlive: true });
  t.match(ok("HTTP/1.1 304 Not Modified\r\nContent-Length: 9\r\n\r\n"), { framing: BodyFraming.None });
  t.match(ok("HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n", true), { framing: BodyFraming.None }, "HEAD: no body whatever the length says");
  t.match(ok("HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n"), { status: 103, framing: BodyFraming.None });
  t.match(ok("HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n"), { status: 200, statusText: "" }, "no reason phrase");
});

t.test("connection reuse and the Keep-Alive hint", async (t) => {
  t.equal(ok("HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n").keepAlive, false);
  t.equal(ok("HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: x, Close\r\n\r\n").keepAlive, false);
  t.equal(ok("HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n").keepAlive, false);
  t.equal(ok("HTTP/1.0 200 OK\r\nContent-Length: 0\r\nConnection: keep-alive\r\n\r\n").keepAlive, true);
  t.equal(keepAliveTimeoutMs(ok("HTTP/1.1 200 OK\r\nKeep-Alive: timeout=5, max=100\r\nContent-Length: 0\r\n\r\n").keepAliveHint), 5_000);
  t.equal(keepAliveTimeoutMs(undefined), undefined);
  t.equal(keepAliveTimeoutMs("max=5"), undefined);
});

t.test("refusals name the fault, never echo the bytes", async (t) => {
  t.equal(parse("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n"), "content-length with transfer-encoding");
  t.equal(parse("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\n"), "conflicting content-length");
  t.equal(parse("HTTP/1.1 20 OK\r\n\r\n"), "malformed status code");
  t.equal(parse("HTTP/1.1 600 OK\r\n\r\n"), "malformed status code");
  t.equal(parse("HTTP/1.1 200 O\u0001K\r\n\r\n"), "malformed reason phrase");
  t.equal(parse("HTTP/1.1 200 OK\r\nX-A: b\r\n c\r\n\r\n"), "malformed response header");
  let many = "HTTP/1.1 200 OK\r\n";
  for (let i = 0; i < 101; i++) many += `X-${i}: v\r\n`;
  t.equal(parse(`${many}\r\n`), "too many header fields");
});

t.test("headerRecord: lower-case names, repeats as arrays, no prototype to poison", async (t) => {
  const r = headerRecord(["Set-Cookie", "a=1", "set-cookie", "b=2", "X-One", "1", "__proto__", "p", "constructor", "c"]);
  t.same(r["set-cookie"], ["a=1", "b=2"]);
  t.equal(r["x-one"], "1");
  const proto = "__proto__";
  t.equal(r[proto], "p", "a field, not the prototype");
  t.equal(r.constructor, "c");
  t.equal(Object.getPrototypeOf(r), null);
});
