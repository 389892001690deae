// Issue 10 item 4: every SIP log line carries one `service` key (the application's); the SIP
// upstream service is `upstreamService`, so jq and log pipelines filtering on the application
// name keep every SIP line.
import t from "tap";
import { sipRequest } from "../e2e/harness.js";
import { answer, makeCore } from "./core-harness.js";
import { REDACT_PATHS } from "../../../src/observability/redaction.js";
import type { SipRequest } from "../../../src/sip/parse/index.js";
import { TRANSACTION_LOG_KEYS } from "../../../src/sip/proxy/log.js";

const URI = "sip:+4930123456@127.0.0.1:5061";

function serviceKeys(line: string): number {
  return line.split('"service":').length - 1;
}

t.test("transaction lines: one service key, the upstream service under upstreamService", async (t) => {
  const h = makeCore({ srtp: false, targets: 1 });
  h.fromTrunk(sipRequest({ method: "INVITE", uri: URI }));
  h.fromUpstream(0, answer(h.up(0).takeOne() as SipRequest, 486, "Busy Here", { toTag: "b" }));
  // a request from upstream answered statelessly (to trunkgate itself)
  h.fromUpstream(0, [
    "OPTIONS sip:127.0.0.1:5061 SIP/2.0", "Via: SIP/2.0/TCP 10.0.0.1:5060;branch=z9hG4bK-o1", "Max-Forwards: 70",
    "From: <sip:svc@10.0.0.1>;tag=a", "To: <sip:127.0.0.1:5061>", "Call-ID: o1", "CSeq: 1 OPTIONS", "Content-Length: 0", "", "",
  ].join("\r\n"));
  const lines = h.logs.raw.filter((l) => l.includes('"sip_transaction"'));
  t.equal(lines.length, 2, "two transaction lines");
  for (const l of lines) {
    t.equal(serviceKeys(l), 1, "exactly one service key");
    const parsed = JSON.parse(l) as Record<string, unknown>;
    t.equal(parsed.service, "trunkgate", "the application's name");
    t.equal(parsed.upstreamService, "svc", "the SIP upstream service");
  }
});

// The transaction lines skip pino's redaction (its cost per line is most of a line's): they are
// safe only while every key they carry is one of TRANSACTION_LOG_KEYS and none of those is a name
// the redaction censors.
t.test("transaction lines: only the listed keys, none of them a redacted name", async (t) => {
  const redacted = new Set(REDACT_PATHS.map((p) => p.replace(/^\*\./, "")).filter((p) => !p.includes(".")));
  for (const k of TRANSACTION_LOG_KEYS) t.notOk(redacted.has(k), `${k} is not a redacted name`);
  const allowed = new Set<string>([...TRANSACTION_LOG_KEYS, "level", "time", "service", "msg"]);
  const h = makeCore({ srtp: false, targets: 1 });
  h.fromTrunk(sipRequest({ method: "INVITE", uri: URI, callId: "keys-1", fromTag: "f" }));
  const fwd = h.up(0).takeOne() as SipRequest;
  h.fromUpstream(0, answer(fwd, 180, "Ringing", { toTag: "u" }));
  h.fromUpstream(0, answer(fwd, 200, "OK", { toTag: "u" }));
  h.fromTrunk(sipRequest({ method: "BYE", uri: URI, callId: "keys-1", fromTag: "f", toTag: "u", cseq: 2 }));
  const bye = h.up(0).take().pop() as SipRequest;
  h.fromUpstream(0, answer(bye, 200, "OK"));
  h.fromTrunk(sipRequest({ method: "INVITE", uri: "sip:+4930123456@elsewhere.example", maxForwards: 0 }));
  const lines = h.logs.raw.filter((l) => l.includes('"sip_transaction"'));
  t.ok(lines.length >= 3, `INVITE, BYE and a refusal logged (${lines.length} lines)`);
  for (const l of lines) {
    for (const k of Object.keys(JSON.parse(l) as object)) t.ok(allowed.has(k), `${k} is a listed key`);
    t.notMatch(l, /4930123456|keys-1/, "no number, no Call-ID in clear");
  }
});
