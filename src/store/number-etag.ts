// The entity tag of a provisioned number, for the API's optimistic concurrency (ETag / If-Match).
// A keyed hash of the decrypted fields, not a row version: it changes exactly when what a client
// reads changes (re-encryption under a new data key changes the ciphertext, not the tag), it needs
// no column that every write path (API, CLI import, rotation) must remember to bump, and it keeps
// working when part of the representation comes from elsewhere (account defaults). Keyed with the
// index key (HMAC, own domain), so a tag seen in a proxy log reveals nothing about the number or
// its header value, and a guessed value cannot be confirmed against it.
import type { Keyring } from "./crypto/keyring.js";
import type { NumberEntry } from "./number-rules.js";

const ETAG_DOMAIN = "number-etag";

/** A strong entity tag, quoted as in the header: `"…"`. */
export function numberEtag(keys: Keyring, e: NumberEntry): string {
  // JSON of a fixed-order array: unambiguous (no separator a value could contain). A number of an
  // account also hashes the account and what it resolves to: a change of the account's defaults
  // changes the number's representation, so its tag.
  const fields = e.account === undefined ? [e.number, e.service, e.customHeader] : [e.number, e.service, e.customHeader, e.account, e.effective?.service ?? null, e.effective?.customHeader ?? null];
  const tag = keys.blindIndex(ETAG_DOMAIN, JSON.stringify(fields));
  return `"${tag.slice(0, 27)}"`;
}
