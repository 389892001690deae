// Advertised address: listening on 0.0.0.0, Via and Record-Route carry the address each
// connection actually uses — a trunk that reached trunkgate at 127.0.0.2 sees 127.0.0.2 in the
// Record-Route entry meant for it and in the Via of requests sent to it; the upstream sees the
// local address of trunkgate's connection to it — never the wildcard, never a loopback address
// the connection does not use; sip.advertisedHost/advertisedPort replace both where set.
import t from "tap";
import type { SipRequest } from "../../../src/sip/parse/index.js";
import { TrunkClient, sipRequest, startGateway } from "./harness.js";
import { startNodeUas } from "./node-uas.js";

function hostPort(uri: string): string {
  return /^sip:([^;>]+)/.exec(uri)?.[1] ?? "";
}

t.test("listening on 0.0.0.0: each leg's Via and Record-Route name the address its connection uses", async (t) => {
  const uas = await startNodeUas({ host: "127.0.0.3" });
  t.teardown(() => uas.close());
  const gw = await startGateway({
    listenHost: "0.0.0.0",
    upstreams: [{ name: "svc", targets: [{ host: "127.0.0.3", port: uas.port }] }],
    sip: { media: { srtpPolicy: "off" } },
  });
  t.teardown(() => gw.stop());
  const trunk = await TrunkClient.connect(gw.port, gw.pki.client, gw.pki, "127.0.0.2");
  t.teardown(() => trunk.close());

  // The upstream connection's own address is known once it connected: a first request opens it.
  trunk.send(sipRequest({ method: "MESSAGE", uri: `sip:+15551234@127.0.0.2:${gw.port}`, callId: "adv-0@t" }));
  await uas.waitFor((r) => r.callId === "adv-0@t");
  trunk.send(sipRequest({ method: "INVITE", uri: `sip:+15551234@127.0.0.2:${gw.port}`, callId: "adv-1@t" }));
  const { req, socket } = await uas.waitFor((r) => r.method === "INVITE" && r.callId === "adv-1@t");
  const upstreamLocal = socket.remoteAddress!; // the local address of trunkgate's connection to the UAS
  t.equal(`${req.topVia.host}:${req.topVia.port}`, `${upstreamLocal}:${gw.port}`, `Via toward upstream names ${upstreamLocal}`);
  const rr = req.recordRoutes() ?? [];
  t.equal(rr.length, 2, "double Record-Route (RFC 5658): one entry per leg");
  t.equal(hostPort(rr[0]!.uri), `${upstreamLocal}:${gw.port}`, "the upstream's entry: the address its connection reached");
  t.equal(hostPort(rr[1]!.uri), `127.0.0.2:${gw.port}`, "the trunk's entry: 127.0.0.2, where the trunk reached us");
  t.notOk(req.buf.toString("latin1").includes("0.0.0.0"), "never the wildcard");

  // A request from upstream toward the trunk: trunkgate's Via on the trunk's connection names 127.0.0.2.
  socket.write([`MESSAGE sip:someone@dev-trunk SIP/2.0`, "Via: SIP/2.0/TCP 127.0.0.3:5060;branch=z9hG4bK-adv-up", "Max-Forwards: 70",
    "From: <sip:svc@127.0.0.3>;tag=u1", "To: <sip:someone@dev-trunk>", "Call-ID: adv-2@t", "CSeq: 1 MESSAGE", "Content-Length: 0", "", ""].join("\r\n"));
  let toTrunk: SipRequest | undefined;
  while (toTrunk === undefined) {
    const m = await trunk.next(10_000);
    if (m !== "pong" && m.kind === "request" && m.method === "MESSAGE") toTrunk = m;
  }
  t.equal(`${toTrunk.topVia.host}:${toTrunk.topVia.port}`, `127.0.0.2:${gw.port}`, "Via toward the trunk names 127.0.0.2");
});

t.test("sip.advertisedHost and advertisedPort replace the connection's address on every leg", async (t) => {
  const uas = await startNodeUas();
  t.teardown(() => uas.close());
  const gw = await startGateway({
    listenHost: "0.0.0.0",
    upstreams: [{ name: "svc", targets: [{ port: uas.port }] }],
    sip: { media: { srtpPolicy: "off" }, advertisedHost: "sip.example.net", advertisedPort: 5061 },
  });
  t.teardown(() => gw.stop());
  const trunk = await TrunkClient.connect(gw.port, gw.pki.client, gw.pki);
  t.teardown(() => trunk.close());
  trunk.send(sipRequest({ method: "INVITE", uri: `sip:+15551234@127.0.0.1:${gw.port}`, callId: "adv-3@t" }));
  const { req } = await uas.waitFor((r) => r.callId === "adv-3@t");
  t.equal(`${req.topVia.host}:${req.topVia.port}`, "sip.example.net:5061");
  t.same((req.recordRoutes() ?? []).map((r) => hostPort(r.uri)), ["sip.example.net:5061", "sip.example.net:5061"]);
  // In-dialog requests that carry those entries back are recognised as ours (listening port differs).
  trunk.send(sipRequest({ method: "OPTIONS", uri: "sip:sip.example.net:5061" }));
  for (;;) {
    const m = await trunk.next(10_000);
    if (m !== "pong" && m.kind === "response" && m.cseq.method === "OPTIONS") {
      t.equal(m.status, 200, "OPTIONS to the advertised address is answered by trunkgate itself");
      break;
    }
  }
});
