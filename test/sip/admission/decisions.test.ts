// Issue 14 part 2: the admission decisions, without sockets: token buckets, per-peer limits with
// their overrides, which requests may be refused and why, the overload detector, the config keys.
import t from "tap";
import { ConfigError, parseConfig } from "../../../src/config/load.js";
import { sipAdmissionSchema } from "../../../src/config/schema/admission.js";
import { peerLimits } from "../../../src/sip/admission/limits.js";
import { OverloadDetector } from "../../../src/sip/admission/overload.js";
import { PeerAdmission, RequestKind, requestKind } from "../../../src/sip/admission/peer-admission.js";
import { TokenBucket } from "../../../src/sip/admission/token-bucket.js";

const defaults = sipAdmissionSchema.parse({});

t.test("token bucket: a burst, then the rate", async (t) => {
  const b = new TokenBucket(10, 3, 0);
  t.same([b.take(0), b.take(0), b.take(0), b.take(0)], [true, true, true, false], "burst of 3 at once");
  t.notOk(b.take(99), "99 ms at 10/s: not yet a whole token");
  t.ok(b.take(100), "100 ms: one token");
  t.notOk(b.take(100));
  t.equal(b.available(10_000), 3, "never more than the burst");
  const back = new TokenBucket(1, 1, 1000);
  t.ok(back.take(1000));
  t.notOk(back.take(500), "backwards: nothing refilled");
  b.drain(10_000);
  t.equal(b.available(10_000), 2, "drain takes a token when there is one");
  b.drain(10_000);
  b.drain(10_000);
  b.drain(10_000);
  t.equal(b.available(10_000), 0, "and never goes below zero");
  b.reconfigure(1, 1, 10_000);
  t.equal(b.available(20_000), 1, "reconfigured: the new size caps the tokens");
});

t.test("which requests are new calls, which always pass", async (t) => {
  t.equal(requestKind("INVITE", false), RequestKind.NewCall);
  t.equal(requestKind("INVITE", true), RequestKind.Other, "a re-INVITE is not a new call");
  for (const m of ["ACK", "BYE", "CANCEL"]) t.equal(requestKind(m, true), RequestKind.Passing, m);
  t.equal(requestKind("CANCEL", false), RequestKind.Passing, "CANCEL has no To tag and still passes");
  for (const m of ["OPTIONS", "UPDATE", "INFO", "REGISTER"]) t.equal(requestKind(m, false), RequestKind.Other, m);
});

t.test("peer limits: sip.admission, with the peer's keys on top", async (t) => {
  const global = sipAdmissionSchema.parse({ maxConcurrentCalls: 100, newCallsPerSecond: 10, requestsPerSecond: 50, requestsBurst: 80, retryAfterSeconds: 7 });
  const plain = peerLimits(global, {});
  t.match(plain, { maxConcurrentCalls: 100, newCallsPerSecond: 10, newCallsBurst: 10, requestsPerSecond: 50, requestsBurst: 80 });
  t.same(plain.retryAfter, [["Retry-After", "7"]]);
  const own = peerLimits(global, { admission: { maxConcurrentCalls: 2, requestsPerSecond: 2.5, retryAfterSeconds: 1 } });
  t.match(own, { maxConcurrentCalls: 2, newCallsPerSecond: 10, requestsPerSecond: 2.5, requestsBurst: 3 }, "its own rate without a burst: the burst of its own rate");
  t.same(own.retryAfter, [["Retry-After", "1"]]);
  t.match(peerLimits(defaults, {}), { maxConcurrentCalls: 0, newCallsPerSecond: 0, requestsPerSecond: 0, newCallsBurst: 1 }, "defaults: off");
});

t.test("decisions: concurrent calls, call rate, request rate, overload", async (t) => {
  const p = new PeerAdmission("a", peerLimits(sipAdmissionSchema.parse({ maxConcurrentCalls: 2, newCallsPerSecond: 1, newCallsBurst: 3, requestsPerSecond: 4 }), {}), 0);
  t.equal(p.decide(RequestKind.NewCall, 0, false), undefined);
  p.callsInSetup++;
  t.equal(p.decide(RequestKind.NewCall, 0, false), undefined);
  p.dialogs++;
  t.equal(p.decide(RequestKind.NewCall, 0, false), "concurrent_calls", "at 2 calls (1 in setup + 1 answered)");
  t.equal(p.decide(RequestKind.Passing, 0, false), undefined, "BYE passes (and spends the 4th request token)");
  t.equal(p.decide(RequestKind.Other, 0, false), "request_rate", "4 requests spent: the 5th is refused");
  t.equal(p.decide(RequestKind.Passing, 0, false), undefined, "and ACK/BYE/CANCEL still pass");
  t.equal(p.decide(RequestKind.Other, 1000, true), undefined, "overload never sheds other requests (re-INVITE, UPDATE, …)");
  p.dialogs--;
  p.callsInSetup--;
  t.equal(p.decide(RequestKind.NewCall, 1000, true), "overload", "overload sheds new calls");
  t.equal(p.decide(RequestKind.NewCall, 1000, false), undefined, "not overloaded: admitted");
  t.equal(p.decide(RequestKind.NewCall, 1000, false), undefined, "under the call limit again (0 calls counted here)");
  t.equal(p.decide(RequestKind.NewCall, 1000, false), "call_rate", "burst 3 at 1/s: 2 spent at 0 ms, 1 back by 1000 ms, 2 spent now");
  t.equal(p.decide(RequestKind.NewCall, 1000, false), "request_rate", "the refused call still spent a request token: 4 of 4 now");
  const calls = new PeerAdmission("b", peerLimits(sipAdmissionSchema.parse({ newCallsPerSecond: 2 }), {}), 0);
  t.same([0, 0, 0].map(() => calls.decide(RequestKind.NewCall, 0, false)), [undefined, undefined, "call_rate"]);
  t.equal(calls.decide(RequestKind.Other, 0, false), undefined, "the call rate applies to new calls only");
  t.equal(calls.decide(RequestKind.NewCall, 250, false), "call_rate");
  t.equal(calls.decide(RequestKind.NewCall, 500, false), undefined, "a token back after 1/rate s");
  calls.reconfigure(peerLimits(sipAdmissionSchema.parse({ newCallsPerSecond: 0 }), {}), 1000);
  t.same([0, 0, 0, 0].map(() => calls.decide(RequestKind.NewCall, 1000, false)), [undefined, undefined, undefined, undefined], "reload to 0: no limit");
});

t.test("overload detector: on at once, off after the hold", async (t) => {
  const d = new OverloadDetector(200, 1000);
  t.notOk(d.observe(150, 0));
  t.ok(d.observe(250, 100), "a late sample: overloaded");
  t.ok(d.overloaded);
  t.notOk(d.observe(10, 200), "calm, but not for the hold yet");
  t.notOk(d.observe(300, 900), "late again restarts the hold");
  t.notOk(d.observe(10, 1000));
  t.notOk(d.observe(10, 1999));
  t.ok(d.observe(10, 2000), "calm for the whole hold: normal again");
  t.notOk(d.overloaded);
  const off = new OverloadDetector(0, 1000);
  t.notOk(off.observe(100_000, 0), "threshold 0: never");
  d.observe(500, 3000);
  d.reconfigure(0, 1000);
  t.notOk(d.overloaded, "switched off by a reload: normal at once");
});

t.test("config: every admission key is checked and named", async (t) => {
  const problems = (yaml: string): string[] => {
    try {
      parseConfig(yaml);
      return [];
    } catch (err) {
      if (err instanceof ConfigError) return err.problems;
      throw err;
    }
  };
  t.match(problems("sip:\n  admission:\n    maxConcurrentCalls: -1\n"), [/^sip\.admission\.maxConcurrentCalls: /]);
  t.match(problems("sip:\n  admission:\n    newCallsBurst: 0\n"), [/^sip\.admission\.newCallsBurst: /]);
  t.match(problems("sip:\n  admission:\n    requestsPerSecond: fast\n"), [/^sip\.admission\.requestsPerSecond: /]);
  t.match(problems("sip:\n  admission:\n    eventLoopLagMs: 1.5\n"), [/^sip\.admission\.eventLoopLagMs: /]);
  t.match(problems("sip:\n  admission:\n    maxCalls: 3\n"), ["sip.admission.maxCalls: unknown key"]);
  t.match(problems("peers:\n  - name: a\n    match: {dnsNames: [a.example]}\n    admission: {requestsBurst: 0}\n"), [/^peers\.0\.admission\.requestsBurst: /]);
  t.match(problems("peers:\n  - name: a\n    match: {dnsNames: [a.example]}\n    admission: {eventLoopLagMs: 5}\n"), ["peers.0.admission.eventLoopLagMs: unknown key"], "overload is process-wide, not per peer");
  const cfg = parseConfig("peers:\n  - name: a\n    match: {dnsNames: [a.example]}\n    admission: {maxConcurrentCalls: 3}\n");
  t.same(cfg.peers[0]!.admission, { maxConcurrentCalls: 3 });
  t.match(cfg.sip.admission, { maxConcurrentCalls: 0, retryAfterSeconds: 5, eventLoopLagMs: 0, lagSampleMs: 100 });
});
