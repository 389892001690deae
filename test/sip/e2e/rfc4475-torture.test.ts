// RFC 4475 torture run: every file of the RFC's archive (a byte-exact copy with its SHA256SUMS in
// test/sip/torture/rfc4475/, so the test does not depend on where the clone lives), each sent on
// its own mutual-TLS connection through the real listener and proxy to a real upstream UAS
// (node-uas.ts, answers INVITE 486 and anything else 200), checking the verdict below, then that
// the proxy still serves: an OPTIONS round trip on a fresh connection after every file.
//
// The archive holds 50 files: the RFC's 49 messages and test.dat. test.dat is not one of §3's
// messages but it is a message too (an INVITE with no SIP-Version, no Via, no CSeq, a header line
// without a colon); it is sent like the others: it can be framed (Content-Length: 18) but not
// answered (no Via to answer to), so the connection is closed rather than left waiting.
//
// Stream handling of messages written for UDP (RFC 3261 §18.3: on a stream, Content-Length
// frames the message and MUST be present; RFC 4475 §3.1.2.2: "there's not much the receiving
// party could do but wait for more data on the stream and close the connection if none is
// forthcoming"):
// - Content-Length larger than the bytes sent (clerr), or no empty line ending the header section
//   (baddn as published): the proxy waits for the rest and closes the connection when no complete
//   message arrives in time (first-message timer here: short in this test's config).
// - No Content-Length (inv2543, valid RFC 2543 syntax over UDP), a negative one (ncl), or two that
//   differ (mcl01): the stream cannot be framed past this header section. The request is answered
//   400 from its header section, and the connection is closed once answers in flight went out.
// - Extra octets after a message (dblreq, §3.1.1.8: noise to ignore in a datagram): over a stream
//   those octets are the next message. Here they are a complete INVITE (forwarded and answered)
//   followed by 5 bytes whose header section has no Content-Length: answers to both requests are
//   relayed, then the connection closes.
// Responses (bcast, bigcode, noreason, scalarlg, unreason) are never answered: valid ones match no
// transaction (stray), malformed ones are dropped; the same connection keeps working.
// The media policy is off here: the run is about parsing and forwarding, not SDP.
import { createHash } from "node:crypto";
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import t from "tap";
import { repoPath } from "../../helpers/paths.js";
import { TrunkClient, startGateway, type Gateway, type Received } from "./harness.js";
import { startNodeUas } from "./node-uas.js";

const DIR = repoPath("test/sip/torture/rfc4475");

type Verdict =
  | { v: "forward" } // reaches the UAS; its final (486 INVITE, else 200) comes back
  | { v: "reject"; status: number } // answered by the proxy, not forwarded
  | { v: "answer"; status: number } // a valid request the proxy answers itself
  | { v: "drop" } // a response: nothing comes back, the connection keeps working
  | { v: "reject-close"; status: number } // answered, then the unframeable stream is closed
  | { v: "close" } // no answer possible: the connection is closed (at once, or by the timer)
  | { v: "dblreq" }; // §3.1.1.8 over a stream, see above

const fwd: Verdict = { v: "forward" };
const r400: Verdict = { v: "reject", status: 400 };

/** File → verdict, with the RFC 4475 section. */
const VERDICTS: Record<string, [string, Verdict]> = {
  "wsinv.dat": ["3.1.1.1 short tortuous INVITE (LWS, leading zeros, folding): valid", fwd],
  "intmeth.dat": ["3.1.1.2 wide range of valid characters: valid", fwd],
  "esc01.dat": ["3.1.1.3 valid % escaping: valid", fwd],
  "escnull.dat": ["3.1.1.4 escaped nulls in URIs: valid", fwd],
  "esc02.dat": ["3.1.1.5 % that is not an escape (unknown method): valid", fwd],
  "lwsdisp.dat": ["3.1.1.6 no LWS between display name and <: valid", fwd],
  "longreq.dat": ["3.1.1.7 long values in header fields: valid", fwd],
  "dblreq.dat": ["3.1.1.8 extra trailing octets (UDP datagram) — stream handling", { v: "dblreq" }],
  "semiuri.dat": ["3.1.1.9 semicolon-separated parameters in the user part: valid", fwd],
  "transports.dat": ["3.1.1.10 varied and unknown transport types: valid", fwd],
  "mpart01.dat": ["3.1.1.11 multipart MIME body: valid", fwd],
  "unreason.dat": ["3.1.1.12 unusual reason phrase: a valid response, matches no transaction", { v: "drop" }],
  "noreason.dat": ["3.1.1.13 empty reason phrase: a valid response, matches no transaction", { v: "drop" }],
  "badinv01.dat": ["3.1.2.1 extraneous header field separators: invalid", r400],
  "clerr.dat": ["3.1.2.2 Content-Length larger than the message: wait, then close (stream)", { v: "close" }],
  "ncl.dat": ["3.1.2.3 negative Content-Length: 400, unframeable stream closed", { v: "reject-close", status: 400 }],
  "scalar02.dat": ["3.1.2.4 request scalar fields with overlarge values: invalid", r400],
  "scalarlg.dat": ["3.1.2.5 response scalar fields with overlarge values: dropped", { v: "drop" }],
  "quotbal.dat": ["3.1.2.6 unterminated quoted string in display name: invalid", r400],
  "ltgtruri.dat": ["3.1.2.7 <> enclosing the Request-URI: invalid", r400],
  "lwsruri.dat": ["3.1.2.8 embedded LWS in the Request-URI: invalid", r400],
  "lwsstart.dat": ["3.1.2.9 multiple SP between Request-Line elements: invalid", r400],
  "trws.dat": ["3.1.2.10 SP at the end of the Request-Line: invalid", r400],
  "escruri.dat": ["3.1.2.11 escaped headers in the SIP Request-URI: invalid", r400],
  "baddate.dat": ["3.1.2.12 invalid time zone in Date: a proxy need not look at Date, forwards", fwd],
  "regbadct.dat": ["3.1.2.13 Contact addr-spec with headers: the RFC allows liberal handling; a proxy does not parse a REGISTER's Contact, forwards", fwd],
  "badaspec.dat": ["3.1.2.14 spaces within addr-spec: invalid", r400],
  "baddn.dat": ["3.1.2.15 non-token display name; as published no empty line ends it: wait, then close (stream)", { v: "close" }],
  "badvers.dat": ["3.1.2.16 unknown protocol version: 505", { v: "reject", status: 505 }],
  "mismatch01.dat": ["3.1.2.17 start line and CSeq method mismatch: invalid", r400],
  "mismatch02.dat": ["3.1.2.18 unknown method with CSeq method mismatch: invalid", r400],
  "bigcode.dat": ["3.1.2.19 overlarge response code: a malformed response, dropped", { v: "drop" }],
  "badbranch.dat": ["3.2.1 missing transaction identifier (RFC 2543 branch): valid", fwd],
  "insuf.dat": ["3.3.1 missing required header fields: 400", r400],
  "unkscm.dat": ["3.3.2 Request-URI with an unknown scheme: 416", { v: "reject", status: 416 }],
  "novelsc.dat": ["3.3.3 Request-URI with a known but atypical scheme: 416", { v: "reject", status: 416 }],
  "unksm2.dat": ["3.3.4 unknown URI schemes in header fields: valid", fwd],
  "bext01.dat": ["3.3.5 Proxy-Require with an unknown extension: 420 from the proxy", { v: "answer", status: 420 }],
  "invut.dat": ["3.3.6 unknown Content-Type: a proxy forwards (the UAS may 415)", fwd],
  "regaut01.dat": ["3.3.7 unknown authorization scheme: a proxy forwards", fwd],
  "multi01.dat": ["3.3.8 multiple values in single-value fields: 400", r400],
  "mcl01.dat": ["3.3.9 multiple differing Content-Length values: 400, unframeable stream closed", { v: "reject-close", status: 400 }],
  "bcast.dat": ["3.3.10 200 OK with a broadcast Via: a response, matches no transaction", { v: "drop" }],
  "zeromf.dat": ["3.3.11 Max-Forwards 0 on OPTIONS: the proxy answers it (RFC 3261 §16.3 step 3)", { v: "answer", status: 200 }],
  "cparam01.dat": ["3.3.12 Contact parameters: valid", fwd],
  "cparam02.dat": ["3.3.13 Contact parameters (quoted): valid", fwd],
  "regescrt.dat": ["3.3.14 REGISTER with a URL-escaped header in Contact: valid", fwd],
  "sdp01.dat": ["3.3.15 unacceptable Accept offering: a proxy forwards (the UAS may 406)", fwd],
  "inv2543.dat": ["3.4.1 RFC 2543 syntax, no Content-Length: unframeable on a stream, 400 then close", { v: "reject-close", status: 400 }],
  "test.dat": ["not in §3: INVITE without SIP-Version, Via or CSeq: framed, unanswerable, closed", { v: "close" }],
};

function statusOf(m: Received): number {
  if (m === "pong") return 0;
  const s = /^SIP\/2\.0 (\d{3})/.exec(m.buf.toString("latin1"));
  return s ? Number(s[1]) : -1;
}

/** Next final response (1xx skipped), bounded. */
async function nextFinal(c: TrunkClient, timeoutMs = 15_000): Promise<number> {
  for (;;) {
    const s = statusOf(await c.next(timeoutMs));
    if (s >= 200 || s < 100) return s;
  }
}

function callIdOf(bytes: Buffer): string | undefined {
  return /^(?:call-id|i)[ \t]*:[ \t]*(\S+)/im.exec(bytes.toString("latin1"))?.[1];
}

let optionsSeq = 0;
async function optionsRoundTrip(gw: Gateway, c?: TrunkClient): Promise<number> {
  const own = c === undefined;
  const conn = c ?? (await TrunkClient.connect(gw.port, gw.pki.client, gw.pki));
  try {
    const n = ++optionsSeq;
    conn.send([`OPTIONS sip:127.0.0.1:${gw.port} SIP/2.0`, `Via: SIP/2.0/TLS 127.0.0.1:5999;branch=z9hG4bK-alive-${n}`, "Max-Forwards: 70",
      "From: <sip:a@dev-trunk.local>;tag=a", "To: <sip:b@127.0.0.1>", `Call-ID: alive-${n}@t`, "CSeq: 1 OPTIONS", "Content-Length: 0", "", ""].join("\r\n"));
    return await nextFinal(conn);
  } finally {
    if (own) conn.close();
  }
}

t.test("the archive copy is complete and byte-exact (SHA256SUMS)", async (t) => {
  const sums = readFileSync(join(DIR, "SHA256SUMS"), "latin1").trim().split("\n");
  t.equal(sums.length, 50, "50 files listed");
  for (const line of sums) {
    const [hash, name] = line.split(/\s+/);
    t.equal(createHash("sha256").update(readFileSync(join(DIR, name!))).digest("hex"), hash, name!);
  }
  const files = readdirSync(DIR).filter((f) => f !== "SHA256SUMS").sort();
  t.same(files, Object.keys(VERDICTS).sort(), "a verdict for every file, a file for every verdict");
});

t.test("RFC 4475: every file through the proxy over mutual TLS; the proxy serves after each", async (t) => {
  const uas = await startNodeUas();
  t.teardown(() => uas.close());
  const gw = await startGateway({
    upstreams: [{ name: "svc", targets: [{ port: uas.port }] }],
    // First-message timer short (incomplete messages are closed by it); idle timer longer than
    // every wait here, so a close proves the handling of the message, not idleness.
    sip: { media: { srtpPolicy: "off" }, timeouts: { firstMessageMs: 1500, idleMs: 60_000 } },
  });
  t.teardown(() => gw.stop());
  const rejectedCallIds: string[] = [];
  let passed = 0;

  for (const [file, [section, verdict]] of Object.entries(VERDICTS)) {
    const bytes = readFileSync(join(DIR, file));
    const callId = callIdOf(bytes);
    const ok = await t.test(`${file}: ${/^\d/.test(section) ? "§" : ""}${section}`, async (t) => {
      const c = await TrunkClient.connect(gw.port, gw.pki.client, gw.pki);
      t.teardown(() => c.close());
      c.send(bytes);
      switch (verdict.v) {
        case "forward": {
          const seen = await uas.waitFor((r) => r.callId === callId);
          t.ok(seen, "forwarded to the upstream");
          t.equal(await nextFinal(c), seen.req.method === "INVITE" ? 486 : 200, "the upstream's answer is relayed");
          break;
        }
        case "reject":
        case "answer":
          t.equal(await nextFinal(c), verdict.status);
          if (verdict.v === "reject" && callId !== undefined) rejectedCallIds.push(callId);
          t.equal(await optionsRoundTrip(gw, c), 200, "the same connection keeps working");
          break;
        case "drop":
          t.equal(await optionsRoundTrip(gw, c), 200, "nothing came back for it; the same connection keeps working");
          break;
        case "reject-close":
          t.equal(await nextFinal(c), verdict.status);
          if (callId !== undefined) rejectedCallIds.push(callId);
          await c.waitClosed(15_000);
          t.ok(c.closed, "closed: the stream cannot be framed past it");
          break;
        case "close":
          await c.waitClosed(15_000);
          t.ok(c.closed, "closed without an answer");
          break;
        case "dblreq": {
          const finals = [await nextFinal(c), await nextFinal(c)].sort();
          t.same(finals, [200, 486], "REGISTER and INVITE both forwarded and answered");
          await uas.waitFor((r) => r.method === "REGISTER" && r.callId === callId);
          await uas.waitFor((r) => r.method === "INVITE" && r.callId.startsWith("dblreq."));
          await c.waitClosed(15_000);
          t.ok(c.closed, "then closed on the unframeable trailing bytes");
          break;
        }
      }
      t.equal(await optionsRoundTrip(gw), 200, "the proxy answers OPTIONS on a fresh connection");
    });
    if (ok) passed++;
  }
  t.notOk(uas.requests.some((r) => rejectedCallIds.includes(r.req.callId)), "no rejected request reached the upstream");
  t.equal(passed, 50, `${passed}/50 files handled as RFC 4475 says`);
});
