// Request-Line / Status-Line (RFC 3261 §7.1, §7.2, §25.1). Exactly one SP between elements; the
// version must be SIP/2.0 (another well-formed SIP/x.y is reported distinctly: 505).
import { isDigit, scanToken } from "./chars.js";
import { isValidAddrUri } from "./address.js";
import { parseUri, uriScheme } from "./uri.js";
import type { SipUri } from "./types.js";

export type StartLine =
  | { kind: "request"; method: string; requestUri: string; uri: SipUri }
  | { kind: "response"; status: number; reason: string }
  | { kind: "error"; code: "malformed" | "bad-version" | "unsupported-uri-scheme"; reason: string };

const ERR_MALFORMED_RL = { kind: "error", code: "malformed", reason: "Bad Request - Malformed Request-Line" } as const;
const ERR_MALFORMED_SL = { kind: "error", code: "malformed", reason: "Bad Request - Malformed Status-Line" } as const;
const ERR_RURI = { kind: "error", code: "malformed", reason: "Bad Request - Malformed Request-URI" } as const;
const ERR_VERSION = { kind: "error", code: "bad-version", reason: "Version Not Supported" } as const;
const ERR_SCHEME = { kind: "error", code: "unsupported-uri-scheme", reason: "Unsupported URI Scheme" } as const;

/** 0 = SIP/2.0, 1 = another well-formed SIP-Version, -1 = not a SIP-Version. */
function versionCheck(s: string, i: number, end: number): number {
  if (end - i < 7) return -1;
  if ((s.charCodeAt(i) | 32) !== 115 || (s.charCodeAt(i + 1) | 32) !== 105 || (s.charCodeAt(i + 2) | 32) !== 112) return -1;
  if (s.charCodeAt(i + 3) !== 47) return -1;
  let k = i + 4;
  const ms = k;
  while (k < end && isDigit(s.charCodeAt(k))) k++;
  if (k === ms || s.charCodeAt(k) !== 46) return -1;
  const mi = ++k;
  while (k < end && isDigit(s.charCodeAt(k))) k++;
  if (k === mi || k !== end) return -1;
  return end - i === 7 && s.charCodeAt(i + 4) === 50 && s.charCodeAt(i + 6) === 48 ? 0 : 1;
}

/** Parse the first line (without its CRLF). */
export function parseStartLine(line: string): StartLine {
  const end = line.length;
  if (end >= 4 && (line.charCodeAt(0) | 32) === 115 && line.charCodeAt(3) === 47) {
    // Status-Line: SIP-Version SP Status-Code SP Reason-Phrase
    const sp = line.indexOf(" ");
    if (sp === -1) return ERR_MALFORMED_SL;
    const v = versionCheck(line, 0, sp);
    if (v < 0) return ERR_MALFORMED_SL;
    if (v > 0) return ERR_VERSION;
    if (end < sp + 4) return ERR_MALFORMED_SL;
    const a = line.charCodeAt(sp + 1) - 48;
    const b = line.charCodeAt(sp + 2) - 48;
    const c = line.charCodeAt(sp + 3) - 48;
    if (a < 1 || a > 6 || b < 0 || b > 9 || c < 0 || c > 9) return ERR_MALFORMED_SL;
    if (end > sp + 4 && line.charCodeAt(sp + 4) !== 32) return ERR_MALFORMED_SL;
    const reason = end > sp + 5 ? line.slice(sp + 5) : "";
    for (let k = 0; k < reason.length; k++) {
      const r = reason.charCodeAt(k);
      if (r < 32 && r !== 9) return ERR_MALFORMED_SL;
    }
    return { kind: "response", status: a * 100 + b * 10 + c, reason };
  }
  // Request-Line: Method SP Request-URI SP SIP-Version
  const me = scanToken(line, 0, end);
  if (me === 0 || line.charCodeAt(me) !== 32) return ERR_MALFORMED_RL;
  const us = me + 1;
  const ue = line.indexOf(" ", us);
  if (ue === -1 || ue === us) return ERR_MALFORMED_RL;
  const v = versionCheck(line, ue + 1, end);
  if (v < 0) return ERR_MALFORMED_RL;
  if (v > 0) return ERR_VERSION;
  const requestUri = line.slice(us, ue);
  const scheme = uriScheme(requestUri);
  if (scheme === undefined) return ERR_RURI;
  if (scheme !== "sip" && scheme !== "sips" && scheme !== "tel") {
    return isValidAddrUri(requestUri) ? ERR_SCHEME : ERR_RURI;
  }
  const uri = parseUri(requestUri);
  // headers (?...) are not allowed in a Request-URI (RFC 3261 §19.1.1 table 1)
  if (uri === undefined || uri.headers !== "") return ERR_RURI;
  return { kind: "request", method: line.slice(0, me), requestUri, uri };
}
