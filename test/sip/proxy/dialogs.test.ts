// Issue 9 item 7: dialogs keyed by Call-ID and both tags, created only for confirmed dialogs (2xx
// to an INVITE), bounded by sip.limits.maxDialogs (oldest evicted, counted).
import t from "tap";
import { sipRequest } from "../e2e/harness.js";
import { answer, makeCore } from "./core-harness.js";
import type { SipRequest, SipResponse } from "../../../src/sip/parse/index.js";

const URI = "sip:+4930123456@127.0.0.1:5061";

function call(h: ReturnType<typeof makeCore>, callId: string, fromTag: string, toTag: string): void {
  h.fromTrunk(sipRequest({ method: "INVITE", uri: URI, callId, fromTag }));
  const inv = h.up(0).requests().find((r) => r.method === "INVITE" && r.callId === callId && r.from.tag === fromTag)!;
  h.fromUpstream(0, answer(inv, 200, "OK", { toTag }));
  h.up(0).take();
  h.trunk.take();
}

t.test("a flood of INVITEs answered 486 or never answered leaves no dialog", async (t) => {
  const h = makeCore({ srtp: false, targets: 1 });
  for (let i = 0; i < 2000; i++) {
    h.fromTrunk(sipRequest({ method: "INVITE", uri: URI, callId: `flood-${i}` }));
    const inv = h.up(0).takeOne() as SipRequest;
    if (i % 2 === 0) {
      h.fromUpstream(0, answer(inv, 486, "Busy Here", { toTag: `b${i}` }));
      h.up(0).take(); // hop-by-hop ACK
    }
    h.trunk.take();
  }
  t.equal(h.dialogs.size, 0, "no dialog");
  h.platform.advance(64 * 500 + 1); // Timer B: 408 for the unanswered half
  h.platform.advance(64 * 500 + 1); // Timer H: nobody ACKs the non-2xx finals
  t.equal(h.dialogs.size, 0, "still none");
  t.equal(h.core.transactions, 0, "and no transaction left");
  t.equal(h.core.clientTransactions, 0);
});

t.test("the same Call-ID with other tags is another dialog: one BYE ends only its own", async (t) => {
  const h = makeCore({ srtp: false, targets: 1 });
  call(h, "same", "fa", "ua");
  call(h, "same", "fb", "ub");
  t.equal(h.dialogs.size, 2, "two dialogs for one Call-ID");
  h.fromTrunk(sipRequest({ method: "BYE", uri: URI, callId: "same", fromTag: "fa", toTag: "ua", cseq: 2 }));
  h.fromUpstream(0, answer(h.up(0).takeOne() as SipRequest, 200, "OK"));
  t.equal((h.trunk.takeOne() as SipResponse).status, 200);
  t.equal(h.dialogs.size, 1, "the other dialog lives on");
  // a BYE sent by the callee (tags swapped) finds the same dialog
  h.fromUpstream(0, [
    "BYE sip:caller@192.0.2.9:5999;transport=tls SIP/2.0", "Via: SIP/2.0/TCP 10.0.0.1:5060;branch=z9hG4bK-ub", "Max-Forwards: 70",
    "From: <sip:callee@127.0.0.1>;tag=ub", "To: <sip:caller@dev-trunk.local>;tag=fb", "Call-ID: same", "CSeq: 1 BYE", "Content-Length: 0", "", "",
  ].join("\r\n"));
  const bye = h.trunk.requests().find((r) => r.method === "BYE");
  t.ok(bye, "the callee's BYE reached the trunk by the dialog table");
  h.fromTrunk(answer(bye!, 200, "OK"));
  t.equal(h.dialogs.size, 0, "ended");
});

t.test("past sip.limits.maxDialogs the oldest dialog is evicted and counted", async (t) => {
  const h = makeCore({ srtp: false, targets: 1, maxDialogs: 3 });
  for (let i = 0; i < 5; i++) call(h, `bound-${i}`, `f${i}`, `u${i}`);
  t.equal(h.dialogs.size, 3, "bounded");
  const metrics = await h.registry.metrics();
  t.match(metrics, /trunkgate_sip_dialogs_evicted_total 2/);
  t.match(metrics, /trunkgate_sip_active_calls 3/);
  // the oldest are gone: a BYE without Route for call 0 no longer finds its dialog; call 4's does
  t.equal(h.dialogs.get("bound-4\nf4\nu4", 0)?.callId, "bound-4");
  t.equal(h.dialogs.get("bound-0\nf0\nu0", 0), undefined);
});
