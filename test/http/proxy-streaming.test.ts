// Bodies are streamed, never buffered whole: with a 50 MB body and the receiving side paused,
// the sending side stalls (backpressure reaches it through the proxy) long before the end, and
// the proxy's request to the upstream starts before the client has finished sending.
import t from "tap";
import { createHash } from "node:crypto";
import { request as httpsRequest } from "node:https";
import { Readable } from "node:stream";
import { h2session, waitFor, within, proxyBed } from "../helpers/http-harness.js";

const TOTAL = 50 * 1024 * 1024;
const { pki, upstream, h } = await proxyBed(t, { limits: { maxBodyBytes: 0 } });

function generated(n: number): Readable & { produced: number } {
  const chunk = Buffer.alloc(65536);
  for (let i = 0; i < chunk.length; i++) chunk[i] = i * 31;
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

function expectedSha(n: number): string {
  const chunk = Buffer.alloc(65536);
  for (let i = 0; i < chunk.length; i++) chunk[i] = i * 31;
  const h2 = createHash("sha256");
  for (let off = 0; off < n; off += chunk.length) h2.update(off + chunk.length <= n ? chunk : chunk.subarray(0, n - off));
  return h2.digest("hex");
}

/** Resolves once `value()` stopped changing for `quietChecks` consecutive checks (bounded). */
async function stalled(value: () => number, quietChecks = 15, timeoutMs = 15_000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  let last = value();
  let quiet = 0;
  while (quiet < quietChecks) {
    if (Date.now() > deadline) throw new Error("sender never stalled: no backpressure");
    await new Promise((r) => setTimeout(r, 20));
    const v = value();
    quiet = v === last ? quiet + 1 : 0;
    last = v;
  }
  return last;
}

t.test("50 MB upload (HTTP/1.1 chunked): streamed with backpressure, delivered intact", async (t) => {
  let received = 0;
  let firstAtProduced = -1;
  const hash = createHash("sha256");
  let paused = false;
  let resumeUpstream!: () => void;
  const saved = upstream.handler;
  const body = generated(TOTAL);
  upstream.handler = (req, res) => {
    req.on("data", (c: Buffer) => {
      if (firstAtProduced < 0) {
        firstAtProduced = body.produced;
        req.pause();
        paused = true;
        resumeUpstream = () => req.resume();
      }
      received += c.length;
      hash.update(c);
    });
    req.on("end", () => res.end(JSON.stringify({ received, sha: hash.digest("hex") })));
  };
  t.teardown(() => void (upstream.handler = saved));

  const done = within(
    new Promise<{ status: number; json: { received: number; sha: string } }>((resolve, reject) => {
      const req = httpsRequest(
        { host: "127.0.0.1", port: h.port, servername: "localhost", method: "POST", path: "/upload", ca: pki.ca.cert, cert: pki.client.cert, key: pki.client.key, agent: false, headers: { "transfer-encoding": "chunked" } },
        (res) => {
          let text = "";
          res.on("data", (d: Buffer) => (text += d.toString()));
          res.on("end", () => resolve({ status: res.statusCode!, json: JSON.parse(text) as { received: number; sha: string } }));
        },
      );
      req.on("error", reject);
      body.pipe(req);
    }),
    60_000,
    "upload",
  );
  await waitFor(() => paused, 15_000, "upstream received the first bytes");
  t.ok(firstAtProduced < TOTAL / 2, `upstream got data after only ${firstAtProduced} bytes generated: not buffered whole`);
  const heldBack = await stalled(() => body.produced);
  t.ok(heldBack < TOTAL, `client stalled at ${heldBack} bytes while the upstream was paused (backpressure through the proxy)`);
  t.ok(heldBack - received < 40 * 1024 * 1024, "in flight between client and upstream is bounded, far below the body");
  resumeUpstream();
  const r = await done;
  t.equal(r.status, 200);
  t.equal(r.json.received, TOTAL);
  t.equal(r.json.sha, expectedSha(TOTAL), "bytes intact");
  await waitFor(() => h.logs.access().some((l) => l.path === "/upload"), 5_000, "access line");
  t.equal(h.logs.access().find((l) => l.path === "/upload")!.bytesIn, TOTAL);
});

t.test("50 MB download over HTTP/2: streamed with backpressure, delivered intact", async (t) => {
  const saved = upstream.handler;
  const gen = generated(TOTAL);
  upstream.handler = (req, res) => {
    req.resume();
    res.writeHead(200, { "content-type": "application/octet-stream", "content-length": String(TOTAL) });
    gen.pipe(res);
  };
  t.teardown(() => void (upstream.handler = saved));
  const sess = await h2session(pki, h.port);
  t.teardown(() => sess.close());
  const stream = sess.request({ ":path": "/download" });
  let got = 0;
  const hash = createHash("sha256");
  await within(new Promise<void>((resolve) => stream.once("data", (c: Buffer) => { got += c.length; hash.update(c); stream.pause(); resolve(); })), 15_000, "first bytes");
  const heldBack = await stalled(() => gen.produced);
  t.ok(heldBack < TOTAL, `upstream stalled at ${heldBack} bytes while the client was paused`);
  const ended = within(
    new Promise<void>((resolve) => {
      stream.on("data", (c: Buffer) => { got += c.length; hash.update(c); });
      stream.on("end", () => resolve());
    }),
    60_000,
    "download",
  );
  stream.resume();
  await ended;
  t.equal(got, TOTAL);
  t.equal(hash.digest("hex"), expectedSha(TOTAL));
});

t.test("upstream connections are kept alive and reused across client connections", async (t) => {
  const n = upstream.seen.length;
  for (let i = 0; i < 3; i++) {
    const sess = await h2session(pki, h.port);
    await within(
      new Promise<void>((resolve, reject) => {
        const s = sess.request({ ":path": `/ka${i}` });
        s.on("error", reject);
        s.resume();
        s.on("end", () => resolve());
      }),
      10_000,
      "request",
    );
    sess.close();
  }
  const ids = upstream.seen.slice(n).map((s) => s.socketId);
  t.equal(ids.length, 3);
  t.equal(new Set(ids).size, 1, "one upstream connection served all three");
});
