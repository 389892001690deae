// generic-param lists (`*( SEMI generic-param )`, RFC 3261 §25.1) used by Via, To/From, Contact,
// Route: `;` SWS token [ SWS "=" SWS ( token / host / quoted-string ) ].
import { CLASS, TOKEN, scanQuoted, scanToken, skipLws } from "./chars.js";

/** Receives each parameter: name span and value span (valueStart === -1 when no value). */
export type ParamVisitor = (s: string, nameStart: number, nameEnd: number, valueStart: number, valueEnd: number) => boolean;

/**
 * Walk `;name[=value]` params in s[i, end). Returns false on any syntax error, or when the
 * visitor returns false. Values may be tokens, hosts ([IPv6] included) or quoted strings.
 */
export function scanGenericParams(s: string, i: number, end: number, visit: ParamVisitor | undefined): boolean {
  for (;;) {
    i = skipLws(s, i, end);
    if (i >= end) return true;
    if (s.charCodeAt(i) !== 59) return false;
    i = skipLws(s, i + 1, end);
    const ns = i;
    i = scanToken(s, i, end);
    if (i === ns) return false;
    const ne = i;
    let vs = -1;
    let ve = -1;
    i = skipLws(s, i, end);
    if (i < end && s.charCodeAt(i) === 61) {
      i = skipLws(s, i + 1, end);
      if (i >= end) return false;
      const c = s.charCodeAt(i);
      if (c === 34) {
        const q = scanQuoted(s, i, end);
        if (q === -1) return false;
        vs = i;
        ve = q;
        i = q;
      } else if (c === 91) {
        const close = s.indexOf("]", i);
        if (close === -1 || close >= end) return false;
        for (let k = i + 1; k < close; k++) {
          const h = s.charCodeAt(k);
          if (!(h === 58 || h === 46 || (h < 256 && (CLASS[h]! & TOKEN) !== 0))) return false;
        }
        vs = i;
        ve = close + 1;
        i = ve;
      } else {
        vs = i;
        i = scanToken(s, i, end);
        if (i === vs) return false;
        ve = i;
      }
    }
    if (visit !== undefined && !visit(s, ns, ne, vs, ve)) return false;
  }
}

/** Case-insensitive compare of s[i, end) with a lower-case ASCII literal. */
export function equalsLower(s: string, i: number, end: number, lit: string): boolean {
  if (end - i !== lit.length) return false;
  for (let k = 0; k < lit.length; k++) {
    if ((s.charCodeAt(i + k) | 32) !== lit.charCodeAt(k)) return false;
  }
  return true;
}
