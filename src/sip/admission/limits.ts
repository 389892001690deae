// The limits one peer runs under: sip.admission, with the peer's own `admission` keys on top.
import type { PeerConfig } from "../../config/schema/index.js";
import type { SipAdmissionConfig } from "../../config/schema/admission.js";

export interface PeerLimits {
  /** 0: no limit (likewise for the rates below). */
  maxConcurrentCalls: number;
  newCallsPerSecond: number;
  newCallsBurst: number;
  requestsPerSecond: number;
  requestsBurst: number;
  /** The Retry-After header of this peer's 503s, built once. */
  retryAfter: [string, string][];
}

/** The bucket size when none is configured: one second's worth, at least one. */
function defaultBurst(rate: number): number {
  return Math.max(1, Math.ceil(rate));
}

export function peerLimits(global: SipAdmissionConfig, peer: Pick<PeerConfig, "admission">): PeerLimits {
  const o = peer.admission ?? {};
  const newCallsPerSecond = o.newCallsPerSecond ?? global.newCallsPerSecond;
  const requestsPerSecond = o.requestsPerSecond ?? global.requestsPerSecond;
  // A peer that sets its own rate but no burst gets the burst of its rate, not the global one.
  const newCallsBurst = o.newCallsBurst ?? (o.newCallsPerSecond === undefined ? global.newCallsBurst : undefined) ?? defaultBurst(newCallsPerSecond);
  const requestsBurst = o.requestsBurst ?? (o.requestsPerSecond === undefined ? global.requestsBurst : undefined) ?? defaultBurst(requestsPerSecond);
  return {
    maxConcurrentCalls: o.maxConcurrentCalls ?? global.maxConcurrentCalls,
    newCallsPerSecond,
    newCallsBurst,
    requestsPerSecond,
    requestsBurst,
    retryAfter: [["Retry-After", String(o.retryAfterSeconds ?? global.retryAfterSeconds)]],
  };
}
