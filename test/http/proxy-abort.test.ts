// The response path is undici's dispatch handler API (no response stream, no pipeline, no
// AbortController): these pin down what those used to guarantee. A client leaving mid-response
// aborts the upstream exchange; an upstream dying mid-response resets the client and is counted;
// an HTTP/1.1 client reading slowly holds the upstream back (backpressure) and still gets every byte.
import t from "tap";
import { once } from "node:events";
import type { ServerResponse } from "node:http";
import { request as httpsRequest } from "node:https";
import { metricValue, waitFor, within, proxyBed } from "../helpers/http-harness.js";

const { pki, upstream, h } = await proxyBed(t, { limits: { maxBodyBytes: 0 } });

/** An HTTPS/1.1 request with the test client certificate; resolves with the response as it starts. */
function start(path: string, headers: Record<string, string> = {}) {
  const req = httpsRequest({
    host: "127.0.0.1",
    port: h.port,
    servername: "localhost",
    ca: pki.ca.cert,
    cert: pki.client.cert,
    key: pki.client.key,
    agent: false,
    path,
    headers,
  });
  req.end();
  return { req, response: within(once(req, "response").then(([r]) => r as import("node:http").IncomingMessage), 10_000, "response start") };
}

t.test("a client leaving mid-response: the upstream exchange is aborted, the line says client closed", async (t) => {
  const saved = upstream.handler;
  let upstreamRes: ServerResponse | undefined;
  let upstreamClosed = false;
  upstream.handler = (req, res) => {
    req.resume();
    upstreamRes = res;
    res.on("close", () => (upstreamClosed = true));
    res.writeHead(200, { "content-type": "application/octet-stream", "content-length": "1000000" });
    res.write(Buffer.alloc(1000)); // then never more: only the client's departure ends this
  };
  t.teardown(() => {
    upstream.handler = saved;
    upstreamRes?.destroy();
  });
  const { req, response } = start("/leave-early", { "x-request-id": "abort-client-1" });
  const res = await response;
  t.equal(res.statusCode, 200);
  await within(once(res, "data"), 10_000, "first bytes");
  req.destroy();
  await waitFor(() => upstreamClosed, 5_000, "upstream exchange aborted");
  await waitFor(() => h.proxy.activeRequests() === 0, 5_000, "request finished");
  await waitFor(() => h.logs.access().some((l) => l.requestId === "abort-client-1"), 5_000, "access line");
  const line = h.logs.access().find((l) => l.requestId === "abort-client-1");
  t.equal(line?.error, "client closed");
  t.equal(line?.status, 200, "the status that was sent");
});

t.test("an upstream dying mid-response: the client sees the response cut, the failure is counted", async (t) => {
  const saved = upstream.handler;
  upstream.handler = (req, res) => {
    req.resume();
    res.writeHead(200, { "content-type": "application/octet-stream", "content-length": "100000" });
    res.write(Buffer.alloc(500), () => res.socket?.destroy());
  };
  t.teardown(() => void (upstream.handler = saved));
  const kinds = ["connect", "timeout", "reset", "tls", "other"];
  const sum = async () => (await Promise.all(kinds.map((kind) => metricValue(h.metrics, "trunkgate_http_upstream_errors_total", { kind })))).reduce((a, b) => a + b, 0);
  const before = await sum();
  const { response } = start("/die-midway", { "x-request-id": "abort-upstream-1" });
  const res = await response;
  t.equal(res.statusCode, 200);
  let got = 0;
  res.on("data", (c: Buffer) => (got += c.length));
  res.on("error", () => undefined); // "aborted": expected here
  await within(new Promise((r) => res.once("close", r)), 10_000, "client side cut");
  t.ok(got < 100_000, `the client did not get a complete body (${got} bytes)`);
  t.notOk(res.complete, "response marked incomplete");
  await waitFor(() => h.logs.access().some((l) => l.requestId === "abort-upstream-1"), 5_000, "access line");
  const line = h.logs.access().find((l) => l.requestId === "abort-upstream-1");
  t.equal(line?.error, "upstream failed mid-response");
  t.equal(await sum(), before + 1, "one upstream error counted");
  t.equal(h.proxy.activeRequests(), 0);
});

t.test("HTTP/1.1 download with a paused client: the upstream is held back, then every byte arrives", async (t) => {
  const TOTAL = 24 * 1024 * 1024;
  const chunk = Buffer.alloc(65536, 7);
  let produced = 0;
  const saved = upstream.handler;
  upstream.handler = (req, res) => {
    req.resume();
    res.writeHead(200, { "content-type": "application/octet-stream", "content-length": String(TOTAL) });
    const pump = () => {
      while (produced < TOTAL) {
        produced += chunk.length;
        if (!res.write(chunk)) return void res.once("drain", pump);
      }
      res.end();
    };
    pump();
  };
  t.teardown(() => void (upstream.handler = saved));
  const { response } = start("/download-h1");
  const res = await response;
  res.pause();
  // Bounded polling until the producer stops advancing (as in proxy-streaming.test.ts).
  const deadline = Date.now() + 15_000;
  let last = -1;
  let quiet = 0;
  while (quiet < 15) {
    if (Date.now() > deadline) throw new Error("upstream never stalled: no backpressure");
    await new Promise((r) => setTimeout(r, 20));
    quiet = produced === last ? quiet + 1 : 0;
    last = produced;
  }
  t.ok(produced < TOTAL, `upstream stalled at ${produced} of ${TOTAL} bytes while the client was paused`);
  let got = 0;
  res.on("data", (c: Buffer) => (got += c.length));
  const ended = within(once(res, "end"), 60_000, "download");
  res.resume();
  await ended;
  t.equal(got, TOTAL);
});
