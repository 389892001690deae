// Answers to requests the parser refused (400, 416, 505), the framer could not take (513, a
// missing or bad Content-Length) or whose handling failed (500): built from the raw header
// section, since there is no parsed request. Only what RFC 3261 §8.2.6.2 says a response copies is
// taken — every Via, the first From, To, Call-ID and CSeq — and nothing else: never the request's
// Content-Length or any other line, so the answer is one well-formed response with exactly one
// Content-Length whatever the request looked like (bare-LF line ends, lone CRs, duplicates).
// Names are kept as the request spelt them (compact forms included), values unfolded.
// Not a hot path: this runs only for bad input.
import { parseNameAddr } from "../parse/address.js";
import { newTag } from "../message/build.js";

const enum Echo {
  Via = 1,
  From,
  To,
  CallId,
  CSeq,
}

const ECHO = new Map<string, Echo>([
  ["via", Echo.Via], ["v", Echo.Via],
  ["from", Echo.From], ["f", Echo.From],
  ["to", Echo.To], ["t", Echo.To],
  ["call-id", Echo.CallId], ["i", Echo.CallId],
  ["cseq", Echo.CSeq],
]);

/** A status line, not a request: malformed responses are dropped, never answered. */
export function isResponseStart(head: Buffer): boolean {
  return head.length >= 4 && (head[0]! | 32) === 115 && (head[1]! | 32) === 105 && (head[2]! | 32) === 112 && head[3] === 47;
}

/** A header field as found in a raw request: its name as spelt there, its value unfolded and trimmed. */
export interface EchoField {
  name: string;
  value: string;
}

/** The header fields a response echoes. */
export interface EchoFields {
  vias: EchoField[];
  from?: EchoField;
  to?: EchoField;
  callId?: EchoField;
  cseq?: EchoField;
}

/**
 * Read the echoed fields from a raw header section. Lines end in CRLF or a bare LF; the section
 * ends at the first empty line. A lone CR or other control character inside a value becomes a
 * space (it could otherwise end a line in what we send).
 */
export function readEchoFields(head: Buffer): EchoFields {
  const text = head.toString("latin1");
  const out: EchoFields = { vias: [] };
  let kind: Echo | undefined;
  let name = "";
  let value = "";
  const flush = (): void => {
    if (kind === undefined) return;
    const f: EchoField = { name, value: clean(value) };
    if (f.value.length > 0) {
      if (kind === Echo.Via) out.vias.push(f);
      else if (kind === Echo.From) out.from ??= f;
      else if (kind === Echo.To) out.to ??= f;
      else if (kind === Echo.CallId) out.callId ??= f;
      else out.cseq ??= f;
    }
    kind = undefined;
  };
  let pos = text.indexOf("\n");
  if (pos < 0) return out; // the start line alone
  pos++;
  while (pos < text.length) {
    let eol = text.indexOf("\n", pos);
    if (eol < 0) eol = text.length;
    const line = text.charCodeAt(eol - 1) === 13 && eol > pos ? text.slice(pos, eol - 1) : text.slice(pos, eol);
    pos = eol + 1;
    if (line.length === 0) break;
    const c0 = line.charCodeAt(0);
    if (c0 === 32 || c0 === 9) {
      if (kind !== undefined) value += " " + line.trim(); // folded continuation line
      continue;
    }
    flush();
    const colon = line.indexOf(":");
    if (colon <= 0) continue;
    name = line.slice(0, colon).trim();
    kind = ECHO.get(name.toLowerCase());
    value = line.slice(colon + 1);
  }
  flush();
  return out;
}

function clean(v: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are exactly what is replaced
  return v.replace(/[\x00-\x08\x0a-\x1f\x7f]/g, " ").trim();
}

/** Whether a To value already carries a tag (LWS around "=" allowed: RFC 4475 §3.1.1.1). */
function hasTag(to: string): boolean {
  const na = parseNameAddr(to, 0, to.length, false);
  if (na !== undefined) return na.tag !== undefined;
  return /;\s*tag\s*=/i.test(to);
}

/**
 * The response bytes, or undefined when `head` is not a request (responses are never answered)
 * or has no Via at all (no response could be matched by the sender: the caller closes instead).
 * A missing From/To/Call-ID/CSeq is left out: the answer still tells the trunk on this
 * connection what was wrong.
 */
export function buildRawErrorResponse(head: Buffer, status: number, reason: string, extra: readonly string[] = []): Buffer | undefined {
  if (isResponseStart(head) || head.indexOf(10) <= 0) return undefined;
  const f = readEchoFields(head);
  if (f.vias.length === 0) return undefined;
  const lines = [`SIP/2.0 ${status} ${clean(reason)}`];
  const line = (e: EchoField): string => `${e.name}: ${e.value}`;
  for (const v of f.vias) lines.push(line(v));
  if (f.from !== undefined) lines.push(line(f.from));
  if (f.to !== undefined) lines.push(line(f.to) + (status === 100 || hasTag(f.to.value) ? "" : ";tag=" + newTag()));
  if (f.callId !== undefined) lines.push(line(f.callId));
  if (f.cseq !== undefined) lines.push(line(f.cseq));
  for (const e of extra) lines.push(clean(e));
  lines.push("Content-Length: 0", "", "");
  return Buffer.from(lines.join("\r\n"), "latin1");
}
