// A SIP message as the local trace log shows it by default (sip.trace.logUnredacted: false): the
// structure an operator debugs with (start line, header names, tags, branches, status) with the
// customer data gone: URI user parts (numbers), tel: URIs, display names, any run of 6+ digits,
// the values of headers that carry numbers or credentials, and the body (SDP: addresses,
// keys). Same censor as the log redaction paths (src/observability/redaction.ts).
import { REDACT_CENSOR } from "../../observability/redaction.js";
import { hashId } from "../../observability/hash.js";

/** Headers whose whole value is customer data or a credential (lower case; compact forms too). */
const WHOLE_VALUE = new Set(["authorization", "proxy-authorization", "www-authenticate", "proxy-authenticate", "subject", "s", "identity", "y"]);

function redactValue(value: string): string {
  return value
    .replace(/"(?:[^"\\]|\\.)*"/g, `"${REDACT_CENSOR}"`)
    .replace(/\b(sips?:)[^@\s;>,?]+@/gi, `$1${REDACT_CENSOR}@`)
    .replace(/\btel:[^\s;>,?]+/gi, `tel:${REDACT_CENSOR}`)
    .replace(/\+?\d{6,}/g, REDACT_CENSOR);
}

/**
 * The message text with customer data replaced. `ownedHeaders`: header names (lower case) whose
 * values are customer data by configuration (sip.numberRouting.customHeaderName).
 */
export function redactSipMessage(message: Buffer, ownedHeaders: ReadonlySet<string>): string {
  const text = message.toString("latin1");
  const blank = /\r?\n\r?\n/.exec(text);
  const head = blank === null ? text : text.slice(0, blank.index);
  // latin1: one character per byte, so string offsets are byte offsets.
  const bodyBytes = blank === null ? 0 : text.length - blank.index - blank[0].length;
  const lines = head.split(/\r?\n/);
  const out = [redactValue(lines[0] ?? "")];
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    const colon = line.indexOf(":");
    if (colon === -1) {
      out.push(redactValue(line));
      continue;
    }
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1);
    if (name === "call-id" || name === "i") out.push(`${line.slice(0, colon)}: ${hashId(value.trim())}`);
    else if (WHOLE_VALUE.has(name) || ownedHeaders.has(name)) out.push(`${line.slice(0, colon)}: ${REDACT_CENSOR}`);
    else out.push(`${line.slice(0, colon)}:${redactValue(value)}`);
  }
  if (bodyBytes > 0) out.push("", `[body: ${bodyBytes} bytes ${REDACT_CENSOR}]`);
  return out.join("\r\n");
}
