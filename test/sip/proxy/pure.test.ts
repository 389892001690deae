// Pure helpers of the proxy: branches, route hints, best response, raw error responses.
import t from "tap";
import { BranchFactory, isOurBranch, loopPartOf } from "../../../src/sip/proxy/branch.js";
import { isBetterFinal, statusToForward } from "../../../src/sip/proxy/best-response.js";
import { ProxyIdentity } from "../../../src/sip/proxy/identity.js";
import { buildRawErrorResponse } from "../../../src/sip/proxy/raw-response.js";
import { consumeOwnRoutes, recordRouteTrunkToUpstream, RouteSigner } from "../../../src/sip/proxy/route-set.js";
import { parseMessage, type SipRequest } from "../../../src/sip/parse/index.js";

t.test("branches: deterministic per incoming transaction, distinct per attempt, keyed", async (t) => {
  const f = new BranchFactory(Buffer.from("0123456789abcdef", "hex"));
  const tx = f.transactionPart("z9hG4bK-1", "10.0.0.1", 5060);
  t.equal(tx, f.transactionPart("z9hG4bK-1", "10.0.0.1", 5060));
  t.not(tx, f.transactionPart("z9hG4bK-2", "10.0.0.1", 5060));
  t.not(tx, f.transactionPart("z9hG4bK-1", "10.0.0.1", 5061));
  t.not(tx, new BranchFactory(Buffer.from("ffffffffffffffff", "hex")).transactionPart("z9hG4bK-1", "10.0.0.1", 5060), "depends on the secret");
  const loop = f.loopPart("sip:a@b", "");
  const b0 = f.branch(tx, loop, 0);
  const b1 = f.branch(tx, loop, 1);
  t.not(b0, b1);
  t.ok(b0.startsWith("z9hG4bK"));
  t.ok(isOurBranch(b0));
  t.notOk(isOurBranch("z9hG4bKabc"));
  t.equal(loopPartOf(b0), loop);
  t.equal(loopPartOf(b1), loop);
  t.not(f.loopPart("sip:other@b", ""), loop, "R-URI changes the loop hash (spiral)");
  t.not(f.loopPart("sip:a@b", "<sip:p1;lr>"), loop, "so does the Route");
});

t.test("best response", async (t) => {
  t.ok(isBetterFinal(486, 0));
  t.ok(isBetterFinal(486, 503), "486 beats 503");
  t.ok(isBetterFinal(408, 503), "408 beats 503");
  t.ok(isBetterFinal(603, 486), "6xx beats all");
  t.notOk(isBetterFinal(503, 486));
  t.equal(statusToForward(503, false), 500, "503 not forwarded while other targets could work");
  t.equal(statusToForward(503, true), 503);
  t.equal(statusToForward(486, false), 486);
});

function req(text: string): SipRequest {
  const r = parseMessage(Buffer.from(text));
  if (!r.ok || r.message.kind !== "request") throw new Error("bad test request");
  return r.message;
}

t.test("route hints: our entries consumed, others kept; hints parsed", async (t) => {
  const me = new ProxyIdentity("127.0.0.1", 5061, "127.0.0.1");
  const signer = new RouteSigner();
  const rr = recordRouteTrunkToUpstream(me, signer, { callId: "c", upstreamTransport: "tcp", service: "svc", targetIndex: 1, peer: "dev-trunk", connectionId: 42 });
  const base = "BYE sip:x@y SIP/2.0\r\nVia: SIP/2.0/TCP a;branch=z9hG4bK1\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:c@d>;tag=2\r\nCall-ID: c\r\nCSeq: 2 BYE\r\n";
  const h = consumeOwnRoutes(req(base + `Route: ${rr}, <sip:other.example.net;lr>\r\nContent-Length: 0\r\n\r\n`), me, signer);
  t.same(h, { popped: 2, remaining: ["<sip:other.example.net;lr>"], service: "svc", targetIndex: 1, peer: "dev-trunk", connectionId: 42, forged: 0 });
  t.equal(consumeOwnRoutes(req(base + "Content-Length: 0\r\n\r\n"), me, signer), undefined);
  const foreign = consumeOwnRoutes(req(base + "Route: <sip:other.example.net;lr>\r\nContent-Length: 0\r\n\r\n"), me, signer);
  t.same(foreign, { popped: 0, remaining: ["<sip:other.example.net;lr>"], service: undefined, targetIndex: -1, peer: undefined, connectionId: -1, forged: 0 });
  // Issue 9 item 3: hints are trusted only with a MAC made under our key for this Call-ID.
  const forgedText = "<sip:127.0.0.1:5061;lr;tgs=svc;tgt=0>, <sip:127.0.0.1:5061;lr;tgp=dev-trunk;tgc=1;tgm=AAAAAAAAAAAAAAAA>";
  const forged = consumeOwnRoutes(req(base + `Route: ${forgedText}\r\nContent-Length: 0\r\n\r\n`), me, signer);
  t.same(forged, { popped: 2, remaining: [], service: undefined, targetIndex: -1, peer: undefined, connectionId: -1, forged: 2 }, "forged entries popped, hints ignored");
  const otherCall = consumeOwnRoutes(req(base.replace("Call-ID: c", "Call-ID: other") + `Route: ${rr}\r\nContent-Length: 0\r\n\r\n`), me, signer);
  t.equal((otherCall as { forged: number }).forged, 2, "a genuine entry replayed in another dialog does not verify");
  const otherKey = consumeOwnRoutes(req(base + `Route: ${rr}\r\nContent-Length: 0\r\n\r\n`), me, new RouteSigner());
  t.equal((otherKey as { forged: number }).forged, 2, "another instance's key does not verify");
  const tampered = rr.replace("tgt=1", "tgt=0");
  t.equal((consumeOwnRoutes(req(base + `Route: ${tampered}\r\nContent-Length: 0\r\n\r\n`), me, signer) as { forged: number }).forged, 1, "a changed target index does not verify");
  t.throws(() => new RouteSigner(Buffer.alloc(8)), /at least 16 bytes/);
});

t.test("raw error responses echo Via/From/To/Call-ID/CSeq, add a To tag, never answer responses", async (t) => {
  const head = Buffer.from("INVITE sip:x@y SIP/2.0\r\nVia: SIP/2.0/TLS a;branch=z9hG4bK1\r\nv: SIP/2.0/TLS b;branch=z9hG4bK0\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:c@d>\r\nCall-ID: c1\r\nCSeq: 1 INVITE\r\nX-Big: 1\r\nContent-Length: 99999\r\n\r\n");
  const r = buildRawErrorResponse(head, 513, "Message Too Large")!.toString();
  t.match(r, /^SIP\/2.0 513 Message Too Large\r\n/);
  t.match(r, /Via: SIP\/2.0\/TLS a;branch=z9hG4bK1\r\nv: SIP\/2.0\/TLS b/);
  t.match(r, /To: <sip:c@d>;tag=[0-9a-f]+\r\n/);
  t.notMatch(r, /X-Big/);
  t.match(r, /Content-Length: 0\r\n\r\n$/);
  t.equal(buildRawErrorResponse(Buffer.from("SIP/2.0 200 OK\r\nVia: x\r\n\r\n"), 400, "Bad"), undefined);
  t.equal(buildRawErrorResponse(Buffer.from("INVITE x SIP/2.0\r\nTo: a\r\n\r\n"), 400, "Bad"), undefined, "no Via: not SIP, nothing to answer");
  t.match(buildRawErrorResponse(Buffer.from("INVITE x SIP/2.0\r\nVia: SIP/2.0/TLS a;branch=z9hG4bK1\r\n\r\n"), 400, "Bad Request - Missing Call-ID Header")!.toString(), /^SIP\/2.0 400 Bad Request - Missing Call-ID Header\r\nVia: /);
});
