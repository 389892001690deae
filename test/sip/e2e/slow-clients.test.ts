// Slow clients cannot hold SIP connections (nor a peer's connection cap): timers measure progress
// in complete messages, over real mutual-TLS sockets with short timers. Keep-alives are answered
// but satisfy neither the first-message nor the idle timer; a message dribbled a byte at a time
// must complete in time; at its cap a peer's new connection takes the place of its oldest silent
// (or idlest) one, counted.
import t from "tap";
import { TrunkClient, startGateway, type Gateway } from "./harness.js";

let seq = 0;
function options(port: number): string {
  const n = ++seq;
  return [`OPTIONS sip:127.0.0.1:${port} SIP/2.0`, `Via: SIP/2.0/TLS 127.0.0.1:5999;branch=z9hG4bK-slow-${n}`, "Max-Forwards: 70",
    "From: <sip:a@dev-trunk.local>;tag=s", "To: <sip:b@127.0.0.1>", `Call-ID: slow-${n}@t`, "CSeq: 1 OPTIONS", "Content-Length: 0", "", ""].join("\r\n");
}

async function answered(gw: Gateway, c: TrunkClient): Promise<boolean> {
  c.send(options(gw.port));
  for (;;) {
    const m = await c.next(10_000);
    if (m === "pong") continue;
    return /^SIP\/2\.0 200 /.test(m.buf.toString("latin1"));
  }
}

/** Repeats `send` every `everyMs` (traffic generation, not synchronisation) until the connection closes or `boundMs`. */
async function keepSendingUntilClosed(c: TrunkClient, send: () => void, everyMs: number, boundMs: number): Promise<boolean> {
  const end = Date.now() + boundMs;
  while (!c.closed && Date.now() < end) {
    send();
    await c.waitClosed(everyMs).catch(() => undefined);
  }
  return c.closed;
}

/** The count for one reason, summed over the peer label. */
function metric(text: string, name: string, reason: string): number {
  let sum = 0;
  for (const m of text.matchAll(new RegExp(`^${name}\\{reason="${reason}",peer="[^"]*"\\} (\\d+)$`, "gm"))) sum += Number(m[1]);
  return sum;
}

t.test("keep-alives are answered but are not a first message", async (t) => {
  const gw = await startGateway({ upstreams: [{ name: "svc", targets: [{ port: 9 }] }], sip: { timeouts: { firstMessageMs: 800, idleMs: 60_000 } } });
  t.teardown(() => gw.stop());
  const c = await TrunkClient.connect(gw.port, gw.pki.client, gw.pki);
  t.teardown(() => c.close());
  c.send("\r\n\r\n");
  t.equal(await c.next(5000), "pong", "pong");
  t.ok(await keepSendingUntilClosed(c, () => c.send("\r\n\r\n"), 200, 15_000), "closed although it kept pinging");
  t.equal(metric(await gw.metrics(), "trunkgate_sip_connection_timeouts_total", "first_message"), 1);
});

t.test("a message dribbled a byte at a time must complete within messageCompleteMs", async (t) => {
  const gw = await startGateway({
    upstreams: [{ name: "svc", targets: [{ port: 9 }] }],
    sip: { timeouts: { firstMessageMs: 5000, idleMs: 60_000, messageCompleteMs: 1000 } },
  });
  t.teardown(() => gw.stop());
  const c = await TrunkClient.connect(gw.port, gw.pki.client, gw.pki);
  t.teardown(() => c.close());
  t.ok(await answered(gw, c), "a complete message first: past the first-message timer");
  const bytes = Buffer.from(options(gw.port), "latin1");
  let i = 0;
  t.ok(await keepSendingUntilClosed(c, () => c.send(bytes.subarray(i, ++i)), 200, 15_000), "closed while still dribbling");
  t.ok(i < bytes.length, `closed before the message completed (${i} of ${bytes.length} bytes)`);
  t.equal(metric(await gw.metrics(), "trunkgate_sip_connection_timeouts_total", "incomplete_message"), 1);
});

t.test("keep-alives do not extend the idle timer", async (t) => {
  const gw = await startGateway({ upstreams: [{ name: "svc", targets: [{ port: 9 }] }], sip: { timeouts: { firstMessageMs: 5000, idleMs: 2000 } } });
  t.teardown(() => gw.stop());
  const c = await TrunkClient.connect(gw.port, gw.pki.client, gw.pki);
  t.teardown(() => c.close());
  t.ok(await answered(gw, c));
  t.ok(await keepSendingUntilClosed(c, () => c.send("\r\n\r\n"), 200, 20_000), "closed although it kept pinging");
  t.equal(metric(await gw.metrics(), "trunkgate_sip_connection_timeouts_total", "idle"), 1);
});

t.test("at its cap a peer's new connection replaces its oldest silent one, then its idlest", async (t) => {
  const gw = await startGateway({
    upstreams: [{ name: "svc", targets: [{ port: 9 }] }],
    peers: [{ name: "dev-trunk", match: { dnsNames: ["dev-trunk.local"] }, maxConnections: 3 }],
    sip: { timeouts: { firstMessageMs: 60_000, idleMs: 60_000 } },
  });
  t.teardown(() => gw.stop());
  const conns: TrunkClient[] = [];
  t.teardown(() => {
    for (const c of conns) c.close();
  });
  const open = async (): Promise<TrunkClient> => {
    const c = await TrunkClient.connect(gw.port, gw.pki.client, gw.pki);
    conns.push(c);
    return c;
  };
  // Three slow clients hold the cap: connected, keep-alives only.
  const slow = [await open(), await open(), await open()];
  for (const c of slow) {
    c.send("\r\n\r\n");
    t.equal(await c.next(5000), "pong");
  }
  const fresh = await open();
  t.ok(await answered(gw, fresh), "the peer's new connection is served");
  await slow[0]!.waitClosed(5000);
  t.ok(slow[0]!.closed && !slow[1]!.closed && !slow[2]!.closed, "the oldest silent connection gave way");

  // Now every connection carried a message: the idlest gives way.
  t.ok(await answered(gw, slow[1]!));
  t.ok(await answered(gw, slow[2]!));
  t.ok(await answered(gw, fresh));
  const another = await open();
  t.ok(await answered(gw, another), "served");
  await slow[1]!.waitClosed(5000);
  t.ok(slow[1]!.closed && !slow[2]!.closed && !fresh.closed, "the connection idle longest gave way");
  t.equal(metric(await gw.metrics(), "trunkgate_sip_connections_refused_total", "evicted"), 2, "both counted");
});
