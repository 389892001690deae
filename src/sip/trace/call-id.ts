// The Call-ID of a framed SIP message read from its bytes (no parse: tracing sits at the transport,
// before and after the proxy), and the per-call sampling decision derived from it. Both legs of a
// call carry the same Call-ID through a proxy, so hashing it keeps or drops them together.

const CR = 13;
const LF = 10;

function isCallIdName(b: Buffer, s: number, colon: number): boolean {
  let e = colon;
  while (e > s && (b[e - 1] === 32 || b[e - 1] === 9)) e--;
  const len = e - s;
  if (len === 1) return (b[s]! | 32) === 105; // compact form "i"
  if (len !== 7) return false;
  const name = "call-id";
  for (let i = 0; i < 7; i++) if ((b[s + i]! | 32) !== name.charCodeAt(i)) return false;
  return true;
}

/** The Call-ID header value of the message in b (header section only), or undefined. */
export function callIdOf(b: Buffer): string | undefined {
  let line = b.indexOf(LF) + 1; // skip the start line
  while (line > 0 && line < b.length) {
    const end = b.indexOf(LF, line);
    const stop = end === -1 ? b.length : end;
    if (stop === line || (stop === line + 1 && b[line] === CR)) return undefined; // blank line: end of headers
    const colon = b.indexOf(58, line);
    if (colon !== -1 && colon < stop && isCallIdName(b, line, colon)) {
      let s = colon + 1;
      let e = stop;
      while (s < e && (b[s] === 32 || b[s] === 9)) s++;
      while (e > s && (b[e - 1] === CR || b[e - 1] === 32 || b[e - 1] === 9)) e--;
      return b.toString("latin1", s, e);
    }
    if (end === -1) return undefined;
    line = end + 1;
  }
  return undefined;
}

/** FNV-1a (32 bits) of the Call-ID: cheap and stable across processes and replicas. */
function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** Whether the call with this Call-ID is in the sampled share `rate` (0..1) of calls. */
export function callSampled(callId: string, rate: number): boolean {
  if (rate >= 1) return true;
  if (rate <= 0) return false;
  return fnv1a(callId) < rate * 0x1_0000_0000;
}
