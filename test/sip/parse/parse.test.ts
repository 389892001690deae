import t from "tap";
import { canonicalHeaderName, parseMessage, parseUri, type SipRequest } from "../../../src/sip/parse/index.js";
import { validateSipUri } from "../../../src/sip/parse/uri-validate.js";
import { INVITE_SDP, VALID } from "./corpus.js";

const text = (name: string): string => VALID.find((e) => e.name === name)!.text;
const parseReq = (s: string): SipRequest => {
  const r = parseMessage(Buffer.from(s));
  if (!r.ok || r.message.kind !== "request") throw new Error("expected a request");
  return r.message;
};

t.test("hot fields of an INVITE", async (t) => {
  const m = parseReq(INVITE_SDP);
  t.equal(m.method, "INVITE");
  t.equal(m.uri.user, "+15551230000");
  t.equal(m.uri.host, "trunk.example.net");
  t.same(m.topVia, {
    protocol: "SIP/2.0/TLS", transport: "TLS", host: "pbx.customer.example", port: 5061, branch: "z9hG4bK776asdhds",
    hasRport: true, rport: undefined, received: undefined, maddr: undefined, params: ";branch=z9hG4bK776asdhds;rport",
    raw: "SIP/2.0/TLS pbx.customer.example:5061;branch=z9hG4bK776asdhds;rport",
  });
  t.equal(m.to.displayName, "Bob");
  t.equal(m.from.tag, "1928301774");
  t.equal(m.contentType, "application/sdp");
  t.same(m.getHeaders("allow"), ["INVITE", "ACK", "CANCEL", "BYE", "OPTIONS"]);
  t.equal(m.body.length, m.contentLength);
});

t.test("compact forms, folding, quoted display names", async (t) => {
  const c = parseReq(text("compact-forms"));
  t.equal(c.callId, "compact-call@c.example.com");
  t.equal(c.getHeader("supported"), "timer");
  t.equal(c.contacts()?.[0]?.uri, "sip:alice@c.example.com");
  const f = parseReq(text("folding-and-whitespace"));
  t.equal(f.from.displayName, "Alice");
  t.equal(f.from.tag, "fold");
  t.same(f.cseq, { seq: 9, method: "OPTIONS" });
  t.equal(f.getHeader("subject"), "a header continued on two lines");
  const q = parseReq(text("quoted-escaped-display-names"));
  t.equal(q.to.displayName, 'Bob "the builder" Smith');
  t.equal(q.from.displayName, "Alice, \\ A. <test>");
  t.equal(q.body.toString(), "hello");
});

t.test("Via details: rport with value, received, maddr, IPv6", async (t) => {
  const r = parseMessage(Buffer.from(text("vias-across-headers-and-commas")));
  t.ok(r.ok);
  if (!r.ok) return;
  t.same(r.message.vias().map((v) => v.host), ["top.example.com", "mid.example.com", "low.example.com"]);
  t.equal(r.message.topVia.rport, 6000);
  t.equal(r.message.topVia.received, "192.0.2.1");
  const v6 = parseReq(text("ipv6-hosts"));
  t.equal(v6.topVia.host, "[2001:db8::9]");
  t.equal(v6.topVia.port, 5061);
  t.equal(v6.uri.host, "[2001:db8::10]");
  t.equal(v6.uri.transport, "tls");
  t.equal(parseReq(text("via-maddr-received-ttl")).topVia.maddr, "239.255.255.1");
});

t.test("error kinds", async (t) => {
  const bad = (s: string) => {
    const r = parseMessage(Buffer.from(s));
    if (r.ok) throw new Error("expected an error");
    return r;
  };
  t.match(bad(INVITE_SDP.replace("SIP/2.0\r\n", "SIP/3.0\r\n")), { kind: "bad-version", status: 505 });
  t.match(bad(INVITE_SDP.replace("INVITE sip:+15551230000@trunk.example.net;user=phone", "INVITE http://x.example/")), { kind: "unsupported-uri-scheme", status: 416 });
  t.match(bad(INVITE_SDP.replace("CSeq: 314159 INVITE", "CSeq: 314159 BYE")), { kind: "cseq-mismatch", status: 400 });
  t.match(bad(INVITE_SDP.replace(/Call-ID: [^\r]*\r\n/, "")), { kind: "missing-header", header: "call-id", reason: "Bad Request - Missing Call-ID Header" });
  t.match(bad("garbage"), { kind: "malformed", status: 400 });
  t.match(bad(""), { kind: "malformed" });
});

t.test("URI helpers", async (t) => {
  t.equal(parseUri("sips:alice:pw@example.com:5061;lr;maddr=192.0.2.1?subject=hi")?.lr, true);
  t.equal(parseUri("sip:example.com;maddr=192.0.2.1")?.maddr, "192.0.2.1");
  t.equal(parseUri("sip:alice@"), undefined);
  t.equal(parseUri("sip:al ice@example.com"), undefined);
  t.equal(parseUri("sip:[::1]:5061")?.port, 5061);
  t.ok(validateSipUri("sip:bob@example.com;transport=tls"));
  t.ok(validateSipUri("sips:[2001:db8::1]:5061"));
  t.notOk(validateSipUri("sip:bob@@example.com"));
  t.notOk(validateSipUri(" sip:bob@example.com"));
  t.notOk(validateSipUri("http://example.com"));
  t.equal(canonicalHeaderName("V"), "via");
  t.equal(canonicalHeaderName("X-Custom"), "x-custom");
  t.equal(canonicalHeaderName("bad name"), "");
});
