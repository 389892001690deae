import t, { type Test } from "tap";
import { once } from "node:events";
import { createServer } from "node:net";
import type { AddressInfo } from "node:net";
import { Readable } from "node:stream";
import { h1request, h2request, h2session, holdingHandler, metricValue, startProxy, waitFor, within, type ProxyHarness, upstreamBed } from "../helpers/http-harness.js";
import { rawTlsExchange } from "../helpers/raw-tls.js";

const { pki, upstream } = await upstreamBed(t);

function errorJson(t: Test, body: Buffer, status: number, requestId: unknown): void {
  const j = JSON.parse(body.toString()) as { status: number; requestId: string };
  t.equal(j.status, status, "status in body");
  t.equal(j.requestId, requestId, "request id in body and header");
  t.ok(body.length < 200, "small body");
}

/** n bytes in 64 KiB chunks, generated on demand. */
function generated(n: number): Readable & { produced: number } {
  const chunk = Buffer.alloc(65536, 0x61);
  const r = new Readable({
    read() {
      const left = n - r.produced;
      if (left <= 0) return void this.push(null);
      const c = left >= chunk.length ? chunk : chunk.subarray(0, left);
      r.produced += c.length;
      this.push(c);
    },
  }) as Readable & { produced: number };
  r.produced = 0;
  return r;
}

const rawExchange = (port: number, text: string, timeoutMs?: number) => rawTlsExchange(pki, port, text, timeoutMs);

let defaults: ProxyHarness;
t.before(async () => {
  defaults = await startProxy({ pki, upstreamUrl: upstream.url });
});
t.teardown(() => defaults.close());

t.test("431: header section over maxHeaderBytes (HTTP/1.1, Node's parser) and too many fields", async (t) => {
  const n = upstream.seen.length;
  const big = await h1request(pki, defaults.port, { path: "/", headers: { "x-big": "a".repeat(20_000) } });
  t.equal(big.status, 431);
  errorJson(t, big.body, 431, big.headers["x-request-id"]);
  const many: Record<string, string> = {};
  for (let i = 0; i < 120; i++) many[`x-h${i}`] = "v";
  const r = await h1request(pki, defaults.port, { path: "/", headers: many });
  t.equal(r.status, 431);
  errorJson(t, r.body, 431, r.headers["x-request-id"]);
  t.equal(upstream.seen.length, n, "nothing forwarded");
  t.ok(defaults.logs.access().some((l) => l.status === 431 && l.error === "header section too large"), "logged");
});

t.test("431 on HTTP/2: too many fields, header list too large", async (t) => {
  const sess = await h2session(pki, defaults.port);
  t.teardown(() => sess.close());
  const many: Record<string, string> = { ":path": "/" };
  for (let i = 0; i < 120; i++) many[`x-h${i}`] = "v";
  const r = await h2request(sess, many);
  t.equal(r.status, 431);
  errorJson(t, r.body, 431, r.headers["x-request-id"]);
  const r2 = await h2request(sess, { ":path": "/", "x-big": "b".repeat(20_000) });
  t.equal(r2.status, 431);
});

t.test("413: declared Content-Length over the cap, answered before any byte goes upstream", async (t) => {
  const p = await startProxy({ pki, upstreamUrl: upstream.url, http: { limits: { maxBodyBytes: 1024 } } });
  t.teardown(() => p.close());
  const n = upstream.seen.length;
  const r = await h1request(pki, p.port, { path: "/up", method: "POST", body: Buffer.alloc(4096, 1) });
  t.equal(r.status, 413);
  errorJson(t, r.body, 413, r.headers["x-request-id"]);
  t.equal(upstream.seen.length, n);
});

t.test("413 mid-body (chunked HTTP/1.1 and HTTP/2 without length): upstream aborted", async (t) => {
  const p = await startProxy({ pki, upstreamUrl: upstream.url, http: { limits: { maxBodyBytes: 1024 * 1024 } } });
  t.teardown(() => p.close());
  const saved = upstream.handler;
  const aborted: string[] = [];
  upstream.handler = (req, res) => {
    let bytes = 0;
    req.on("data", (c: Buffer) => (bytes += c.length));
    req.on("end", () => res.end(`got ${bytes}`));
    req.on("close", () => {
      if (!req.complete) aborted.push(req.url!);
    });
  };
  t.teardown(() => void (upstream.handler = saved));

  const body = generated(8 * 1024 * 1024);
  const r = await h1request(pki, p.port, { path: "/chunked", method: "POST", body, headers: { "transfer-encoding": "chunked" } });
  t.equal(r.status, 413);
  errorJson(t, r.body, 413, r.headers["x-request-id"]);
  t.ok(body.produced < 8 * 1024 * 1024, "the client was stopped before sending everything");

  const sess = await h2session(pki, p.port);
  t.teardown(() => sess.close());
  const r2 = await h2request(sess, { ":path": "/h2body", ":method": "POST" }, generated(8 * 1024 * 1024));
  t.equal(r2.rstCode, 0, "stream closed with NO_ERROR after the answer");
  t.equal(r2.status, 413);
  t.ok(await waitAborted(aborted, 2), `upstream saw both requests aborted (${aborted.join(",")})`);
  await waitFor(() => p.logs.access().filter((l) => l.status === 413).length >= 2, 5_000, "two 413 access lines");
});

async function waitAborted(list: string[], n: number): Promise<boolean> {
  const deadline = Date.now() + 5_000;
  while (list.length < n && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  return list.length >= n;
}

t.test("408: slowloris (headers never completed) and a stalled body", async (t) => {
  const p = await startProxy({ pki, upstreamUrl: upstream.url, http: { timeouts: { headersMs: 300, bodyIdleMs: 300 } } });
  t.teardown(() => p.close());
  const n = upstream.seen.length;
  const got = await rawExchange(p.port, "GET /slow HTTP/1.1\r\nHost: localhost\r\nX-A: 1\r\n");
  t.match(got, /^HTTP\/1\.1 408 /, "408 written before the close");
  t.match(got, /x-request-id: [0-9a-f-]{36}/);
  t.match(got, /"status":408/);
  t.equal(upstream.seen.length, n);

  const saved = upstream.handler;
  upstream.handler = (req, res) => {
    req.resume();
    req.on("end", () => res.end("done"));
  };
  t.teardown(() => void (upstream.handler = saved));
  const stalled = await rawExchange(p.port, "POST /stall HTTP/1.1\r\nHost: localhost\r\nContent-Length: 100\r\n\r\nonly-part");
  t.match(stalled, /^HTTP\/1\.1 408 /);
  t.match(stalled, /connection: close/i);
});

t.test("504: upstream does not answer within upstreamResponseMs", async (t) => {
  const p = await startProxy({ pki, upstreamUrl: upstream.url, http: { timeouts: { upstreamResponseMs: 300 } } });
  t.teardown(() => p.close());
  const saved = upstream.handler;
  const held: import("node:http").ServerResponse[] = [];
  upstream.handler = holdingHandler(held);
  t.teardown(() => {
    upstream.handler = saved;
    for (const r of held) r.destroy();
  });
  const before = await metricValue(p.metrics, "trunkgate_http_upstream_errors_total", { kind: "timeout" });
  const r = await h1request(pki, p.port, { path: "/slow-upstream" });
  t.equal(r.status, 504);
  errorJson(t, r.body, 504, r.headers["x-request-id"]);
  t.equal(await metricValue(p.metrics, "trunkgate_http_upstream_errors_total", { kind: "timeout" }), before + 1);
  await waitFor(() => p.logs.access().some((l) => l.requestId === r.headers["x-request-id"]), 5_000, "access line");
  const line = p.logs.access().find((l) => l.requestId === r.headers["x-request-id"]);
  t.equal(line?.status, 504);
  t.equal(line?.error, "upstream timeout");
});

t.test("502: upstream down (connection refused)", async (t) => {
  const tmp = createServer();
  tmp.listen(0, "127.0.0.1");
  await once(tmp, "listening");
  const port = (tmp.address() as AddressInfo).port;
  await new Promise((r) => tmp.close(r));
  const p = await startProxy({ pki, upstreamUrl: `http://127.0.0.1:${port}` });
  t.teardown(() => p.close());
  const r = await h1request(pki, p.port, { path: "/down" });
  t.equal(r.status, 502);
  errorJson(t, r.body, 502, r.headers["x-request-id"]);
  t.equal(await metricValue(p.metrics, "trunkgate_http_upstream_errors_total", { kind: "connect" }), 1);
  t.equal(await metricValue(p.metrics, "trunkgate_http_requests_total", { status_class: "5xx" }), 1);
  const sess = await h2session(pki, p.port);
  t.teardown(() => sess.close());
  const r2 = await h2request(sess, { ":path": "/down2" });
  t.equal(r2.status, 502);
  t.ok(r2.headers["x-request-id"]);
});

t.test("connection cap: beyond limits.maxConnections new connections are refused", async (t) => {
  const p = await startProxy({ pki, upstreamUrl: upstream.url, http: { limits: { maxConnections: 1 } } });
  t.teardown(() => p.close());
  const s1 = await h2session(pki, p.port);
  t.teardown(() => s1.close());
  t.equal((await h2request(s1, { ":path": "/one" })).status, 200);
  await t.rejects(within(h2session(pki, p.port), 5_000, "second session"), "second connection refused");
  t.equal((await h2request(s1, { ":path": "/still" })).status, 200, "the first still works");
});
