// Answers to requests the parser refused (400, 416, 505) or the framer skipped (513): built from
// the raw header lines, since there is no parsed request. Only the lines a response must echo
// (Via, From, To, Call-ID, CSeq; RFC 3261 §8.2.6.2) are copied, verbatim. Not a hot path: this
// runs only for bad input.
import { newTag } from "../parse/index.js";

const ECHO = new Set(["via", "v", "from", "f", "to", "t", "call-id", "i", "cseq"]);

/**
 * The response bytes, or undefined when `head` is not a request (responses are never answered)
 * or has no Via at all (not SIP). A missing Call-ID or CSeq is echoed as missing: the answer still
 * tells the trunk on this connection what was wrong.
 */
export function buildRawErrorResponse(head: Buffer, status: number, reason: string, extra: string[] = []): Buffer | undefined {
  const text = head.toString("latin1");
  const firstEnd = text.indexOf("\r\n");
  if (firstEnd <= 0 || text.startsWith("SIP/")) return undefined;
  const lines: string[] = [];
  let hasVia = false;
  let hasToTag = false;
  let toIndex = -1;
  let pos = firstEnd + 2;
  let current = "";
  let currentName = "";
  const flush = () => {
    if (current.length === 0) return;
    if (ECHO.has(currentName)) {
      if (currentName === "via" || currentName === "v") hasVia = true;
      else if (currentName === "to" || currentName === "t") {
        toIndex = lines.length;
        if (current.toLowerCase().includes(";tag=")) hasToTag = true;
      }
      lines.push(current);
    }
    current = "";
  };
  while (pos < text.length) {
    let eol = text.indexOf("\r\n", pos);
    if (eol < 0) eol = text.length;
    const line = text.slice(pos, eol);
    pos = eol + 2;
    if (line.length === 0) break;
    if (line.charCodeAt(0) === 32 || line.charCodeAt(0) === 9) {
      if (current.length > 0) current += " " + line.trim(); // unfold continuation lines
      continue;
    }
    flush();
    const colon = line.indexOf(":");
    if (colon <= 0) continue;
    currentName = line.slice(0, colon).trim().toLowerCase();
    current = line;
  }
  flush();
  if (!hasVia) return undefined;
  if (toIndex >= 0 && !hasToTag) lines[toIndex] = lines[toIndex] + ";tag=" + newTag();
  const safeReason = reason.replace(/[\r\n]/g, " ");
  const out = [`SIP/2.0 ${status} ${safeReason}`, ...lines, ...extra, "Content-Length: 0", "", ""].join("\r\n");
  return Buffer.from(out, "latin1");
}
