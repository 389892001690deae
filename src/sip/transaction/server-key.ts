// The key that matches a request to its server transaction (RFC 3261 §17.2.3).
import { MAGIC_COOKIE } from "../message/branch-marks.js";
import type { SipRequest } from "../parse/index.js";

/**
 * Branch and sent-by when RFC 3261-compliant (two trunks may well pick the same branch, e.g. two
 * SIPp instances with the same pid in two containers), else a key from the RFC 2543 fields.
 */
export function serverKey(req: SipRequest): string {
  const via = req.topVia;
  const b = via.branch;
  if (b !== undefined && b.startsWith(MAGIC_COOKIE)) return `${b}|${via.host}:${via.port ?? 0}`;
  // RFC 2543 peers: Request-URI, To tag, From tag, Call-ID, CSeq number, top Via.
  return `2543|${req.callId}|${req.cseq.seq}|${req.from.tag ?? ""}|${via.raw}`;
}
