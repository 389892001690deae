// Warm-up of the per-message SIP path before the listener accepts. A fresh process runs the parser,
// the stream framer and the forwarding edits unoptimised until V8 has seen enough messages: under
// full load a new process queued calls for its first seconds (docs/benchmarks.md, "Cold start").
// Here the same functions run on a synthetic call (INVITE, 100, 180, 200, ACK, BYE, 200) in memory,
// no sockets, no state kept, so that the first real call meets optimised code. The messages use
// reserved names (example.invalid, RFC 2606) and no numbers of anyone: nothing of them is logged.
import { forwardRequest, forwardResponse } from "./message/edit.js";
import { buildResponse } from "./message/build.js";
import { parseMessage, type SipMessage } from "./parse/index.js";
import { SipStreamFramer } from "./transport/framing.js";

const PROXY_VIA = "SIP/2.0/TLS proxy.example.invalid:5061;branch=z9hG4bKwarm0proxy";
const RECORD_ROUTE = "<sip:proxy.example.invalid:5061;transport=tls;lr>";

function request(method: string, cseq: number, toTag: string, extra = "", body = ""): string {
  return (
    `${method} sip:callee@upstream.example.invalid;transport=tls SIP/2.0\r\n` +
    "Via: SIP/2.0/TLS trunk.example.invalid:5061;branch=z9hG4bKwarm0trunk;rport\r\n" +
    "Max-Forwards: 70\r\n" +
    "Route: <sip:proxy.example.invalid:5061;transport=tls;lr>\r\n" +
    'From: "Warm Up" <sip:caller@trunk.example.invalid>;tag=warm0from\r\n' +
    `To: <sip:callee@upstream.example.invalid>${toTag}\r\n` +
    "Call-ID: warm0call@trunk.example.invalid\r\n" +
    `CSeq: ${cseq} ${method}\r\n` +
    "Contact: <sip:caller@trunk.example.invalid:5061;transport=tls>\r\n" +
    extra +
    `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`
  );
}

function response(status: string, cseq: string, toTag: string, body = ""): string {
  return (
    `SIP/2.0 ${status}\r\n` +
    `Via: ${PROXY_VIA}\r\n` +
    "Via: SIP/2.0/TLS trunk.example.invalid:5061;branch=z9hG4bKwarm0trunk;rport\r\n" +
    `Record-Route: ${RECORD_ROUTE}\r\n` +
    'From: "Warm Up" <sip:caller@trunk.example.invalid>;tag=warm0from\r\n' +
    `To: <sip:callee@upstream.example.invalid>${toTag}\r\n` +
    "Call-ID: warm0call@trunk.example.invalid\r\n" +
    `CSeq: ${cseq}\r\n` +
    "Contact: <sip:callee@upstream.example.invalid:5061;transport=tls>\r\n" +
    (body ? "Content-Type: application/sdp\r\n" : "") +
    `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`
  );
}

const SDP = "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\nm=audio 40000 RTP/AVP 0 8\r\na=rtpmap:0 PCMU/8000\r\n";
const TAG = ";tag=warm0to";

/** One call as a trunk and an upstream exchange it: requests from the trunk, responses from upstream. */
export const WARM_UP_CALL: readonly Buffer[] = [
  request("INVITE", 1, "", "Content-Type: application/sdp\r\nAllow: INVITE, ACK, BYE, CANCEL, OPTIONS\r\n", SDP),
  response("100 Trying", "1 INVITE", ""),
  response("180 Ringing", "1 INVITE", TAG),
  response("200 OK", "1 INVITE", TAG, SDP),
  request("ACK", 1, TAG),
  request("BYE", 2, TAG),
  response("200 OK", "2 BYE", TAG),
].map((m) => Buffer.from(m, "latin1"));

/** The whole call as one byte stream, cut into pieces the way TCP may deliver it. */
const STREAM = Buffer.concat(WARM_UP_CALL);
const CUTS = [STREAM.length, 1400, 512, 97];

export interface WarmUpResult {
  /** Messages framed, parsed and forwarded. */
  messages: number;
  /** Messages that did not parse or forward (0 unless the synthetic call no longer fits the parser). */
  failures: number;
}

/**
 * Runs the synthetic call `rounds` times through framing, parsing, the header accessors the proxy
 * core reads and the forwarding edits. Never throws: a failure is counted, not fatal (warming up
 * must not stop a start).
 */
export function warmUpSipPath(rounds: number): WarmUpResult {
  let messages = 0;
  let failures = 0;
  for (let r = 0; r < rounds; r++) {
    const framer = new SipStreamFramer();
    const cut = CUTS[r % CUTS.length]!;
    for (let off = 0; off < STREAM.length; off += cut) {
      for (const ev of framer.push(STREAM.subarray(off, Math.min(off + cut, STREAM.length)))) {
        if (ev.type !== "message") continue;
        messages++;
        if (!forwardOne(ev.message)) failures++;
      }
    }
  }
  return { messages, failures };
}

/** What the proxy does with one received message, minus sockets and state. */
function forwardOne(buf: Buffer): boolean {
  try {
    const parsed = parseMessage(buf);
    if (!parsed.ok) return false;
    const m: SipMessage = parsed.message;
    // The accessors the core and the transaction layer read on every message.
    if (!m.callId || !m.from.tag || m.topVia.branch === undefined || m.cseq.seq < 1) return false;
    m.routes();
    m.recordRoutes();
    m.contacts();
    if (m.kind === "request") {
      if (m.method === "INVITE") buildResponse(m, 100, "Trying");
      forwardRequest(m, { prependVia: PROXY_VIA, removeTopRoute: true, prependRecordRoute: m.method === "INVITE" ? RECORD_ROUTE : undefined });
    } else {
      forwardResponse(m);
    }
    return true;
  } catch {
    return false;
  }
}
