// trunkgate as a TLS client: toward an upstream target (client certificate presented, server
// certificate verified against the trust store, SNI = serverName) and toward a trunk that has no
// open connection (a new connection to peers[].sip.targets), with small scripted SIP peers.
import { once } from "node:events";
import { createServer as createTcpServer, type AddressInfo, type Socket } from "node:net";
import { createServer as createTlsServer, type TLSSocket } from "node:tls";
import t from "tap";
import { SipStreamFramer } from "../../../src/sip/transport/framing.js";
import { parseMessage, type SipMessage, type SipRequest, type SipResponse } from "../../../src/sip/parse/index.js";
import { buildResponse } from "../../../src/sip/message/build.js";
import { TrunkClient, sipRequest, startGateway, testPki } from "./harness.js";
import { patience, until } from "../../helpers/time.js";

/** Reads SIP messages from a socket into a queue. */
class Peer {
  readonly messages: SipMessage[] = [];
  #framer = new SipStreamFramer();
  #waiters: (() => void)[] = [];
  constructor(readonly socket: Socket) {
    socket.on("data", (c: Buffer) => {
      for (const ev of this.#framer.push(c)) {
        if (ev.type !== "message") continue;
        const r = parseMessage(ev.message);
        if (r.ok) this.messages.push(r.message);
      }
      for (const w of this.#waiters.splice(0)) w();
    });
    socket.on("error", () => undefined);
    socket.on("close", () => {
      this.closed = true;
      for (const w of this.#waiters.splice(0)) w();
    });
  }
  closed = false;
  async next(pred: (m: SipMessage) => boolean, timeoutMs = 5000): Promise<SipMessage> {
    const end = Date.now() + patience(timeoutMs);
    for (;;) {
      const i = this.messages.findIndex(pred);
      if (i >= 0) return this.messages.splice(i, 1)[0]!;
      const left = end - Date.now();
      if (left <= 0) throw new Error("expected message did not arrive");
      if (this.closed) throw new Error("connection closed");
      await new Promise<void>((r) => {
        const tm = setTimeout(r, left);
        this.#waiters.push(() => {
          clearTimeout(tm);
          r();
        });
      });
    }
  }
}

const isReq = (method: string) => (m: SipMessage) => m.kind === "request" && m.method === method;

/** Answers OPTIONS with 200 and INVITE with `status`, recording TLS facts of each connection. */
async function tlsUpstream(status: number) {
  const pki = await testPki();
  const seen: { servername: string | false | null; clientCn: string | undefined }[] = [];
  const server = createTlsServer({ cert: pki.serverEcdsa.cert, key: pki.serverEcdsa.key, ca: pki.ca.cert, requestCert: true, rejectUnauthorized: true }, (s: TLSSocket) => {
    seen.push({ servername: s.servername, clientCn: s.getPeerX509Certificate()?.subject.match(/CN=([^\n]+)/)?.[1] });
    const p = new Peer(s);
    const loop = async () => {
      for (;;) {
        const m = (await p.next((x) => x.kind === "request", 60_000).catch(() => undefined)) as SipRequest | undefined;
        if (!m) return;
        if (m.method === "ACK") continue;
        s.write(buildResponse(m, m.method === "INVITE" ? status : 200, m.method === "INVITE" && status !== 200 ? "Busy Here" : "OK"));
      }
    };
    void loop();
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return { port: (server.address() as AddressInfo).port, seen, close: () => new Promise<void>((r) => server.close(() => r())) };
}

t.test("upstream over TLS: client certificate presented, SNI = serverName, certificate verified", async (t) => {
  const up = await tlsUpstream(486);
  t.teardown(() => up.close());
  const gw = await startGateway({ upstreams: [{ name: "svc", targets: [{ port: up.port, transport: "tls", serverName: "localhost" }] }] });
  t.teardown(() => gw.stop());
  const c = await TrunkClient.connect(gw.port, gw.pki.client, gw.pki);
  t.teardown(() => c.close());
  c.send(sipRequest({ method: "INVITE", uri: `sip:+4930123@127.0.0.1:${gw.port}` }));
  let r: SipResponse;
  do r = (await c.next(5000)) as SipResponse;
  while (r.status < 200);
  t.equal(r.status, 486, "the upstream's answer came back");
  t.same(up.seen, [{ servername: "localhost", clientCn: "trunkgate" }], "SNI localhost; trunkgate's client certificate");
});

t.test("upstream certificate not matching serverName → connection refused, trunk gets 503", async (t) => {
  const up = await tlsUpstream(200);
  t.teardown(() => up.close());
  const gw = await startGateway({ upstreams: [{ name: "svc", targets: [{ port: up.port, transport: "tls", serverName: "wrong.example.net" }] }] });
  t.teardown(() => gw.stop());
  const c = await TrunkClient.connect(gw.port, gw.pki.client, gw.pki);
  t.teardown(() => c.close());
  c.send(sipRequest({ method: "INVITE", uri: `sip:+4930123@127.0.0.1:${gw.port}` }));
  let r: SipResponse;
  do r = (await c.next(5000)) as SipResponse;
  while (r.status < 200);
  t.equal(r.status, 503);
  t.ok(r.getHeader("retry-after"), "with Retry-After");
  t.ok(gw.logs.lines.some((l) => l.msg === "upstream connection failed"), "the failure is logged");
});

t.test("a new call from upstream toward a trunk with no open connection: trunkgate connects to peers[].sip.targets", async (t) => {
  const pki = await testPki();
  // The upstream: a plain TCP SIP server; trunkgate's health probe opens the pooled connection.
  let upSock: Socket | undefined;
  const upstream = createTcpServer((s) => {
    upSock = s;
    const p = new Peer(s);
    upPeer = p;
    void (async () => {
      for (;;) {
        const m = (await p.next(isReq("OPTIONS"), 60_000).catch(() => undefined)) as SipRequest | undefined;
        if (!m) return;
        s.write(buildResponse(m, 200, "OK"));
      }
    })();
  });
  let upPeer: Peer | undefined;
  upstream.listen(0, "127.0.0.1");
  await once(upstream, "listening");
  t.teardown(() => new Promise<void>((r) => { upSock?.destroy(); upstream.close(() => r()); }));
  // The trunk's own SIP server (TLS, requires trunkgate's client certificate).
  let trunkPeer: Peer | undefined;
  let trunkSni: string | false | null = false;
  const trunk = createTlsServer({ cert: pki.serverEcdsa.cert, key: pki.serverEcdsa.key, ca: pki.ca.cert, requestCert: true, rejectUnauthorized: true }, (s) => {
    trunkSni = s.servername;
    trunkPeer = new Peer(s);
  });
  trunk.listen(0, "127.0.0.1");
  await once(trunk, "listening");
  t.teardown(() => new Promise<void>((r) => trunk.close(() => r())));
  const gw = await startGateway({
    upstreams: [{ name: "svc", targets: [{ port: (upstream.address() as AddressInfo).port }], healthCheck: { enabled: true, intervalMs: 100, timeoutMs: 500 } }],
    peers: [{ name: "dev-trunk", match: { dnsNames: ["dev-trunk.local"] }, sip: { targets: [{ host: "127.0.0.1", port: (trunk.address() as AddressInfo).port, serverName: "localhost" }] } }],
  });
  t.teardown(() => gw.stop());
  await until(() => upPeer !== undefined, "the upstream connection").catch(() => undefined);
  t.ok(upPeer, "trunkgate connected to the upstream");
  upSock!.write([
    "INVITE sip:+4930555@dev-trunk SIP/2.0", "Via: SIP/2.0/TCP 127.0.0.1:7777;branch=z9hG4bK-up-inv1", "Max-Forwards: 70",
    "From: <sip:+4940111@svc.example.net>;tag=up1", "To: <sip:+4930555@dev-trunk>", "Call-ID: from-upstream-1", "CSeq: 1 INVITE",
    "Contact: <sip:svc@127.0.0.1:7777;transport=tcp>", "Content-Length: 0", "", "",
  ].join("\r\n"));
  const trying = (await upPeer!.next((m) => m.kind === "response")) as SipResponse;
  t.equal(trying.status, 100, "100 Trying to the upstream");
  await until(() => trunkPeer !== undefined, "the trunk connection").catch(() => undefined);
  t.ok(trunkPeer, "trunkgate opened a TLS connection to the trunk's sip.targets");
  t.equal(trunkSni, "localhost", "SNI = serverName");
  const inv = (await trunkPeer!.next(isReq("INVITE"))) as SipRequest;
  t.equal(inv.requestUri, "sip:+4930555@dev-trunk");
  t.equal(inv.topVia.transport, "TLS");
  trunkPeer!.socket.write(buildResponse(inv, 200, "OK", { toTag: "tr1" }));
  const ok = (await upPeer!.next((m) => m.kind === "response" && (m as SipResponse).status === 200)) as SipResponse;
  t.equal(ok.callId, "from-upstream-1", "the trunk's 200 reached the upstream");
  t.match(await gw.metrics(), /trunkgate_sip_requests_total\{method="INVITE",direction="outbound",peer="unknown"\} 1/);
});
