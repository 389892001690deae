// Issue 14 part 2: a peer's concurrent calls can never leak. Every way a call ends takes it off the
// count: final non-2xx, 2xx then BYE, dialog expiry, eviction, the trunk's connection lost, the core
// answering the INVITE itself, and (should a path be missed) the setup sweep.
import t from "tap";
import { sipAdmissionSchema } from "../../../src/config/schema/admission.js";
import { CallTracker, setupKey } from "../../../src/sip/admission/call-tracker.js";
import { peerLimits } from "../../../src/sip/admission/limits.js";
import { PeerAdmission } from "../../../src/sip/admission/peer-admission.js";
import { DialogTable, dialogKey, type Dialog, type DialogListener } from "../../../src/sip/dialog/dialogs.js";

const limits = peerLimits(sipAdmissionSchema.parse({ maxConcurrentCalls: 10 }), {});

t.test("calls in setup: started once, ended by any of their ends", async (t) => {
  const a = new PeerAdmission("a", limits, 0);
  const b = new PeerAdmission("b", limits, 0);
  const calls = new CallTracker();
  t.ok(calls.started(setupKey("c1", "f1"), a, 1, 0));
  t.notOk(calls.started(setupKey("c1", "f1"), a, 1, 0), "a retransmission is the same call");
  t.ok(calls.started(setupKey("c1", "f2"), a, 1, 0), "same Call-ID, another From tag: another call");
  t.ok(calls.started(setupKey("c2", "f1"), a, 2, 0));
  t.ok(calls.started(setupKey("c3", undefined), b, 2, 0));
  t.equal(a.activeCalls, 3);
  t.equal(b.activeCalls, 1);
  calls.ended(setupKey("c1", "f1"));
  calls.ended(setupKey("c1", "f1"));
  t.equal(a.activeCalls, 2, "ended once, however often told");
  t.equal(calls.connectionClosed(2), 2, "connection 2 carried two calls in setup");
  t.equal(a.activeCalls, 1);
  t.equal(b.activeCalls, 0);
  t.equal(calls.connectionClosed(2), 0, "closing twice ends nothing more");
  t.ok(calls.started(setupKey("c4", "f"), a, 3, 5000));
  t.equal(calls.sweep(6000, 2000), 1, "the call started at 0 and never ended is swept");
  t.equal(a.activeCalls, 1);
  t.equal(calls.sweep(8000, 2000), 1);
  t.equal(a.activeCalls, 0);
  t.equal(calls.size, 0);
  calls.ended(setupKey("c1", "f2"));
  t.equal(a.activeCalls, 0, "ending a swept call does not go below zero");
});

/** A dialog table whose events count answered calls per peer, as the proxy wires it. */
function table(maxDialogs: number): { dialogs: DialogTable; peers: Map<string, PeerAdmission>; added: number; removed: number } {
  const peers = new Map([["a", new PeerAdmission("a", limits, 0)], ["b", new PeerAdmission("b", limits, 0)]]);
  const state = { dialogs: new DialogTable(1000, () => undefined, maxDialogs), peers, added: 0, removed: 0 };
  const listener: DialogListener = {
    dialogAdded(d) {
      state.added++;
      if (d.initiator === 0) peers.get(d.peer)!.dialogs++;
    },
    dialogRemoved(d) {
      state.removed++;
      if (d.initiator === 0) peers.get(d.peer)!.dialogs--;
    },
  };
  state.dialogs.listener = listener;
  return state;
}

function dialog(callId: string, peer: string, now: number, initiator: 0 | 1 = 0): Dialog {
  return { key: dialogKey(callId, "f", "t"), callId, service: "s", targetIndex: 0, peer, connectionId: 1, initiator, lastUsed: now };
}

t.test("answered calls: the dialog table tells of every dialog that leaves", async (t) => {
  const s = table(3);
  s.dialogs.confirm(dialog("d1", "a", 0));
  s.dialogs.confirm(dialog("d1", "a", 0));
  t.equal(s.peers.get("a")!.dialogs, 1, "a re-confirmed dialog (2xx retransmission) is counted once");
  s.dialogs.confirm(dialog("d2", "a", 0));
  s.dialogs.confirm(dialog("d3", "b", 0));
  s.dialogs.confirm(dialog("d4", "b", 0, 1));
  t.equal(s.peers.get("a")!.dialogs, 1, "d1 evicted at maxDialogs 3 (oldest first): off the count");
  t.equal(s.peers.get("b")!.dialogs, 1, "a call toward the trunk (initiator 1) is not the trunk's call");
  s.dialogs.end(dialogKey("d2", "t", "f"));
  s.dialogs.end(dialogKey("d2", "t", "f"));
  t.equal(s.peers.get("a")!.dialogs, 0, "BYE: ended once");
  s.dialogs.confirm(dialog("d5", "a", 500));
  t.equal(s.dialogs.sweep(1200), 2, "d3 and d4 idle past 1000 ms");
  t.equal(s.peers.get("b")!.dialogs, 0, "expired: off the count");
  t.equal(s.peers.get("a")!.dialogs, 1);
  s.dialogs.clear();
  t.equal(s.peers.get("a")!.dialogs, 0, "clear (shutdown): off the count");
  t.equal(s.added, s.removed, "every dialog added was removed");
});

t.test("a flood of calls with every kind of end leaves every count at 0", async (t) => {
  const s = table(50);
  const calls = new CallTracker();
  const a = s.peers.get("a")!;
  let now = 0;
  let lowest = 0;
  for (let i = 0; i < 2000; i++) {
    now += 1;
    const key = setupKey(`call-${i}`, "f");
    calls.started(key, a, i % 7, now);
    switch (i % 5) {
      case 0: // answered, then BYE
        calls.ended(key);
        s.dialogs.confirm(dialog(`call-${i}`, "a", now));
        s.dialogs.end(dialogKey(`call-${i}`, "f", "t"));
        break;
      case 1: // busy / cancelled
        calls.ended(key);
        break;
      case 2: // answered, never hung up (expiry or eviction)
        calls.ended(key);
        s.dialogs.confirm(dialog(`call-${i}`, "a", now));
        break;
      case 3: // the trunk's connection goes away before any answer
        calls.connectionClosed(i % 7);
        break;
      default: // never heard of again (left to the sweep)
        break;
    }
    lowest = Math.min(lowest, a.callsInSetup, a.dialogs);
  }
  t.equal(lowest, 0, "never below zero");
  s.dialogs.sweep(now + 2000);
  calls.sweep(now + 2000, 1000);
  t.equal(a.callsInSetup, 0, "no call in setup left");
  t.equal(a.dialogs, 0, "no answered call left");
  t.equal(calls.size, 0);
  t.equal(s.added, s.removed);
});
