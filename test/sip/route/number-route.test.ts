// Number-based routing and call numbers, as pure functions over parsed messages.
import t from "tap";
import { parseMessage, type SipRequest } from "../../../src/sip/parse/index.js";
import { calledNumber, callingNumber, e164FromUser } from "../../../src/sip/route/call-numbers.js";
import { numberPeerRoute, numberRoute } from "../../../src/sip/route/number-route.js";
import type { RouteFn, PeerRouteFn } from "../../../src/sip/route/decision.js";
import { peerSchema } from "../../../src/config/schema/peers.js";
import { sipSchema } from "../../../src/config/schema/sip.js";

function invite(ruri: string, opts: { to?: string; from?: string; pai?: string; method?: string } = {}): SipRequest {
  const method = opts.method ?? "INVITE";
  const lines = [
    `${method} ${ruri} SIP/2.0`,
    "Via: SIP/2.0/TLS 192.0.2.1:5061;branch=z9hG4bKabc",
    `From: ${opts.from ?? "<sip:anon@example.com>"};tag=1`,
    `To: ${opts.to ?? `<${ruri}>`}`,
    "Call-ID: x@y",
    `CSeq: 1 ${method}`,
    "Max-Forwards: 70",
    ...(opts.pai ? [`P-Asserted-Identity: ${opts.pai}`] : []),
    "Content-Length: 0",
    "",
    "",
  ];
  const r = parseMessage(Buffer.from(lines.join("\r\n")));
  if (!r.ok || r.message.kind !== "request") throw new Error("bad test message");
  return r.message;
}

const nr = sipSchema.parse({}).numberRouting;
const peer = peerSchema.parse({ name: "trunk-a", match: { dnsNames: ["a.example"] } });
const table = new Map([
  ["+4930123456", { service: "svc-b", customHeader: "ctx-42" }],
  ["+4989111222", { service: "svc-c", customHeader: null }],
]);
const numbers = { lookup: (n: string) => table.get(n) };
const fallback: RouteFn = () => ({ service: "svc-default" });

t.test("E.164 from user parts", async (t) => {
  t.equal(e164FromUser("+49-30-123456", true), "+4930123456");
  t.equal(e164FromUser("4930123456", true), "+4930123456", "digits only: international assumed");
  t.equal(e164FromUser("4930123456", false), undefined);
  t.equal(e164FromUser("+4930123456;isub=1", true), "+4930123456");
  t.equal(e164FromUser("alice", true), undefined);
  t.equal(e164FromUser("+0123", true), undefined, "no country code 0");
  t.equal(e164FromUser("+1234567890123456", true), undefined, "more than 15 digits");
  t.equal(e164FromUser(undefined, true), undefined);
});

t.test("called number: Request-URI user, else To; calling: P-Asserted-Identity, else From", async (t) => {
  t.equal(calledNumber(invite("sip:+4930123456@gw.example"), true), "+4930123456");
  t.equal(calledNumber(invite("sip:gw.example", { to: "<sip:+4930123456@gw.example>" }), true), "+4930123456");
  t.equal(calledNumber(invite("tel:+4930123456"), true), "+4930123456");
  const req = invite("sip:+4930123456@gw.example", { from: "<sip:+4989000000@t.example>", pai: '"A" <sip:+4989111222@t.example>' });
  t.equal(callingNumber(req, true), "+4989111222");
  t.equal(callingNumber(invite("sip:x@gw", { from: "<sip:+4989000000@t.example>" }), true), "+4989000000");
});

t.test("a provisioned called number picks its service and adds its header, replacing any copy", async (t) => {
  const route = numberRoute(numbers, fallback, nr);
  t.same(route(invite("sip:+4930123456@gw.example"), peer), {
    service: "svc-b",
    removeHeaders: ["X-Trunkgate-Number-Context"],
    extraHeaders: [["X-Trunkgate-Number-Context", "ctx-42"]],
  });
  t.same(route(invite("sip:+4989111222@gw.example"), peer), { service: "svc-c", removeHeaders: ["X-Trunkgate-Number-Context"] }, "no header value: none added");
});

t.test("an unknown number: the default route (still stripping the header), or 404 by config", async (t) => {
  t.same(numberRoute(numbers, fallback, nr)(invite("sip:+15550001111@gw"), peer), { service: "svc-default", removeHeaders: ["X-Trunkgate-Number-Context"] });
  const reject = numberRoute(numbers, fallback, { ...nr, unknownNumber: "reject" });
  t.same(reject(invite("sip:+15550001111@gw"), peer), { reject: 404, reason: "Not Found" });
  t.same(reject(invite("sip:+15550001111@gw", { method: "MESSAGE" }), peer), { service: "svc-default", removeHeaders: ["X-Trunkgate-Number-Context"] }, "only calls are refused");
  const asyncFallback: RouteFn = async () => ({ service: "svc-async" });
  t.same(await numberRoute(numbers, asyncFallback, nr)(invite("sip:alice@gw"), peer), { service: "svc-async", removeHeaders: ["X-Trunkgate-Number-Context"] });
});

t.test("toward a trunk the calling number chooses the service and header; the peer choice stays", async (t) => {
  const peerFallback: PeerRouteFn = () => ({ peer: "trunk-a" });
  const route = numberPeerRoute(numbers, peerFallback, { ...nr, customHeaderName: "X-Ctx" });
  t.same(route(invite("sip:+15550001111@trunk-a", { pai: "<sip:+4930123456@svc>" }), "svc-x"), {
    peer: "trunk-a",
    service: "svc-b",
    removeHeaders: ["X-Ctx"],
    extraHeaders: [["X-Ctx", "ctx-42"]],
  });
  t.same(route(invite("sip:+15550001111@trunk-a", { from: "<sip:+15559999999@svc>" }), "svc-x"), { peer: "trunk-a", removeHeaders: ["X-Ctx"] });
  const refusing: PeerRouteFn = () => ({ reject: 404 });
  t.same(numberPeerRoute(numbers, refusing, nr)(invite("sip:x@nowhere"), "svc"), { reject: 404 });
});
