import t from "tap";
import { connect as tlsConnect } from "node:tls";
import { h1request, h2request, h2session, metricValue, startProxy, within, proxyBed } from "../helpers/http-harness.js";
import { curl } from "../helpers/curl.js";

const { pki, upstream, h } = await proxyBed(t);
const base = `https://localhost:${h.port}`;

t.test("done-when: curl with a client certificate reaches the upstream, which sees Client-Cert and X-Trunkgate-Peer", async (t) => {
  const n = upstream.seen.length;
  const r = await curl(pki, `https://127.0.0.1:${h.port}/anything`);
  t.equal(r.code, 0, r.stderr);
  t.equal(r.status, 200);
  t.equal(r.headers["x-upstream"], "yes", "the upstream's answer came back");
  const seen = upstream.seen[n]!;
  t.equal(seen.url, "/anything");
  const der = Buffer.from(pki.client.cert.replace(/-----[^-]+-----|\s/g, ""), "base64");
  t.equal(seen.headers["client-cert"], `:${der.toString("base64")}:`, "RFC 9440 byte sequence of the DER");
  t.equal(seen.headers["x-trunkgate-peer"], "dev-trunk");
  t.equal(seen.headers["client-cert-chain"], undefined, "no intermediates sent, no chain header");
  t.match(r.headers["x-request-id"], /^[0-9a-f-]{36}$/, "a request id was generated and returned");
  t.equal(seen.headers["x-request-id"], r.headers["x-request-id"]);
});

t.test("the same over HTTP/1.1 (curl --http1.1)", async (t) => {
  const n = upstream.seen.length;
  const r = await curl(pki, `https://127.0.0.1:${h.port}/anything`, ["--http1.1"]);
  t.equal(r.status, 200, r.stderr);
  t.equal(r.httpVersion, "1.1");
  t.equal(upstream.seen[n]!.headers["x-trunkgate-peer"], "dev-trunk");
  t.ok(upstream.seen[n]!.headers["client-cert"]);
});

t.test("done-when: the same without a client certificate is refused at the handshake", async (t) => {
  const n = upstream.seen.length;
  const r = await curl(pki, `https://127.0.0.1:${h.port}/anything`, [], null);
  t.not(r.code, 0, "curl fails");
  t.equal(r.status, 0, "no HTTP response at all");
  t.equal(upstream.seen.length, n, "nothing reached the upstream");
  // And at the TLS level: the server demands a certificate and tears the connection down.
  const err = await within(
    new Promise<Error | undefined>((resolve) => {
      const s = tlsConnect({ host: "127.0.0.1", port: h.port, ca: pki.ca.cert, servername: "localhost", ALPNProtocols: ["http/1.1"] });
      s.on("secureConnect", () => s.write("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
      s.on("data", () => resolve(new Error("got HTTP data without a certificate")));
      s.on("error", (e) => resolve(e));
      s.on("close", () => resolve(undefined));
    }),
    10_000,
    "handshake refusal",
  );
  t.notMatch(String(err?.message ?? ""), /got HTTP data/);
  t.ok((await metricValue(h.metrics, "trunkgate_tls_handshake_failures_total", { listener: "http", reason: "no_certificate" })) >= 1);
});

t.test("a certificate of no configured peer is refused (HTTP/1.1 and HTTP/2)", async (t) => {
  const n = upstream.seen.length;
  const r1 = await curl(pki, `${base}/x`, [], pki.unknownPeer);
  t.not(r1.code, 0);
  const r2 = await curl(pki, `${base}/x`, ["--http2"], pki.unknownPeer);
  t.not(r2.code, 0);
  t.equal(upstream.seen.length, n);
  // The proxy still serves others afterwards.
  t.equal((await curl(pki, `${base}/ok`)).status, 200);
});

t.test("HTTP/2 by ALPN with curl --http2", async (t) => {
  const n = upstream.seen.length;
  const r = await curl(pki, `${base}/h2?x=1`, ["--http2"]);
  t.equal(r.code, 0, r.stderr);
  t.equal(r.httpVersion, "2");
  t.equal(r.status, 200);
  t.equal(upstream.seen[n]!.url, "/h2?x=1");
  t.equal(upstream.seen[n]!.headers["x-trunkgate-peer"], "dev-trunk");
  t.ok(upstream.seen[n]!.headers["client-cert"]);
  t.notOk(Object.keys(upstream.seen[n]!.headers).some((k) => k.startsWith(":")), "no pseudo-headers upstream");
});

t.test("spoofed identity headers are stripped, whatever the case, HTTP/1.1 and HTTP/2", async (t) => {
  const n = upstream.seen.length;
  await h1request(pki, h.port, {
    path: "/spoof1",
    headers: {
      "Client-Cert": ":AAAA:",
      "CLIENT-CERT-CHAIN": ":AAAA:",
      "x-TrunkGate-peer": "someone-else",
      connection: "keep-alive, X-Trunkgate-Peer, x-custom-hop",
      "x-custom-hop": "drop me",
      "x-keep": "keep me",
    },
  });
  const s1 = upstream.seen[n]!;
  t.equal(s1.headers["x-trunkgate-peer"], "dev-trunk");
  t.not(s1.headers["client-cert"], ":AAAA:");
  t.equal(s1.headers["client-cert-chain"], undefined);
  t.equal(s1.headers["x-custom-hop"], undefined, "a header named in Connection is dropped");
  t.equal(s1.headers["x-keep"], "keep me");
  const peers = s1.rawHeaders.filter((_, i) => i % 2 === 0 && s1.rawHeaders[i]!.toLowerCase() === "x-trunkgate-peer");
  t.equal(peers.length, 1, "exactly one X-Trunkgate-Peer arrives");

  const sess = await h2session(pki, h.port);
  t.teardown(() => sess.close());
  const r = await h2request(sess, {
    ":path": "/spoof2",
    "client-cert": ":BBBB:",
    "client-cert-chain": ":BBBB:",
    "x-trunkgate-peer": ["a", "b"],
  });
  t.equal(r.status, 200);
  const s2 = upstream.seen[n + 1]!;
  t.equal(s2.headers["x-trunkgate-peer"], "dev-trunk");
  t.not(s2.headers["client-cert"], ":BBBB:");
  t.equal(s2.headers["client-cert-chain"], undefined);
});

t.test("hop-by-hop headers are removed both ways; forwarding headers appended", async (t) => {
  const saved = upstream.handler;
  upstream.handler = (req, res) => {
    req.resume();
    res.writeHead(200, { "keep-alive": "timeout=5", "x-hop": "1", connection: "x-hop", "proxy-authenticate": "Basic", "x-end": "2" });
    res.end("ok");
  };
  t.teardown(() => void (upstream.handler = saved));
  const n = upstream.seen.length;
  const r = await h1request(pki, h.port, {
    path: "/hop",
    headers: {
      te: "trailers",
      "proxy-authorization": "Basic secret",
      "proxy-connection": "keep-alive",
      "x-forwarded-for": "203.0.113.7",
      forwarded: "for=203.0.113.7",
      "x-forwarded-proto": "http",
      host: "api.example.com:8443",
    },
  });
  const s = upstream.seen[n]!.headers;
  for (const k of ["te", "proxy-authorization", "proxy-connection", "keep-alive"]) t.equal(s[k], undefined, `${k} dropped`);
  t.equal(s["x-forwarded-for"], "203.0.113.7, 127.0.0.1", "appended like $proxy_add_x_forwarded_for");
  t.equal(s.forwarded, 'for=203.0.113.7, for=127.0.0.1;host="api.example.com:8443";proto=https');
  t.equal(s["x-forwarded-proto"], "https", "set, not appended");
  t.equal(s["x-forwarded-host"], "api.example.com:8443");
  t.equal(s.host, `127.0.0.1:${upstream.port}`, "default host mode: the upstream's");
  t.equal(r.headers["x-hop"], undefined, "response header named in Connection dropped");
  t.equal(r.headers["proxy-authenticate"], undefined);
  t.equal(r.headers["x-end"], "2");
  t.not(r.headers["keep-alive"], "timeout=5", "the upstream's Keep-Alive is not relayed");
});

t.test("request id: a sane one passes through, an insane one is replaced", async (t) => {
  const n = upstream.seen.length;
  const ok = await h1request(pki, h.port, { path: "/id", headers: { "x-request-id": "abc-123_X.y:z" } });
  t.equal(ok.headers["x-request-id"], "abc-123_X.y:z");
  t.equal(upstream.seen[n]!.headers["x-request-id"], "abc-123_X.y:z");
  const bad = await h1request(pki, h.port, { path: "/id", headers: { "x-request-id": "a b<script>" } });
  t.match(bad.headers["x-request-id"], /^[0-9a-f-]{36}$/);
  t.equal(upstream.seen[n + 1]!.headers["x-request-id"], bad.headers["x-request-id"]);
  const long = await h1request(pki, h.port, { path: "/id", headers: { "x-request-id": "a".repeat(129) } });
  t.match(long.headers["x-request-id"], /^[0-9a-f-]{36}$/);
});

t.test("access log: one line per request, no query string or token; metrics counted", async (t) => {
  const before = await metricValue(h.metrics, "trunkgate_http_requests_total", { method: "GET", status_class: "2xx" });
  const r = await curl(pki, `${base}/logme/path?token=SECRET-TOKEN-123&x=1`, ["-H", "Authorization: Bearer SECRET-BEARER", "-H", "Cookie: sid=SECRET-COOKIE", "-H", "X-Request-Id: log-test-1"]);
  t.equal(r.status, 200);
  const line = h.logs.access().find((l) => l.requestId === "log-test-1");
  t.ok(line, "access line present");
  t.equal(line!.path, "/logme/path");
  t.equal(line!.method, "GET");
  t.equal(line!.status, 200);
  t.equal(line!.peer, "dev-trunk");
  t.match(line!.tlsVersion, /^TLSv1\.[23]$/);
  t.ok(line!.cipher);
  t.equal(line!.httpVersion, "2", "curl prefers HTTP/2 by ALPN");
  t.type(line!.durationMs, "number");
  t.type(line!.upstreamMs, "number");
  t.ok((line!.bytesOut as number) > 0);
  t.notMatch(h.logs.text, /SECRET/, "no token, bearer or cookie anywhere in the logs");
  t.equal(h.logs.access().filter((l) => l.requestId === "log-test-1").length, 1, "exactly one line");
  const after = await metricValue(h.metrics, "trunkgate_http_requests_total", { method: "GET", status_class: "2xx" });
  t.equal(after, before + 1);
  t.equal(await metricValue(h.metrics, "trunkgate_http_active_requests"), 0);
  const hist = await metricValue(h.metrics, "trunkgate_http_request_duration_seconds_count" as string);
  t.ok(Number.isNaN(hist) || hist >= 0);
});

t.test("a client sending its intermediate gets Client-Cert-Chain", async (t) => {
  const h2 = await startProxy({
    pki,
    upstreamUrl: upstream.url,
    tls: { trust: { bundledRoots: false, extraRoots: [pki.ca.certPath] } },
  });
  t.teardown(() => h2.close());
  const n = upstream.seen.length;
  const r = await curl(pki, `https://localhost:${h2.port}/chain`, [], { ...pki.viaIntermediate, certPath: pki.viaIntermediate.chainPath });
  t.equal(r.status, 200, r.stderr);
  const der = Buffer.from(pki.intermediate.cert.replace(/-----[^-]+-----|\s/g, ""), "base64").toString("base64");
  t.equal(upstream.seen[n]!.headers["client-cert-chain"], `:${der}:`, "the intermediate, not the root");
});

t.test("Host: preserve and literal modes; upstream URL path is a prefix", async (t) => {
  const p1 = await startProxy({ pki, upstreamUrl: `${upstream.url}/base/`, http: { upstream: { host: "preserve" } } });
  t.teardown(() => p1.close());
  const n = upstream.seen.length;
  await h1request(pki, p1.port, { path: "/x?y=1", headers: { host: "api.example.com" } });
  t.equal(upstream.seen[n]!.headers.host, "api.example.com");
  t.equal(upstream.seen[n]!.url, "/base/x?y=1");
  const p2 = await startProxy({ pki, upstreamUrl: upstream.url, http: { upstream: { host: "internal.example:8080" } } });
  t.teardown(() => p2.close());
  await h1request(pki, p2.port, { path: "/y", headers: { host: "api.example.com" } });
  t.equal(upstream.seen[n + 1]!.headers.host, "internal.example:8080");
});

t.test("bad requests get a small JSON error with the request id", async (t) => {
  const r = await h1request(pki, h.port, { path: "/", headers: { host: "bad host\"x" } });
  t.equal(r.status, 400);
  const body = JSON.parse(r.body.toString()) as { requestId: string; status: number };
  t.equal(body.status, 400);
  t.equal(body.requestId, r.headers["x-request-id"]);
  t.ok(r.body.length < 200);
});
