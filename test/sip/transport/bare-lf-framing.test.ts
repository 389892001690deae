// Stream framing of messages written with bare-LF line ends (RFC 3261 wants CRLF; some stacks
// send LF): the message still ends at its empty line and its Content-Length counts, so the next
// message frames correctly, at every split point; a fatal Content-Length error keeps the header
// section so the request can still be answered.
import t from "tap";
import { SipStreamFramer, type FrameEvent } from "../../../src/sip/transport/framing.js";

const describe = (evs: FrameEvent[]): string[] =>
  evs.map((e) => (e.type === "message" ? "msg:" + e.message.toString("latin1") : e.type === "ping" ? "ping" : `error:${e.error.code}:${e.error.fatal}`));

const LF_ONLY = "OPTIONS sip:a@b SIP/2.0\nVia: SIP/2.0/TLS h;branch=z9hG4bK1\nContent-Length: 3\n\nabc";
const MIXED = "OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/TLS h;branch=z9hG4bK2\nContent-Length: 2\r\n\nxy";
const GOOD = "OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/TLS h;branch=z9hG4bK3\r\nContent-Length: 0\r\n\r\n";
const STREAM = LF_ONLY + "\n" + MIXED + GOOD;
const EXPECTED = ["msg:" + LF_ONLY, "msg:" + MIXED, "msg:" + GOOD];

t.test("bare-LF messages frame by their empty line and Content-Length, at every split point", async (t) => {
  const all = Buffer.from(STREAM, "latin1");
  t.same(describe(new SipStreamFramer().push(all)), EXPECTED, "one chunk");
  for (let i = 1; i < all.length; i++) {
    const f = new SipStreamFramer();
    const evs = [...f.push(all.subarray(0, i)), ...f.push(all.subarray(i))];
    if (JSON.stringify(describe(evs)) !== JSON.stringify(EXPECTED)) {
      t.fail(`split at ${i} lost sync: ${JSON.stringify(describe(evs))}`);
      return;
    }
  }
  const f = new SipStreamFramer();
  const evs: FrameEvent[] = [];
  for (let i = 0; i < all.length; i++) evs.push(...f.push(all.subarray(i, i + 1)));
  t.same(describe(evs), EXPECTED, "byte by byte");
});

t.test("a bare-LF empty line before a later CRLFCRLF ends the first message there", async (t) => {
  const evs = new SipStreamFramer().push(Buffer.from(LF_ONLY + GOOD, "latin1"));
  t.same(describe(evs), ["msg:" + LF_ONLY, "msg:" + GOOD]);
});

t.test("leading zeros in Content-Length are a valid 1*DIGIT", async (t) => {
  const m = GOOD.replace("Content-Length: 0", "Content-Length: 0002") + "ok";
  t.same(describe(new SipStreamFramer().push(Buffer.from(m + GOOD, "latin1"))), ["msg:" + m, "msg:" + GOOD]);
});

t.test("fatal Content-Length errors carry the header section (the request can be answered)", async (t) => {
  const noCl = "OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/TLS h;branch=z9hG4bK1\r\n\r\n";
  const [ev] = new SipStreamFramer().push(Buffer.from(noCl, "latin1"));
  t.ok(ev?.type === "error" && ev.error.fatal && ev.error.headerSection?.toString("latin1") === noCl);
});
