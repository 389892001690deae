// The upstream clients' connection handling, each test against both (http.upstream.client lean and
// undici): requests queue beyond maxConnections, idle connections close after keepAliveTimeoutMs,
// an upstream's short Keep-Alive timeout stops reuse,
// a reused connection that closes under a request (a stale keep-alive), a stalled response body,
// a TLS handshake that never completes, a client leaving while its request waits in the queue.
import { once } from "node:events";
import type { ServerResponse } from "node:http";
import { createServer, type AddressInfo, type Socket } from "node:net";
import t from "tap";
import { h1request, holdingHandler, metricValue, startProxy, startUpstream, upstreamBed, waitFor, within } from "../helpers/http-harness.js";
import { connectTestClient } from "../helpers/raw-tls.js";

const { pki } = await upstreamBed(t);
const CLIENTS = ["lean", "undici"] as const;

/** A raw upstream: `answer(requestIndexOnSocket, head, socket)` writes (or withholds) each answer. */
async function rawUpstream(t: { teardown(fn: () => unknown): void }, answer: (n: number, head: string, socket: Socket) => void): Promise<string> {
  const server = createServer((socket) => {
    socket.on("error", () => undefined);
    let got = "";
    let n = 0;
    socket.on("data", (d: Buffer) => {
      got += d.toString("latin1");
      for (let end = got.indexOf("\r\n\r\n"); end >= 0; end = got.indexOf("\r\n\r\n")) {
        const head = got.slice(0, end);
        const cl = /\r\ncontent-length: *(\d+)/i.exec(head);
        const bodyLen = cl ? Number(cl[1]) : 0;
        if (got.length < end + 4 + bodyLen) return;
        got = got.slice(end + 4 + bodyLen);
        answer(++n, head, socket);
      }
    });
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  t.teardown(() => {
    server.close();
  });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

for (const client of CLIENTS) {
  t.test(`${client}: beyond maxConnections requests queue and are all served`, async (t) => {
    const held: ServerResponse[] = [];
    const up = await startUpstream({
      handler: holdingHandler(held),
    });
    t.teardown(() => up.close());
    const p = await startProxy({ pki, upstreamUrl: up.url, http: { upstream: { client, maxConnections: 2 } } });
    t.teardown(() => p.close());
    const all = Array.from({ length: 6 }, (_, i) => h1request(pki, p.port, { path: `/q${i}` }));
    for (let answered = 0; answered < 6; answered++) {
      await waitFor(() => held.length > 0, 10_000, "a request at the upstream");
      held.shift()!.end("ok");
    }
    const results = await within(Promise.all(all), 10_000, "all answers");
    t.same(
      results.map((r) => r.status),
      [200, 200, 200, 200, 200, 200],
    );
    t.ok(new Set(up.seen.map((s) => s.socketId)).size <= 2, "never more than two upstream connections");
  });

  t.test(`${client}: an upstream Keep-Alive timeout within the 2 s margin: the connection is not reused`, async (t) => {
    const sockets = new Set<Socket>();
    const url = await rawUpstream(t, (_n, _head, socket) => {
      sockets.add(socket);
      socket.write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nKeep-Alive: timeout=1\r\n\r\nok");
    });
    const p = await startProxy({ pki, upstreamUrl: url, http: { upstream: { client } } });
    t.teardown(() => p.close());
    t.equal((await h1request(pki, p.port, { path: "/a" })).status, 200);
    t.equal((await h1request(pki, p.port, { path: "/b" })).status, 200);
    t.equal(sockets.size, 2, "a new connection for the second request");
  });

  t.test(`${client}: a response arriving a few bytes at a time (an interim 103 included) is read whole`, async (t) => {
    const response = "HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-A: b\r\n\r\nhello";
    const url = await rawUpstream(t, (_n, _head, socket) => {
      socket.setNoDelay(true);
      let i = 0;
      const next = (): void => {
        if (i >= response.length || socket.destroyed) return;
        socket.write(response.slice(i, i + 3), "latin1");
        i += 3;
        setImmediate(next);
      };
      next();
    });
    const p = await startProxy({ pki, upstreamUrl: url, http: { upstream: { client } } });
    t.teardown(() => p.close());
    const r = await h1request(pki, p.port, { path: "/slow" });
    t.equal(r.status, 200);
    t.equal(r.headers["x-a"], "b");
    t.equal(r.body.toString(), "hello");
  });

  t.test(`${client}: an idle upstream connection is closed after keepAliveTimeoutMs`, async (t) => {
    let closed: Promise<unknown> | undefined;
    const url = await rawUpstream(t, (_n, _head, socket) => {
      closed ??= once(socket, "close");
      socket.write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
    });
    const p = await startProxy({ pki, upstreamUrl: url, http: { upstream: { client, keepAliveTimeoutMs: 200 } } });
    t.teardown(() => p.close());
    t.equal((await h1request(pki, p.port, { path: "/a" })).status, 200);
    await within(closed!, 5_000, "the idle connection closed by the proxy");
    t.pass("closed while the proxy still runs");
  });

  t.test(`${client}: a reused connection closing under a request (stale keep-alive)`, async (t) => {
    // Every connection answers its first request and closes without a word at its second.
    const url = await rawUpstream(t, (n, _head, socket) => {
      if (n === 1) socket.write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
      else socket.destroy();
    });
    const p = await startProxy({ pki, upstreamUrl: url, http: { upstream: { client, maxConnections: 1 } } });
    t.teardown(() => p.close());
    t.equal((await h1request(pki, p.port, { path: "/warm" })).status, 200);
    const get = await h1request(pki, p.port, { path: "/again" });
    // The lean client sends a request without a body once more on a new connection (RFC 9110
    // §9.2.2: GET is idempotent); undici answers 502.
    t.equal(get.status, client === "lean" ? 200 : 502, "GET on a stale connection");
    t.equal((await h1request(pki, p.port, { path: "/warm2" })).status, 200, "a fresh connection's first request");
    const post = await h1request(pki, p.port, { method: "POST", path: "/post", headers: { "content-length": 2 }, body: Buffer.from("hi") });
    t.equal(post.status, 502, "a POST with a body is never sent twice");
  });

  t.test(`${client}: a response body stalling over upstreamBodyIdleMs is cut and counted as a timeout`, async (t) => {
    const url = await rawUpstream(t, (_n, _head, socket) => {
      socket.write("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc");
    });
    const p = await startProxy({ pki, upstreamUrl: url, http: { upstream: { client }, timeouts: { upstreamBodyIdleMs: 300 } } });
    t.teardown(() => p.close());
    await t.rejects(h1request(pki, p.port, { path: "/stall" }), "the response is cut");
    await waitFor(() => p.logs.access().length === 1, 5_000, "the access line");
    t.equal(await metricValue(p.metrics, "trunkgate_http_upstream_errors_total", { kind: "timeout" }), 1);
  });

  t.test(`${client}: an https upstream that never completes the handshake: 504 after upstreamConnectMs`, async (t) => {
    const silent = createServer((socket) => socket.on("error", () => undefined));
    silent.listen(0, "127.0.0.1");
    await once(silent, "listening");
    t.teardown(() => {
      silent.close();
    });
    const port = (silent.address() as AddressInfo).port;
    const p = await startProxy({ pki, upstreamUrl: `https://localhost:${port}`, http: { upstream: { client }, timeouts: { upstreamConnectMs: 300 } } });
    t.teardown(() => p.close());
    t.equal((await h1request(pki, p.port, { path: "/x" })).status, 504);
    t.equal(await metricValue(p.metrics, "trunkgate_http_upstream_errors_total", { kind: "timeout" }), 1);
  });

  t.test(`${client}: a client leaving while its request is queued: the request is never sent`, async (t) => {
    const held: ServerResponse[] = [];
    const up = await startUpstream({
      handler: holdingHandler(held),
    });
    t.teardown(() => up.close());
    const p = await startProxy({ pki, upstreamUrl: up.url, http: { upstream: { client, maxConnections: 1 } } });
    t.teardown(() => p.close());
    const first = h1request(pki, p.port, { path: "/first" });
    await waitFor(() => held.length === 1, 10_000, "the first request at the upstream");
    // The second waits for the only connection; its client leaves once the proxy has it in flight.
    const leaver = connectTestClient(pki, p.port);
    leaver.on("error", () => undefined);
    leaver.on("secureConnect", () => leaver.write("GET /gone HTTP/1.1\r\nHost: a.example\r\n\r\n"));
    await waitFor(() => p.proxy.activeRequests() === 2, 10_000, "two requests in flight");
    leaver.destroy();
    await waitFor(() => p.logs.access().some((l) => l.path === "/gone"), 10_000, "the leaver's access line");
    held.shift()!.end("ok");
    t.equal((await first).status, 200);
    const third = h1request(pki, p.port, { path: "/third" });
    await waitFor(() => held.length === 1, 10_000, "the third request at the upstream");
    held.shift()!.end("ok");
    t.equal((await third).status, 200);
    t.same(
      up.seen.map((r) => r.url),
      ["/first", "/third"],
      "the queued request of the client that left was dropped",
    );
  });

  t.test(`${client}: a TLS reload lets the request in flight finish on the old connection; new ones get new connections`, async (t) => {
    const held: ServerResponse[] = [];
    const up = await startUpstream({
      https: { pki },
      handler: (req, res) => {
        req.resume();
        if (req.url === "/held") held.push(res);
        else res.end("ok");
      },
    });
    t.teardown(() => up.close());
    const p = await startProxy({ pki, upstreamUrl: `https://localhost:${up.port}`, http: { upstream: { client } } });
    t.teardown(() => p.close());
    const inFlight = h1request(pki, p.port, { path: "/held" });
    await waitFor(() => held.length === 1, 10_000, "the held request at the upstream");
    t.ok(p.tls.reload(), "reload accepted");
    const after = await h1request(pki, p.port, { path: "/after" });
    t.equal(after.status, 200, "a request after the reload is served");
    held.shift()!.end("done");
    const r = await inFlight;
    t.equal(r.status, 200, "the request in flight finished");
    t.equal(r.body.toString(), "done");
    const ids = new Map(up.seen.map((s) => [s.url, s.socketId]));
    t.not(ids.get("/after"), ids.get("/held"), "the new client opened its own connection");
  });
}
