// Answers to bad requests, on raw bytes over a real mutual-TLS connection: each answer is one
// well-formed response that copies only the RFC 3261 §8.2.6 headers (never the request's
// Content-Length or other lines, whatever its line ends), the stream stays in sync for the next
// request, and a request that cannot be answered (no Via) gets its connection closed, never a hang.
import t, { type Test } from "tap";
import { TrunkClient, startGateway, type Received } from "./harness.js";

function rawOf(m: Received): string {
  if (m === "pong") return "pong";
  return m.buf.toString("latin1");
}

/** Header lines of a raw response, by lower-case name. */
function headerLines(raw: string): { status: string; lines: string[] } {
  const head = raw.slice(0, raw.indexOf("\r\n\r\n"));
  const [status, ...lines] = head.split("\r\n");
  return { status: status ?? "", lines };
}

function count(lines: string[], name: string): number {
  return lines.filter((l) => l.toLowerCase().startsWith(name.toLowerCase() + ":")).length;
}

const OPTIONS = (port: number, n: number): string =>
  [`OPTIONS sip:127.0.0.1:${port} SIP/2.0`, `Via: SIP/2.0/TLS 127.0.0.1:5999;branch=z9hG4bK-opt-${n}-${Date.now()}`,
    "Max-Forwards: 70", "From: <sip:a@dev-trunk.local>;tag=o1", "To: <sip:b@127.0.0.1>", `Call-ID: opt-${n}-${Date.now()}@t`,
    "CSeq: 1 OPTIONS", "Content-Length: 0", "", ""].join("\r\n");

/** The next message must be our OPTIONS' 200: proof the stream is still in sync. */
async function inSync(t: Test, c: TrunkClient, port: number, n: number): Promise<void> {
  c.send(OPTIONS(port, n));
  const m = await c.next(8000);
  t.match(rawOf(m), /^SIP\/2\.0 200 OK\r\n/, "the next request on the same connection is answered (stream in sync)");
}

function checkOneAnswer(t: Test, raw: string, status: RegExp): string[] {
  const { status: sl, lines } = headerLines(raw);
  t.match(sl, status, "status line");
  t.equal(count(lines, "content-length") + count(lines, "l"), 1, "exactly one Content-Length");
  t.ok(lines.includes("Content-Length: 0"), "Content-Length: 0");
  t.ok(lines.every((l) => /^(Via|v|From|f|To|t|Call-ID|i|CSeq|Content-Length): /i.test(l)), `only the §8.2.6 headers: ${JSON.stringify(lines)}`);
  t.equal(count(lines, "to"), 1, "one To");
  const to = lines.find((l) => l.startsWith("To: ")) ?? "";
  t.equal((to.match(/;\s*tag\s*=/gi) ?? []).length, 1, `one To tag: ${to}`);
  return lines;
}

t.test("bad requests get one safe answer each; the stream stays in sync", async (t) => {
  const gw = await startGateway({ upstreams: [{ name: "svc", targets: [{ port: 9 }] }] });
  t.teardown(() => gw.stop());
  const c = await TrunkClient.connect(gw.port, gw.pki.client, gw.pki);
  t.teardown(() => c.close());

  await t.test("a request with some bare-LF lines and a body", async (t) => {
    c.send(["INVITE sip:x@127.0.0.1 SIP/2.0\r\n", "Via: SIP/2.0/TLS 127.0.0.1:5999;branch=z9hG4bK-lf1\r\n",
      "From: <sip:a@dev-trunk.local>;tag=1\r\n", "To: <sip:b@127.0.0.1>\r\n", "Call-ID: lf1@t\n", "Content-Length: 5\r\n",
      "CSeq: 1 INVITE\r\n", "\r\n", "hello"].join(""));
    const lines = checkOneAnswer(t, rawOf(await c.next(8000)), /^SIP\/2\.0 400 /);
    t.ok(lines.includes("Call-ID: lf1@t"), "Call-ID copied alone (no tag, no other line appended)");
    await inSync(t, c, gw.port, 1);
  });

  await t.test("a request written entirely with bare LF", async (t) => {
    c.send(["OPTIONS sip:x@127.0.0.1 SIP/2.0", "Via: SIP/2.0/TLS 127.0.0.1:5999;branch=z9hG4bK-lf2", "From: <sip:a@dev-trunk.local>;tag=1",
      "To: <sip:b@127.0.0.1>", "Call-ID: lf2@t", "CSeq: 1 OPTIONS", "Content-Length: 3", "", "abc"].join("\n"));
    const lines = checkOneAnswer(t, rawOf(await c.next(8000)), /^SIP\/2\.0 400 /);
    t.ok(lines.includes("Call-ID: lf2@t") && lines.includes("CSeq: 1 OPTIONS"));
    await inSync(t, c, gw.port, 2);
  });

  await t.test("a To tag written with LWS around '=' is kept, not doubled", async (t) => {
    c.send(["INVITE sip:x@127.0.0.1 SIP/2.0", "Via: SIP/2.0/TLS 127.0.0.1:5999;branch=z9hG4bK-tag", "From: <sip:a@dev-trunk.local>;tag=1",
      "To: <sip:b@127.0.0.1> ;   tag    = 1918181833n", "Call-ID: tag@t", "CSeq: x INVITE", "Content-Length: 0", "", ""].join("\r\n"));
    const lines = checkOneAnswer(t, rawOf(await c.next(8000)), /^SIP\/2\.0 400 Bad Request - Malformed CSeq Header$/);
    t.ok(lines.some((l) => l.startsWith("To: ") && l.includes("1918181833n")));
    await inSync(t, c, gw.port, 3);
  });

  await t.test("a lone CR inside a value cannot smuggle a line into the answer", async (t) => {
    c.send(["MESSAGE sip:x@127.0.0.1 SIP/2.0", "Via: SIP/2.0/TLS 127.0.0.1:5999;branch=z9hG4bK-cr", "From: <sip:a@dev-trunk.local>;tag=1",
      "To: <sip:b@127.0.0.1>", "Call-ID: cr@t\rContent-Length: 7", "CSeq: 1 MESSAGE", "Content-Length: 0", "", ""].join("\r\n"));
    checkOneAnswer(t, rawOf(await c.next(8000)), /^SIP\/2\.0 400 /);
    await inSync(t, c, gw.port, 4);
  });

  await t.test("duplicated CSeq: echoed once", async (t) => {
    c.send(["BYE sip:x@127.0.0.1 SIP/2.0", "Via: SIP/2.0/TLS 127.0.0.1:5999;branch=z9hG4bK-dup", "From: <sip:a@dev-trunk.local>;tag=1",
      "To: <sip:b@127.0.0.1>;tag=2", "Call-ID: dup@t", "CSeq: 1 BYE", "CSeq: 2 BYE", "Content-Length: 0", "", ""].join("\r\n"));
    const lines = checkOneAnswer(t, rawOf(await c.next(8000)), /^SIP\/2\.0 400 Bad Request - Multiple CSeq Headers$/);
    t.equal(count(lines, "cseq"), 1);
    await inSync(t, c, gw.port, 5);
  });
});

t.test("a framed request without Via (no SIP-Version, no CSeq) → connection closed, never left hanging", async (t) => {
  const gw = await startGateway({ upstreams: [{ name: "svc", targets: [{ port: 9 }] }] });
  t.teardown(() => gw.stop());
  const c = await TrunkClient.connect(gw.port, gw.pki.client, gw.pki);
  t.teardown(() => c.close());
  c.send("INVITE sip:alan@jasomi.com\r\nTO : alan@jasomi.com\r\nFrom: ralph@example.com\r\nCall-ID: t@x\r\nContent-Length: 0\r\n\r\n");
  await c.waitClosed(8000);
  t.ok(c.closed, "closed");
  t.match(await gw.metrics(), /trunkgate_sip_dropped_messages_total\{reason="unanswerable_request"\} 1/);
});

t.test("a request the stream cannot frame (no Content-Length) → 400, then the connection closes", async (t) => {
  const gw = await startGateway({ upstreams: [{ name: "svc", targets: [{ port: 9 }] }] });
  t.teardown(() => gw.stop());
  const c = await TrunkClient.connect(gw.port, gw.pki.client, gw.pki);
  t.teardown(() => c.close());
  c.send(["OPTIONS sip:x@127.0.0.1 SIP/2.0", "Via: SIP/2.0/TLS 127.0.0.1:5999;branch=z9hG4bK-nocl", "From: <sip:a@dev-trunk.local>;tag=1",
    "To: <sip:b@127.0.0.1>", "Call-ID: nocl@t", "CSeq: 1 OPTIONS", "", ""].join("\r\n"));
  checkOneAnswer(t, rawOf(await c.next(8000)), /^SIP\/2\.0 400 Bad Request - Missing Content-Length Header$/);
  await c.waitClosed(8000);
  t.ok(c.closed, "closed after the answer");
});
