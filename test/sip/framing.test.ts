import t from "tap";
import { SipStreamFramer, type FrameEvent } from "../../src/sip/transport/framing.js";
import { INVITE_SDP, OK_200, msg } from "./parse/corpus.js";

const b = (s: string): Buffer => Buffer.from(s, "utf8");
const describe = (evs: FrameEvent[]): string[] =>
  evs.map((e) => (e.type === "message" ? "msg:" + e.message.toString("utf8") : e.type === "ping" ? "ping" : "error:" + e.error.code + ":" + e.error.fatal));

const STREAM = "\r\n\r\n" + INVITE_SDP + "\r\n" + OK_200 + "\r\n\r\n" + INVITE_SDP;
const EXPECTED = ["ping", "msg:" + INVITE_SDP, "msg:" + OK_200, "ping", "msg:" + INVITE_SDP];

t.test("one chunk: pings, ignored single CRLF, messages", async (t) => {
  t.same(describe(new SipStreamFramer().push(b(STREAM))), EXPECTED);
});

t.test("every split point (two pushes) and byte-by-byte frame identically", async (t) => {
  const all = b(STREAM);
  for (let i = 1; i < all.length; i++) {
    const f = new SipStreamFramer();
    const evs = [...f.push(all.subarray(0, i)), ...f.push(all.subarray(i))];
    if (JSON.stringify(describe(evs)) !== JSON.stringify(EXPECTED)) {
      t.fail(`split at ${i} lost sync`);
      return;
    }
  }
  const f = new SipStreamFramer();
  const evs: FrameEvent[] = [];
  for (let i = 0; i < all.length; i++) evs.push(...f.push(all.subarray(i, i + 1)));
  t.same(describe(evs), EXPECTED);
  t.equal(f.bufferedBytes, 0);
});

t.test("a message inside one chunk is a zero-copy view", async (t) => {
  const chunk = b(INVITE_SDP + OK_200);
  const [first] = new SipStreamFramer().push(chunk);
  t.ok(first?.type === "message" && first.message.buffer === chunk.buffer);
});

t.test("fragmented ping and compact l:", async (t) => {
  const f = new SipStreamFramer();
  t.same(describe(f.push(b("\r\n"))), []);
  t.same(describe(f.push(b("\r"))), []);
  t.same(describe(f.push(b("\n"))), ["ping"]);
  const compact = INVITE_SDP.replace(/Content-Length:/, "l  :");
  t.same(describe(f.push(b(compact))), ["msg:" + compact]);
});

t.test("Content-Length counts bytes, not characters", async (t) => {
  const m = msg(["MESSAGE sip:b@example.com SIP/2.0", "Via: SIP/2.0/TLS h;branch=z9hG4bK1", "Content-Length: {CL}"], "héllo €");
  const f = new SipStreamFramer();
  t.same(describe(f.push(b(m + m))), ["msg:" + m, "msg:" + m]);
});

t.test("missing or bad Content-Length is fatal", async (t) => {
  const noCl = "OPTIONS sip:b@example.com SIP/2.0\r\nVia: SIP/2.0/TLS h;branch=z9hG4bK1\r\n\r\n";
  const f = new SipStreamFramer();
  t.same(describe(f.push(b(noCl))), ["error:missing-content-length:true"]);
  t.ok(f.isClosed);
  t.same(f.push(b(INVITE_SDP)), [], "closed framer yields nothing");
  for (const v of ["-1", "abc", "12345678901"]) {
    const g = new SipStreamFramer();
    t.same(describe(g.push(b(noCl.replace("\r\n\r\n", `\r\nContent-Length: ${v}\r\n\r\n`)))), ["error:invalid-content-length:true"], v);
  }
  const two = noCl.replace("\r\n\r\n", "\r\nContent-Length: 0\r\nl: 5\r\n\r\n");
  t.same(describe(new SipStreamFramer().push(b(two))), ["error:invalid-content-length:true"]);
});

t.test("too large with a known Content-Length: skipped, stream continues", async (t) => {
  const big = msg(["MESSAGE sip:b@example.com SIP/2.0", "Via: SIP/2.0/TLS h;branch=z9hG4bK1", "Content-Length: {CL}"], "x".repeat(5000));
  const f = new SipStreamFramer({ maxMessageBytes: 2048 });
  const all = b(big + OK_200);
  // body arrives across pushes: the skip must span them
  const evs = [...f.push(all.subarray(0, 1000)), ...f.push(all.subarray(1000, 3000)), ...f.push(all.subarray(3000))];
  t.same(describe(evs), ["error:message-too-large:false", "msg:" + OK_200]);
  const err = evs[0];
  t.ok(err?.type === "error" && err.error.headerSection?.toString("latin1").startsWith("MESSAGE sip:"), "header section handed back");
});

t.test("too many headers / long line: recoverable when Content-Length known", async (t) => {
  const many = msg(["OPTIONS sip:b@example.com SIP/2.0", ...Array.from({ length: 20 }, (_, i) => `X-H${i}: v`), "Content-Length: 0"]);
  const f = new SipStreamFramer({ maxHeaders: 10 });
  t.same(describe(f.push(b(many + OK_200))), ["error:too-many-headers:false", "msg:" + OK_200]);
  const long = msg(["OPTIONS sip:b@example.com SIP/2.0", "X-Long: " + "y".repeat(300), "Content-Length: 0"]);
  const g = new SipStreamFramer({ maxLineBytes: 200 });
  t.same(describe(g.push(b(long + OK_200))), ["error:line-too-long:false", "msg:" + OK_200]);
});

t.test("no end of headers within the limit is fatal", async (t) => {
  const f = new SipStreamFramer({ maxMessageBytes: 1024 });
  t.same(describe(f.push(b("OPTIONS sip:b@example.com SIP/2.0\r\n"))), []);
  t.same(describe(f.push(b("X: " + "z".repeat(2000)))), ["error:header-section-too-large:true"]);
});

t.test("CR without LF between messages is fatal", async (t) => {
  t.same(describe(new SipStreamFramer().push(b("\rX"))), ["error:malformed-keepalive:true"]);
});
