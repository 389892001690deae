// The response-smuggling set (response-smuggling-cases.ts) against both upstream clients: a raw TCP
// fake upstream answers each request with the case's bytes; the client behind the proxy must get
// the recorded answer, and a connection the case says is dropped must be closed by the proxy and
// not carry the next request. The proxy has one upstream connection (maxConnections: 1), so "the
// next request went on the same connection" is decided by the fake upstream, not by timing.
import { once } from "node:events";
import { createServer, type AddressInfo, type Socket } from "node:net";
import t from "tap";
import { h1request, makeTestPki, startProxy, within } from "../helpers/http-harness.js";
import { RESPONSE_CASES, type ResponseOutcome } from "./response-smuggling-cases.js";

const CLIENTS = ["lean", "undici"] as const;
/** TRUNKGATE_RECORD_SMUGGLING=1 prints what each client does instead of asserting it. */
const recording = process.env.TRUNKGATE_RECORD_SMUGGLING === "1";

interface UpstreamSocket {
  id: number;
  closed: Promise<unknown>;
}

/** Which socket carried the last request for a path. */
const carriedBy = new Map<string, UpstreamSocket>();
let nextId = 0;

const fake = createServer((socket: Socket) => {
  const me: UpstreamSocket = { id: ++nextId, closed: once(socket, "close") };
  socket.on("error", () => undefined);
  let got = "";
  socket.on("data", (d: Buffer) => {
    got += d.toString("latin1");
    for (let end = got.indexOf("\r\n\r\n"); end >= 0; end = got.indexOf("\r\n\r\n")) {
      const path = /^[A-Z]+ (\S+) /.exec(got)?.[1] ?? "";
      got = got.slice(end + 4);
      carriedBy.set(path, me);
      const i = /^\/case\/(\d+)$/.exec(path);
      const c = i ? RESPONSE_CASES[Number(i[1])] : undefined;
      if (!c) {
        socket.write("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nprobe");
        continue;
      }
      if (c.close) socket.end(c.response, "latin1");
      else socket.write(c.response, "latin1");
    }
  });
});
fake.listen(0, "127.0.0.1");
await once(fake, "listening");
t.teardown(() => new Promise<void>((r) => fake.close(() => r())));
const upstreamUrl = `http://127.0.0.1:${(fake.address() as AddressInfo).port}`;

const pki = await makeTestPki();
t.teardown(() => pki.cleanup());

async function ask(port: number, method: string, path: string): Promise<{ status: number | "cut"; body: string }> {
  try {
    const r = await h1request(pki, port, { method, path });
    return { status: r.status, body: r.body.toString("latin1") };
  } catch {
    return { status: "cut", body: "" };
  }
}

for (const client of CLIENTS) {
  t.test(`upstream client ${client}`, async (t) => {
    const proxy = await startProxy({ pki, upstreamUrl, http: { upstream: { client, maxConnections: 1 } } });
    t.teardown(() => proxy.close());
    for (const [i, c] of RESPONSE_CASES.entries()) {
      const path = `/case/${i}`;
      const got = await ask(proxy.port, c.method ?? "GET", path);
      const carrier = carriedBy.get(path);
      const probe = await ask(proxy.port, "GET", "/probe");
      const keeps = carrier !== undefined && carriedBy.get("/probe") === carrier;
      if (recording) {
        t.comment(`${client} ${c.name}: ${got.status} ${JSON.stringify(got.body.slice(0, 20))} ${keeps ? "keeps" : "drops"}`);
        continue;
      }
      const want: ResponseOutcome = client === "undici" ? (c.undici ?? c.lean) : c.lean;
      t.ok(carrier, `${c.name}: the request reached the upstream`);
      if (!(want.orCut && got.status === "cut")) t.equal(got.status, want.status, `${c.name}: status`);
      if (want.body !== undefined && got.status !== "cut") t.equal(got.body, want.body, `${c.name}: body`);
      t.equal(probe.status, 200, `${c.name}: the next request is served`);
      t.equal(keeps, want.keeps, `${c.name}: ${want.keeps ? "connection reused" : "next request on a new connection"}`);
      if (!want.keeps && carrier) await within(carrier.closed, 5_000, `${c.name}: upstream connection closed`);
    }
    if (client === "lean" && !recording) {
      const details = proxy.logs.lines.filter((l) => l.msg === "http upstream error").map((l) => l.detail);
      t.ok(details.includes("content-length with transfer-encoding"), "the debug line names the fault");
    }
  });
}
