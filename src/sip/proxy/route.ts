// The route phase: where a request goes. In-dialog requests follow our own (verified) Route entry,
// then the dialog table; new requests get the route decision (sip.routes / number routing), which
// may be asynchronous. Trunk → upstream service (its targets, failover between them);
// upstream → trunk (one peer, by the calling number's service). Ends by handing to the forward
// phase, or with a reply (reject, unknown service, nothing up).
import { hashId } from "../../observability/hash.js";
import { dialogKey } from "../dialog/dialogs.js";
import { parseUri, type SipRequest } from "../parse/index.js";
import { isReject, type PeerRouteDecision, type RouteDecision } from "../route/decision.js";
import type { TrunkFlow, UpstreamFlow } from "../transport/flow.js";
import type { UpstreamTarget } from "../upstream/service.js";
import type { ProxyEnv } from "./env.js";
import { attemptNext, forwardFixed, forwardToPeer } from "./forward.js";
import type { ProxyTx } from "./proxy-tx.js";
import { reasonPhrase } from "./reasons.js";
import { reply, replyUnavailable } from "./reply.js";
import type { RouteHints } from "./route-set.js";

function isPromise<T>(v: T | Promise<T>): v is Promise<T> {
  return typeof (v as { then?: unknown }).then === "function";
}

/** The target an in-dialog request from a trunk goes to: our Route entry's hint, else the dialog. */
export function inDialogTarget(env: ProxyEnv, req: SipRequest, hints: RouteHints | undefined): UpstreamTarget | undefined {
  if (hints !== undefined && hints.service !== undefined) {
    const t = env.o.services.get(hints.service)?.targets[hints.targetIndex];
    if (t !== undefined) return t;
  }
  const d = env.o.dialogs.get(dialogKey(req.callId, req.from.tag, req.to.tag), env.timers.now());
  if (d !== undefined) return env.o.services.get(d.service)?.targets[d.targetIndex];
  return undefined;
}

/** The trunk (and its preferred connection) an in-dialog request from upstream goes to. */
export function inDialogPeer(env: ProxyEnv, req: SipRequest, hints: RouteHints | undefined): { peer: string; connectionId: number } | undefined {
  if (hints !== undefined && hints.peer !== undefined) return { peer: hints.peer, connectionId: hints.connectionId };
  const d = env.o.dialogs.get(dialogKey(req.callId, req.from.tag, req.to.tag), env.timers.now());
  return d === undefined ? undefined : { peer: d.peer, connectionId: d.connectionId };
}

/** A request from a trunk (`from`: the flow it came on), toward an upstream service. */
export function routeUpstream(env: ProxyEnv, ptx: ProxyTx, from: TrunkFlow): void {
  const req = ptx.req;
  // A new request always gets the route decision, whatever Route it carries.
  if (req.to.tag !== undefined) {
    const target = inDialogTarget(env, req, ptx.hints);
    if (target !== undefined) return forwardFixed(env, ptx, target);
  }
  decide(env, ptx, () => env.o.route(req, from.peer), applyDecision);
}

/** Runs a route decision (sync or a promise) and applies it; a throw or rejection → 500. */
function decide<D>(env: ProxyEnv, ptx: ProxyTx, decision: () => D | Promise<D>, apply: (env: ProxyEnv, ptx: ProxyTx, d: D) => void): void {
  let d: D | Promise<D>;
  try {
    d = decision();
  } catch (err) {
    return routeError(env, ptx, err);
  }
  if (isPromise(d)) {
    d.then(
      (v) => guarded(env, ptx, () => apply(env, ptx, v)),
      (err) => guarded(env, ptx, () => routeError(env, ptx, err)),
    );
  } else apply(env, ptx, d);
}

function applyDecision(env: ProxyEnv, ptx: ProxyTx, d: RouteDecision): void {
  if (ptx.finalSent) return; // cancelled while the decision was pending
  if (isReject(d)) {
    const headers: [string, string][] | undefined = d.retryAfterSeconds !== undefined ? [["Retry-After", String(d.retryAfterSeconds)]] : undefined;
    return reply(env, ptx, d.reject, d.reason ?? reasonPhrase(d.reject), headers);
  }
  const service = env.o.services.get(d.service);
  if (service === undefined) {
    env.logger.error({ upstreamService: d.service }, "route decision named an unknown upstream service");
    return reply(env, ptx, 500, "Server Internal Error");
  }
  if (d.requestUri !== undefined) {
    if (parseUri(d.requestUri) === undefined) {
      env.logger.error({ upstreamService: d.service }, "route decision returned an invalid Request-URI");
      return reply(env, ptx, 500, "Server Internal Error");
    }
    ptx.requestUri = d.requestUri;
  }
  ptx.extraHeaders = d.extraHeaders;
  ptx.removeHeaders = d.removeHeaders;
  ptx.upstreamService = service;
  if (!service.anyUp() || !attemptNext(env, ptx)) replyUnavailable(env, ptx);
}

/** A request from an upstream service (`from`: the flow it came on), toward a trunk. */
export function routeToTrunk(env: ProxyEnv, ptx: ProxyTx, from: UpstreamFlow): void {
  const req = ptx.req;
  if (req.to.tag !== undefined) {
    const dest = inDialogPeer(env, req, ptx.hints);
    if (dest !== undefined) return forwardToPeer(env, ptx, dest.peer, dest.connectionId);
  }
  decide(env, ptx, () => env.o.routeToPeer(req, from.target.service), applyPeerDecision);
}

function applyPeerDecision(env: ProxyEnv, ptx: ProxyTx, d: PeerRouteDecision): void {
  if (ptx.finalSent) return;
  if (isReject(d)) return reply(env, ptx, d.reject, d.reason ?? reasonPhrase(d.reject));
  if (!env.o.peers.has(d.peer)) return reply(env, ptx, 404, "No Route To Destination");
  if (d.requestUri !== undefined) ptx.requestUri = d.requestUri;
  ptx.extraHeaders = d.extraHeaders;
  ptx.removeHeaders = d.removeHeaders;
  ptx.accountedService = d.service;
  forwardToPeer(env, ptx, d.peer, -1);
}

/** Work resumed from a promise: an exception there would be an unhandled rejection. */
function guarded(env: ProxyEnv, ptx: ProxyTx, fn: () => void): void {
  try {
    fn();
  } catch (err) {
    env.logger.error({ error: (err as Error)?.message ?? String(err), callId: hashId(ptx.callId) }, "SIP request handling failed");
    if (!ptx.finalSent) reply(env, ptx, 500, "Server Internal Error");
  }
}

function routeError(env: ProxyEnv, ptx: ProxyTx, err: unknown): void {
  env.logger.error({ error: (err as Error)?.message ?? String(err), callId: hashId(ptx.callId) }, "route decision failed");
  reply(env, ptx, 500, "Server Internal Error");
}
