// The audit's SIP session hangs up after its last message (often the ACK for the test INVITE's
// final answer). Closing must not drop what is still queued for the wire: on a loaded machine the
// carrier in test/audit/audit.test.ts never got its ACK because close() destroyed the socket right
// after end(). Here the peer is made slow on purpose (it reads only after close() was called), so
// the last message is still queued when the session closes.
import { once } from "node:events";
import { connect, createServer, type TLSSocket } from "node:tls";
import t from "tap";
import { SipSession } from "../../src/audit/sip-session.js";
import { makeTestPki } from "../helpers/pki.js";
import { within } from "../helpers/time.js";

const pki = await makeTestPki();
t.teardown(() => pki.cleanup());

t.test("close() delivers every byte sent before it, then ends the connection", async (t) => {
  const server = createServer({ cert: pki.serverEcdsa.cert, key: pki.serverEcdsa.key });
  const accepted = once(server, "secureConnection") as Promise<[TLSSocket]>;
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as { port: number }).port;
  const socket = connect({ host: "127.0.0.1", port, ca: pki.ca.cert, servername: "localhost" });
  t.teardown(() => {
    socket.destroy();
    server.close();
  });
  await within(once(socket, "secureConnect"), 30_000, "TLS connection");
  const [peer] = await within(accepted, 30_000, "accepted connection");
  t.teardown(() => peer.destroy());
  peer.pause(); // a carrier that is slow to read: the auditor's writes queue up

  // More than the socket buffers take at once, so the tail is still queued in the process.
  const session = new SipSession(socket);
  const bulk = Buffer.alloc(8 * 1024 * 1024, "x");
  const last = Buffer.from("ACK sip:+15551230000@127.0.0.1 SIP/2.0\r\nContent-Length: 0\r\n\r\n");
  session.send(bulk);
  session.send(last);
  session.close();

  let received = 0;
  let tail = Buffer.alloc(0);
  peer.on("data", (d: Buffer) => {
    received += d.length;
    tail = Buffer.concat([tail, d]).subarray(-last.length);
  });
  peer.on("error", () => {});
  const ended = new Promise<void>((r) => {
    peer.once("end", r);
    peer.once("close", r);
  });
  peer.resume();
  await within(ended, 60_000, "the auditor's end of the connection");
  t.equal(received, bulk.length + last.length, "every byte arrived");
  t.equal(tail.toString(), last.toString(), "the last message (the ACK) arrived whole");
});
