// The forward phase: one attempt of a request toward its next hop (RFC 3261 §16.6) as a new client
// transaction: our Via with a branch per attempt, Max-Forwards, Record-Route, the request edits
// every earlier phase asked for (composed, never overwritten: issue 10 item 2), then failover to
// the upstream service's next target when an attempt fails (§16.7 step 6 restricted to 408/503/504).
import { INBOUND, OUTBOUND } from "../direction.js";
import { forwardRequest, type RequestEdits } from "../message/edit.js";
import { InviteClientTransaction } from "../transaction/invite-client.js";
import { peerNameOf, targetOf, type Flow } from "../transport/flow.js";
import type { UpstreamTarget } from "../upstream/service.js";
import type { ProxyEnv } from "./env.js";
import type { ProxyTx } from "./proxy-tx.js";
import { reply } from "./reply.js";
import { addHeaders, popOwnRoutes, removeHeaders } from "./request-edits.js";
import { recordRouteTrunkToUpstream, recordRouteUpstreamToTrunk } from "./route-set.js";

/** Our Via up to the branch for a request leaving on `flow`: the address that flow advertises. */
export function viaPrefix(env: ProxyEnv, flow: Flow): string {
  return flow.viaPrefix ?? (flow.transport === "TLS" ? env.viaTls : env.viaTcp);
}

/**
 * The edits for one attempt, in the order the phases decided them: routes we consumed, headers
 * only trunkgate may write (from trunks), our Record-Route, then the route decision's changes and
 * the media filter's body. Pure.
 */
export function forwardEdits(ptx: ProxyTx, via: string, recordRoute: string | undefined, owned: readonly string[] | undefined): RequestEdits {
  const edits: RequestEdits = { prependVia: via, maxForwards: "decrement" };
  if (ptx.hints !== undefined) popOwnRoutes(edits, ptx.hints);
  removeHeaders(edits, owned);
  if (recordRoute !== undefined) edits.prependRecordRoute = recordRoute;
  if (ptx.requestUri !== undefined) edits.requestUri = ptx.requestUri;
  addHeaders(edits, ptx.extraHeaders);
  removeHeaders(edits, ptx.removeHeaders);
  if (ptx.body !== undefined) edits.body = { bytes: ptx.body };
  return edits;
}

/** Forward the request on `flow` as a new client transaction (one attempt). */
export function send(env: ProxyEnv, ptx: ProxyTx, flow: Flow): void {
  const req = ptx.req;
  const branch = env.branches.branch(ptx.txPart, ptx.loopPart, ptx.attempt++);
  const owned = ptx.dir === INBOUND ? env.owned.presentIn(req) : undefined;
  const edits = forwardEdits(ptx, viaPrefix(env, flow) + branch, ptx.recordRoute ? recordRoute(env, ptx, flow) : undefined, owned);
  let bytes: Buffer;
  try {
    bytes = forwardRequest(req, edits);
  } catch (err) {
    // Header injection attempt in a routed value (CR/LF): refuse, never forward.
    env.logger.error({ error: (err as Error).message }, "cannot build forwarded request");
    return reply(env, ptx, 500, "Server Internal Error");
  }
  ptx.sent = bytes;
  ptx.sentParsed = undefined;
  ptx.clientFlow = flow;
  // A flag on the flow, not a WeakSet of flows: the WeakSet.add on every forwarded request cost
  // ~50 CPU-µs per call at 1000 calls/s (measured, bench/sip-load.mjs).
  if (flow.carriedClientTransactions !== true) flow.carriedClientTransactions = true;
  const tx = env.layer.createClient(branch, ptx, ptx.isInvite);
  ptx.client = tx;
  if (tx instanceof InviteClientTransaction) startInvite(env, ptx, tx);
  else tx.start();
  if (!flow.send(bytes)) tx.transportError();
}

/**
 * Timer B for this attempt is what is left of the request's 64·T1; the failover timer runs only
 * when another target could still be tried within it.
 */
function startInvite(env: ProxyEnv, ptx: ProxyTx, tx: InviteClientTransaction<ProxyTx>): void {
  const timerB = 64 * env.o.timing.t1;
  const left = Math.max(1, timerB - (env.timers.now() - ptx.startedAt));
  const failoverMs = env.o.failoverMs ?? 0;
  const service = ptx.upstreamService;
  const more = failoverMs > 0 && failoverMs < left && !ptx.fixed && service !== undefined && service.pick(ptx.tried) !== undefined;
  tx.start(more ? failoverMs : 0, left);
}

function recordRoute(env: ProxyEnv, ptx: ProxyTx, out: Flow): string {
  // Double Record-Route (RFC 5658): each entry names the address its side's connection reached.
  // Requests from a trunk only ever go upstream and the other way round, so `out` tells both legs.
  const inFlow = ptx.inFlow;
  if (out.side === OUTBOUND) {
    const t = out.target;
    return recordRouteTrunkToUpstream(env.me, env.signer, {
      callId: ptx.callId, upstreamTransport: t.config.transport, service: t.service, targetIndex: t.index,
      peer: peerNameOf(inFlow) ?? "", connectionId: inFlow.id, upstreamSentBy: out.sentBy, trunkSentBy: inFlow.sentBy,
    });
  }
  const t = targetOf(inFlow);
  return recordRouteUpstreamToTrunk(env.me, env.signer, {
    callId: ptx.callId, upstreamTransport: t?.config.transport ?? "tls", service: t?.service ?? "", targetIndex: t?.index ?? -1,
    peer: out.peer.name, connectionId: out.id, upstreamSentBy: inFlow.sentBy, trunkSentBy: out.sentBy,
  });
}

/** In-dialog: the one target the dialog runs through (no failover). */
export function forwardFixed(env: ProxyEnv, ptx: ProxyTx, target: UpstreamTarget): void {
  ptx.fixed = true;
  ptx.upstreamService = env.o.services.get(target.service);
  ptx.tried |= 1 << target.index;
  ptx.target = target;
  send(env, ptx, env.o.flows.toTarget(target));
}

/** Next target of the upstream service; false when none is left. */
export function attemptNext(env: ProxyEnv, ptx: ProxyTx): boolean {
  const service = ptx.upstreamService;
  if (service === undefined || ptx.fixed || ptx.attempt >= 35) return false;
  // The request as a whole is bounded by Timer B/F (64·T1), however many targets failed fast.
  if (ptx.attempt > 0 && env.timers.now() - ptx.startedAt >= 64 * env.o.timing.t1) return false;
  const target = service.pick(ptx.tried);
  if (target === undefined) return false;
  if (ptx.attempt > 0) env.metrics.failovers.labels(service.name).inc();
  ptx.tried |= 1 << target.index;
  ptx.target = target;
  send(env, ptx, env.o.flows.toTarget(target));
  return true;
}

/** Toward a trunk: its preferred connection, an alias, or a new one (480 when none). */
export function forwardToPeer(env: ProxyEnv, ptx: ProxyTx, peer: string, connectionId: number): void {
  ptx.fixed = true;
  ptx.peerName = peer;
  const flow = env.o.flows.toPeer(peer, connectionId);
  if (flow === undefined) {
    env.metrics.drop("no_connection");
    return reply(env, ptx, 480, "Temporarily Unavailable");
  }
  ptx.peerConnectionId = flow.id;
  send(env, ptx, flow);
}
