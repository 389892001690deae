// Host grammar (RFC 3261 §25.1): hostname / IPv4address / IPv6reference, charCode scanning.
import { ALNUM, CLASS, HEX, isAlpha, isDigit } from "./chars.js";

/** True when s[i, end) is a valid host (hostname, dotted IPv4, or [IPv6]). */
export function isValidHost(s: string, i: number, end: number): boolean {
  if (i >= end) return false;
  const c0 = s.charCodeAt(i);
  if (c0 === 91) return s.charCodeAt(end - 1) === 93 && isIPv6(s, i + 1, end - 1);
  return isIPv4(s, i, end) || isHostname(s, i, end);
}

export function isIPv4(s: string, i: number, end: number): boolean {
  let parts = 0;
  let start = i;
  for (let p = i; p <= end; p++) {
    const c = p < end ? s.charCodeAt(p) : 46;
    if (c === 46) {
      const len = p - start;
      if (len < 1 || len > 3) return false;
      let v = 0;
      for (let k = start; k < p; k++) v = v * 10 + s.charCodeAt(k) - 48;
      if (v > 255) return false;
      parts++;
      start = p + 1;
    } else if (!isDigit(c)) return false;
  }
  return parts === 4;
}

/** hostname = *( domainlabel "." ) toplabel [ "." ]; toplabel starts with ALPHA. */
export function isHostname(s: string, i: number, end: number): boolean {
  if (s.charCodeAt(end - 1) === 46) end--; // trailing dot allowed
  if (end <= i) return false;
  let labelStart = i;
  for (let p = i; p <= end; p++) {
    const c = p < end ? s.charCodeAt(p) : 46;
    if (c === 46) {
      if (p === labelStart) return false;
      if (s.charCodeAt(labelStart) === 45 || s.charCodeAt(p - 1) === 45) return false;
      if (p === end && !isAlpha(s.charCodeAt(labelStart))) return false;
      labelStart = p + 1;
    } else if (c !== 45 && (c >= 256 || (CLASS[c]! & ALNUM) === 0)) return false;
  }
  return true;
}

/** IPv6address (RFC 3261 §25.1 / RFC 4291 text form), without brackets. */
export function isIPv6(s: string, i: number, end: number): boolean {
  if (end - i < 2) return false;
  let groups = 0;
  let doubleColon = false;
  let p = i;
  if (s.charCodeAt(p) === 58) {
    if (s.charCodeAt(p + 1) !== 58) return false;
    doubleColon = true;
    p += 2;
    if (p === end) return true;
  }
  while (p < end) {
    // one group: 1-4 hex digits, or a trailing dotted IPv4
    let q = p;
    while (q < end && q - p < 5 && s.charCodeAt(q) < 256 && (CLASS[s.charCodeAt(q)]! & HEX) !== 0) q++;
    if (q < end && s.charCodeAt(q) === 46) {
      if (!isIPv4(s, p, end)) return false;
      groups += 2;
      p = end;
      break;
    }
    if (q === p || q - p > 4) return false;
    groups++;
    p = q;
    if (p === end) break;
    if (s.charCodeAt(p) !== 58) return false;
    p++;
    if (p < end && s.charCodeAt(p) === 58) {
      if (doubleColon) return false;
      doubleColon = true;
      p++;
      if (p === end) break;
    } else if (p === end) return false;
  }
  return doubleColon ? groups <= 7 : groups === 8;
}
