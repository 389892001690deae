// Issue 9 §9: what the proxy reports must match the docs. An HTTP/2 stream the client resets
// before the answer is 499 (log and metric), not 200; CONNECT is answered 405 with Allow, not a
// bare close.
import t from "tap";
import { constants as h2c } from "node:http2";
import type { ServerResponse } from "node:http";
import { h2session, metricValue, waitFor, within, proxyBed } from "../helpers/http-harness.js";
import { rawTlsExchange } from "../helpers/raw-tls.js";

const { pki, upstream, h } = await proxyBed(t);

t.test("HTTP/2 stream reset by the client before the answer: logged and counted as 499", async (t) => {
  const saved = upstream.handler;
  const held: ServerResponse[] = [];
  let arrived = 0;
  upstream.handler = (req, res) => {
    req.resume();
    arrived++;
    held.push(res); // never answered: only the client's reset ends the exchange
  };
  t.teardown(() => {
    upstream.handler = saved;
    for (const r of held) r.destroy();
  });
  const sess = await h2session(pki, h.port);
  t.teardown(() => sess.close());
  const before4xx = await metricValue(h.metrics, "trunkgate_http_requests_total", { method: "GET", status_class: "4xx" });
  const before2xx = await metricValue(h.metrics, "trunkgate_http_requests_total", { method: "GET", status_class: "2xx" });

  const stream = sess.request({ ":path": "/reset-me", "x-request-id": "h2-reset-1" });
  stream.on("error", () => undefined);
  await waitFor(() => arrived === 1, 10_000, "the request to reach the upstream");
  stream.close(h2c.NGHTTP2_CANCEL);
  await waitFor(() => h.logs.access().some((l) => l.requestId === "h2-reset-1"), 10_000, "access line");
  const line = h.logs.access().find((l) => l.requestId === "h2-reset-1");
  t.equal(line?.status, 499, "logged as 499");
  t.equal(line?.error, "client closed");
  t.equal(await metricValue(h.metrics, "trunkgate_http_requests_total", { method: "GET", status_class: "4xx" }), before4xx + 1, "counted as 4xx");
  t.equal(await metricValue(h.metrics, "trunkgate_http_requests_total", { method: "GET", status_class: "2xx" }), before2xx, "not as 2xx");
  t.equal(h.proxy.activeRequests(), 0);
});

t.test("CONNECT: 405 with Allow, HTTP/1.1 and HTTP/2", async (t) => {
  const got = await rawTlsExchange(pki, h.port, "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n");
  t.match(got, /^HTTP\/1\.1 405 /, "HTTP/1.1: 405");
  t.match(got, /\r\nallow: GET, HEAD, POST, PUT, DELETE, PATCH, OPTIONS\r\n/i, "with Allow");
  t.match(got, /"status":405/, "JSON body");

  const sess = await h2session(pki, h.port);
  t.teardown(() => sess.close());
  const res = await within(
    new Promise<{ status: number; allow: unknown }>((resolve, reject) => {
      const s = sess.request({ ":method": "CONNECT", ":authority": "example.com:443" }, { endStream: false });
      s.on("response", (hd) => {
        resolve({ status: Number(hd[":status"]), allow: hd.allow });
        s.close();
      });
      s.on("error", reject);
    }),
    10_000,
    "HTTP/2 CONNECT answer",
  );
  t.equal(res.status, 405, "HTTP/2: 405");
  t.match(String(res.allow), /GET/, "with Allow");
  t.ok(h.logs.access().some((l) => l.method === "CONNECT" && l.status === 405), "logged as 405");
});
