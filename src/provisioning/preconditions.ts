// Conditional requests (RFC 9110 §13) for a number: If-Match and If-None-Match against the entry's
// entity tag. Pure: parsed from the header values, evaluated against the current tag (null: the
// number is not provisioned). If-Match compares strongly (a weak tag never matches), If-None-Match
// weakly, as §13.1.1–2 say. A malformed header is a 400 naming it rather than being ignored: a
// client that believes it is protected against lost updates must not silently be unprotected.
import { FieldError } from "./validation.js";

/** "*" or the listed tags (each as sent, quotes included, with any W/ prefix). */
export type TagList = "*" | readonly string[];

export interface Preconditions {
  ifMatch?: TagList;
  ifNoneMatch?: TagList;
}

/** `headers` as node:http gives them (repeated fields joined by ", "). */
export function parsePreconditions(headers: Readonly<Record<string, string | string[] | undefined>>): Preconditions {
  const p: Preconditions = {};
  const im = headerValue(headers["if-match"]);
  if (im !== undefined) p.ifMatch = parseTagList(im, "If-Match");
  const inm = headerValue(headers["if-none-match"]);
  if (inm !== undefined) p.ifNoneMatch = parseTagList(inm, "If-None-Match");
  return p;
}

function headerValue(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v.join(", ") : v;
}

/** `*` / `1#entity-tag`; entity-tag = [ "W/" ] DQUOTE *etagc DQUOTE. */
export function parseTagList(value: string, field: string): TagList {
  const v = value.trim();
  if (v === "*") return "*";
  const tags: string[] = [];
  let i = 0;
  const bad = () => new FieldError(field, 'expected * or a list of entity tags ("…" or W/"…")');
  while (i < v.length) {
    while (i < v.length && (v[i] === " " || v[i] === "\t" || v[i] === ",")) i++;
    if (i >= v.length) break;
    const start = i;
    if (v.startsWith("W/", i)) i += 2;
    if (v[i] !== '"') throw bad();
    const close = v.indexOf('"', i + 1);
    if (close < 0) throw bad();
    for (let k = i + 1; k < close; k++) {
      const c = v.charCodeAt(k);
      if (c < 0x21 || c === 0x7f) throw bad(); // etagc: %x21 / %x23-7E / obs-text
    }
    tags.push(v.slice(start, close + 1));
    i = close + 1;
    while (i < v.length && (v[i] === " " || v[i] === "\t")) i++;
    if (i < v.length && v[i] !== ",") throw bad();
  }
  if (tags.length === 0) throw bad();
  return tags;
}

const opaque = (tag: string) => (tag.startsWith("W/") ? tag.slice(2) : tag);

/**
 * The status a request must be answered with instead of being applied (412, or 304 for a GET whose
 * If-None-Match matched), or undefined when it may proceed. `current`: the number's tag, null when
 * it is not provisioned.
 */
export function evaluatePreconditions(p: Preconditions, current: string | null, method: string): 304 | 412 | undefined {
  if (p.ifMatch !== undefined) {
    const ok = current !== null && (p.ifMatch === "*" || p.ifMatch.some((t) => !t.startsWith("W/") && t === current));
    if (!ok) return 412;
  }
  if (p.ifNoneMatch !== undefined) {
    const matches = current !== null && (p.ifNoneMatch === "*" || p.ifNoneMatch.some((t) => opaque(t) === current));
    if (matches) return method === "GET" || method === "HEAD" ? 304 : 412;
  }
  return undefined;
}
