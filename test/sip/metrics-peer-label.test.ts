// Issue 13 item 4: the SIP metrics' `peer` label is bounded by the configuration: a configured
// peer's name, anything else (an upstream's message, an unconfigured name) "unknown".
import t from "tap";
import { Registry } from "prom-client";
import { INBOUND, OUTBOUND, SipMetrics } from "../../src/sip/metrics.js";

t.test("per-peer request and response counts; unconfigured names fall into unknown", async (t) => {
  const registry = new Registry();
  const m = new SipMetrics(registry, ["carrier-a", "carrier-b"]);
  m.request("INVITE", INBOUND, "carrier-a");
  m.request("INVITE", INBOUND, "carrier-a");
  m.request("INVITE", INBOUND, "not-configured");
  m.request("BYE", OUTBOUND, undefined);
  m.response(503, "INVITE", INBOUND, "carrier-a");
  m.parseError("malformed", "carrier-a");
  m.connectionTimeout("idle", "carrier-a");
  const text = await registry.metrics();
  t.match(text, /trunkgate_sip_requests_total\{method="INVITE",direction="inbound",peer="carrier-a"\} 2/);
  t.match(text, /trunkgate_sip_requests_total\{method="INVITE",direction="inbound",peer="unknown"\} 1/);
  t.match(text, /trunkgate_sip_requests_total\{method="BYE",direction="outbound",peer="unknown"\} 1/);
  t.match(text, /trunkgate_sip_responses_total\{class="5xx",method="INVITE",direction="inbound",peer="carrier-a"\} 1/);
  t.match(text, /trunkgate_sip_parse_errors_total\{reason="malformed",peer="carrier-a"\} 1/);
  t.match(text, /trunkgate_sip_connection_timeouts_total\{reason="idle",peer="carrier-a"\} 1/);
  t.notMatch(text, /not-configured/, "never a name outside the configuration");
  t.notMatch(text, /peer="carrier-b"/, "a peer that sent nothing adds no series");
  t.equal(m.peerLabel("carrier-b"), "carrier-b");
  t.equal(m.peerLabel("x"), "unknown");
});
