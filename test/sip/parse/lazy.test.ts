// The parser checks every Via and the whole From/To but makes only the top Via, the tags and the
// URIs up front; the rest is made on first use. These tests hold the lazy parts to the eager ones:
// the check-only scanners give the same verdict as the parsers (seeded mutations), a malformed
// Via below the top is still refused, and what is made later equals what the parser makes.
import t, { type Test } from "tap";
import { parseMessage, parseUri, type SipMessage } from "../../../src/sip/parse/index.js";
import { isValidUri } from "../../../src/sip/parse/uri.js";
import { isValidVia, parseVia } from "../../../src/sip/parse/via.js";
import { prng } from "../../helpers/prng.js";
import { msg, VALID } from "./corpus.js";

const INTERESTING = " \t:;,<>\"\\@=%[]?/0zZ.-+é";
function mutate(s: string, r: () => number): string {
  const at = Math.floor(r() * (s.length + 1));
  const op = Math.floor(r() * 3);
  const ch = INTERESTING[Math.floor(r() * INTERESTING.length)]!;
  if (op === 0) return s.slice(0, at) + ch + s.slice(at);
  if (op === 1) return s.slice(0, at) + s.slice(at + 1);
  return s.slice(0, at) + ch + s.slice(at + 1);
}

const ok = (text: string): SipMessage => {
  const r = parseMessage(Buffer.from(text));
  if (!r.ok) throw new Error(`expected a message: ${r.reason}`);
  return r.message;
};

/**
 * The lazy check (`lazy`) and the full parser (`eager`) agree on every seed and on 3 000 mutants of
 * each (every fourth step back to the seed), and both verdicts occur often enough to mean something.
 */
function sameVerdicts(t: Test, seeds: string[], seed: number, eager: (s: string) => boolean, lazy: (s: string) => boolean): void {
  const r = prng(seed);
  let accepted = 0;
  let refused = 0;
  for (const start of seeds) {
    let s = start;
    for (let n = 0; n < 3000; n++) {
      s = n % 4 === 0 ? start : mutate(s, r);
      const want = eager(s);
      if (lazy(s) !== want) t.fail(`verdicts differ on ${JSON.stringify(s)}`);
      if (want) accepted++;
      else refused++;
    }
  }
  t.ok(accepted > 1000 && refused > 1000, `both verdicts exercised (${accepted} accepted, ${refused} refused)`);
}

t.test("isValidVia gives parseVia's verdict", async (t) => {
  const seeds = [
    "SIP/2.0/TLS pbx.customer.example:5061;branch=z9hG4bK776asdhds;rport",
    "SIP/2.0/UDP [2001:db8::9]:5061;branch=z9hG4bK1;received=2001:db8::1;rport=6000;maddr=239.255.255.1;ttl=16",
    "SIP / 2.0 / TCP host.example ; branch = z9hG4bKx ; received=[::1]",
  ];
  sameVerdicts(t, seeds, 12, (s) => parseVia(s, 0, s.length) !== undefined, (s) => isValidVia(s, 0, s.length));
});

t.test("isValidUri gives parseUri's verdict", async (t) => {
  const seeds = [
    "sip:+15551230000@trunk.example.net;user=phone",
    "sips:alice:secret@[2001:db8::1]:5061;transport=tls;lr;maddr=10.0.0.1?subject=x&priority=urgent",
    "tel:+1-555-123-0000;phone-context=example.com",
    "SIP:Bob@Example.COM",
  ];
  sameVerdicts(t, seeds, 34, (s) => parseUri(s) !== undefined, isValidUri);
  t.equal(parseUri("SIP:Bob@Example.COM")?.scheme, "sip", "scheme lower-cased");
  t.equal(parseUri("sIpS:bob@example.com")?.scheme, "sips");
});

const request = (vias: string[]): string =>
  msg([
    "OPTIONS sip:bob@example.com SIP/2.0",
    ...vias,
    "Max-Forwards: 70",
    "To: <sip:bob@example.com>",
    'From: "Alice \\"A\\"" <sip:alice@example.com>;tag=1928;x=y',
    "Call-ID: lazy-1@example.com",
    "CSeq: 1 OPTIONS",
    "Content-Length: 0",
  ]);

t.test("a malformed Via below the top one is refused as before", async (t) => {
  for (const vias of [
    ["Via: SIP/2.0/TLS a.example;branch=z9hG4bK1, SIP/2.0/TLS b.example;branch=\"q\""],
    ["Via: SIP/2.0/TLS a.example;branch=z9hG4bK1", "Via: SIP/2.0/TLS b.example:99999;branch=z9hG4bK2"],
    ["Via: SIP/2.0/TLS a.example;branch=z9hG4bK1", "v: SIP/2.0 b.example"],
  ]) {
    const r = parseMessage(Buffer.from(request(vias)));
    t.equal(r.ok, false, vias.join(" | "));
    if (!r.ok) t.same([r.status, r.reason], [400, "Bad Request - Malformed Via Header"]);
  }
});

t.test("the Vias made on demand are the ones the parser checked", async (t) => {
  const m = ok(request([
    "Via: SIP/2.0/TLS a.example:5061;branch=z9hG4bK1;rport",
    "v: SIP/2.0/TCP b.example;branch=z9hG4bK2 , SIP/2.0/UDP [2001:db8::2];received=192.0.2.1;branch=z9hG4bK3",
  ]));
  t.equal(m.viaCount, 3);
  t.equal(m.viaList.length, 3);
  t.equal(m.viaList, m.viaList, "made once");
  t.same(m.viaList[0], m.topVia);
  t.same(m.viaList.map((v) => [v.transport, v.host, v.branch, v.received]), [
    ["TLS", "a.example", "z9hG4bK1", undefined],
    ["TCP", "b.example", "z9hG4bK2", undefined],
    ["UDP", "[2001:db8::2]", "z9hG4bK3", "192.0.2.1"],
  ]);
  t.equal(m.from.displayName, 'Alice "A"');
  t.equal(m.from.tag, "1928");
  t.equal(m.from.params, ";tag=1928;x=y");
  t.equal(m.from.uri, "sip:alice@example.com");
  t.equal(m.to.displayName, undefined);
  t.equal(m.body.length, 0);
});

t.test("every valid corpus message: viaCount and viaList agree with the Via header values", async (t) => {
  for (const e of VALID) {
    const m = ok(e.text);
    const values = m.getHeaders("via") ?? [];
    t.equal(m.viaCount, values.length, e.name);
    t.same(m.viaList, values.map((v) => parseVia(v, 0, v.length)), e.name);
    t.equal(m.body.length, m.contentLength, e.name);
  }
});
