// Differential/fuzz corpus: our own messages, written for trunkgate, covering the RFC 4475
// categories (valid torture cases §3.1.1, invalid §3.1.2, semantically invalid §3.3) plus the
// everyday messages a trunk proxy sees. `msg()` joins lines with CRLF and fills "{CL}" with the
// body's byte length.

export interface CorpusEntry {
  name: string;
  text: string;
  /** What trunkgate's parser must decide. */
  valid: boolean;
  /** For invalid entries: the status our parser must report (400 unless stated). */
  status?: 400 | 416 | 505;
  /** Set when sip.js deliberately decides otherwise; the key names a row of the differences table. */
  sipjs?: "accepts-semantic" | "accepts-scalar" | "accepts-start-line" | "accepts-header-line" | "rejects-non-sip-addr";
}

export function msg(lines: string[], body = ""): string {
  const cl = Buffer.byteLength(body, "utf8");
  return lines.map((l) => l.replace("{CL}", String(cl))).join("\r\n") + "\r\n\r\n" + body;
}

const SDP = [
  "v=0",
  "o=alice 2890844526 2890844526 IN IP4 198.51.100.7",
  "s=-",
  "c=IN IP4 198.51.100.7",
  "t=0 0",
  "m=audio 49170 RTP/SAVP 0 8 101",
  "a=rtpmap:0 PCMU/8000",
  "a=rtpmap:101 telephone-event/8000",
  "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|2^20|1:32",
  "",
].join("\r\n");

export const INVITE_SDP = msg(
  [
    "INVITE sip:+15551230000@trunk.example.net;user=phone SIP/2.0",
    "Via: SIP/2.0/TLS pbx.customer.example:5061;branch=z9hG4bK776asdhds;rport",
    "Max-Forwards: 70",
    'To: "Bob" <sip:+15551230000@trunk.example.net;user=phone>',
    'From: "Alice" <sip:alice@customer.example>;tag=1928301774',
    "Call-ID: a84b4c76e66710@pbx.customer.example",
    "CSeq: 314159 INVITE",
    "Contact: <sip:alice@198.51.100.7:5061;transport=tls>",
    "Allow: INVITE, ACK, CANCEL, BYE, OPTIONS",
    "Supported: timer, 100rel",
    "User-Agent: ExamplePBX/1.0",
    "Content-Type: application/sdp",
    "Content-Length: {CL}",
  ],
  SDP,
);

export const OK_200 = msg(
  [
    "SIP/2.0 200 OK",
    "Via: SIP/2.0/TLS proxy.trunkgate.example:5061;branch=z9hG4bKproxy1",
    "Via: SIP/2.0/TLS pbx.customer.example:5061;branch=z9hG4bK776asdhds;rport=5061;received=198.51.100.7",
    "Record-Route: <sip:proxy.trunkgate.example:5061;transport=tls;lr>",
    'To: "Bob" <sip:+15551230000@trunk.example.net;user=phone>;tag=a6c85cf',
    'From: "Alice" <sip:alice@customer.example>;tag=1928301774',
    "Call-ID: a84b4c76e66710@pbx.customer.example",
    "CSeq: 314159 INVITE",
    "Contact: <sip:bob@203.0.113.9:5061;transport=tls>",
    "Content-Type: application/sdp",
    "Content-Length: {CL}",
  ],
  SDP,
);

const base = (method: string, extra: string[] = [], ruri = "sip:bob@example.com"): string[] => [
  `${method} ${ruri} SIP/2.0`,
  "Via: SIP/2.0/TLS client.example.com:5061;branch=z9hG4bKabc123",
  "Max-Forwards: 70",
  "To: <sip:bob@example.com>",
  "From: <sip:alice@example.com>;tag=f1",
  "Call-ID: cid-1@client.example.com",
  `CSeq: 1 ${method}`,
  ...extra,
  "Content-Length: {CL}",
];

export const VALID: CorpusEntry[] = [
  { name: "invite-sdp", text: INVITE_SDP, valid: true },
  { name: "200-ok-invite", text: OK_200, valid: true },
  {
    name: "register",
    valid: true,
    text: msg([
      "REGISTER sip:registrar.example.com SIP/2.0",
      "Via: SIP/2.0/TLS ua.example.com:5061;branch=z9hG4bKreg1",
      "Max-Forwards: 70",
      "To: <sip:alice@example.com>",
      "From: <sip:alice@example.com>;tag=r1",
      "Call-ID: reg-1",
      "CSeq: 1 REGISTER",
      "Contact: <sip:alice@192.0.2.4:5061;transport=tls>;expires=3600, <sip:alice@[2001:db8::4]>;q=0.5",
      "Expires: 3600",
      "Content-Length: 0",
    ]),
  },
  { name: "options", text: msg(base("OPTIONS", ["Accept: application/sdp"])), valid: true },
  { name: "bye", text: msg(base("BYE", ["Route: <sip:p1.example.com;lr>, <sip:p2.example.com;lr>"])), valid: true },
  {
    name: "180-no-body",
    valid: true,
    text: msg([
      "SIP/2.0 180 Ringing",
      "Via: SIP/2.0/TLS a.example.com;branch=z9hG4bK1, SIP/2.0/TLS b.example.com:5062;branch=z9hG4bK2",
      "To: <sip:bob@example.com>;tag=t9",
      "From: <sip:alice@example.com>;tag=f1",
      "Call-ID: cid-2",
      "CSeq: 7 INVITE",
      "Content-Length: 0",
    ]),
  },
  {
    name: "compact-forms",
    valid: true,
    text: msg(
      [
        "INVITE sip:bob@example.com SIP/2.0",
        "v: SIP/2.0/TLS c.example.com:5061;branch=z9hG4bKcompact",
        "Max-Forwards: 69",
        "t: <sip:bob@example.com>",
        "f: Alice <sip:alice@example.com>;tag=cf1",
        "i: compact-call@c.example.com",
        "CSeq: 2 INVITE",
        "m: <sip:alice@c.example.com>",
        "k: timer",
        "c: application/sdp",
        "l: {CL}",
      ],
      SDP,
    ),
  },
  {
    name: "folding-and-whitespace",
    valid: true,
    text: msg([
      "OPTIONS sip:bob@example.com SIP/2.0",
      "Via  : SIP/2.0/TLS   fold.example.com:5061 ;branch=z9hG4bKfold1",
      "Max-Forwards:   70",
      "To:\t<sip:bob@example.com>",
      "From: Alice",
      "  <sip:alice@example.com>",
      "\t;tag=fold",
      "Call-ID:   fold-1",
      "CSeq:  9",
      "   OPTIONS",
      "Subject: a header",
      "  continued on two lines",
      "Content-Length: {CL}",
    ]),
  },
  {
    name: "vias-across-headers-and-commas",
    valid: true,
    text: msg([
      "SIP/2.0 486 Busy Here",
      "Via: SIP/2.0/TLS top.example.com:5061;branch=z9hG4bKtop;received=192.0.2.1;rport=6000",
      "Via: SIP/2.0/TLS mid.example.com;branch=z9hG4bKmid, SIP/2.0/UDP low.example.com;branch=z9hG4bKlow",
      "To: <sip:bob@example.com>;tag=b1",
      "From: <sip:alice@example.com>;tag=a1",
      "Call-ID: vias-1",
      "CSeq: 4 INVITE",
      "Content-Length: {CL}",
    ]),
  },
  {
    name: "ipv6-hosts",
    valid: true,
    text: msg([
      "INVITE sip:bob@[2001:db8::10]:5061;transport=tls SIP/2.0",
      "Via: SIP/2.0/TLS [2001:db8::9]:5061;branch=z9hG4bKv6;rport",
      "Max-Forwards: 70",
      "To: <sip:bob@[2001:db8::10]>",
      "From: <sip:alice@[2001:db8::9]>;tag=v6",
      "Call-ID: v6-1",
      "CSeq: 1 INVITE",
      "Content-Length: {CL}",
    ]),
  },
  {
    name: "quoted-escaped-display-names",
    valid: true,
    text: msg([
      "MESSAGE sip:bob@example.com SIP/2.0",
      "Via: SIP/2.0/TLS q.example.com;branch=z9hG4bKq1",
      "Max-Forwards: 70",
      'To: "Bob \\"the builder\\" Smith" <sip:bob@example.com>',
      'From: "Alice, \\\\ A. <test>" <sip:alice@example.com>;tag=q1',
      "Call-ID: q-1",
      "CSeq: 1 MESSAGE",
      "Content-Type: text/plain",
      "Content-Length: {CL}",
    ], "hello"),
  },
  {
    name: "escaped-user-and-semicolon-uri",
    valid: true,
    text: msg(base("OPTIONS", [], "sip:sip%3Auser%40example.com@example.net;lr;transport=tls")),
  },
  {
    name: "tel-request-uri",
    valid: true,
    text: msg(base("INVITE", [], "tel:+1-555-123-0000;phone-context=example.com")),
  },
  {
    name: "unknown-method-matching-cseq",
    valid: true,
    text: msg(base("NEWMETHOD", [])),
  },
  {
    name: "unknown-scheme-in-to",
    valid: true,
    sipjs: "rejects-non-sip-addr",
    text: msg([
      "OPTIONS sip:bob@example.com SIP/2.0",
      "Via: SIP/2.0/TLS u.example.com;branch=z9hG4bKu1",
      "Max-Forwards: 70",
      "To: isbn:2983792873",
      "From: <http://www.example.com>;tag=u1",
      "Call-ID: u-1",
      "CSeq: 1 OPTIONS",
      "Content-Length: {CL}",
    ]),
  },
  {
    name: "no-reason-phrase",
    valid: true,
    text: msg([
      "SIP/2.0 100 ",
      "Via: SIP/2.0/TLS n.example.com;branch=z9hG4bKn1",
      "To: <sip:bob@example.com>",
      "From: <sip:alice@example.com>;tag=n1",
      "Call-ID: n-1",
      "CSeq: 1 INVITE",
      "Content-Length: {CL}",
    ]),
  },
  { name: "max-forwards-zero", text: msg(base("OPTIONS").map((l) => (l.startsWith("Max-F") ? "Max-Forwards: 0" : l))), valid: true },
  { name: "max-forwards-absent", text: msg(base("OPTIONS").filter((l) => !l.startsWith("Max-F"))), valid: true },
  {
    name: "via-maddr-received-ttl",
    valid: true,
    text: msg([
      "OPTIONS sip:bob@example.com SIP/2.0",
      "Via: SIP/2.0/UDP sender.example.com:5060;branch=z9hG4bKm1;maddr=239.255.255.1;ttl=16;received=192.0.2.50",
      "Max-Forwards: 70",
      "To: <sip:bob@example.com>",
      "From: <sip:alice@example.com>;tag=m1",
      "Call-ID: m-1",
      "CSeq: 1 OPTIONS",
      "Content-Length: {CL}",
    ]),
  },
  { name: "ack-cseq", text: msg(base("ACK")), valid: true },
  { name: "cancel-cseq", text: msg(base("CANCEL")), valid: true },
  {
    name: "long-values-and-unknown-headers",
    valid: true,
    text: msg(base("OPTIONS", ["X-Customer-Ref: " + "a".repeat(500), "P-Asserted-Identity: <sip:+15550001111@example.com>"])),
  },
];

const swap = (lines: string[], prefix: string, repl: string | undefined): string[] =>
  lines.flatMap((l) => (l.startsWith(prefix) ? (repl === undefined ? [] : [repl]) : [l]));

export const INVALID: CorpusEntry[] = [
  // §3.1.2.1 extraneous header field separators
  { name: "via-empty-params", text: msg(swap(base("INVITE"), "Via:", "Via: SIP/2.0/TLS h.example.com;;,;,,")), valid: false },
  // §3.1.2.2 Content-Length larger than message
  { name: "content-length-too-large", text: msg(base("INVITE", ["Content-Type: application/sdp"]).map((l) => l.replace("{CL}", "9999")), "v=0\r\n"), valid: false, sipjs: "accepts-semantic" },
  // §3.1.2.3 negative Content-Length
  { name: "content-length-negative", text: msg(base("INVITE").map((l) => l.replace("{CL}", "-999"))), valid: false },
  // §3.1.2.4 overlarge request scalars
  { name: "cseq-overlarge", text: msg(swap(base("OPTIONS"), "CSeq:", "CSeq: 36893488147419103232 OPTIONS")), valid: false, sipjs: "accepts-scalar" },
  { name: "max-forwards-300", text: msg(swap(base("OPTIONS"), "Max-F", "Max-Forwards: 300")), valid: false, sipjs: "accepts-scalar" },
  // §3.1.2.5 overlarge response scalars (status code)
  { name: "status-code-overlarge", text: msg(["SIP/2.0 4294967301 better not break the receiver", "Via: SIP/2.0/TLS h.example.com;branch=z9hG4bK1", "To: <sip:b@example.com>;tag=1", "From: <sip:a@example.com>;tag=2", "Call-ID: big-1", "CSeq: 1 INVITE", "Content-Length: {CL}"]), valid: false },
  // §3.1.2.6 unterminated quoted display name
  { name: "unterminated-quote", text: msg(swap(base("INVITE"), "From:", 'From: "Mr J. User <sip:alice@example.com>;tag=q')), valid: false },
  // §3.1.2.7 <> around the Request-URI
  { name: "ruri-in-angle-brackets", text: msg(base("INVITE", [], "<sip:bob@example.com>")), valid: false },
  // §3.1.2.8 embedded LWS in Request-URI
  { name: "ruri-embedded-lws", text: msg(base("INVITE", [], "sip:bob@example.com; lr")), valid: false },
  // §3.1.2.9 multiple SP in the request line
  { name: "request-line-double-sp", text: msg(base("OPTIONS", [], " sip:bob@example.com")), valid: false },
  // §3.1.2.10 SP at end of request line
  { name: "request-line-trailing-sp", text: msg(base("OPTIONS")).replace("SIP/2.0\r\n", "SIP/2.0 \r\n"), valid: false },
  // §3.1.2.11 escaped headers in Request-URI
  { name: "ruri-with-headers", text: msg(base("INVITE", [], "sip:bob@example.com?Route=%3Csip:example.com%3E")), valid: false, sipjs: "accepts-semantic" },
  // §3.1.2.13 name-addr needed (addr-spec with ? headers / params ambiguity)
  { name: "to-addr-spec-with-headers", text: msg(swap(base("OPTIONS"), "To:", "To: sip:bob@example.com?Subject=x")), valid: false },
  // §3.1.2.14 spaces within addr-spec
  { name: "space-in-addr-spec", text: msg(swap(base("OPTIONS"), "From:", "From: <sip:alice @example.com>;tag=s")), valid: false },
  // §3.1.2.15 non-token characters in an unquoted display name
  { name: "display-name-comma", text: msg(swap(base("OPTIONS"), "From:", "From: Bell, Alexander <sip:a.g.bell@example.com>;tag=43")), valid: false },
  // §3.1.2.16 unknown protocol version
  { name: "sip-7", text: msg(base("OPTIONS")).replace("SIP/2.0\r\n", "SIP/7.0\r\n"), valid: false, status: 505, sipjs: "accepts-start-line" },
  // §3.1.2.17 start line / CSeq method mismatch
  { name: "cseq-method-mismatch", text: msg(swap(base("INVITE"), "CSeq:", "CSeq: 1 OPTIONS")), valid: false, sipjs: "accepts-semantic" },
  // §3.1.2.18 unknown method with CSeq mismatch
  { name: "unknown-method-cseq-mismatch", text: msg(swap(base("NEWMETHOD"), "CSeq:", "CSeq: 1 INVITE")), valid: false, sipjs: "accepts-semantic" },
  // §3.3.1 missing mandatory headers
  { name: "missing-call-id", text: msg(swap(base("OPTIONS"), "Call-ID:", undefined)), valid: false, sipjs: "accepts-semantic" },
  { name: "missing-via", text: msg(swap(base("OPTIONS"), "Via:", undefined)), valid: false, sipjs: "accepts-semantic" },
  { name: "missing-cseq", text: msg(swap(base("OPTIONS"), "CSeq:", undefined)), valid: false, sipjs: "accepts-semantic" },
  { name: "missing-from", text: msg(swap(base("OPTIONS"), "From:", undefined)), valid: false, sipjs: "accepts-semantic" },
  // §3.3.2 / 3.3.3 unknown or atypical Request-URI scheme → 416
  { name: "ruri-unknown-scheme", text: msg(base("OPTIONS", [], "nobodyknowsthisscheme:totallyopaque-content")), valid: false, status: 416, sipjs: "accepts-start-line" },
  { name: "ruri-atypical-scheme", text: msg(base("OPTIONS", [], "soap.beep://192.0.2.103:3002")), valid: false, status: 416, sipjs: "accepts-start-line" },
  // §3.3.9 multiple values in single-value fields
  { name: "two-call-ids", text: msg(base("OPTIONS", ["Call-ID: second"])), valid: false, sipjs: "accepts-semantic" },
  { name: "two-content-lengths", text: msg(base("OPTIONS", ["Content-Length: 0"])), valid: false, sipjs: "accepts-semantic" },
  // other syntax
  { name: "bad-via-port", text: msg(swap(base("OPTIONS"), "Via:", "Via: SIP/2.0/TLS h.example.com:99999;branch=z9hG4bK1")), valid: false, sipjs: "accepts-scalar" },
  { name: "via-no-host", text: msg(swap(base("OPTIONS"), "Via:", "Via: SIP/2.0/TLS ;branch=z9hG4bK1")), valid: false },
  { name: "bad-cseq-text", text: msg(swap(base("OPTIONS"), "CSeq:", "CSeq: one OPTIONS")), valid: false },
  { name: "max-forwards-text", text: msg(swap(base("OPTIONS"), "Max-F", "Max-Forwards: ten")), valid: false },
  { name: "header-without-colon", text: msg(base("OPTIONS", ["This is not a header"])), valid: false, sipjs: "accepts-header-line" },
  { name: "bad-ipv6-ruri", text: msg(base("OPTIONS", [], "sip:bob@[2001:db8:::1]")), valid: false },
  { name: "call-id-with-space", text: msg(swap(base("OPTIONS"), "Call-ID:", "Call-ID: two words")), valid: false },
  { name: "status-line-garbage", text: msg(["SIP/2.0 OK", "Via: SIP/2.0/TLS h.example.com;branch=z9hG4bK1", "To: <sip:b@example.com>", "From: <sip:a@example.com>;tag=2", "Call-ID: g", "CSeq: 1 INVITE"]), valid: false },
];
