// Issue 9 §1: one request must never end the process. `GET / HTTP/2.0` on an HTTP/1.1 connection
// (ALPN http/1.1) killed it with a TypeError (the exchange believed the request line's version);
// now the protocol comes from the connection and the request is answered 505. And any exception
// while handling one request is answered 500 (or resets that stream/connection alone), counted in
// trunkgate_internal_errors_total{component="http"}, and the next request is served.
import t from "tap";
import { UpstreamPool } from "../../src/http/upstream-pool.js";
import { h1request, h2request, h2session, metricValue, proxyBed } from "../helpers/http-harness.js";
import { rawTlsExchange } from "../helpers/raw-tls.js";

const { pki, upstream, h } = await proxyBed(t);

const internalErrors = () => metricValue(h.metrics, "trunkgate_internal_errors_total", { component: "http" });

t.test("GET / HTTP/2.0 on an HTTP/1.1 connection: 505, the proxy keeps serving", async (t) => {
  const seen = upstream.seen.length;
  const got = await rawTlsExchange(pki, h.port, "GET / HTTP/2.0\r\nHost: localhost\r\n\r\n");
  t.match(got, /^HTTP\/1\.1 505 /, "505 HTTP Version Not Supported");
  t.match(got, /"status":505/, "JSON error body");
  t.match(got, /connection: close/i, "connection closed after the answer");
  t.equal(upstream.seen.length, seen, "nothing forwarded");
  t.ok(h.logs.access().some((l) => l.status === 505 && l.error === "http version not supported"), "logged");

  const next = await h1request(pki, h.port, { path: "/after" });
  t.equal(next.status, 200, "next HTTP/1.1 request served");
  const sess = await h2session(pki, h.port);
  t.teardown(() => sess.close());
  t.equal((await h2request(sess, { ":path": "/after-h2" })).status, 200, "HTTP/2 still served");
  t.equal(await internalErrors(), 0, "a refusal, not an internal error");
});

t.test("other versions an HTTP/1.1 connection may claim are refused too (upgrade path included)", async (t) => {
  for (const line of ["GET / HTTP/3.0", "GET / HTTP/2.1"]) {
    const got = await rawTlsExchange(pki, h.port, `${line}\r\nHost: localhost\r\n\r\n`);
    t.match(got, /^HTTP\/1\.1 (505|400) /, `${line}: refused`);
  }
  const ws = await rawTlsExchange(
    pki,
    h.port,
    "GET /ws HTTP/2.0\r\nHost: localhost\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n",
  );
  t.match(ws, /^HTTP\/1\.1 505 /, "upgrade claiming HTTP/2.0: 505");
  t.equal((await h1request(pki, h.port, { path: "/" })).status, 200, "still serving");
});

t.test("an exception while handling a request: 500, counted, logged without request data, next request served", async (t) => {
  // The one door to the upstream whichever client (lean or undici) carries the requests.
  const original = UpstreamPool.prototype.dispatch;
  let throws = 2;
  UpstreamPool.prototype.dispatch = function (this: UpstreamPool, ...args: Parameters<UpstreamPool["dispatch"]>) {
    if (throws > 0) {
      throws--;
      throw new TypeError("injected failure quoting secret-header-value");
    }
    return original.apply(this, args);
  };
  t.teardown(() => {
    UpstreamPool.prototype.dispatch = original;
  });
  const before = await internalErrors();

  const r1 = await h1request(pki, h.port, { path: "/boom?token=secret", headers: { "x-customer": "secret-header-value" } });
  t.equal(r1.status, 500, "HTTP/1.1: 500");
  t.match(JSON.parse(r1.body.toString()), { status: 500, requestId: r1.headers["x-request-id"] });

  const sess = await h2session(pki, h.port);
  t.teardown(() => sess.close());
  const r2 = await h2request(sess, { ":path": "/boom" });
  t.equal(r2.status, 500, "HTTP/2: 500");
  t.equal(await internalErrors(), before + 2, "both counted under component=http");

  const again = await h2request(sess, { ":path": "/fine" });
  t.equal(again.status, 200, "the same HTTP/2 connection serves the next request");
  t.equal((await h1request(pki, h.port, { path: "/fine" })).status, 200, "a new HTTP/1.1 connection is served");

  const lines = h.logs.lines.filter((l) => l.msg?.toString().startsWith("http internal error"));
  t.equal(lines.length, 2, "one error line per exception");
  t.match(lines[0], { where: "run", error: "TypeError" });
  t.ok(Array.isArray(lines[0]!.frames), "code locations logged");
  t.notMatch(h.logs.text, /secret/, "no request data (message, header, query) in the logs");
  const access = h.logs.access().filter((l) => l.status === 500);
  t.equal(access.length, 2, "the 500s have their access lines");
  t.equal(await metricValue(h.metrics, "trunkgate_http_active_requests"), 0, "no request left in flight");
});
