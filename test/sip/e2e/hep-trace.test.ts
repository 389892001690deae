// Issue 13 item 5: SIP tracing. Every message of a sampled call, both legs, as HEP3 over UDP to a
// collector this test runs (decoding the chunks itself), with sampling by Call-ID and a per-peer
// switch; and the local trace at logging.level trace, redacted.
import t, { type Test } from "tap";
import { startGateway, sipRequest, TrunkClient, type Gateway } from "./harness.js";
import { startNodeUas, type NodeUas } from "./node-uas.js";
import { startHepReceiver, type HepPacket, type HepReceiver } from "../../helpers/hep-receiver.js";
import { createSipTap } from "../../../src/sip/trace/sip-tap.js";
import { OUTBOUND } from "../../../src/sip/direction.js";
import { createLogger } from "../../../src/observability/logger.js";
import { parseConfig } from "../../../src/config/load.js";
import { Registry } from "prom-client";
import { Writable } from "node:stream";
import { Socket } from "node:net";

async function setup(t: Test, trace: Record<string, unknown>, peers?: unknown[]): Promise<{ gw: Gateway; uas: NodeUas; hep: HepReceiver; trunk: TrunkClient }> {
  const hep = await startHepReceiver();
  t.teardown(() => hep.close());
  const uas = await startNodeUas();
  t.teardown(() => uas.close());
  const gw = await startGateway({
    upstreams: [{ name: "svc", targets: [{ port: uas.port }] }],
    sip: { media: { srtpPolicy: "off" }, trace: { ...trace, hep: { enabled: true, port: hep.port, captureId: 7 } } },
    ...(peers ? { peers } : {}),
  });
  t.teardown(() => gw.stop());
  const trunk = await TrunkClient.connect(gw.port, gw.pki.client, gw.pki);
  t.teardown(() => trunk.close());
  return { gw, uas, hep, trunk };
}

/** Sends an INVITE from the trunk and waits for its final response (the UAS answers 486). */
async function call(trunk: TrunkClient, callId: string, port: number): Promise<void> {
  trunk.send(sipRequest({ method: "INVITE", uri: `sip:+15551230000@127.0.0.1:${port}`, callId }));
  for (;;) {
    const m = await trunk.next(10_000);
    if (m !== "pong" && m.kind === "response" && m.status >= 200) return;
  }
}

const of = (packets: HepPacket[], callId: string) => packets.filter((p) => p.correlationId === callId);

t.test("both legs of a call, decrypted, as HEP3 chunks", async (t) => {
  const { gw, uas, hep, trunk } = await setup(t, {});
  const started = Math.floor(Date.now() / 1000);
  await call(trunk, "hep-1@test", gw.port);
  // Trunk leg: INVITE in, 100 and 486 out, ACK in; upstream leg: INVITE out, 486 in, ACK out.
  await hep.waitFor((ps) => of(ps, "hep-1@test").length >= 6, 10_000);
  const ps = of(hep.packets, "hep-1@test");
  for (const p of ps) {
    t.equal(p.version, "HEP3");
    t.equal(p.family, 2, "IPv4");
    t.equal(p.protocol, 6, "TCP");
    t.equal(p.protocolType, 1, "SIP");
    t.equal(p.captureId, 7);
    t.equal(p.source, "127.0.0.1");
    t.equal(p.destination, "127.0.0.1");
    t.ok(p.seconds >= started - 1 && p.micros < 1_000_000, "capture time in seconds + microseconds");
    t.match(p.payload, /^(SIP\/2\.0 \d{3} |[A-Z]+ sip:)/, "payload is the SIP message in clear");
  }
  const trunkPort = trunk.socket.localPort;
  const fromTrunk = ps.find((p) => p.payload.startsWith("INVITE ") && p.sourcePort === trunkPort);
  t.ok(fromTrunk, "the trunk's INVITE, as received over TLS");
  t.equal(fromTrunk?.destinationPort, gw.port);
  const toUpstream = ps.find((p) => p.payload.startsWith("INVITE ") && p.destinationPort === uas.port);
  t.ok(toUpstream, "the INVITE as forwarded upstream");
  t.match(toUpstream?.payload ?? "", /Record-Route:/, "with trunkgate's edits");
  t.ok(ps.some((p) => p.payload.startsWith("SIP/2.0 486") && p.sourcePort === uas.port), "the upstream's 486, received");
  t.ok(ps.some((p) => p.payload.startsWith("SIP/2.0 486") && p.destinationPort === trunkPort), "the 486 sent to the trunk");
  t.match(await gw.metrics(), /trunkgate_sip_trace_messages_total\{result="sent"\} [1-9]/);
});

t.test("sampling by Call-ID keeps or drops both legs together; sampleRate 0 traces nothing", async (t) => {
  const { gw, hep, trunk } = await setup(t, { sampleRate: 0.5 });
  const ids = Array.from({ length: 12 }, (_, i) => `sample-${i}@test`);
  for (const id of ids) await call(trunk, id, gw.port);
  // A last fully traced call marks the end (HEP is UDP over loopback, sent in order).
  const marker = ids.find((id) => of(hep.packets, id).length > 0);
  t.ok(marker, "some calls sampled");
  await hep.waitFor((ps) => of(ps, marker!).length >= 6);
  let kept = 0;
  for (const id of ids) {
    const n = of(hep.packets, id).length;
    if (n > 0) kept++;
    t.ok(n === 0 || n >= 6, `${id}: all of its messages or none (${n})`);
  }
  t.ok(kept > 0 && kept < ids.length, `about half the calls (${kept}/${ids.length})`);
});

t.test("a peer switched off: none of its calls, on either leg", async (t) => {
  const peers = [
    { name: "dev-trunk", match: { dnsNames: ["dev-trunk.local"] }, sip: { trace: false } },
    { name: "other", match: { dnsNames: ["stranger.local"] } },
  ];
  const { gw, uas, hep, trunk } = await setup(t, {}, peers);
  await call(trunk, "off-1@test", gw.port);
  await uas.waitFor((r) => r.callId === "off-1@test" && r.method === "ACK");
  // Then a call of a traced peer: once its packets arrived (one UDP socket over loopback, in
  // order), any packet of the first call would have too.
  const other = await TrunkClient.connect(gw.port, gw.pki.unknownPeer, gw.pki);
  t.teardown(() => other.close());
  await call(other, "on-1@test", gw.port);
  await hep.waitFor((ps) => of(ps, "on-1@test").length >= 6);
  t.ok(of(hep.packets, "on-1@test").some((p) => p.destinationPort === uas.port), "the traced peer's upstream leg is there");
  t.equal(of(hep.packets, "off-1@test").length, 0, "nothing of the switched-off peer's call, on either leg");
});

t.test("local trace at logging.level trace: redacted by default, in clear only when allowed", async (t) => {
  const lines: string[] = [];
  const sink = new Writable({ write(c: Buffer, _e, cb) { lines.push(...c.toString().split("\n").filter(Boolean)); cb(); } });
  const cfg = (unredacted: boolean) => parseConfig(`sip:\n  trace:\n    logUnredacted: ${unredacted}\n`, "test");
  const message = Buffer.from(
    ["INVITE sip:+15551230000@example.net SIP/2.0", "Via: SIP/2.0/TLS 10.0.0.1:5061;branch=z9hG4bK1", 'From: "Alice" <sip:+15559870000@carrier.example>;tag=a',
      "To: <tel:+15551230000>", "Call-ID: secret-call@x", "X-Trunkgate-Number-Context: ctx-42", "Content-Length: 11", "", "v=0 o=1 2 3"].join("\r\n"),
    "latin1",
  );
  // An upstream-leg connection (every peer traced: the sampling alone decides).
  const conn = { socket: new Socket(), side: OUTBOUND, target: { label: "svc/10.0.0.2:5060", config: { host: "10.0.0.2", port: 5060 } } };
  for (const unredacted of [false, true]) {
    const c = cfg(unredacted);
    const tap = createSipTap({ config: c.sip, peers: c.peers, logger: createLogger({ level: "trace", destination: sink }), registry: new Registry() });
    t.ok(tap, "a tap at trace level even without HEP");
    tap!.received(conn, message);
    tap!.close();
  }
  const traced = lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.event === "sip_message");
  t.equal(traced.length, 2);
  const redacted = String(traced[0]!.message);
  for (const secret of ["15551230000", "15559870000", "Alice", "secret-call", "ctx-42", "o=1 2 3"]) t.notOk(redacted.includes(secret), `redacted: ${secret}`);
  t.match(redacted, /^INVITE sip:\[redacted\]@example\.net SIP\/2\.0/, "structure kept");
  t.match(redacted, /branch=z9hG4bK1/);
  t.match(String(traced[1]!.message), /15559870000/, "in clear when sip.trace.logUnredacted");
  t.notOk(String(traced[0]!.callId).includes("secret"), "Call-ID as a keyed hash");
  t.equal(createSipTap({ config: cfg(false).sip, peers: [], logger: createLogger({ level: "info", destination: sink }), registry: new Registry() }), undefined, "off by default: no tap, no cost");
});
