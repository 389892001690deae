import t from "tap";
import { Core } from "sip.js";
import { parseMessage, type SipMessage, type SipRequest, type SipResponse } from "../../../src/sip/parse/index.js";
import { buildAckForNon2xx, buildCancel, buildRequest, buildResponse, newBranch } from "../../../src/sip/message/build.js";
import { forwardRequest, forwardResponse } from "../../../src/sip/message/edit.js";
import { INVITE_SDP, OK_200, VALID } from "./corpus.js";

const quiet = { log() {}, debug() {}, warn() {}, error() {}, info() {} } as unknown as Core.Logger;
function parse(x: string | Buffer): SipMessage {
  const r = parseMessage(typeof x === "string" ? Buffer.from(x) : x);
  if (!r.ok) throw new Error(`parse failed: ${r.reason}`);
  return r.message;
}
const req = (x: string | Buffer): SipRequest => parse(x) as SipRequest;
const res = (x: string | Buffer): SipResponse => parse(x) as SipResponse;
const sipjsAccepts = (b: Buffer): boolean => Core.Parser.parseMessage(b.toString("utf8"), quiet) !== undefined;

t.test("forwardRequest applies every edit and copies the rest verbatim", async (t) => {
  const inv = req(INVITE_SDP.replace("Max-Forwards: 70\r\n", "Max-Forwards: 70\r\nRoute: <sip:proxy.trunkgate.example;lr>, <sip:next.example.net;lr>\r\n"));
  const out = forwardRequest(inv, {
    prependVia: "SIP/2.0/TLS proxy.trunkgate.example:5061;branch=z9hG4bKfwd1",
    requestUri: "sip:+15551230000@10.0.0.5:5061;transport=tls",
    removeTopRoute: true,
    prependRecordRoute: "<sip:proxy.trunkgate.example:5061;transport=tls;lr>",
    addHeaders: [["X-Trunkgate-Customer", "c-42"]],
  });
  const f = req(out);
  t.equal(f.requestUri, "sip:+15551230000@10.0.0.5:5061;transport=tls");
  t.equal(f.vias().length, 2);
  t.equal(f.topVia.branch, "z9hG4bKfwd1");
  t.equal(f.vias()[1]?.branch, "z9hG4bK776asdhds");
  t.equal(f.maxForwards, 69);
  t.same(f.routes()?.map((r) => r.uri), ["sip:next.example.net;lr"]);
  t.same(f.recordRoutes()?.map((r) => r.uri), ["sip:proxy.trunkgate.example:5061;transport=tls;lr"]);
  t.equal(f.getHeader("x-trunkgate-customer"), "c-42");
  t.equal(f.body.toString(), inv.body.toString());
  t.equal(f.getHeader("user-agent"), "ExamplePBX/1.0");
  t.ok(out.includes(Buffer.from("Contact: <sip:alice@198.51.100.7:5061;transport=tls>\r\nAllow: INVITE, ACK, CANCEL, BYE, OPTIONS\r\n")), "untouched lines byte-identical");
  t.ok(sipjsAccepts(out), "sip.js parses the output");
});

t.test("Max-Forwards inserted when absent; body replaced with Content-Length", async (t) => {
  const noMf = VALID.find((e) => e.name === "max-forwards-absent")!.text;
  const f = req(forwardRequest(req(noMf), { body: { bytes: Buffer.from("v=0\r\n"), contentType: "application/sdp" } }));
  t.equal(f.maxForwards, 70);
  t.equal(f.contentLength, 5);
  t.equal(f.contentType, "application/sdp");
  t.equal(f.body.toString(), "v=0\r\n");
  const g = req(forwardRequest(req(INVITE_SDP), { body: { bytes: Buffer.alloc(0) }, removeHeaders: ["c"] }));
  t.equal(g.contentLength, 0);
  t.equal(g.contentType, undefined);
});

t.test("Route removal when the top Route is its own header line", async (t) => {
  const bye = req(VALID.find((e) => e.name === "bye")!.text.replace("Route: <sip:p1.example.com;lr>, ", "Route: <sip:p1.example.com;lr>\r\nRoute: "));
  t.same(req(forwardRequest(bye, { removeTopRoute: true })).routes()?.map((r) => r.uri), ["sip:p2.example.com;lr"]);
});

t.test("forwardResponse removes the top Via (own line or comma-joined)", async (t) => {
  const ok = res(forwardResponse(res(OK_200)));
  t.equal(ok.vias().length, 1);
  t.equal(ok.topVia.branch, "z9hG4bK776asdhds");
  t.equal(ok.body.toString(), res(OK_200).body.toString());
  const ringing = res(forwardResponse(res(VALID.find((e) => e.name === "180-no-body")!.text)));
  t.same(ringing.vias().map((v) => v.branch), ["z9hG4bK2"]);
});

t.test("edits refuse CR/LF injection", async (t) => {
  t.throws(() => forwardRequest(req(INVITE_SDP), { addHeaders: [["X-A", "v\r\nBYE: x"]] }), RangeError);
  t.throws(() => buildResponse(req(INVITE_SDP), 486, "Busy\r\nX: y"), RangeError);
});

t.test("buildResponse: 100 without To tag, 4xx with tag and extras", async (t) => {
  const inv = req(INVITE_SDP);
  const trying = res(buildResponse(inv, 100, "Trying"));
  t.equal(trying.status, 100);
  t.equal(trying.to.tag, undefined);
  t.equal(trying.topVia.branch, inv.topVia.branch);
  t.equal(trying.callId, inv.callId);
  t.same(trying.cseq, inv.cseq);
  const busy = res(buildResponse(inv, 503, "Service Unavailable", { toTag: "tg1", headers: [["Retry-After", "30"]] }));
  t.equal(busy.to.tag, "tg1");
  t.equal(busy.getHeader("retry-after"), "30");
  t.equal(busy.contentLength, 0);
  t.equal(busy.from.tag, "1928301774");
  t.ok(sipjsAccepts(buildResponse(inv, 420, "Bad Extension", { headers: [["Unsupported", "foo"]] })));
  const withTag = res(buildResponse(req(OK_200.replace("SIP/2.0 200 OK", "BYE sip:b@example.com SIP/2.0").replace("314159 INVITE", "5 BYE")), 481, "Call/Transaction Does Not Exist"));
  t.equal(withTag.to.tag, "a6c85cf", "existing To tag kept");
  t.throws(() => buildResponse(inv, 99, "x"), RangeError);
});

t.test("buildRequest, buildCancel, buildAckForNon2xx", async (t) => {
  const opt = req(buildRequest({
    method: "OPTIONS", requestUri: "sip:10.0.0.5:5061;transport=tls", via: `SIP/2.0/TLS proxy.example:5061;branch=${newBranch()}`,
    from: "<sip:trunkgate@proxy.example>;tag=p1", to: "<sip:10.0.0.5:5061>", callId: "probe-1", cseq: 1,
  }));
  t.equal(opt.method, "OPTIONS");
  t.equal(opt.maxForwards, 70);
  t.match(opt.topVia.branch ?? "", /^z9hG4bK[0-9a-f]{16}$/);

  const sent = req(forwardRequest(req(INVITE_SDP.replace("Max-Forwards: 70\r\n", "Max-Forwards: 70\r\nRoute: <sip:next.example.net;lr>\r\n")), {
    prependVia: "SIP/2.0/TLS proxy.example:5061;branch=z9hG4bKsent",
  }));
  const cancel = req(buildCancel(sent));
  t.equal(cancel.method, "CANCEL");
  t.equal(cancel.requestUri, sent.requestUri);
  t.equal(cancel.vias().length, 1);
  t.equal(cancel.topVia.branch, "z9hG4bKsent");
  t.same(cancel.cseq, { seq: 314159, method: "CANCEL" });
  t.equal(cancel.routes()?.length, 1);
  t.equal(cancel.to.tag, undefined);

  const final = res(buildResponse(sent, 486, "Busy Here", { toTag: "busy1" }));
  const ack = req(buildAckForNon2xx(sent, final));
  t.equal(ack.method, "ACK");
  t.equal(ack.to.tag, "busy1");
  t.equal(ack.topVia.branch, "z9hG4bKsent");
  t.same(ack.cseq, { seq: 314159, method: "ACK" });
  t.equal(ack.from.tag, sent.from.tag);
  t.ok(sipjsAccepts(buildCancel(sent)) && sipjsAccepts(buildAckForNon2xx(sent, final)));
});
