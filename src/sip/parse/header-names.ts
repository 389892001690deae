// Header-name normalisation through a lookup table: compact forms (RFC 3261 §7.3.3 and later
// RFCs) expand to the full name, and every name becomes lower-case. The table is keyed by the
// exact received spelling first, so the common spellings ("Via", "Call-ID", "v") cost one Map hit
// and no toLowerCase() allocation.

/** Compact form → full lower-case name. */
const COMPACT: Readonly<Record<string, string>> = {
  a: "accept-contact", // RFC 3841
  b: "referred-by", // RFC 3892
  c: "content-type",
  d: "request-disposition", // RFC 3841
  e: "content-encoding",
  f: "from",
  i: "call-id",
  j: "reject-contact", // RFC 3841
  k: "supported",
  l: "content-length",
  m: "contact",
  n: "identity-info", // RFC 4474
  o: "event", // RFC 6665
  r: "refer-to", // RFC 3515
  s: "subject",
  t: "to",
  u: "allow-events", // RFC 6665
  v: "via",
  x: "session-expires", // RFC 4028
  y: "identity", // RFC 8224
};

/** Canonical (wire) spelling used when we emit a header we know. */
export const DISPLAY_NAME: Readonly<Record<string, string>> = {
  via: "Via",
  to: "To",
  from: "From",
  "call-id": "Call-ID",
  cseq: "CSeq",
  "max-forwards": "Max-Forwards",
  "content-length": "Content-Length",
  "content-type": "Content-Type",
  route: "Route",
  "record-route": "Record-Route",
  contact: "Contact",
};

/**
 * Headers whose grammar is a comma-separated list (so values may be split on top-level commas).
 * Excludes headers with commas inside a single value (Date, auth challenges/credentials,
 * Warning-less free text like Subject).
 */
export const LIST_HEADERS: ReadonlySet<string> = new Set([
  "via", "route", "record-route", "contact", "path", "service-route", "allow", "supported",
  "require", "proxy-require", "unsupported", "accept", "accept-encoding", "accept-language",
  "allow-events", "content-encoding", "content-language", "in-reply-to", "alert-info",
  "call-info", "error-info", "p-asserted-identity", "p-preferred-identity", "reason",
  "security-client", "security-server", "security-verify", "accept-contact", "reject-contact",
  "request-disposition", "history-info", "diversion",
]);

const FULL_NAMES = [
  "via", "to", "from", "call-id", "cseq", "max-forwards", "content-length", "content-type",
  "route", "record-route", "contact", "content-encoding", "supported", "subject", "allow",
  "require", "proxy-require", "unsupported", "user-agent", "server", "expires", "date",
  "authorization", "proxy-authorization", "www-authenticate", "proxy-authenticate",
  "retry-after", "accept", "timestamp", "organization", "warning", "min-expires",
  "session-expires", "min-se", "p-asserted-identity", "event", "allow-events", "refer-to",
  "referred-by", "reason", "path", "rseq", "rack", "privacy",
];

const TABLE = new Map<string, string>();
function addSpellings(full: string, compact?: string): void {
  TABLE.set(full, full);
  TABLE.set(full.toUpperCase(), full);
  // Title-Case each dash-separated word ("call-id" → "Call-Id") plus the RFC spellings below.
  TABLE.set(full.replace(/(^|-)([a-z])/g, (_m, d: string, c: string) => d + c.toUpperCase()), full);
  if (compact !== undefined) {
    TABLE.set(compact, full);
    TABLE.set(compact.toUpperCase(), full);
  }
}
for (const n of FULL_NAMES) addSpellings(n);
for (const [c, full] of Object.entries(COMPACT)) addSpellings(full, c);
for (const n of Object.values(DISPLAY_NAME)) TABLE.set(n, n.toLowerCase());
TABLE.set("Call-ID", "call-id");
TABLE.set("CSeq", "cseq");
TABLE.set("WWW-Authenticate", "www-authenticate");

const TOKEN = new Uint8Array(256);
for (const c of "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.!%*_+`'~") {
  TOKEN[c.charCodeAt(0)] = 1;
}

/**
 * Canonical lower-case full name for a received header name, or "" when `name` is not a token.
 * Unknown names are lower-cased (one allocation); known spellings are a single Map lookup.
 */
export function canonicalHeaderName(name: string): string {
  const hit = TABLE.get(name);
  if (hit !== undefined) return hit;
  if (name.length === 0) return "";
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c > 255 || TOKEN[c] !== 1) return "";
  }
  const lower = name.toLowerCase();
  return TABLE.get(lower) ?? lower;
}

/** How we spell a canonical name on the wire ("call-id" → "Call-ID"); unknown names as given. */
export function wireName(canonical: string): string {
  return DISPLAY_NAME[canonical] ?? canonical;
}

// Byte-level lookup of the names nearly every message carries, straight from the received bytes:
// no string is made for the name and nothing is hashed (splitHeaders runs this for each header
// line of each message). Same result as canonicalHeaderName(latin1 text) for these names in any
// letter case; anything else returns undefined and takes the general path.
const HOT_NAMES = [
  "via", "to", "from", "call-id", "cseq", "contact", "max-forwards", "content-length", "content-type",
  "route", "record-route", "user-agent", "subject", "allow", "supported", "server", "expires",
  "p-asserted-identity", "require", "accept", "date", "organization",
];
/** Candidates by name length: the spelling to match (lower-case letters) and the canonical name. */
const HOT_BY_LENGTH: { match: string; name: string }[][] = [];
function addHot(match: string, name: string): void {
  (HOT_BY_LENGTH[match.length] ??= []).push({ match, name });
}
for (const n of HOT_NAMES) addHot(n, n);
for (const [c, full] of Object.entries(COMPACT)) addHot(c, full);

function sameName(buf: Uint8Array, pos: number, lit: string): boolean {
  for (let k = 0; k < lit.length; k++) {
    const l = lit.charCodeAt(k);
    const b = buf[pos + k]!;
    // letters compare case-insensitively; '-' exactly (CR | 32 would equal '-')
    if (l >= 97 ? (b | 32) !== l : b !== l) return false;
  }
  return true;
}

/** Canonical name of buf[pos, end) when it is one of the common names, else undefined. */
export function hotHeaderName(buf: Uint8Array, pos: number, end: number): string | undefined {
  const cands = HOT_BY_LENGTH[end - pos];
  if (cands === undefined) return undefined;
  for (let i = 0; i < cands.length; i++) {
    const c = cands[i]!;
    if (sameName(buf, pos, c.match)) return c.name;
  }
  return undefined;
}
