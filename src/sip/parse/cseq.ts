// CSeq = 1*DIGIT LWS Method (RFC 3261 §20.16); the number must fit 2**31 - 1 (§8.1.1.5).
import { isDigit, scanToken, skipLws } from "./chars.js";
import type { CSeq } from "./types.js";

export function parseCSeq(s: string): CSeq | undefined {
  const end = s.length;
  let i = skipLws(s, 0, end);
  const ds = i;
  let n = 0;
  while (i < end && isDigit(s.charCodeAt(i))) {
    n = n * 10 + s.charCodeAt(i) - 48;
    if (n > 0x7fffffff) return undefined;
    i++;
  }
  if (i === ds) return undefined;
  const ms = skipLws(s, i, end);
  if (ms === i) return undefined;
  const me = scanToken(s, ms, end);
  if (me === ms || skipLws(s, me, end) !== end) return undefined;
  return { seq: n, method: s.slice(ms, me) };
}
