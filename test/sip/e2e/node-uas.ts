// A small upstream UAS for end-to-end tests: a real TCP (or TLS) listener that frames and parses
// what the proxy forwards, records it, and answers every request but ACK: INVITE with
// `inviteStatus` (486 by default: no dialog to tear down), anything else with 200.
import { once } from "node:events";
import { createServer, type AddressInfo, type Server, type Socket } from "node:net";
import { SipStreamFramer } from "../../../src/sip/transport/framing.js";
import { parseMessage, type SipRequest } from "../../../src/sip/parse/index.js";
import { buildResponse } from "../../../src/sip/message/build.js";

export interface NodeUas {
  port: number;
  /** Requests received, in order, with the local address of the connection they came on. */
  readonly requests: { req: SipRequest; socket: Socket }[];
  /** Resolves with the first request matching `pred` (bounded). */
  waitFor(pred: (r: SipRequest) => boolean, timeoutMs?: number): Promise<{ req: SipRequest; socket: Socket }>;
  close(): Promise<void>;
}

export async function startNodeUas(o: { host?: string; inviteStatus?: number } = {}): Promise<NodeUas> {
  const requests: { req: SipRequest; socket: Socket }[] = [];
  let waiters: (() => void)[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => undefined);
    const framer = new SipStreamFramer();
    socket.on("data", (chunk: Buffer) => {
      for (const ev of framer.push(chunk)) {
        if (ev.type === "ping") socket.write("\r\n");
        if (ev.type !== "message") continue;
        const r = parseMessage(ev.message);
        if (!r.ok || r.message.kind !== "request") continue;
        const req = r.message;
        requests.push({ req, socket });
        if (req.method !== "ACK") {
          const status = req.method === "INVITE" ? (o.inviteStatus ?? 486) : 200;
          socket.write(buildResponse(req, status, status === 200 ? "OK" : status === 486 ? "Busy Here" : "Error"));
        }
      }
      const w = waiters;
      waiters = [];
      for (const f of w) f();
    });
  });
  server.listen(0, o.host ?? "127.0.0.1");
  await once(server, "listening");
  return {
    port: (server.address() as AddressInfo).port,
    requests,
    async waitFor(pred, timeoutMs = 10_000) {
      const end = Date.now() + timeoutMs;
      for (;;) {
        const hit = requests.find((r) => pred(r.req));
        if (hit !== undefined) return hit;
        const left = end - Date.now();
        if (left <= 0) throw new Error("the upstream UAS did not receive the expected request");
        await new Promise<void>((resolve) => {
          const tm = setTimeout(resolve, left);
          waiters.push(() => {
            clearTimeout(tm);
            resolve();
          });
        });
      }
    },
    close() {
      for (const s of sockets) s.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
