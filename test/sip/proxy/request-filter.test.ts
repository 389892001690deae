// The request filter and the media filter are pure: every verdict checked here without sockets,
// flows or transactions (issue 10: the proxy's phases, pure where they can be).
import t from "tap";
import { filterMedia } from "../../../src/sip/media/filter.js";
import { parseMessage, type SipRequest } from "../../../src/sip/parse/index.js";
import { ProxyIdentity } from "../../../src/sip/proxy/identity.js";
import { filterRequest, type RequestFilterInput } from "../../../src/sip/proxy/request-filter.js";
import { recordRouteTrunkToUpstream, RouteSigner } from "../../../src/sip/proxy/route-set.js";
import { sipRequest } from "../e2e/harness.js";

const me = new ProxyIdentity("127.0.0.1", 5061, "127.0.0.1");
const signer = new RouteSigner(Buffer.alloc(32, 7));
const base: RequestFilterInput = { me, signer, srtpEnforce: true, draining: false, retryAfterSeconds: 30 };
const URI = "sip:+4930123456@127.0.0.1:5061";

function req(o: Parameters<typeof sipRequest>[0]): SipRequest {
  const r = parseMessage(Buffer.from(sipRequest(o)));
  if (!r.ok || r.message.kind !== "request") throw new Error("test request did not parse");
  return r.message;
}

const SRTP_SDP = [
  "v=0", "o=- 1 1 IN IP4 192.0.2.1", "s=-", "c=IN IP4 192.0.2.1", "t=0 0", "m=audio 4000 RTP/SAVP 0",
  "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|2^20|1:32",
  "a=crypto:2 AES_CM_128_HMAC_SHA1_32 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|2^20|1:32", "",
].join("\r\n");
const RTP_SDP = ["v=0", "o=- 1 1 IN IP4 192.0.2.1", "s=-", "c=IN IP4 192.0.2.1", "t=0 0", "m=audio 4000 RTP/AVP 0", ""].join("\r\n");

t.test("a plain new INVITE proceeds, with no body change and no Route hints", async (t) => {
  const v = filterRequest(base, req({ method: "INVITE", uri: URI }), "loop");
  t.same(v, { kind: "proceed", body: undefined, hints: undefined });
});

t.test("validation refusals come first, in RFC 3261 §16.3 order", async (t) => {
  const v = filterRequest(base, req({ method: "INVITE", uri: URI, maxForwards: 0 }), "loop");
  t.match(v, { kind: "refuse", refusal: { status: 483 } });
  t.same(filterRequest(base, req({ method: "OPTIONS", uri: URI, maxForwards: 0 }), "loop"), { kind: "options" }, "OPTIONS with Max-Forwards 0: answered by us");
  const pr = filterRequest(base, req({ method: "INVITE", uri: URI, extra: ["Proxy-Require: foo"] }), "loop");
  t.match(pr, { kind: "refuse", refusal: { status: 420, headers: [["Unsupported", "foo"]] } });
});

t.test("OPTIONS addressed to trunkgate itself is ours to answer", async (t) => {
  t.same(filterRequest(base, req({ method: "OPTIONS", uri: "sip:127.0.0.1:5061" }), "loop"), { kind: "options" });
  t.match(filterRequest(base, req({ method: "OPTIONS", uri: URI }), "loop"), { kind: "proceed" }, "with a user part it is routed");
});

t.test("the media filter refuses RTP (488 with Warning) and rewrites SRTP offers", async (t) => {
  const refused = filterRequest(base, req({ method: "INVITE", uri: URI, body: RTP_SDP }), "loop");
  t.match(refused, { kind: "refuse", refusal: { status: 488, headers: [["Warning", /^399 127\.0\.0\.1 /]] } });
  const rewritten = filterRequest(base, req({ method: "INVITE", uri: URI, body: SRTP_SDP }), "loop");
  t.equal(rewritten.kind, "proceed");
  if (rewritten.kind === "proceed") {
    t.ok(rewritten.body, "a rewritten body");
    t.notMatch(rewritten.body!.toString(), /HMAC_SHA1_32/, "the other suite's crypto line removed");
  }
  t.match(filterRequest({ ...base, srtpEnforce: false }, req({ method: "INVITE", uri: URI, body: RTP_SDP }), "loop"), { kind: "proceed", body: undefined }, "policy off: pass");
  t.match(filterRequest(base, req({ method: "MESSAGE", uri: URI, body: RTP_SDP }), "loop"), { kind: "proceed" }, "a MESSAGE body is no offer");
});

t.test("draining: new requests 503 with Retry-After, in-dialog requests still proceed", async (t) => {
  const d = { ...base, draining: true };
  t.match(filterRequest(d, req({ method: "INVITE", uri: URI }), "loop"), { kind: "refuse", refusal: { status: 503, headers: [["Retry-After", "30"]] } });
  t.match(filterRequest(d, req({ method: "BYE", uri: URI, toTag: "x" }), "loop"), { kind: "proceed" });
});

t.test("our Route entries are consumed into hints; a malformed Route is refused 400", async (t) => {
  const rr = recordRouteTrunkToUpstream(me, signer, { callId: "c1", upstreamTransport: "tcp", service: "svc", targetIndex: 1, peer: "dev-trunk", connectionId: 9 });
  const v = filterRequest(base, req({ method: "BYE", uri: URI, toTag: "x", callId: "c1", extra: [`Route: ${rr}`] }), "loop");
  t.match(v, { kind: "proceed", hints: { popped: 2, service: "svc", targetIndex: 1, peer: "dev-trunk", connectionId: 9, forged: 0 } });
  const bad = filterRequest(base, req({ method: "BYE", uri: URI, toTag: "x", extra: ["Route: <sip:127.0.0.1:5061;lr"] }), "loop");
  t.match(bad, { kind: "refuse", refusal: { status: 400, reason: "Bad Request - Malformed Route Header" } });
});

t.test("filterMedia: one verdict per message kind (requests, ACK, responses by their request's method)", async (t) => {
  const invite = req({ method: "INVITE", uri: URI, body: SRTP_SDP });
  t.equal(filterMedia(true, "INVITE", invite).kind, "rewrite");
  t.equal(filterMedia(false, "INVITE", invite).kind, "pass", "policy off");
  t.equal(filterMedia(true, "ACK", req({ method: "ACK", uri: URI, body: RTP_SDP })).kind, "refuse");
  t.equal(filterMedia(true, "INFO", req({ method: "INFO", uri: URI, body: RTP_SDP })).kind, "pass", "INFO carries no offer/answer");
  t.equal(filterMedia(true, "INVITE", req({ method: "INVITE", uri: URI })).kind, "pass", "no body");
});
