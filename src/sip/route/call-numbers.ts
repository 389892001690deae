// Which numbers a call is about, as RFC 3261/3325 put them: the called number is the
// Request-URI's user part (else To's), the calling number P-Asserted-Identity's (else From's).
// Returned normalised to E.164, or undefined when the user part is not a telephone number.
import type { NameAddr, SipRequest } from "../parse/index.js";
import { parseUri } from "../parse/index.js";

/**
 * E.164 from a URI user part: '+' then 1–15 digits (RFC 3966 visual separators - . ( ) dropped),
 * or, when assumeInternational, digits alone. Parameters after ';' are ignored.
 */
export function e164FromUser(user: string | undefined, assumeInternational: boolean): string | undefined {
  if (user === undefined || user.length === 0 || user.length > 64) return undefined;
  let i = 0;
  const plus = user.charCodeAt(0) === 43;
  if (plus) i = 1;
  else if (!assumeInternational) return undefined;
  let digits = "";
  for (; i < user.length; i++) {
    const c = user.charCodeAt(i);
    if (c >= 48 && c <= 57) digits += user[i];
    else if (c === 45 || c === 46 || c === 40 || c === 41) continue;
    else if (c === 59) break; // ;params
    else return undefined;
  }
  if (digits.length === 0 || digits.length > 15 || digits.charCodeAt(0) === 48) return undefined;
  return `+${digits}`;
}

function userOf(addr: NameAddr | undefined): string | undefined {
  return addr === undefined ? undefined : parseUri(addr.uri)?.user;
}

export function calledNumber(req: SipRequest, assumeInternational: boolean): string | undefined {
  return e164FromUser(req.uri.user, assumeInternational) ?? e164FromUser(userOf(req.to), assumeInternational);
}

export function callingNumber(req: SipRequest, assumeInternational: boolean): string | undefined {
  const pai = req.getHeader("p-asserted-identity");
  if (pai !== undefined) {
    // name-addr: take what is inside <…>, else the whole value; first entry only.
    const lt = pai.indexOf("<");
    const gt = lt >= 0 ? pai.indexOf(">", lt) : -1;
    const uriText = lt >= 0 && gt > lt ? pai.slice(lt + 1, gt) : pai.split(",")[0]!.trim();
    const n = e164FromUser(parseUri(uriText)?.user, assumeInternational);
    if (n !== undefined) return n;
  }
  return e164FromUser(userOf(req.from), assumeInternational);
}
