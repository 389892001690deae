// name-addr / addr-spec values (RFC 3261 §20.10, §25.1): To, From, Contact, Route, Record-Route.
//   ( name-addr / addr-spec ) *( SEMI generic-param );  name-addr = [ display-name ] < addr-spec >
// In the addr-spec form the URI ends at the first ';' (those params belong to the header).
import { CLASS, TOKEN, isAlpha, scanQuoted, scanToken, skipLws } from "./chars.js";
import { equalsLower, scanGenericParams } from "./params.js";
import type { NameAddr } from "./types.js";
import { isValidUri, uriScheme } from "./uri.js";

let tagScratch: string | undefined;
function visitTag(s: string, ns: number, ne: number, vs: number, ve: number): boolean {
  if (ne - ns === 3 && equalsLower(s, ns, ne, "tag")) {
    if (vs === -1 || s.charCodeAt(vs) === 34 || s.charCodeAt(vs) === 91) return false;
    tagScratch = s.slice(vs, ve);
  }
  return true;
}

/** Absolute URI check: sip/sips/tel strictly, any other scheme by character class only. */
export function isValidAddrUri(uri: string): boolean {
  const scheme = uriScheme(uri);
  if (scheme === undefined) return false;
  if (scheme === "sip" || scheme === "sips" || scheme === "tel") return isValidUri(uri);
  for (let i = scheme.length + 1; i < uri.length; i++) {
    const c = uri.charCodeAt(i);
    // uric: reserved / unreserved / escaped — printable ASCII except space, <, >, ", and the like
    if (c <= 32 || c >= 127 || c === 60 || c === 62 || c === 34 || c === 92 || c === 94 || c === 96 || c === 123 || c === 124 || c === 125) return false;
  }
  return true;
}

function unquote(q: string): string {
  // q includes both DQUOTEs; drop them and resolve quoted-pairs
  if (q.indexOf("\\") === -1) return q.slice(1, -1);
  let out = "";
  for (let i = 1; i < q.length - 1; i++) {
    const c = q[i]!;
    if (c === "\\") {
      out += q[i + 1] ?? "";
      i++;
    } else out += c;
  }
  return out;
}

/**
 * A checked name-addr: the tag and URI are read at parse time (the tag keys dialogs and transactions
 * on every message; the URI is cut to be checked); display name and params are cut from `raw` when first asked for (most messages
 * never read them).
 */
class ParsedNameAddr implements NameAddr {
  constructor(
    readonly raw: string,
    /** Cut at parse time anyway (to check it). */
    readonly uri: string,
    readonly tag: string | undefined,
    /** Offsets into raw: display name (dnStart -1: none; quoted when raw[dnStart] is '"'), params. */
    private readonly dnStart: number,
    private readonly dnEnd: number,
    private readonly paramsStart: number,
  ) {}

  get displayName(): string | undefined {
    if (this.dnStart === -1) return undefined;
    const dn = this.raw.slice(this.dnStart, this.dnEnd);
    return this.raw.charCodeAt(this.dnStart) === 34 ? unquote(dn) : dn;
  }

  get params(): string {
    return this.raw.slice(this.paramsStart);
  }
}

/**
 * Parse one name-addr/addr-spec value in s[i, end). `requireAngle` for Route/Record-Route
 * (name-addr only). undefined = malformed. Every part is checked here; display name and params
 * are made on first use.
 */
export function parseNameAddr(s: string, i: number, end: number, requireAngle: boolean): NameAddr | undefined {
  const start = (i = skipLws(s, i, end));
  while (end > start) {
    const c = s.charCodeAt(end - 1);
    if (c !== 32 && c !== 9 && c !== 13 && c !== 10) break;
    end--;
  }
  if (i >= end) return undefined;
  let dnStart = -1;
  let dnEnd = -1;
  let uriStart: number;
  let uriEnd: number;
  let after: number;
  const c0 = s.charCodeAt(i);
  if (c0 === 34 || c0 === 60 || requireAngle || !looksLikeAddrSpec(s, i, end)) {
    // name-addr
    if (c0 === 34) {
      const q = scanQuoted(s, i, end);
      if (q === -1) return undefined;
      dnStart = i;
      dnEnd = q;
      i = skipLws(s, q, end);
    } else if (c0 !== 60) {
      // *(token LWS): tokens separated by LWS up to '<'
      dnStart = i;
      dnEnd = i;
      while (i < end && s.charCodeAt(i) !== 60) {
        const te = scanToken(s, i, end);
        if (te === i) return undefined;
        dnEnd = te;
        i = skipLws(s, te, end);
      }
    }
    if (s.charCodeAt(i) !== 60) return undefined;
    uriStart = i + 1;
    uriEnd = s.indexOf(">", uriStart);
    if (uriEnd === -1 || uriEnd >= end) return undefined;
    after = uriEnd + 1;
  } else {
    uriStart = i;
    uriEnd = i;
    while (uriEnd < end) {
      const c = s.charCodeAt(uriEnd);
      if (c === 59 || c === 32 || c === 9 || c === 13 || c === 10) break;
      // addr-spec form may not carry '?' headers or ',' (RFC 3261 §20.10)
      if (c === 63 || c === 44) return undefined;
      uriEnd++;
    }
    after = uriEnd;
  }
  const uri = s.slice(uriStart, uriEnd);
  if (!isValidAddrUri(uri)) return undefined;
  const ps = skipLws(s, after, end);
  tagScratch = undefined;
  if (!scanGenericParams(s, ps, end, visitTag)) return undefined;
  // From/To pass the whole header value: raw is then s itself (slice(0, length) makes nothing).
  return new ParsedNameAddr(s.slice(start, end), uri, tagScratch, dnStart === -1 ? -1 : dnStart - start, dnEnd - start, ps - start);
}

/** addr-spec starts with `scheme:`; a display name (token) is followed by LWS or '<' instead. */
function looksLikeAddrSpec(s: string, i: number, end: number): boolean {
  if (!isAlpha(s.charCodeAt(i))) return false;
  for (let k = i + 1; k < end; k++) {
    const c = s.charCodeAt(k);
    if (c === 58) return true;
    if (c >= 256 || (CLASS[c]! & TOKEN) === 0) return false;
  }
  return false;
}
