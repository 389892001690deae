import t from "tap";
import { once } from "node:events";
import WebSocket, { WebSocketServer } from "ws";
import { startProxy, waitFor, within, upstreamBed } from "../helpers/http-harness.js";

const { pki, upstream } = await upstreamBed(t);
const upgrades: Record<string, string | string[] | undefined>[] = [];
const wss = new WebSocketServer({
  noServer: true,
  handleProtocols: (protocols) => (protocols.has("sip") ? "sip" : false),
});
upstream.server.on("upgrade", (req, socket, head) => {
  upgrades.push(req.headers);
  if (req.url === "/forbidden") {
    socket.end("HTTP/1.1 403 Forbidden\r\ncontent-type: text/plain\r\ncontent-length: 4\r\n\r\nnope");
    return;
  }
  wss.handleUpgrade(req, socket, head, (ws) => ws.on("message", (m, isBinary) => ws.send(m, { binary: isBinary })));
});
t.teardown(() => wss.close());
const h = await startProxy({ pki, upstreamUrl: upstream.url });
t.teardown(() => h.close());

function client(path: string, headers: Record<string, string> = {}): WebSocket {
  return new WebSocket(`wss://localhost:${h.port}${path}`, ["sip"], {
    ca: pki.ca.cert,
    cert: pki.client.cert,
    key: pki.client.key,
    headers,
  });
}

t.test("WebSocket echo through the proxy (SIP subprotocol), identity headers to the upstream", async (t) => {
  const ws = client("/ws", { "x-trunkgate-peer": "spoofed" });
  await within(once(ws, "open"), 10_000, "ws open");
  t.equal(ws.protocol, "sip", "subprotocol negotiated end to end");
  const echoed = within(once(ws, "message"), 10_000, "echo");
  ws.send("REGISTER sip:example.com SIP/2.0\r\n\r\n");
  const [msg] = (await echoed) as [Buffer];
  t.equal(msg.toString(), "REGISTER sip:example.com SIP/2.0\r\n\r\n");
  const big = Buffer.alloc(1024 * 1024, 7);
  const echoedBig = within(once(ws, "message"), 10_000, "big echo");
  ws.send(big);
  const [m2] = (await echoedBig) as [Buffer];
  t.ok(Buffer.compare(m2, big) === 0, "1 MiB binary frame intact");
  const seen = upgrades[upgrades.length - 1]!;
  t.equal(seen["x-trunkgate-peer"], "dev-trunk");
  t.ok(seen["client-cert"]);
  t.equal(await (await h.metrics.registry.getSingleMetric("trunkgate_http_websocket_tunnels")!.get()).values[0]!.value, 1);
  ws.close();
  await within(once(ws, "close"), 10_000, "ws close");
  await waitFor(() => h.proxy.activeRequests() === 0, 5_000, "tunnel closed");
  await waitFor(() => h.logs.access().some((l) => l.path === "/ws" && l.status === 101), 5_000, "access line");
});

t.test("an upstream refusing the upgrade has its answer relayed", async (t) => {
  const ws = client("/forbidden");
  const [, res] = (await within(once(ws, "unexpected-response"), 10_000, "refusal")) as [unknown, import("node:http").IncomingMessage];
  t.equal(res.statusCode, 403);
  t.ok(res.headers["x-request-id"]);
  ws.on("error", () => undefined);
  res.destroy();
});
