// Hot-path URI parsing: sip:/sips: (RFC 3261 §19.1, §25.1) and tel: (RFC 3966, loosely: the
// characters of a telephone-subscriber plus parameters). Charcode scanning, no regex.
import { CLASS, HEX, HNV_UNRES, PARAM_UNRES, PASSWORD, UNRESERVED, USER_UNRES, isAlpha, isDigit } from "./chars.js";
import { isValidHost } from "./host.js";
import type { SipUri } from "./types.js";

/**
 * The scheme of an absolute URI (lower-cased), or undefined when `s` does not start with
 * `scheme ":"` (scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )).
 */
export function uriScheme(s: string): string | undefined {
  if (s.length === 0 || !isAlpha(s.charCodeAt(0))) return undefined;
  for (let i = 1; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 58) return i + 1 < s.length ? s.slice(0, i).toLowerCase() : undefined;
    if (!(isAlpha(c) || isDigit(c) || c === 43 || c === 45 || c === 46)) return undefined;
  }
  return undefined;
}

/** True when s[i, end) consists of chars with `flags` or valid %HH escapes. */
function escapedRun(s: string, i: number, end: number, flags: number): boolean {
  for (; i < end; i++) {
    const c = s.charCodeAt(i);
    if (c === 37) {
      const a = s.charCodeAt(i + 1);
      const b = s.charCodeAt(i + 2);
      if (i + 2 >= end || a >= 256 || b >= 256 || (CLASS[a]! & HEX) === 0 || (CLASS[b]! & HEX) === 0) return false;
      i += 2;
      continue;
    }
    if (c >= 256 || (CLASS[c]! & flags) === 0) return false;
  }
  return true;
}

const PARAMCHAR = PARAM_UNRES | UNRESERVED;

interface ParamsOut {
  lr: boolean;
  transport: string | undefined;
  maddr: string | undefined;
}

/** Validates `;name[=value]` uri-parameters in s[i, end) and extracts lr/transport/maddr. */
function scanUriParams(s: string, i: number, end: number, out: ParamsOut): boolean {
  while (i < end) {
    if (s.charCodeAt(i) !== 59) return false;
    i++;
    let next = s.indexOf(";", i);
    if (next === -1 || next > end) next = end;
    const eq = s.indexOf("=", i);
    const nameEnd = eq !== -1 && eq < next ? eq : next;
    if (nameEnd === i || !escapedRun(s, i, nameEnd, PARAMCHAR)) return false;
    if (nameEnd < next) {
      if (next === nameEnd + 1 || !escapedRun(s, nameEnd + 1, next, PARAMCHAR)) return false;
    }
    const nlen = nameEnd - i;
    if (nlen === 2 && (s.charCodeAt(i) | 32) === 108 && (s.charCodeAt(i + 1) | 32) === 114) out.lr = true;
    else if (nlen === 9 && s.slice(i, nameEnd).toLowerCase() === "transport" && nameEnd < next) {
      out.transport = s.slice(nameEnd + 1, next).toLowerCase();
    } else if (nlen === 5 && s.slice(i, nameEnd).toLowerCase() === "maddr" && nameEnd < next) {
      out.maddr = s.slice(nameEnd + 1, next);
    }
    i = next;
  }
  return true;
}

/** Validates `?hname=hvalue&...` in s[i, end). */
function scanUriHeaders(s: string, i: number, end: number): boolean {
  i++; // '?'
  if (i >= end) return false;
  while (i <= end) {
    let next = s.indexOf("&", i);
    if (next === -1 || next > end) next = end;
    const eq = s.indexOf("=", i);
    if (eq === -1 || eq >= next || eq === i) return false;
    if (!escapedRun(s, i, eq, HNV_UNRES | UNRESERVED)) return false;
    if (!escapedRun(s, eq + 1, next, HNV_UNRES | UNRESERVED)) return false;
    if (next === end) return true;
    i = next + 1;
  }
  return false;
}

/**
 * Parse a sip:, sips: or tel: URI. Returns undefined when malformed or of another scheme (use
 * uriScheme() to tell those apart). No whitespace is allowed anywhere.
 */
export function parseUri(s: string): SipUri | undefined {
  return scanUri(s, true);
}

/** parseUri's verdict without making the SipUri (From/To URIs are checked on every message, read rarely). */
export function isValidUri(s: string): boolean {
  return scanUri(s, false) !== undefined;
}

/** What scanUri returns when asked not to build (any non-undefined value means valid). */
const VALID = Object.freeze({}) as SipUri;
const paramsOut: ParamsOut = { lr: false, transport: undefined, maddr: undefined };

/** True when s[0, colon) is `name`, any case (name is lower-case). */
function schemeIs(s: string, colon: number, name: string): boolean {
  if (colon !== name.length) return false;
  for (let i = 0; i < colon; i++) if ((s.charCodeAt(i) | 32) !== name.charCodeAt(i)) return false;
  return true;
}

function scanUri(s: string, build: boolean): SipUri | undefined {
  const colon = s.indexOf(":");
  if (colon < 3 || colon > 4) return undefined;
  if (schemeIs(s, colon, "tel")) return parseTel(s, build);
  if (!schemeIs(s, colon, "sip") && !schemeIs(s, colon, "sips")) return undefined;
  const end = s.length;
  // The first of ';' or '?' after the host ends hostport; '@' (at most one) ends userinfo.
  const at = s.indexOf("@", colon + 1);
  let hostStart = colon + 1;
  let userEnd = -1;
  if (at !== -1) {
    if (s.indexOf("@", at + 1) !== -1) return undefined;
    const pw = s.indexOf(":", colon + 1);
    userEnd = pw !== -1 && pw < at ? pw : at;
    if (userEnd === colon + 1) return undefined;
    if (!escapedRun(s, colon + 1, userEnd, UNRESERVED | USER_UNRES)) return undefined;
    if (userEnd < at && !escapedRun(s, userEnd + 1, at, UNRESERVED | PASSWORD)) return undefined;
    hostStart = at + 1;
  }
  let hpEnd = hostStart;
  while (hpEnd < end) {
    const c = s.charCodeAt(hpEnd);
    if (c === 59 || c === 63) break;
    hpEnd++;
  }
  let hostEnd = hpEnd;
  let port: number | undefined;
  // Port: the last ':' after the host (outside an IPv6 reference).
  const close = s.charCodeAt(hostStart) === 91 ? s.indexOf("]", hostStart) : -1;
  if (s.charCodeAt(hostStart) === 91 && (close === -1 || close >= hpEnd)) return undefined;
  const pc = s.indexOf(":", close === -1 ? hostStart : close);
  if (pc !== -1 && pc < hpEnd) {
    hostEnd = pc;
    if (pc + 1 === hpEnd || hpEnd - pc - 1 > 5) return undefined;
    let n = 0;
    for (let k = pc + 1; k < hpEnd; k++) {
      const c = s.charCodeAt(k);
      if (!isDigit(c)) return undefined;
      n = n * 10 + c - 48;
    }
    if (n > 65535) return undefined;
    port = n;
  }
  if (!isValidHost(s, hostStart, hostEnd)) return undefined;
  let paramsEnd = s.indexOf("?", hpEnd);
  if (paramsEnd === -1) paramsEnd = end;
  const out = paramsOut;
  out.lr = false;
  out.transport = out.maddr = undefined;
  if (!scanUriParams(s, hpEnd, paramsEnd, out)) return undefined;
  if (paramsEnd < end && !scanUriHeaders(s, paramsEnd, end)) return undefined;
  if (!build) return VALID;
  return {
    scheme: colon === 3 ? "sip" : "sips",
    user: userEnd === -1 ? undefined : s.slice(colon + 1, userEnd),
    host: s.slice(hostStart, hostEnd),
    port,
    params: s.slice(hpEnd, paramsEnd),
    headers: s.slice(paramsEnd),
    lr: out.lr,
    transport: out.transport,
    maddr: out.maddr,
    raw: s,
  };
}

/** tel: telephone-subscriber (RFC 3966), checked at the character level. */
function parseTel(s: string, build: boolean): SipUri | undefined {
  const end = s.length;
  let i = 4;
  let p = s.indexOf(";", i);
  if (p === -1) p = end;
  if (p === i) return undefined;
  let digits = 0;
  for (let k = i; k < p; k++) {
    const c = s.charCodeAt(k);
    if (k === i && c === 43) continue;
    if (isDigit(c) || (c < 256 && (CLASS[c]! & HEX) !== 0) || c === 42 || c === 35) digits++;
    else if (c !== 45 && c !== 46 && c !== 40 && c !== 41) return undefined;
  }
  if (digits === 0) return undefined;
  if (!scanUriParams(s, p, end, paramsOut)) return undefined;
  if (!build) return VALID;
  return {
    scheme: "tel",
    user: s.slice(i, p),
    host: "",
    port: undefined,
    params: s.slice(p),
    headers: "",
    lr: false,
    transport: undefined,
    maddr: undefined,
    raw: s,
  };
}
