// Issue 9 §5 (HTTPS): a peer's connection slots must not be held by clients that make no
// progress. Bounds are on progress, not on bytes: a request's header section must be complete
// within http.timeouts.headersMs however the bytes dribble in; a connection with no request in
// flight is closed after http.timeouts.keepAliveMs whatever keep-alive noise (CRLF, HTTP/2 PING)
// it sends. Each close is counted.
import t from "tap";
import { once } from "node:events";
import { connect as tlsConnect, type TLSSocket } from "node:tls";
import { h2request, h2session, metricValue, startProxy, within, type ProxyHarness, upstreamBed } from "../helpers/http-harness.js";

const { pki, upstream } = await upstreamBed(t);

function mtls(port: number, alpn: string): Promise<TLSSocket> {
  const s = tlsConnect({ host: "127.0.0.1", port, servername: "localhost", ca: pki.ca.cert, cert: pki.client.cert, key: pki.client.key, ALPNProtocols: [alpn] });
  s.on("error", () => undefined);
  return within(once(s, "secureConnect").then(() => s), 20_000, "mTLS connect");
}

/** Writes the chunks one per interval (traffic, not synchronisation) until the socket closes; resolves with what was read. */
function dribble(s: TLSSocket, next: () => Buffer, everyMs: number): Promise<string> {
  let got = "";
  s.on("data", (d: Buffer) => (got += d.toString("latin1")));
  const timer = setInterval(() => {
    if (!s.destroyed && s.writable) s.write(next());
  }, everyMs);
  return new Promise((resolve) =>
    s.once("close", () => {
      clearInterval(timer);
      resolve(got);
    }),
  );
}

let p: ProxyHarness;
const timeouts = (phase: string) => metricValue(p.metrics, "trunkgate_http_client_timeouts_total", { phase });
t.before(async () => {
  p = await startProxy({ pki, upstreamUrl: upstream.url, http: { timeouts: { headersMs: 600, keepAliveMs: 800 } } });
});
t.teardown(() => p.close());

t.test("HTTP/1.1 header dribbling (a byte every 50 ms, never done): 408 and closed", async (t) => {
  const s = await mtls(p.port, "http/1.1");
  const text = Buffer.from("GET / HTTP/1.1\r\nHost: localhost\r\nX-Slow: " + "a".repeat(10_000));
  let i = 0;
  const got = await within(dribble(s, () => text.subarray(i, ++i), 50), 20_000, "the server to close the dribbling connection");
  t.match(got, /^HTTP\/1\.1 408 /, "408 before the close");
  t.equal(await timeouts("headers"), 1, "counted as a headers timeout");
});

t.test("HTTP/1.1 keep-alive noise (CRLF every 50 ms, no request): closed", async (t) => {
  const s = await mtls(p.port, "http/1.1");
  s.write("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n");
  const got = await within(dribble(s, () => Buffer.from("\r\n"), 50), 20_000, "the server to close the idle connection");
  t.match(got, /^HTTP\/1\.1 200 /, "the one request was answered");
  t.equal(await timeouts("idle"), 1, "counted as idle");
});

t.test("HTTP/2 keep-alive noise (PING every 50 ms, no request): GOAWAY and closed", async (t) => {
  const sess = await h2session(pki, p.port);
  const ok = await h2request(sess, { ":path": "/one" });
  t.equal(ok.status, 200, "one request answered");
  const timer = setInterval(() => {
    if (!sess.closed && !sess.destroyed) sess.ping(() => undefined);
  }, 50);
  t.teardown(() => clearInterval(timer));
  let goaway = false;
  sess.on("goaway", () => (goaway = true));
  sess.on("error", () => undefined);
  await within(once(sess, "close"), 20_000, "the server to close the idle session");
  clearInterval(timer);
  t.ok(goaway, "closed with a GOAWAY");
  t.equal(await timeouts("idle"), 2, "counted as idle");
});

t.test("a connection with a request in flight longer than keepAliveMs is not idle", async (t) => {
  const saved = upstream.handler;
  upstream.handler = (req, res) => {
    req.resume();
    // Answer after several idle periods: the slow upstream, not the client, is the one waiting.
    const timer = setTimeout(() => res.end("late"), 2_500);
    res.on("close", () => clearTimeout(timer));
  };
  t.teardown(() => void (upstream.handler = saved));
  const sess = await h2session(pki, p.port);
  t.teardown(() => sess.close());
  const r = await h2request(sess, { ":path": "/slow" });
  t.equal(r.status, 200);
  t.equal(r.body.toString(), "late", "the whole answer arrived");
});
