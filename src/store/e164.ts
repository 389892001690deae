// E.164 validation and normalisation (ITU-T E.164: '+', country code not starting with 0, at most
// 15 digits). Accepts the visual separators people and RFC 3966 use (space - . ( )) and the user
// part of tel:/sip:/sips: URIs. Written as one character loop (no regex) because the SIP layer may
// call it per request. Reasons never echo the input: it is customer data.
export type E164Result = { ok: true; e164: string } | { ok: false; reason: string };

const MAX_INPUT = 128;

export function normaliseE164(input: string): E164Result {
  if (typeof input !== "string") return { ok: false, reason: "not a string" };
  if (input.length > MAX_INPUT) return { ok: false, reason: `longer than ${MAX_INPUT} characters` };
  let s = input.trim();
  const lower = s.slice(0, 5).toLowerCase();
  if (lower.startsWith("tel:")) {
    s = cut(s.slice(4), ";");
  } else if (lower.startsWith("sip:") || lower.startsWith("sips:")) {
    const rest = s.slice(lower.startsWith("sips:") ? 5 : 4);
    const at = rest.indexOf("@");
    if (at <= 0) return { ok: false, reason: "SIP URI has no user part" };
    s = cut(rest.slice(0, at), ";");
  }
  if (s.length === 0) return { ok: false, reason: "empty" };
  if (s.charCodeAt(0) !== 43 /* + */) return { ok: false, reason: "must start with '+' and the country code (international format)" };
  let digits = "";
  for (let i = 1; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 48 && c <= 57) digits += s[i];
    else if (c === 32 || c === 45 || c === 46 || c === 40 || c === 41) continue; // space - . ( )
    else return { ok: false, reason: `character at position ${i + 1} is not a digit or separator` };
  }
  if (digits.length === 0) return { ok: false, reason: "no digits after '+'" };
  if (digits.length > 15) return { ok: false, reason: "more than 15 digits" };
  if (digits.charCodeAt(0) === 48) return { ok: false, reason: "country code cannot start with 0" };
  return { ok: true, e164: `+${digits}` };
}

function cut(s: string, sep: string): string {
  const i = s.indexOf(sep);
  return i < 0 ? s : s.slice(0, i);
}
