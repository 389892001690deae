// Character-class tables for charCode scanning (no regex on the hot path). One Uint8Array of
// bit flags indexed by char code; anything >= 128 has no flags (callers treat it as UTF8-NONASCII
// where the grammar allows it).

export const TOKEN = 1; // RFC 3261 token
export const UNRESERVED = 2; // alphanum / mark
export const USER_UNRES = 4; // user-unreserved: & = + $ , ; ? /
export const PARAM_UNRES = 8; // param-unreserved: [ ] / : & + $
export const HNV_UNRES = 16; // hnv-unreserved: [ ] / ? : + $
export const PASSWORD = 32; // password extra: & = + $ ,
export const ALNUM = 64;
export const HEX = 128;

export const CLASS = new Uint8Array(256);
function mark(chars: string, flag: number): void {
  for (let i = 0; i < chars.length; i++) CLASS[chars.charCodeAt(i)]! |= flag;
}
const alnum = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
mark(alnum, TOKEN | UNRESERVED | ALNUM);
mark("-.!%*_+`'~", TOKEN);
mark("-_.!~*'()", UNRESERVED);
mark("&=+$,;?/", USER_UNRES);
mark("[]/:&+$", PARAM_UNRES);
mark("[]/?:+$", HNV_UNRES);
mark("&=+$,", PASSWORD);
mark("0123456789abcdefABCDEF", HEX);

export function has(c: number, flag: number): boolean {
  return c < 256 && (CLASS[c]! & flag) !== 0;
}

export function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

export function isAlpha(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
}

/** Skip SP / HTAB (and CR LF, which only appear inside folded values) from i. */
export function skipLws(s: string, i: number, end: number): number {
  while (i < end) {
    const c = s.charCodeAt(i);
    if (c !== 32 && c !== 9 && c !== 13 && c !== 10) break;
    i++;
  }
  return i;
}

/** End of a run of token chars starting at i. */
export function scanToken(s: string, i: number, end: number): number {
  while (i < end) {
    const c = s.charCodeAt(i);
    if (c >= 256 || (CLASS[c]! & TOKEN) === 0) break;
    i++;
  }
  return i;
}

/**
 * End of a quoted-string whose opening DQUOTE is at i (index after the closing DQUOTE), or -1 when
 * unterminated or containing a bare CR/LF that is not folding.
 */
export function scanQuoted(s: string, i: number, end: number): number {
  i++;
  while (i < end) {
    const c = s.charCodeAt(i);
    if (c === 34) return i + 1;
    if (c === 92) {
      // quoted-pair: "\" followed by any char except CR/LF (RFC 3261 §25.1)
      const n = s.charCodeAt(i + 1);
      if (i + 1 >= end || n === 13 || n === 10) return -1;
      i += 2;
      continue;
    }
    if (c === 13 || c === 10) {
      // only LWS folding (CRLF followed by SP/HTAB) may appear
      const n = c === 13 ? s.charCodeAt(i + 2) : s.charCodeAt(i + 1);
      if (c === 13 && s.charCodeAt(i + 1) !== 10) return -1;
      if (n !== 32 && n !== 9) return -1;
      i += c === 13 ? 3 : 2;
      continue;
    }
    if (c < 32 && c !== 9) return -1;
    i++;
  }
  return -1;
}

/** Parse a decimal integer of at most maxDigits digits in s[i, end); -1 when not all digits. */
export function parseDecimal(s: string, i: number, end: number, maxDigits: number): number {
  if (i >= end || end - i > maxDigits) return -1;
  let n = 0;
  for (; i < end; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return -1;
    n = n * 10 + (c - 48);
  }
  return n;
}
