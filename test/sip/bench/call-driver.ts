// One full call (INVITE, 180, 200, ACK, BYE, 200) driven through the in-memory core harness: the
// unit of work of core-cpu.ts, core-heap.ts and bench/core-cpu-ab.mjs. The harness functions come in
// as parameters so the A/B script can drive two compiled trees, each with its own harness and parser.
import type { SipRequest } from "../../../src/sip/parse/index.js";
import type { sipRequest as SipRequestFn } from "../e2e/harness.js";
import type { answer as AnswerFn, makeCore } from "../proxy/core-harness.js";

type CoreHarness = ReturnType<typeof makeCore>;

const URI = "sip:+4930123456@127.0.0.1:5061";

/**
 * Returns a function that runs one more call. `keepLogLines`: how many captured log lines may pile up
 * before they are dropped (0: after every call, so a heap measurement does not count them).
 */
export function callDriver(h: CoreHarness, sipRequest: typeof SipRequestFn, answer: typeof AnswerFn, keepLogLines = 1000): () => void {
  h.logs.lines.length = 0;
  let n = 0;
  return function oneCall(): void {
    const id = ++n;
    h.fromTrunk(sipRequest({ method: "INVITE", uri: URI, branch: `z9hG4bK-b${id}`, callId: `bench-${id}`, fromTag: "f" }));
    const fwd = h.up(0).takeOne() as SipRequest;
    h.fromUpstream(0, answer(fwd, 180, "Ringing", { toTag: "u" }));
    h.fromUpstream(0, answer(fwd, 200, "OK", { toTag: "u" }));
    h.trunk.take();
    h.fromTrunk(sipRequest({ method: "ACK", uri: URI, branch: `z9hG4bK-a${id}`, callId: `bench-${id}`, fromTag: "f", toTag: "u" }));
    h.fromTrunk(sipRequest({ method: "BYE", uri: URI, branch: `z9hG4bK-y${id}`, callId: `bench-${id}`, fromTag: "f", toTag: "u", cseq: 2 }));
    const up = h.up(0).take();
    h.fromUpstream(0, answer(up[up.length - 1] as SipRequest, 200, "OK"));
    h.trunk.take();
    if (h.logs.lines.length > keepLogLines) h.logs.lines.length = h.logs.raw.length = 0;
  };
}
