// The request filter: the checks a new request passes before it is routed (RFC 3261 §16.3 and
// trunkgate's own rules), in order: validation (Max-Forwards, loop, Proxy-Require), OPTIONS for
// us, the media filter, draining, our Route entries. Pure: it returns the verdict and the core
// sends it; unit-tested without sockets (test/sip/proxy/request-filter.test.ts).
import { filterMedia } from "../media/filter.js";
import type { SipRequest } from "../parse/index.js";
import type { ProxyEnv } from "./env.js";
import type { ProxyIdentity } from "./identity.js";
import { srtpWarning } from "./refuse-answer.js";
import { consumeOwnRoutes, type RouteHints, type RouteSigner } from "./route-set.js";
import { isOptionsForUs, validateRequest, type Refusal } from "./validate.js";

/** What the request filter needs to know (ProxyEnv provides it). */
export interface RequestFilterInput {
  readonly me: ProxyIdentity;
  readonly signer: RouteSigner;
  readonly srtpEnforce: boolean;
  readonly draining: boolean;
  readonly retryAfterSeconds: number;
}

export type RequestVerdict =
  /** Answer statelessly with this and stop. */
  | { readonly kind: "refuse"; readonly refusal: Refusal }
  /** An OPTIONS for trunkgate itself (or with Max-Forwards 0): answer 200 with our capabilities. */
  | { readonly kind: "options" }
  /** Route it: with this body (the media filter's rewrite) and our consumed Route entries. */
  | { readonly kind: "proceed"; readonly body: Buffer | undefined; readonly hints: RouteHints | undefined };

const OPTIONS: RequestVerdict = Object.freeze({ kind: "options" });
const MALFORMED_ROUTE: RequestVerdict = Object.freeze({ kind: "refuse", refusal: { status: 400, reason: "Bad Request - Malformed Route Header" } });

/** `loopPart`: the loop hash of this request (branch.ts), for loop detection. */
export function filterRequest(f: RequestFilterInput, req: SipRequest, loopPart: string): RequestVerdict {
  const v = validateRequest(req, f.me, loopPart);
  if (v !== undefined) return v === "answer-options" ? OPTIONS : { kind: "refuse", refusal: v };
  if (isOptionsForUs(req, f.me)) return OPTIONS;
  const media = filterMedia(f.srtpEnforce, req.method, req);
  if (media.kind === "refuse") {
    return { kind: "refuse", refusal: { status: 488, reason: "Not Acceptable Here", headers: srtpWarning(f.me) } };
  }
  if (f.draining && req.to.tag === undefined) {
    return { kind: "refuse", refusal: { status: 503, reason: "Service Unavailable", headers: [["Retry-After", String(f.retryAfterSeconds)]] } };
  }
  const hints = consumeOwnRoutes(req, f.me, f.signer);
  if (hints === "malformed") return MALFORMED_ROUTE;
  return { kind: "proceed", body: media.kind === "rewrite" ? media.body : undefined, hints };
}

/** Our Route entries at the top of a request; entries whose hints fail the MAC are counted. */
export function ownRoutes(env: ProxyEnv, req: SipRequest): RouteHints | undefined | "malformed" {
  const hints = consumeOwnRoutes(req, env.me, env.signer);
  if (hints !== undefined && hints !== "malformed" && hints.forged > 0) env.metrics.forgedRoutes.inc(hints.forged);
  return hints;
}
