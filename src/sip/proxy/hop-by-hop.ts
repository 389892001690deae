// Requests the proxy sends itself toward the next hop for a request it forwarded: the CANCEL
// (RFC 3261 §16.10, §9.1: built from the request as we sent it) and the ACK for a non-2xx final
// response (§17.1.1.3: hop by hop, never forwarded from the other side).
import { buildAckForNon2xx, buildCancel } from "../message/build.js";
import { parseMessage, type SipRequest, type SipResponse } from "../parse/index.js";
import type { ProxyTx } from "./proxy-tx.js";

/** The current attempt's request as sent (parsed once, only when a CANCEL or ACK needs it). */
function sentRequest(ptx: ProxyTx): SipRequest | undefined {
  if (ptx.sentParsed !== undefined) return ptx.sentParsed;
  if (ptx.sent === undefined) return undefined;
  const r = parseMessage(ptx.sent);
  if (!r.ok || r.message.kind !== "request") return undefined;
  ptx.sentParsed = r.message;
  return r.message;
}

export function sendCancel(ptx: ProxyTx): void {
  ptx.cancelPending = false;
  const sent = sentRequest(ptx);
  if (sent === undefined || ptx.clientFlow === undefined) return;
  ptx.clientFlow.send(buildCancel(sent));
}

export function sendAckForNon2xx(ptx: ProxyTx, res: SipResponse): void {
  const sent = sentRequest(ptx);
  if (sent === undefined || ptx.clientFlow === undefined) return;
  ptx.clientFlow.send(buildAckForNon2xx(sent, res));
}
