// Via (RFC 3261 §20.42 / §25.1, RFC 3581 rport): via-parm = sent-protocol LWS sent-by *(SEMI via-params).
// maddr is kept apart from the sent-by host, and a bare `;rport` is distinct from `;rport=N`.
import { isDigit, parseDecimal, scanToken, skipLws } from "./chars.js";
import { isValidHost } from "./host.js";
import { equalsLower, scanGenericParams } from "./params.js";
import type { Via } from "./types.js";

// Module-level scratch filled by scanVia and its (non-closure) param visitor: one scan at a time
// (sync). Offsets only, so that validating a Via that nobody reads (every Via but the top one, on
// most messages) allocates nothing; parseVia makes the strings.
const scratch = {
  start: 0,
  pEnd1: 0,
  v0: 0,
  vEnd: 0,
  t0: 0,
  tEnd: 0,
  hs: 0,
  he: 0,
  port: undefined as number | undefined,
  paramsStart: 0,
  rawEnd: 0,
  branchStart: -1,
  branchEnd: -1,
  hasRport: false,
  rport: undefined as number | undefined,
  receivedStart: -1,
  receivedEnd: -1,
  maddrStart: -1,
  maddrEnd: -1,
};

function visitViaParam(s: string, ns: number, ne: number, vs: number, ve: number): boolean {
  const len = ne - ns;
  if (len === 6 && equalsLower(s, ns, ne, "branch")) {
    if (vs === -1 || s.charCodeAt(vs) === 34 || s.charCodeAt(vs) === 91) return false;
    scratch.branchStart = vs;
    scratch.branchEnd = ve;
  } else if (len === 5 && equalsLower(s, ns, ne, "rport")) {
    scratch.hasRport = true;
    if (vs !== -1) {
      const n = parseDecimal(s, vs, ve, 5);
      if (n < 0 || n > 65535) return false;
      scratch.rport = n;
    }
  } else if (len === 8 && equalsLower(s, ns, ne, "received")) {
    if (vs === -1) return false;
    // received = IPv4address / IPv6address (bracketed or not; RFC 5118 shows both in the wild)
    const bracket = s.charCodeAt(vs) === 91;
    if (!bracket && !isValidHost(s, vs, ve) && !hasColon(s, vs, ve)) return false;
    scratch.receivedStart = vs;
    scratch.receivedEnd = ve;
  } else if (len === 5 && equalsLower(s, ns, ne, "maddr")) {
    if (vs === -1 || !isValidHost(s, vs, ve)) return false;
    scratch.maddrStart = vs;
    scratch.maddrEnd = ve;
  } else if (len === 3 && equalsLower(s, ns, ne, "ttl")) {
    const n = vs === -1 ? -1 : parseDecimal(s, vs, ve, 3);
    if (n < 0 || n > 255) return false;
  }
  return true;
}

function hasColon(s: string, i: number, end: number): boolean {
  const c = s.indexOf(":", i);
  return c !== -1 && c < end;
}

/**
 * Check one via-parm in s[i, end) (already split from its comma list) without making anything:
 * true when well-formed, its parts left as offsets in the scratch. Same verdict as parseVia.
 */
export function isValidVia(s: string, i: number, end: number): boolean {
  const start = (i = skipLws(s, i, end));
  // sent-protocol = protocol-name SLASH protocol-version SLASH transport (SLASH = SWS "/" SWS)
  const pEnd1 = scanToken(s, i, end);
  if (pEnd1 === i) return false;
  let j = skipLws(s, pEnd1, end);
  if (s.charCodeAt(j) !== 47) return false;
  j = skipLws(s, j + 1, end);
  const v0 = j;
  const vEnd = scanToken(s, j, end);
  if (vEnd === v0) return false;
  j = skipLws(s, vEnd, end);
  if (s.charCodeAt(j) !== 47) return false;
  j = skipLws(s, j + 1, end);
  const t0 = j;
  const tEnd = scanToken(s, j, end);
  if (tEnd === t0) return false;
  // LWS is mandatory between sent-protocol and sent-by
  const hs = skipLws(s, tEnd, end);
  if (hs === tEnd || hs >= end) return false;
  let he: number;
  if (s.charCodeAt(hs) === 91) {
    const close = s.indexOf("]", hs);
    if (close === -1 || close >= end) return false;
    he = close + 1;
  } else {
    he = hs;
    while (he < end) {
      const c = s.charCodeAt(he);
      if (c === 58 || c === 59 || c === 32 || c === 9 || c === 13 || c === 10) break;
      he++;
    }
  }
  if (!isValidHost(s, hs, he)) return false;
  let k = skipLws(s, he, end);
  let port: number | undefined;
  if (k < end && s.charCodeAt(k) === 58) {
    k = skipLws(s, k + 1, end);
    const ps = k;
    while (k < end && isDigit(s.charCodeAt(k))) k++;
    const n = parseDecimal(s, ps, k, 5);
    if (n < 0 || n > 65535) return false;
    port = n;
  }
  scratch.branchStart = scratch.receivedStart = scratch.maddrStart = -1;
  scratch.hasRport = false;
  scratch.rport = undefined;
  if (!scanGenericParams(s, k, end, visitViaParam)) return false;
  let rawEnd = end;
  while (rawEnd > start) {
    const c = s.charCodeAt(rawEnd - 1);
    if (c !== 32 && c !== 9 && c !== 13 && c !== 10) break;
    rawEnd--;
  }
  scratch.start = start;
  scratch.pEnd1 = pEnd1;
  scratch.v0 = v0;
  scratch.vEnd = vEnd;
  scratch.t0 = t0;
  scratch.tEnd = tEnd;
  scratch.hs = hs;
  scratch.he = he;
  scratch.port = port;
  scratch.paramsStart = k;
  scratch.rawEnd = rawEnd;
  return true;
}

const sliceOrUndefined = (s: string, from: number, to: number): string | undefined => (from === -1 ? undefined : s.slice(from, to));

/** Parse one via-parm in s[i, end) (already split from its comma list). undefined = malformed. */
export function parseVia(s: string, i: number, end: number): Via | undefined {
  if (!isValidVia(s, i, end)) return undefined;
  const { start, pEnd1, v0, vEnd, t0, tEnd, hs, rawEnd } = scratch;
  let protocol: string;
  let transport: string;
  if (pEnd1 - start === 3 && vEnd - v0 === 3 && tEnd === t0 + 3 && hs === tEnd + 1 && s.charCodeAt(pEnd1) === 47) {
    // fast path for the common "SIP/2.0/TLS" spelling: one slice
    protocol = s.slice(start, tEnd).toUpperCase();
    transport = protocol.slice(8);
  } else {
    transport = s.slice(t0, tEnd).toUpperCase();
    protocol = s.slice(start, pEnd1).toUpperCase() + "/" + s.slice(v0, vEnd) + "/" + transport;
  }
  return {
    protocol,
    transport,
    host: s.slice(hs, scratch.he),
    port: scratch.port,
    branch: sliceOrUndefined(s, scratch.branchStart, scratch.branchEnd),
    hasRport: scratch.hasRport,
    rport: scratch.rport,
    received: sliceOrUndefined(s, scratch.receivedStart, scratch.receivedEnd),
    maddr: sliceOrUndefined(s, scratch.maddrStart, scratch.maddrEnd),
    params: s.slice(scratch.paramsStart, rawEnd),
    raw: s.slice(start, rawEnd),
  };
}
