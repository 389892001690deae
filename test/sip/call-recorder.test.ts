// Call records from call events: one per INVITE dialog, who hung up, no record lost on shutdown.
import t from "tap";
import { CallRecorder } from "../../src/sip/call-recorder.js";
import { parseMessage, type SipRequest } from "../../src/sip/parse/index.js";
import type { AnsweredCall, CallRecordInput } from "../../src/store/call-records.js";

function invite(callId: string): SipRequest {
  const r = parseMessage(
    Buffer.from(
      [
        "INVITE sip:+4930123456@gw SIP/2.0",
        "Via: SIP/2.0/TLS 192.0.2.1;branch=z9hG4bK1",
        "From: <sip:+4989111222@t>;tag=a",
        "To: <sip:+4930123456@gw>",
        `Call-ID: ${callId}`,
        "CSeq: 1 INVITE",
        "Content-Length: 0",
        "",
        "",
      ].join("\r\n"),
    ),
  );
  if (!r.ok || r.message.kind !== "request") throw new Error("bad");
  return r.message;
}

function setup() {
  let now = Date.parse("2026-01-01T10:00:00Z");
  const records: CallRecordInput[] = [];
  const journal: AnsweredCall[] = [];
  const rec = new CallRecorder(
    { record: (r) => (records.push(r), true), answered: (c) => (journal.push(c), true) },
    { now: () => new Date(now), assumeInternational: true, maxCallMs: 3600_000 },
  );
  return { rec, records, journal, advance: (ms: number) => (now += ms) };
}

t.test("an answered call is recorded when the BYE completes, with numbers and who hung up", async (t) => {
  const { rec, records, advance } = setup();
  rec.inviteCompleted({ req: invite("c1"), direction: 0, status: 200, elapsedMs: 3000, peer: "trunk-a", service: "svc-b" });
  t.equal(records.length, 0, "nothing until it ends");
  advance(60_000);
  rec.byeCompleted("c1", 1); // BYE from the upstream side: the callee hung up
  t.equal(records.length, 1);
  const r = records[0]!;
  t.same(
    [r.callId, r.finalStatus, r.hangupSide, r.service, r.peer, r.callingNumber, r.calledNumber],
    ["c1", 200, "callee", "svc-b", "trunk-a", "+4989111222", "+4930123456"],
  );
  t.equal(r.endedAt!.getTime() - r.answeredAt!.getTime(), 60_000);
  t.equal(r.answeredAt!.getTime() - r.startedAt.getTime(), 3000);
  rec.byeCompleted("c1", 0);
  t.equal(records.length, 1, "a second BYE records nothing");
});

t.test("a failed call is recorded at once; the caller hanging up is 'caller'", async (t) => {
  const { rec, records } = setup();
  rec.inviteCompleted({ req: invite("c2"), direction: 0, status: 486, elapsedMs: 100, peer: "p", service: "s" });
  t.same([records[0]!.finalStatus, records[0]!.answeredAt, records[0]!.hangupSide], [486, null, "none"]);
  rec.inviteCompleted({ req: invite("c3"), direction: 0, status: 200, elapsedMs: 1, peer: "p", service: "s" });
  rec.byeCompleted("c3", 0);
  t.equal(records[1]!.hangupSide, "caller");
});

t.test("calls whose BYE never comes are recorded by the sweep and on shutdown", async (t) => {
  const { rec, records, advance } = setup();
  rec.inviteCompleted({ req: invite("lost"), direction: 0, status: 200, elapsedMs: 1, peer: "p", service: "s" });
  rec.inviteCompleted({ req: invite("up"), direction: 0, status: 200, elapsedMs: 1, peer: "p", service: "s" });
  advance(30 * 60_000);
  t.equal(rec.sweep(), 0, "not idle long enough");
  advance(31 * 60_000);
  rec.inviteCompleted({ req: invite("late"), direction: 0, status: 200, elapsedMs: 1, peer: "p", service: "s" });
  t.equal(rec.sweep(), 2);
  t.same(records.map((r) => [r.callId, r.endedAt, r.hangupSide]), [["lost", null, "none"], ["up", null, "none"]]);
  rec.flushLive();
  t.equal(records.length, 3);
  t.equal(rec.liveCalls, 0);
});

t.test("an answered call is journaled at once (numbers and times as its record will have), a failed one is not", async (t) => {
  const { rec, records, journal, advance } = setup();
  rec.inviteCompleted({ req: invite("j1"), direction: 0, status: 486, elapsedMs: 100, peer: "p", service: "s" });
  t.equal(journal.length, 0, "no journal entry for an unanswered call");
  rec.inviteCompleted({ req: invite("j2"), direction: 0, status: 200, elapsedMs: 2000, peer: "trunk-a", service: "svc-b" });
  t.equal(journal.length, 1, "journaled when answered, before any BYE");
  const j = journal[0]!;
  t.same(
    [j.journal, j.callId, j.finalStatus, j.service, j.peer, j.callingNumber, j.calledNumber],
    [true, "j2", 200, "svc-b", "trunk-a", "+4989111222", "+4930123456"],
  );
  t.equal(j.answeredAt.getTime() - j.startedAt.getTime(), 2000);
  advance(5000);
  rec.byeCompleted("j2", 0);
  const r = records[1]!;
  t.same([r.startedAt, r.answeredAt], [j.startedAt, j.answeredAt], "the record carries the journaled times");
});
