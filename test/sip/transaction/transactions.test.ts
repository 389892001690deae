// RFC 3261 §17 (+ RFC 6026) transaction state machines, driven by a manual clock.
import t from "tap";
import { FifoTimers, ManualPlatform } from "../../../src/sip/timer/timers.js";
import { InviteClientTransaction } from "../../../src/sip/transaction/invite-client.js";
import { InviteServerTransaction } from "../../../src/sip/transaction/invite-server.js";
import { NonInviteClientTransaction } from "../../../src/sip/transaction/non-invite-client.js";
import { NonInviteServerTransaction } from "../../../src/sip/transaction/non-invite-server.js";
import { AckAction, ClientAction, ClientState, SendResult, ServerState, type TxTiming } from "../../../src/sip/transaction/types.js";

const RELIABLE: TxTiming = { t1: 500, t2: 4000, t4: 5000, reliable: true, timerC: 180_001 };
const UNRELIABLE: TxTiming = { ...RELIABLE, reliable: false };

// Transitions return what to do (ClientAction, SendResult, AckAction); only timers call the
// owner. The helpers below apply the returned actions as the transaction layer does (layer.ts),
// recording them as events next to the owner's, so each test reads as the event sequence.

function clientOwner() {
  const ev: string[] = [];
  return {
    ev,
    retransmitRequest: () => ev.push("retransmit"),
    clientFailed: (_tx: unknown, why: string) => ev.push(`failed ${why}`),
    clientTimerC: () => ev.push("timerC"),
    clientTerminated: () => ev.push("terminated"),
  };
}

type AnyClient = InviteClientTransaction<unknown> | NonInviteClientTransaction<unknown>;

/** A response reaches the client transaction; its action applied as the layer applies it. */
function receive(o: { ev: string[] }, tx: AnyClient, status: number): void {
  switch (tx.receiveResponse(status)) {
    case ClientAction.PassUp:
      o.ev.push(`response ${status}`);
      break;
    case ClientAction.PassUpAccepted:
      o.ev.push(`response ${status}`);
      (tx as InviteClientTransaction<unknown>).settleAccepted();
      break;
    case ClientAction.AckPassUpCompleted:
      o.ev.push("ack", `response ${status}`);
      tx.settleCompleted();
      break;
    case ClientAction.PassUpCompleted:
      o.ev.push(`response ${status}`);
      tx.settleCompleted();
      break;
    case ClientAction.Ack:
      o.ev.push("ack");
      break;
    default:
      break;
  }
}

function serverOwner() {
  const ev: string[] = [];
  return {
    ev,
    retransmitResponse: () => ev.push("retransmit"),
    ackTimeout: () => ev.push("timerH"),
    serverTerminated: () => ev.push("terminated"),
  };
}

type AnyServer = InviteServerTransaction<unknown> | NonInviteServerTransaction<unknown>;

/** A response offered to the server transaction; settled as the layer does (no compact record here). */
function send(tx: AnyServer, status: number): boolean {
  const r = tx.sendResponse(status, Buffer.from(String(status)));
  if (r === SendResult.SentThenEnd || r === SendResult.SentAccepted) tx.settle();
  return r !== SendResult.Refused;
}

function retransmission(o: { ev: string[] }, tx: AnyServer): void {
  if (tx.receiveRequestRetransmission()) o.ev.push("retransmit");
}

function ack(o: { ev: string[] }, tx: InviteServerTransaction<unknown>): void {
  if (tx.receiveAck() === AckAction.Forward) o.ev.push("ack-accepted");
}

function setup() {
  const p = new ManualPlatform();
  return { p, timers: new FifoTimers(p) };
}

t.test("INVITE client, reliable: Timer B fires at 64·T1 when nothing is heard", async (t) => {
  const { p, timers } = setup();
  const o = clientOwner();
  const tx = new InviteClientTransaction("b", null, o, timers, RELIABLE);
  tx.start();
  p.advance(31_999);
  t.same(o.ev, []);
  p.advance(1);
  t.same(o.ev, ["failed timeout", "terminated"]);
  t.equal(tx.state, ClientState.Terminated);
});

t.test("INVITE client: provisional stops Timer B, restarts Timer C; non-2xx → ACK, Completed → Terminated (D = 0)", async (t) => {
  const { p, timers } = setup();
  const o = clientOwner();
  const tx = new InviteClientTransaction("b", null, o, timers, RELIABLE);
  tx.start();
  p.advance(1000);
  receive(o, tx, 180);
  t.equal(tx.state, ClientState.Proceeding);
  t.ok(tx.provisionalSeen);
  p.advance(60_000);
  t.same(o.ev, ["response 180"], "no Timer B once Proceeding");
  p.advance(120_001);
  t.same(o.ev, ["response 180", "timerC"], "Timer C 180001 ms after the last provisional");
  receive(o, tx, 486);
  t.same(o.ev.slice(2), ["ack", "response 486", "terminated"]);
});

t.test("INVITE client: 2xx → Accepted, 2xx retransmissions passed on, Timer M ends it", async (t) => {
  const { p, timers } = setup();
  const o = clientOwner();
  const tx = new InviteClientTransaction("b", null, o, timers, RELIABLE);
  tx.start();
  receive(o, tx, 200);
  t.equal(tx.state, ClientState.Accepted);
  receive(o, tx, 200);
  receive(o, tx, 486);
  t.same(o.ev, ["response 200", "response 200"], "2xx retransmission passed, late non-2xx dropped");
  p.advance(32_000);
  t.same(o.ev, ["response 200", "response 200", "terminated"]);
});

t.test("INVITE client, unreliable: Timer A retransmits doubling; Timer D 32 s absorbs final retransmissions", async (t) => {
  const { p, timers } = setup();
  const o = clientOwner();
  const tx = new InviteClientTransaction("b", null, o, timers, UNRELIABLE);
  tx.start();
  p.advance(500 + 1000 + 2000);
  t.same(o.ev, ["retransmit", "retransmit", "retransmit"]);
  receive(o, tx, 503);
  receive(o, tx, 503);
  t.same(o.ev.slice(3), ["ack", "response 503", "ack"], "retransmitted final: ACK again, not passed up");
  p.advance(32_000);
  t.equal(o.ev.at(-1), "terminated");
});

t.test("INVITE client: transport error fails it once", async (t) => {
  const { timers } = setup();
  const o = clientOwner();
  const tx = new InviteClientTransaction("b", null, o, timers, RELIABLE);
  tx.start();
  tx.transportError();
  tx.transportError();
  t.same(o.ev, ["failed transport", "terminated"]);
});

t.test("non-INVITE client: Timer F, and E retransmissions capped at T2 (unreliable)", async (t) => {
  const { p, timers } = setup();
  const o = clientOwner();
  const tx = new NonInviteClientTransaction("b", null, o, timers, UNRELIABLE);
  tx.start();
  p.advance(500 + 1000 + 2000 + 4000 + 4000);
  t.equal(o.ev.filter((e) => e === "retransmit").length, 5);
  p.advance(32_000);
  t.ok(o.ev.includes("failed timeout"));
  t.equal(tx.state, ClientState.Terminated);
});

t.test("non-INVITE client, reliable: final → Completed → Terminated at once (K = 0)", async (t) => {
  const { timers } = setup();
  const o = clientOwner();
  const tx = new NonInviteClientTransaction("b", null, o, timers, RELIABLE);
  tx.start();
  receive(o, tx, 100);
  receive(o, tx, 200);
  receive(o, tx, 200);
  t.same(o.ev, ["response 100", "response 200", "terminated"]);
});

t.test("INVITE server: non-2xx → Completed; ACK → Confirmed → Terminated (I = 0)", async (t) => {
  const { timers } = setup();
  const o = serverOwner();
  const tx = new InviteServerTransaction("k", null, o, timers, RELIABLE);
  t.ok(send(tx, 100));
  retransmission(o, tx);
  t.same(o.ev, ["retransmit"], "INVITE retransmission → last provisional again");
  t.ok(send(tx, 487));
  t.equal(tx.state, ServerState.Completed);
  t.notOk(send(tx, 200), "no second final");
  ack(o, tx);
  t.same(o.ev, ["retransmit", "terminated"]);
});

t.test("INVITE server: Timer H when no ACK comes; Timer G retransmits (unreliable)", async (t) => {
  const { p, timers } = setup();
  const o = serverOwner();
  const tx = new InviteServerTransaction("k", null, o, timers, UNRELIABLE);
  send(tx, 500);
  p.advance(500 + 1000 + 2000 + 4000);
  t.equal(o.ev.filter((e) => e === "retransmit").length, 4);
  p.advance(32_000);
  t.ok(o.ev.includes("timerH"));
  t.equal(o.ev.at(-1), "terminated");
});

t.test("INVITE server: 2xx → Accepted (RFC 6026): 2xx retransmissions allowed, ACKs passed on, Timer L", async (t) => {
  const { p, timers } = setup();
  const o = serverOwner();
  const tx = new InviteServerTransaction("k", null, o, timers, RELIABLE);
  t.ok(send(tx, 200));
  t.ok(send(tx, 200), "2xx retransmission forwarded");
  t.notOk(send(tx, 500), "no non-2xx after a 2xx");
  ack(o, tx);
  t.same(o.ev, ["ack-accepted"]);
  p.advance(32_000);
  t.same(o.ev, ["ack-accepted", "terminated"]);
});

t.test("non-INVITE server: final → Terminated at once over TLS/TCP (J = 0), Timer J 64·T1 otherwise", async (t) => {
  const { p, timers } = setup();
  const o = serverOwner();
  const tx = new NonInviteServerTransaction("k", null, o, timers, RELIABLE);
  send(tx, 200);
  t.same(o.ev, ["terminated"]);
  const o2 = serverOwner();
  const tx2 = new NonInviteServerTransaction("k", null, o2, timers, UNRELIABLE);
  send(tx2, 200);
  retransmission(o2, tx2);
  t.same(o2.ev, ["retransmit"]);
  p.advance(32_000);
  t.same(o2.ev, ["retransmit", "terminated"]);
});
