// Differential test: trunkgate's hot-path parser against sip.js (the design card's SIP library,
// used as the reference grammar). Both must agree on valid/invalid, and on every field both
// produce, except for the deliberate differences below (also in src/sip/parse/README.md). The
// corpus entry's `sipjs` key names the row.
//
// | key / field          | case                                                  | trunkgate                                 | sip.js                          |
// |----------------------|-------------------------------------------------------|-------------------------------------------|---------------------------------|
// | accepts-semantic     | missing Via/From/To/Call-ID/CSeq; CSeq method differs | 400 (RFC 3261 §8.1.1, §8.2.2; RFC 4475    | accepts (leaves these checks to |
// |                      | from request method; two Call-ID / Content-Length;    | §3.1.2.2, .11, .17, .18, §3.3.1, §3.3.9)  | its transaction / UA layers)    |
// |                      | Content-Length > body; headers in the Request-URI     |                                           |                                 |
// | accepts-scalar       | CSeq >= 2**31, Max-Forwards > 255, Via port > 65535   | 400 (§8.1.1.5, §8.1.1.6, port range)      | accepts                         |
// | accepts-start-line   | SIP/7.0; Request-URI scheme other than sip/sips/tel   | distinct 505 / 416 results                | accepts                         |
// | accepts-header-line  | a header line without ':'                             | 400                                       | accepts (garbage header name)   |
// | rejects-non-sip-addr | To/From with a non-SIP absolute URI (isbn:, http:)    | accepts (RFC 4475 §3.3.4 "unksm2")        | rejects                         |
// | rport (field)        | `;rport` without a value                              | hasRport=true, rport=undefined            | drops the valueless rport       |
// | maddr (field)        | Via with maddr                                        | host = sent-by, maddr kept separate       | overwrites host with maddr      |
// | top Via (field)      | first Via header holding several comma values         | the first value                           | merges fields of all values     |
// | Request-URI (field)  | tel: Request-URI; escaped user parts                  | text as received + parsed SipUri          | no URI object for tel:;         |
// |                      |                                                       |                                           | re-serialises sip: URIs         |
// | lazy headers         | malformed Contact / Record-Route / Route              | reported by contacts()/recordRoutes()/    | rejects the message up front    |
// |                      |                                                       | routes() (undefined) when the proxy asks  | (Contact, Record-Route only)     |
import t, { type Test } from "tap";
import { Core } from "sip.js";
import { parseMessage, type SipMessage } from "../../../src/sip/parse/index.js";
import { INVALID, VALID, type CorpusEntry } from "./corpus.js";

const quiet = { log() {}, debug() {}, warn() {}, error() {}, info() {} };
// eslint-disable-next-line @typescript-eslint/no-explicit-any
// biome-ignore lint/suspicious/noExplicitAny: sip.js's message classes are untyped here
type SipJsMessage = any;

function sipjs(text: string): SipJsMessage | undefined {
  try {
    // sip.js's Logger type has more members; the parser only calls warn/error/debug.
    return Core.Parser.parseMessage(text, quiet as unknown as Core.Logger) ?? undefined;
  } catch {
    return undefined;
  }
}

function compareFields(t: Test, e: CorpusEntry, ours: SipMessage, theirs: SipJsMessage): void {
  if (ours.kind === "request") {
    t.equal(ours.method, theirs.method, `${e.name}: method`);
    if (theirs.ruri !== undefined) {
      // sip.js re-serialises the URI, so compare its parts rather than the text
      t.equal(ours.uri.scheme, theirs.ruri.scheme, `${e.name}: Request-URI scheme`);
      t.equal(ours.uri.host.toLowerCase(), String(theirs.ruri.host).toLowerCase(), `${e.name}: Request-URI host`);
      t.equal(ours.uri.port, theirs.ruri.port, `${e.name}: Request-URI port`);
    }
  } else {
    t.equal(ours.status, theirs.statusCode, `${e.name}: status`);
  }
  t.equal(ours.callId, theirs.callId, `${e.name}: Call-ID`);
  t.equal(ours.cseq.seq, theirs.cseq, `${e.name}: CSeq number`);
  t.equal(ours.cseq.method, theirs.method, `${e.name}: CSeq method`);
  t.equal(ours.from.tag, theirs.fromTag, `${e.name}: From tag`);
  t.equal(ours.to.tag, theirs.toTag, `${e.name}: To tag`);
  t.equal(ours.maxForwards, theirs.hasHeader("max-forwards") ? Number(theirs.getHeader("max-forwards")) : undefined, `${e.name}: Max-Forwards`);
  t.equal(ours.contentLength, Buffer.byteLength(theirs.body ?? "", "utf8"), `${e.name}: Content-Length / body`);
  const via = ours.topVia;
  // sip.js merges the fields of comma-joined Vias in one header and lets maddr overwrite host.
  const firstViaHeader: string = theirs.getHeader("via");
  if (!firstViaHeader.includes(",")) t.equal(via.branch, theirs.via.branch, `${e.name}: top Via branch`);
  if (!firstViaHeader.includes(",") && via.maddr === undefined) {
    t.equal(via.host, theirs.via.host, `${e.name}: top Via host`);
    t.equal(via.port, theirs.via.port, `${e.name}: top Via port`);
  }
  t.equal(ours.from.uri, String(theirs.from.uri), `${e.name}: From URI`);
}

t.test("valid corpus: both accept, fields agree", async (t) => {
  for (const e of VALID) {
    const ours = parseMessage(Buffer.from(e.text, "utf8"));
    const theirs = sipjs(e.text);
    t.ok(ours.ok, `${e.name}: trunkgate accepts` + (ours.ok ? "" : ` (${ours.reason})`));
    const sipjsAccepts = e.sipjs !== "rejects-non-sip-addr";
    t.equal(theirs !== undefined, sipjsAccepts, `${e.name}: sip.js ${sipjsAccepts ? "accepts" : "rejects (documented: " + e.sipjs + ")"}`);
    if (ours.ok && theirs !== undefined) compareFields(t, e, ours.message, theirs);
  }
});

t.test("invalid corpus: both reject, except documented differences", async (t) => {
  for (const e of INVALID) {
    const ours = parseMessage(Buffer.from(e.text, "utf8"));
    t.notOk(ours.ok, `${e.name}: trunkgate rejects`);
    if (!ours.ok) {
      t.equal(ours.status, e.status ?? 400, `${e.name}: status ${e.status ?? 400}`);
      t.match(ours.reason, /^[\x20-\x7e]+$/, `${e.name}: printable reason`);
    }
    const theirs = sipjs(e.text);
    const sipjsRejects = e.sipjs === undefined || e.sipjs.startsWith("rejects");
    t.equal(theirs === undefined, sipjsRejects, `${e.name}: sip.js ${sipjsRejects ? "rejects" : "accepts (documented: " + e.sipjs + ")"}`);
  }
});

t.test("documented field differences hold", async (t) => {
  const text = VALID.find((e) => e.name === "via-maddr-received-ttl")!.text.replace(";branch", ";rport;branch");
  const ours = parseMessage(Buffer.from(text));
  const theirs = sipjs(text);
  t.ok(ours.ok && theirs);
  if (!ours.ok) return;
  t.equal(ours.message.topVia.host, "sender.example.com");
  t.equal(ours.message.topVia.maddr, "239.255.255.1");
  t.equal(theirs.via.host, "239.255.255.1", "sip.js overwrites host with maddr");
  t.equal(ours.message.topVia.hasRport, true);
  t.equal(ours.message.topVia.rport, undefined);
  t.equal(Object.hasOwn(theirs.via, "rport"), false, "sip.js has no rport field for a bare rport");
});
