// Via (RFC 3261 §20.42 / §25.1, RFC 3581 rport): via-parm = sent-protocol LWS sent-by *(SEMI via-params).
// maddr is kept apart from the sent-by host, and a bare `;rport` is distinct from `;rport=N`.
import { isDigit, parseDecimal, scanToken, skipLws } from "./chars.js";
import { isValidHost } from "./host.js";
import { equalsLower, scanGenericParams } from "./params.js";
import type { Via } from "./types.js";

// Module-level scratch filled by the (non-closure) param visitor: one parse at a time (sync).
const scratch = {
  branch: undefined as string | undefined,
  hasRport: false,
  rport: undefined as number | undefined,
  received: undefined as string | undefined,
  maddr: undefined as string | undefined,
  ok: true,
};

function visitViaParam(s: string, ns: number, ne: number, vs: number, ve: number): boolean {
  const len = ne - ns;
  if (len === 6 && equalsLower(s, ns, ne, "branch")) {
    if (vs === -1 || s.charCodeAt(vs) === 34 || s.charCodeAt(vs) === 91) return false;
    scratch.branch = s.slice(vs, ve);
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
    if (!bracket && !isValidHost(s, vs, ve) && !s.slice(vs, ve).includes(":")) return false;
    scratch.received = s.slice(vs, ve);
  } else if (len === 5 && equalsLower(s, ns, ne, "maddr")) {
    if (vs === -1 || !isValidHost(s, vs, ve)) return false;
    scratch.maddr = s.slice(vs, ve);
  } else if (len === 3 && equalsLower(s, ns, ne, "ttl")) {
    const n = vs === -1 ? -1 : parseDecimal(s, vs, ve, 3);
    if (n < 0 || n > 255) return false;
  }
  return true;
}

/** Parse one via-parm in s[i, end) (already split from its comma list). undefined = malformed. */
export function parseVia(s: string, i: number, end: number): Via | undefined {
  const start = (i = skipLws(s, i, end));
  // sent-protocol = protocol-name SLASH protocol-version SLASH transport (SLASH = SWS "/" SWS)
  const pEnd1 = scanToken(s, i, end);
  if (pEnd1 === i) return undefined;
  let j = skipLws(s, pEnd1, end);
  if (s.charCodeAt(j) !== 47) return undefined;
  j = skipLws(s, j + 1, end);
  const v0 = j;
  const vEnd = scanToken(s, j, end);
  if (vEnd === v0) return undefined;
  j = skipLws(s, vEnd, end);
  if (s.charCodeAt(j) !== 47) return undefined;
  j = skipLws(s, j + 1, end);
  const t0 = j;
  const tEnd = scanToken(s, j, end);
  if (tEnd === t0) return undefined;
  // LWS is mandatory between sent-protocol and sent-by
  const hs = skipLws(s, tEnd, end);
  if (hs === tEnd || hs >= end) return undefined;
  let he: number;
  if (s.charCodeAt(hs) === 91) {
    const close = s.indexOf("]", hs);
    if (close === -1 || close >= end) return undefined;
    he = close + 1;
  } else {
    he = hs;
    while (he < end) {
      const c = s.charCodeAt(he);
      if (c === 58 || c === 59 || c === 32 || c === 9 || c === 13 || c === 10) break;
      he++;
    }
  }
  if (!isValidHost(s, hs, he)) return undefined;
  let k = skipLws(s, he, end);
  let port: number | undefined;
  if (k < end && s.charCodeAt(k) === 58) {
    k = skipLws(s, k + 1, end);
    const ps = k;
    while (k < end && isDigit(s.charCodeAt(k))) k++;
    const n = parseDecimal(s, ps, k, 5);
    if (n < 0 || n > 65535) return undefined;
    port = n;
  }
  scratch.branch = undefined;
  scratch.hasRport = false;
  scratch.rport = undefined;
  scratch.received = undefined;
  scratch.maddr = undefined;
  if (!scanGenericParams(s, k, end, visitViaParam)) return undefined;
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
  let rawEnd = end;
  while (rawEnd > start) {
    const c = s.charCodeAt(rawEnd - 1);
    if (c !== 32 && c !== 9 && c !== 13 && c !== 10) break;
    rawEnd--;
  }
  return {
    protocol,
    transport,
    host: s.slice(hs, he),
    port,
    branch: scratch.branch,
    hasRport: scratch.hasRport,
    rport: scratch.rport,
    received: scratch.received,
    maddr: scratch.maddr,
    params: s.slice(k, rawEnd),
    raw: s.slice(start, rawEnd),
  };
}
