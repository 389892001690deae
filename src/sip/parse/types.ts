// Shared types of the SIP message layer. Offsets are byte offsets into the message Buffer so the
// editor (src/sip/message/edit.ts) can copy untouched spans verbatim instead of re-serialising.

/** A parsed SIP URI (sip:, sips:) or tel: URI. Strings are exactly as received (no unescaping). */
export interface SipUri {
  readonly scheme: "sip" | "sips" | "tel";
  /** user part (sip/sips) or the telephone-subscriber number (tel); undefined if absent. */
  readonly user: string | undefined;
  /** Host as written; IPv6 references keep their brackets ("[2001:db8::1]"). "" for tel. */
  readonly host: string;
  /** Port, or undefined when absent. */
  readonly port: number | undefined;
  /** Raw uri-parameters including the leading ';' ("" when none). */
  readonly params: string;
  /** Raw headers part including the leading '?' ("" when none). */
  readonly headers: string;
  /** Whether the `lr` parameter is present (loose routing, RFC 3261 §16.4). */
  readonly lr: boolean;
  /** Value of the `transport` parameter, lower-cased, or undefined. */
  readonly transport: string | undefined;
  /** Value of the `maddr` parameter, or undefined. */
  readonly maddr: string | undefined;
  /** The whole URI text. */
  readonly raw: string;
}

/** A name-addr / addr-spec header value: To, From, Contact, Route, Record-Route. */
export interface NameAddr {
  /** Display name, unquoted and unescaped when it was a quoted-string; undefined if absent. */
  readonly displayName: string | undefined;
  /** The URI text (between < > when present). */
  readonly uri: string;
  /** The `tag` header parameter (To/From), or undefined. */
  readonly tag: string | undefined;
  /** Raw header parameters after the URI, including the leading ';' ("" when none). */
  readonly params: string;
  /** The whole value as received. */
  readonly raw: string;
}

/** One Via header value (RFC 3261 §20.42, §18.2.2, RFC 3581). */
export interface Via {
  /** "SIP/2.0/TLS" style protocol; transport is the last component, upper-cased. */
  readonly protocol: string;
  readonly transport: string;
  /** sent-by host as written (IPv6 keeps brackets). Never overwritten by maddr (see maddr). */
  readonly host: string;
  /** sent-by port, undefined when absent. */
  readonly port: number | undefined;
  readonly branch: string | undefined;
  /** `rport` present (with or without a value). */
  readonly hasRport: boolean;
  /** `rport` value when it had one; undefined for a bare `;rport`. */
  readonly rport: number | undefined;
  readonly received: string | undefined;
  /** `maddr` kept separate from host (sip.js overwrites host with it; we don't). */
  readonly maddr: string | undefined;
  /** Raw via-params including the leading ';' ("" when none). */
  readonly params: string;
  /** The whole via-parm text. */
  readonly raw: string;
}

export interface CSeq {
  readonly seq: number;
  readonly method: string;
}

/**
 * One header line in the message. `name` is the canonical lower-case full name (compact forms
 * expanded: "v" → "via"). Offsets index `SipMessage.buf`.
 */
export interface HeaderField {
  readonly name: string;
  /** Start of the header line (first byte of the name). */
  readonly lineStart: number;
  /** First byte of the value (after ':' and LWS). */
  readonly valueStart: number;
  /** One past the last value byte (trailing whitespace excluded). */
  readonly valueEnd: number;
  /** One past the line's terminating CRLF (continuation lines included). */
  readonly lineEnd: number;
  /** True when the value spans continuation lines (header folding). */
  readonly folded: boolean;
}

/** Why a message was rejected; `status` is the response a proxy should send for a request. */
export type ParseErrorKind =
  | "malformed" // 400: syntax error anywhere we look
  | "missing-header" // 400: a mandatory header is absent
  | "cseq-mismatch" // 400: CSeq method differs from the request method
  | "bad-version" // 505: SIP version other than SIP/2.0
  | "unsupported-uri-scheme"; // 416: Request-URI scheme other than sip/sips/tel

export interface SipParseError {
  readonly ok: false;
  readonly kind: ParseErrorKind;
  /** 400, 416 or 505. */
  readonly status: 400 | 416 | 505;
  /** Reason phrase usable as-is in the status line (ASCII, no CR/LF, no customer data). */
  readonly reason: string;
  /** Canonical name of the header at fault, when one is. */
  readonly header: string | undefined;
}
