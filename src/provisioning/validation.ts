// Input checks of the API. Each failure names the field (`service`, `numbers[3].customHeader`) and
// says what is wrong without echoing the value: numbers and header values are customer data, and
// error bodies end up in client logs. The rules for an entry are the store's (number-rules.ts), the
// same the CLI applies.
import { normaliseAccountName } from "../store/account-rules.js";
import { normaliseE164 } from "../store/e164.js";
import { MAX_CUSTOM_HEADER_LENGTH, normaliseAccountId, normaliseCustomHeader, normaliseService } from "../store/number-rules.js";

export class FieldError extends Error {
  override name = "FieldError";
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}

export const MAX_CUSTOM_HEADER_CHARS = MAX_CUSTOM_HEADER_LENGTH;

/** The {e164} path segment: percent-decoded ("%2B49…" and "+49…" both work), then normalised. */
export function numberFromPath(raw: string): string {
  let decoded: string;
  try {
    decoded = decodeURIComponent(raw);
  } catch {
    throw new FieldError("number", "invalid percent-encoding in the path");
  }
  const n = normaliseE164(decoded);
  if (!n.ok) throw new FieldError("number", `not an E.164 number: ${n.reason}`);
  return n.e164;
}

export function numberField(v: unknown, field: string): string {
  if (typeof v !== "string") throw new FieldError(field, "required string (E.164, e.g. +4930123456)");
  const n = normaliseE164(v);
  if (!n.ok) throw new FieldError(field, `not an E.164 number: ${n.reason}`);
  return n.e164;
}

export function serviceField(v: unknown, field: string, services: ReadonlySet<string>): string {
  const r = normaliseService(v, services);
  if (!r.ok) throw new FieldError(field, r.reason);
  return r.value;
}

/** A service name of valid form, configured or not (a listing filter). */
export function serviceNameField(v: unknown): string {
  const r = normaliseService(v);
  if (!r.ok) throw new FieldError("service", r.reason);
  return r.value;
}

/** An account id (path segment, body member or filter): 1-64 of [A-Za-z0-9._-]. */
export function accountIdField(v: unknown, field: string): string {
  const r = normaliseAccountId(v);
  if (!r.ok) throw new FieldError(field, r.reason);
  return r.value;
}

/** An optional account member: absent or null means none. */
function accountMember(v: unknown, field: string): string | null {
  return v === undefined || v === null ? null : accountIdField(v, field);
}

/**
 * A number's service member: required unless the number has an account (then absent or null
 * inherits the account's default; whether it has one is checked when written).
 */
function numberServiceMember(v: unknown, field: string, account: string | null, services: ReadonlySet<string>): string | null {
  if (account !== null && (v === undefined || v === null)) return null;
  return serviceField(v, field, services);
}

/** See number-rules.ts: printable ASCII, at most MAX_CUSTOM_HEADER_CHARS, trimmed, empty → null. */
export function customHeaderField(v: unknown, field: string): string | null {
  const r = normaliseCustomHeader(v);
  if (!r.ok) throw new FieldError(field, r.reason);
  return r.value;
}

export function asObject(v: unknown, field: string): Record<string, unknown> {
  if (typeof v !== "object" || v === null || Array.isArray(v)) throw new FieldError(field, "must be a JSON object");
  return v as Record<string, unknown>;
}

/** Unknown members are an error rather than silently ignored (a typo must not drop a header). */
export function onlyKeys(o: Record<string, unknown>, allowed: readonly string[], prefix: string): void {
  for (const k of Object.keys(o)) {
    if (!allowed.includes(k)) throw new FieldError(prefix ? `${prefix}.${k}` : k, "unknown field");
  }
}

export interface EntryInput {
  number: string;
  /** null: the account's default (only with an account). */
  service: string | null;
  customHeader: string | null;
  account: string | null;
}

/** `effective` is read-only (what GET answers), accepted and ignored so a GET body can be PUT back. */
const ENTRY_MEMBERS = ["service", "customHeader", "number", "account", "effective"];

/** A PUT body; `number`, when given, must be the number of the path. */
export function putBody(body: unknown, pathNumber: string, services: ReadonlySet<string>): EntryInput {
  const o = asObject(body, "body");
  onlyKeys(o, ENTRY_MEMBERS, "");
  if (o.number !== undefined && numberField(o.number, "number") !== pathNumber) {
    throw new FieldError("number", "differs from the number in the path");
  }
  const account = accountMember(o.account, "account");
  return {
    number: pathNumber,
    service: numberServiceMember(o.service, "service", account, services),
    customHeader: customHeaderField(o.customHeader, "customHeader"),
    account,
  };
}

/** One entry of a batch: its value, or why it is refused (field named numbers[i].…). */
export type BatchItem<T> = { index: number; ok: true; value: T } | { index: number; ok: false; field: string; message: string };

/**
 * A batch body `{"numbers": [...]}`: each item checked on its own by `check` (a FieldError refuses
 * that item only), a number named twice refused at its second mention. A body of the wrong shape
 * is one FieldError for the whole request.
 */
export function batchItems<T>(body: unknown, check: (item: unknown, field: string) => T, numberOf: (v: T) => string, numberSuffix: string): BatchItem<T>[] {
  const o = asObject(body, "body");
  onlyKeys(o, ["numbers"], "");
  if (!Array.isArray(o.numbers)) throw new FieldError("numbers", "required array");
  const seen = new Map<string, number>();
  return o.numbers.map((item: unknown, index): BatchItem<T> => {
    const f = `numbers[${index}]`;
    try {
      const value = check(item, f);
      const number = numberOf(value);
      const first = seen.get(number);
      if (first !== undefined) throw new FieldError(`${f}${numberSuffix}`, `same number as numbers[${first}]`);
      seen.set(number, index);
      return { index, ok: true, value };
    } catch (err) {
      if (err instanceof FieldError) return { index, ok: false, field: err.field, message: err.message };
      throw err;
    }
  });
}

/** An upsert batch entry {number, service, customHeader, account}. */
export function upsertItem(services: ReadonlySet<string>): (item: unknown, f: string) => EntryInput {
  return (item, f) => {
    const e = asObject(item, f);
    onlyKeys(e, ["number", "service", "customHeader", "account"], f);
    const number = numberField(e.number, `${f}.number`);
    const account = accountMember(e.account, `${f}.account`);
    return {
      number,
      service: numberServiceMember(e.service, `${f}.service`, account, services),
      customHeader: customHeaderField(e.customHeader, `${f}.customHeader`),
      account,
    };
  };
}

/** A delete batch entry: the number as a string. */
export function deleteItem(item: unknown, f: string): string {
  return numberField(item, f);
}

/** `atomic=true|false` (default true). */
export function atomicParam(v: string | null): boolean {
  if (v === null || v === "true") return true;
  if (v === "false") return false;
  throw new FieldError("atomic", "true or false");
}

const DAY_MS = 86_400_000;

/** YYYY-MM-DD that is a real calendar day (2024-02-30 is refused). */
export function dayField(v: string | null, field: string): string {
  if (v === null || v.length !== 10) throw new FieldError(field, "required, YYYY-MM-DD");
  for (let i = 0; i < 10; i++) {
    const c = v.charCodeAt(i);
    const dash = i === 4 || i === 7;
    if (dash ? c !== 45 : c < 48 || c > 57) throw new FieldError(field, "required, YYYY-MM-DD");
  }
  const t = Date.parse(`${v}T00:00:00Z`);
  if (Number.isNaN(t) || new Date(t).toISOString().slice(0, 10) !== v) throw new FieldError(field, "not a calendar day");
  return v;
}

export function dayRange(from: string | null, to: string | null, maxDays: number): { from: string; to: string } {
  const f = dayField(from, "from");
  const t = dayField(to, "to");
  const days = (Date.parse(`${t}T00:00:00Z`) - Date.parse(`${f}T00:00:00Z`)) / DAY_MS + 1;
  if (days < 1) throw new FieldError("to", "must not be before from");
  if (days > maxDays) throw new FieldError("to", `range longer than ${maxDays} days`);
  return { from: f, to: t };
}

/** Query parameters: each at most once, none outside `allowed`. */
export function queryParams(query: string, allowed: readonly string[]): URLSearchParams {
  const p = new URLSearchParams(query);
  const seen = new Set<string>();
  for (const k of p.keys()) {
    if (!allowed.includes(k)) throw new FieldError(k, "unknown query parameter");
    if (seen.has(k)) throw new FieldError(k, "given more than once");
    seen.add(k);
  }
  return p;
}

export function limitParam(v: string | null, def: number, max: number): number {
  if (v === null) return def;
  let n = 0;
  if (v.length === 0 || v.length > 7) throw new FieldError("limit", `integer from 1 to ${max}`);
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (c < 48 || c > 57) throw new FieldError("limit", `integer from 1 to ${max}`);
    n = n * 10 + (c - 48);
  }
  if (n < 1 || n > max) throw new FieldError("limit", `integer from 1 to ${max}`);
  return n;
}

/**
 * Applies an RFC 7396 merge patch to an entry: a member sets its field, null removes it.
 * customHeader and account may be removed; service only while the number has an account (it then
 * inherits the account's default); `number` is the path's. The result is checked by the same rules
 * as a PUT body.
 */
export function mergePatch(current: { number: string; service: string | null; customHeader: string | null; account?: string }, patch: unknown, services: ReadonlySet<string>): EntryInput {
  // A patch that is not an object would replace the whole entry with itself (§2): never a valid entry.
  const o = asObject(patch, "body");
  onlyKeys(o, ENTRY_MEMBERS, "");
  if (o.number !== undefined && (o.number === null || numberField(o.number, "number") !== current.number)) {
    throw new FieldError("number", o.number === null ? "cannot be removed" : "differs from the number in the path");
  }
  const account = o.account === undefined ? (current.account ?? null) : accountMember(o.account, "account");
  const service = o.service === undefined ? current.service : o.service === null ? null : serviceField(o.service, "service", services);
  if (service === null && account === null) {
    throw new FieldError(o.service === null ? "service" : "account", "a number without an account needs its own service (required)");
  }
  return {
    number: current.number,
    service,
    customHeader: o.customHeader === undefined ? current.customHeader : customHeaderField(o.customHeader, "customHeader"),
    account,
  };
}

/** An account's PUT body (`id`, when given, must be the path's) or the result of a merge patch. */
export function accountBody(body: unknown, id: string, services: ReadonlySet<string>, current?: AccountFields): AccountFields {
  const o = asObject(body, "body");
  // `numbers` is read-only (what GET answers), accepted and ignored so a GET body can be PUT back.
  onlyKeys(o, ["id", "name", "service", "customHeader", "numbers"], "");
  if (o.id !== undefined && (o.id === null || accountIdField(o.id, "id") !== id)) {
    throw new FieldError("id", o.id === null ? "cannot be removed" : "differs from the account in the path");
  }
  const pick = <K extends keyof AccountFields>(k: K, check: (v: unknown) => AccountFields[K]): AccountFields[K] =>
    current !== undefined && o[k] === undefined ? current[k] : check(o[k]);
  return {
    id,
    name: pick("name", (v) => {
      const r = normaliseAccountName(v);
      if (!r.ok) throw new FieldError("name", r.reason);
      return r.value;
    }),
    service: pick("service", (v) => (v === undefined || v === null ? null : serviceField(v, "service", services))),
    customHeader: pick("customHeader", (v) => customHeaderField(v, "customHeader")),
  };
}

export interface AccountFields {
  id: string;
  name: string | null;
  service: string | null;
  customHeader: string | null;
}

/**
 * An RFC 3339 date-time (`2025-01-31T12:00:00Z`, `…T12:00:00.5+01:00`): a full date, a time and an
 * offset are required, so an instant is never read in the server's local zone.
 */
export function instantField(v: string, field: string): Date {
  const m = RFC3339.exec(v);
  const t = m ? Date.parse(v.toUpperCase()) : Number.NaN;
  // Date.parse rolls 2025-02-30 over to March: the calendar day must survive the round trip.
  if (!m || Number.isNaN(t) || new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]))).toISOString().slice(0, 10) !== `${m[1]}-${m[2]}-${m[3]}`) {
    throw new FieldError(field, "RFC 3339 date-time with offset, e.g. 2025-01-31T12:00:00Z");
  }
  return new Date(t);
}

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt]([01]\d|2[0-3]):[0-5]\d:[0-5]\d(\.\d{1,9})?([Zz]|[+-]([01]\d|2[0-3]):[0-5]\d)$/;

/** A filter on a token subject: 1–256 printable characters (no control characters). */
export function subjectField(v: string, field: string): string {
  if (v.length === 0 || v.length > 256) throw new FieldError(field, "1 to 256 characters");
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) throw new FieldError(field, "control characters are not allowed");
  }
  return v;
}
