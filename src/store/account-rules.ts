// The rules for an account (a customer of the operator grouping numbers), shared by the API and the
// store: an operator-chosen id, an optional display name, and optional defaults (service, custom
// header) that its numbers inherit unless they set their own. Reasons never quote the value (a
// name or header value is customer data).
import { normaliseAccountId, normaliseCustomHeader, normaliseService, type FieldResult } from "./number-rules.js";

export { normaliseAccountId } from "./number-rules.js";
export const MAX_ACCOUNT_NAME_LENGTH = 128;

export interface AccountInput {
  id: string;
  name?: string | null;
  service?: string | null;
  customHeader?: string | null;
}

export interface AccountEntry {
  id: string;
  name: string | null;
  /** Default service of the account's numbers that name none. */
  service: string | null;
  /** Default custom header value of the account's numbers that set none. */
  customHeader: string | null;
}

export type AccountField = "id" | "name" | "service" | "customHeader";
export type AccountValidation = { ok: true; entry: AccountEntry } | { ok: false; field: AccountField; reason: string };

/** Trimmed; empty or null means none; no control characters, at most 128 characters. */
export function normaliseAccountName(v: unknown): FieldResult<string | null> {
  if (v === undefined || v === null) return { ok: true, value: null };
  if (typeof v !== "string") return { ok: false, reason: "must be a string or null" };
  const s = v.trim();
  if (s.length === 0) return { ok: true, value: null };
  if (s.length > MAX_ACCOUNT_NAME_LENGTH) return { ok: false, reason: `longer than ${MAX_ACCOUNT_NAME_LENGTH} characters` };
  // C0, DEL and C1 controls and the Unicode line separators: a name goes into API answers and CSV
  // exports, never a line break.
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || (c >= 0x7f && c <= 0x9f) || c === 0x2028 || c === 0x2029) {
      return { ok: false, reason: `character at position ${i + 1} is a control character` };
    }
  }
  return { ok: true, value: s };
}

/**
 * Validates and normalises an account. `services`: the configured upstream names (the API); the
 * store checks the form only. A default service is optional: then every number of the account
 * must name its own.
 */
export function validateAccountInput(input: AccountInput, services?: ReadonlySet<string>): AccountValidation {
  const id = normaliseAccountId(input.id);
  if (!id.ok) return { ok: false, field: "id", reason: id.reason };
  const name = normaliseAccountName(input.name);
  if (!name.ok) return { ok: false, field: "name", reason: name.reason };
  let service: string | null = null;
  if (input.service !== undefined && input.service !== null) {
    const s = normaliseService(input.service, services);
    if (!s.ok) return { ok: false, field: "service", reason: s.reason };
    service = s.value;
  }
  const header = normaliseCustomHeader(input.customHeader);
  if (!header.ok) return { ok: false, field: "customHeader", reason: header.reason };
  return { ok: true, entry: { id: id.value, name: name.value, service, customHeader: header.value } };
}
