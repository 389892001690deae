// Byte-level helpers of the stream framer (framing.ts): bare-LF blank lines, the Content-Length
// header name and its decimal value, read straight from the buffered bytes (no strings).

const LFLF = Buffer.from("\n\n", "latin1");
const LFCRLF = Buffer.from("\n\r\n", "latin1");

/**
 * End (index after it) of the first blank line of a bare-LF message in c from `from`: "\n\n" or
 * "\n\r\n"; -1 when there is none.
 */
export function bareBlankLine(c: Buffer, from: number): number {
  const a = c.indexOf(LFLF, from);
  const b = c.indexOf(LFCRLF, from);
  if (a === -1) return b === -1 ? -1 : b + 3;
  return b === -1 || a < b ? a + 2 : b + 3;
}

/** "content-length" or "l" (any case, WS allowed before the colon). */
export function isContentLengthName(b: Buffer, s: number, colon: number): boolean {
  let e = colon;
  while (e > s && (b[e - 1] === 32 || b[e - 1] === 9)) e--;
  const len = e - s;
  if (len === 1) return (b[s]! | 32) === 108;
  if (len !== 14) return false;
  const name = "content-length";
  for (let i = 0; i < 14; i++) if ((b[s + i]! | 32) !== name.charCodeAt(i)) return false;
  return true;
}

/** Decimal in b[s, e) with trailing WS allowed (leading zeros too); -1 when not 1..10 significant digits. */
export function readDecimal(b: Buffer, s: number, e: number): number {
  while (e > s && (b[e - 1] === 32 || b[e - 1] === 9)) e--;
  while (e - s > 1 && b[s] === 48) s++;
  if (e === s || e - s > 10) return -1;
  let n = 0;
  for (let i = s; i < e; i++) {
    const c = b[i]!;
    if (c < 48 || c > 57) return -1;
    n = n * 10 + c - 48;
  }
  return n;
}
