// Issue 10 item 4: every SIP log line carries one `service` key (the application's); the SIP
// upstream service is `upstreamService`, so jq and log pipelines filtering on the application
// name keep every SIP line.
import t from "tap";
import { sipRequest } from "../e2e/harness.js";
import { answer, makeCore } from "./core-harness.js";
import type { SipRequest } from "../../../src/sip/parse/index.js";

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
