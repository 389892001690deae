// The one set of rules for a provisioned number, used by the provisioning API, every CLI path
// (`numbers import`) and the store itself (last line of defence), and by the routing cache to
// skip rows stored before the rules were enforced everywhere. A custom header value goes verbatim
// into SIP messages and a service names the upstream a call is sent to, so: printable ASCII only
// (no CR/LF header injection, no C1 controls such as U+0085, which a UTF-8 encoder turns into bytes
// an upstream may read as a line break), bounded lengths, and a service that names a configured
// upstream. Reasons never quote the value (numbers and header values are customer data).
import { normaliseE164 } from "./e164.js";

export const MAX_SERVICE_LENGTH = 128;
export const MAX_CUSTOM_HEADER_LENGTH = 256;
/** Same rule as sip.upstreams[].name. */
const SERVICE_NAME = /^[A-Za-z0-9_.-]+$/;

export interface NumberInput {
  number: string;
  /** Optional (null) only for a number of an account: it then inherits the account's default. */
  service?: string | null;
  customHeader?: string | null;
  /** The account (accounts.ts) the number belongs to; null or absent: none. */
  account?: string | null;
}

/**
 * A number as provisioned: its own fields (null: not set) and, when it belongs to an account, the
 * account's id and the values routing uses (its own where set, else the account's defaults),
 * resolved when read. A number without an account has no `account`/`effective` members: its own
 * fields are what routing uses, and its representation is what it was before accounts existed.
 */
export interface NumberEntry {
  number: string;
  service: string | null;
  customHeader: string | null;
  account?: string;
  effective?: { service: string | null; customHeader: string | null };
}

export type NumberField = "number" | "service" | "customHeader" | "account";
export type NumberValidation = { ok: true; entry: NumberEntry } | { ok: false; field: NumberField; reason: string };

/**
 * Validates and normalises one entry (the number to E.164, surrounding spaces trimmed, an empty
 * header to null). With an account the service may be absent (the account's default; whether the
 * account exists and has one is checked by the store, in the writing transaction). `services`: the configured upstream names; without it (the store, which does
 * not know the SIP configuration) only the form of the service name is checked.
 */
export function validateNumberInput(input: NumberInput, services?: ReadonlySet<string>): NumberValidation {
  if (typeof input.number !== "string") return { ok: false, field: "number", reason: "required string (E.164, e.g. +4930123456)" };
  const n = normaliseE164(input.number);
  if (!n.ok) return { ok: false, field: "number", reason: `not an E.164 number: ${n.reason}` };
  let account: string | undefined;
  if (input.account !== undefined && input.account !== null) {
    const a = normaliseAccountId(input.account);
    if (!a.ok) return { ok: false, field: "account", reason: a.reason };
    account = a.value;
  }
  // With an account, no service means the account's default (whether it has one is the store's
  // check: it needs the account's row).
  const inherits = account !== undefined && (input.service === undefined || input.service === null);
  const service = inherits ? ({ ok: true, value: null } as const) : normaliseService(input.service, services);
  if (!service.ok) return { ok: false, field: "service", reason: service.reason };
  const header = normaliseCustomHeader(input.customHeader);
  if (!header.ok) return { ok: false, field: "customHeader", reason: header.reason };
  const entry: NumberEntry = { number: n.e164, service: service.value, customHeader: header.value };
  if (account !== undefined) entry.account = account;
  return { ok: true, entry };
}

export type FieldResult<T> = { ok: true; value: T } | { ok: false; reason: string };

/** Trimmed; with `services`, one of them; without, at least of the form of an upstream name. */
export function normaliseService(v: unknown, services?: ReadonlySet<string>): FieldResult<string> {
  const what = "required string naming a SIP upstream (GET /api/v1/services)";
  if (typeof v !== "string") return { ok: false, reason: what };
  const s = v.trim();
  if (s.length === 0) return { ok: false, reason: `empty: ${what}` };
  if (services !== undefined) {
    return services.has(s) ? { ok: true, value: s } : { ok: false, reason: "unknown service: it must name an upstream of the SIP configuration (GET /api/v1/services)" };
  }
  if (s.length > MAX_SERVICE_LENGTH) return { ok: false, reason: `longer than ${MAX_SERVICE_LENGTH} characters` };
  if (!SERVICE_NAME.test(s)) return { ok: false, reason: "not a service name (letters, digits, '_', '.', '-' only)" };
  return { ok: true, value: s };
}

/** Letters, digits, '.', '_', '-': safe in a URL path segment and a log line without escaping. */
const ACCOUNT_ID = /^[A-Za-z0-9._-]{1,64}$/;

/** An account id (account-rules.ts): operator-chosen, taken as is (no trimming: it is a key). */
export function normaliseAccountId(v: unknown): FieldResult<string> {
  if (typeof v !== "string") return { ok: false, reason: "required string of 1 to 64 letters, digits, '.', '_' or '-'" };
  if (!ACCOUNT_ID.test(v)) return { ok: false, reason: "1 to 64 letters, digits, '.', '_' or '-'" };
  return { ok: true, value: v };
}

/** Trims; empty or null means none; otherwise printable ASCII (space to '~'), at most 256 characters. */
export function normaliseCustomHeader(v: unknown): FieldResult<string | null> {
  if (v === undefined || v === null) return { ok: true, value: null };
  if (typeof v !== "string") return { ok: false, reason: "must be a string or null" };
  const s = v.trim();
  if (s.length === 0) return { ok: true, value: null };
  if (s.length > MAX_CUSTOM_HEADER_LENGTH) return { ok: false, reason: `longer than ${MAX_CUSTOM_HEADER_LENGTH} characters` };
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c > 0x7e) {
      return { ok: false, reason: `character at position ${i + 1} is not printable ASCII (no CR, LF, other control or non-ASCII characters)` };
    }
  }
  return { ok: true, value: s };
}

/** Whether a stored route is still acceptable (rows written before these rules were enforced). */
export function isValidStoredRoute(service: string | null, customHeader: string | null): boolean {
  if (service === null) return false; // neither the number nor its account names one
  const s = normaliseService(service);
  if (!s.ok || s.value !== service) return false;
  const h = normaliseCustomHeader(customHeader);
  return h.ok && h.value === customHeader;
}
