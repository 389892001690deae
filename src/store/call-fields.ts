// The sensitive fields of a call (peer, calling and called number) sealed together: one AES-GCM
// value per call_records / call_journal row (column `fields_enc`, migration 8) instead of one per
// field. Every AES-GCM value costs a cipher context, an IV, a tag and an associated-data buffer
// (~3.3 CPU-µs on Node 24 whatever its length), and an answered call wrote six of them (journal
// entry + record); sealed, it writes two.
//
// The plaintext is a versioned envelope, JSON `[1, peer, calling, called]` (each a string or
// null): the leading version lets a later layout be told from this one. The associated data names
// table, column and row (`<table>.fields_enc:<row key>`), as for every other stored value, so an
// envelope copied to another row fails authentication.
//
// Rows written before migration 8 keep their three columns (`peer_enc`, `calling_enc`,
// `called_enc`, one value each, `fields_enc` NULL) and are read as before; key rotation re-encrypts
// all four columns (rotation.ts), so old and new rows move to the new key alike.
import { DecryptError, Keyring } from "./crypto/keyring.js";
import type { StoreContext } from "./context.js";

export const FIELDS_COLUMN = "fields_enc";
const ENVELOPE_VERSION = 1;

/** A row's encrypted columns as read (legacy per-field values and/or the sealed envelope). */
export interface SealedFieldsRow {
  fields_enc?: string | null;
  peer_enc: string | null;
  calling_enc: string | null;
  called_enc: string | null;
}

export type CallFields = [peer: string | null, calling: string | null, called: string | null];

/** The envelope for one row, or null when the call has none of the three fields. */
export function sealCallFields(ctx: StoreContext, table: string, rowKey: string, peer: string | null | undefined, calling: string | null | undefined, called: string | null | undefined): string | null {
  const p = peer ?? null;
  const a = calling ?? null;
  const b = called ?? null;
  if (p === null && a === null && b === null) return null;
  return ctx.encrypt(JSON.stringify([ENVELOPE_VERSION, p, a, b]), table, FIELDS_COLUMN, rowKey);
}

/** Reads either layout. Throws DecryptError when the value fails authentication or is not an envelope this build knows. */
export function openCallFields(ctx: StoreContext, table: string, rowKey: string, row: SealedFieldsRow): CallFields {
  const sealed = row.fields_enc ?? null;
  if (sealed === null) {
    return [
      ctx.decryptOpt(row.peer_enc, table, "peer_enc", rowKey),
      ctx.decryptOpt(row.calling_enc, table, "calling_enc", rowKey),
      ctx.decryptOpt(row.called_enc, table, "called_enc", rowKey),
    ];
  }
  const plain = ctx.decrypt(sealed, table, FIELDS_COLUMN, rowKey);
  const fields = parseEnvelope(plain);
  if (!fields) throw new DecryptError(`not a version ${ENVELOPE_VERSION} call-fields envelope`, Keyring.keyIdOf(sealed));
  return fields;
}

function parseEnvelope(plain: string): CallFields | null {
  let v: unknown;
  try {
    v = JSON.parse(plain);
  } catch {
    return null;
  }
  if (!Array.isArray(v) || v.length !== 4 || v[0] !== ENVELOPE_VERSION) return null;
  for (let i = 1; i < 4; i++) if (v[i] !== null && typeof v[i] !== "string") return null;
  return [v[1], v[2], v[3]];
}
