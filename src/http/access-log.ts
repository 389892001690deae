// One access-log line per request. What it never carries: the query string (tokens, customer
// identifiers), header values (Authorization, Cookie), bodies. The path is cut at 256 chars.
import type { Logger } from "../observability/logger.js";

export interface AccessRecord {
  requestId: string;
  method: string;
  path: string;
  status: number;
  httpVersion: string;
  bytesIn: number;
  bytesOut: number;
  durationMs: number;
  upstreamMs: number | undefined;
  peer: string | undefined;
  tlsVersion: string | undefined;
  cipher: string | undefined;
  /** Why trunkgate answered itself or cut the exchange short (fixed vocabulary, no client data). */
  error: string | undefined;
}

const MAX_PATH = 256;

/** The path of a request target without its query string (or fragment, should one be sent). */
export function pathOnly(target: string | undefined): string {
  if (!target) return "";
  let end = target.length;
  const q = target.indexOf("?");
  if (q >= 0) end = q;
  const h = target.indexOf("#");
  if (h >= 0 && h < end) end = h;
  if (end > MAX_PATH) end = MAX_PATH;
  return end === target.length ? target : target.slice(0, end);
}

/**
 * Whether a line would be written at all: at level warn (production benchmarks, busy systems)
 * successful requests are not logged, so the record is not even built.
 */
export function accessLogWanted(logger: Logger, isError: boolean): boolean {
  return logger.isLevelEnabled(isError ? "warn" : "info");
}

export function logAccess(logger: Logger, r: AccessRecord): void {
  if (r.error !== undefined) logger.warn(r, "http request");
  else logger.info(r, "http request");
}
