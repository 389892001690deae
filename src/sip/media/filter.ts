// The one media filter: what the SRTP policy (sip.srtp.enforce) does with a message's body. Every
// message kind passes through it once, in one place: new requests in the request filter
// (proxy/request-filter.ts), ACKs where they are forwarded (proxy/ack.ts), responses in the
// response filter (proxy/response-filter.ts). Before issue 10 the policy was applied in five
// places with five slightly different guards.
import type { SipMessage } from "../parse/index.js";
import { checkBody } from "./body-policy.js";

export type MediaVerdict =
  /** Forward the body as it is (no policy, no SDP, nothing to change). */
  | { readonly kind: "pass" }
  /** Forward with this body instead (crypto lines of other suites removed). */
  | { readonly kind: "rewrite"; readonly body: Buffer }
  /** The body offers or answers media the policy does not allow. */
  | { readonly kind: "refuse" };

const PASS: MediaVerdict = Object.freeze({ kind: "pass" });
const REFUSE: MediaVerdict = Object.freeze({ kind: "refuse" });

/** Methods whose bodies carry offers/answers (RFC 3264, 3262, 3311), and ACK (an answer to a 2xx offer). */
export function carriesSdp(method: string): boolean {
  return method === "INVITE" || method === "UPDATE" || method === "PRACK" || method === "ACK";
}

/**
 * `method`: the request's method (for a response, the method of the request it answers). Pure;
 * allocates only when the body is rewritten.
 */
export function filterMedia(enforce: boolean, method: string, msg: SipMessage): MediaVerdict {
  if (!enforce || msg.contentLength <= 0 || !carriesSdp(method)) return PASS;
  const v = checkBody(msg.contentType, msg.body);
  if (!v.ok) return REFUSE;
  return v.body === undefined ? PASS : { kind: "rewrite", body: v.body };
}
