// X-Request-Id: a client's id is passed through when it is sane (1-128 chars of [A-Za-z0-9._:-],
// which covers UUIDs, ULIDs and trace ids), because correlating across hops is its whole point;
// anything else is replaced, so log lines and upstream headers never carry arbitrary client bytes.
import { randomUUID } from "node:crypto";

export const MAX_REQUEST_ID_LENGTH = 128;

export function isSaneRequestId(v: string): boolean {
  const n = v.length;
  if (n === 0 || n > MAX_REQUEST_ID_LENGTH) return false;
  for (let i = 0; i < n; i++) {
    const c = v.charCodeAt(i);
    const ok =
      (c >= 48 && c <= 58) || // 0-9 and ':'
      (c >= 65 && c <= 90) ||
      (c >= 97 && c <= 122) ||
      c === 45 || // -
      c === 46 || // .
      c === 95; // _
    if (!ok) return false;
  }
  return true;
}

export function requestIdFor(incoming: string | string[] | undefined): string {
  return typeof incoming === "string" && isSaneRequestId(incoming) ? incoming : randomUUID();
}
