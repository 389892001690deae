// The transaction-stateful proxy core (RFC 3261 §16, §17): the entry points for messages from
// flows, wired to the transaction layer and the proxy's phases. A new request goes through
//   request-filter.ts → route.ts → forward.ts → (the next hop answers) response-filter.ts →
//   reply.ts → log.ts
// over one per-request context (proxy-tx.ts); ACK and CANCEL take ack-cancel.ts. The transaction
// layer (../transaction/layer.ts) owns the transaction tables and matching.
//
// It is direction-agnostic: a request from a trunk goes to an upstream service, a request from an
// upstream goes to a trunk; which side a message came from is the flow's `side`. It never touches
// sockets: flows are handed in (FlowProvider), so the whole core runs in tests without any.
import { INBOUND, OUTBOUND, type Direction } from "../direction.js";
import { buildResponse } from "../message/build.js";
import type { SipRequest, SipResponse } from "../parse/index.js";
import type { AcceptedInviteClient } from "../transaction/accepted.js";
import { ResponseMatch, TransactionLayer, type TransactionUser } from "../transaction/layer.js";
import { serverKey } from "../transaction/server-key.js";
import type { ClientFailure } from "../transaction/types.js";
import { peerNameOf, type Flow } from "../transport/flow.js";
import { forwardAck, onCancel, onGuardTimer } from "./ack-cancel.js";
import { isOurBranch } from "./branch.js";
import { ProxyEnv, type ProxyCoreOptions } from "./env.js";
import { sendAckForNon2xx } from "./hop-by-hop.js";
import { ProxyTx, type ClientTx, type ProxyTxOwner, type ServerTx } from "./proxy-tx.js";
import { answerOptions, replyStateless, respond, writeTo } from "./reply.js";
import { filterRequest } from "./request-filter.js";
import { forwardStray2xx, onAccepted2xx, onClientFailed, onClientResponse, onClientTimerC } from "./response-filter.js";
import { routeToTrunk, routeUpstream } from "./route.js";
import { createsDialog } from "./route-set.js";

export type { ProxyCoreOptions };

export class ProxyCore implements TransactionUser<ProxyTx>, ProxyTxOwner {
  readonly #env: ProxyEnv;
  readonly #layer: TransactionLayer<ProxyTx>;

  constructor(opts: ProxyCoreOptions) {
    this.#layer = new TransactionLayer<ProxyTx>(opts.timers, opts.timing);
    this.#layer.bind(this);
    this.#env = new ProxyEnv(opts, this.#layer);
  }

  /** Requests still waiting for their final response. */
  get pendingRequests(): number {
    return this.#env.pending;
  }

  /** Server transactions alive (including those kept after the final response, RFC 6026). */
  get transactions(): number {
    return this.#layer.serverCount;
  }

  get clientTransactions(): number {
    return this.#layer.clientCount;
  }

  // ------------------------------------------------------------------ entry points

  onRequest(flow: Flow, req: SipRequest): void {
    const env = this.#env;
    env.metrics.request(req.method, flow.side, peerNameOf(flow));
    const method = req.method;
    if (method === "ACK") return this.#layer.receiveAck(flow.side, req);
    if (method === "CANCEL") return onCancel(env, flow, req);

    const key = serverKey(req);
    const isInvite = method === "INVITE";
    if (this.#layer.absorbRetransmission(key, isInvite)) return;

    const loopPart = this.#loopPart(req);
    const v = filterRequest(env, req, loopPart);
    if (v.kind === "options") return answerOptions(env, flow, req);
    if (v.kind === "refuse") return replyStateless(env, flow, req, v.refusal.status, v.refusal.reason, v.refusal.headers);
    const hints = v.hints;
    if (hints !== undefined && hints.forged > 0) env.metrics.forgedRoutes.inc(hints.forged);

    const via = req.topVia;
    const ptx = new ProxyTx(this, flow, req, flow.side, isInvite,
      env.branches.transactionPart(key, via.host, via.port ?? 0), loopPart, env.timers.now());
    ptx.body = v.body;
    ptx.hints = hints;
    env.pending++;
    ptx.recordRoute = req.to.tag === undefined && createsDialog(method);
    ptx.server = this.#layer.createServer(key, ptx, isInvite);
    // §16.2/§17.2.1: answer 100 at once so the trunk stops retransmitting (and sees we are alive).
    if (isInvite) respond(env, ptx, 100, buildResponse(req, 100, "Trying"));
    if (flow.side === INBOUND) routeUpstream(env, ptx, flow);
    else routeToTrunk(env, ptx, flow);
  }

  onResponse(flow: Flow, res: SipResponse): void {
    const m = this.#env.metrics;
    const branch = res.topVia.branch;
    if (branch === undefined || !isOurBranch(branch)) return m.drop("stray_response");
    const match = this.#layer.receiveResponse(branch, res);
    if (match === ResponseMatch.Done) return;
    if (match === ResponseMatch.Malformed) return m.drop("malformed_response");
    const method = res.cseq.method;
    if (method === "OPTIONS" && this.#env.o.probeResponse?.(branch, res.status)) return;
    if (method === "INVITE" && res.status >= 200 && res.status < 300 && forwardStray2xx(this.#env, flow, res)) return;
    m.drop("stray_response");
  }

  /** A flow closed: every client transaction still waiting on it failed (§8.1.3.1, §17.1.4). */
  onFlowClosed(flow: Flow): void {
    this.#layer.flowClosed(flow);
  }

  /**
   * New out-of-dialog requests get 503 from now on; in-dialog requests still flow. Resolves when
   * every request has its final response and every call has ended (the caller bounds the wait).
   */
  drain(): Promise<void> {
    const env = this.#env;
    env.draining = true;
    if (env.idle()) return Promise.resolve();
    return new Promise((resolve) => {
      env.drained = resolve;
    });
  }

  /** Re-evaluate a pending drain (e.g. after idle dialogs were swept). */
  recheckDrain(): void {
    this.#env.checkDrained();
  }

  get draining(): boolean {
    return this.#env.draining;
  }

  #loopPart(req: SipRequest): string {
    let route = "";
    for (const h of req.headers) {
      if (h.name === "route") {
        route = req.getHeader("route") ?? "";
        break;
      }
    }
    return this.#env.branches.loopPart(req.requestUri, route);
  }

  // ------------------------------------------------------------------ transaction layer events

  clientResponse(tx: ClientTx, res: SipResponse, status: number): void {
    onClientResponse(this.#env, tx, res, status);
  }

  sendAck(tx: ClientTx, res: SipResponse): void {
    sendAckForNon2xx(tx.ctx, res);
  }

  retransmitRequest(tx: ClientTx): void {
    const ptx = tx.ctx;
    if (ptx.sent !== undefined) ptx.clientFlow?.send(ptx.sent);
  }

  clientFailed(tx: ClientTx, why: ClientFailure): void {
    onClientFailed(this.#env, tx, why);
  }

  clientTimerC(tx: ClientTx): void {
    onClientTimerC(this.#env, tx);
  }

  retransmitResponse(tx: ServerTx): void {
    if (tx.lastResponse !== undefined) writeTo(this.#env, tx.ctx.inFlow, tx.lastResponse);
  }

  forwardAck(side: Direction, ack: SipRequest): void {
    forwardAck(this.#env, side, ack);
  }

  accepted2xx(rec: AcceptedInviteClient, res: SipResponse): void {
    onAccepted2xx(this.#env, rec, res);
  }

  serverEnded(tx: ServerTx): void {
    const env = this.#env;
    if (!tx.ctx.finalSent) {
      // Ended without a final response (its connection went away): no longer pending.
      tx.ctx.finalSent = true;
      env.pending--;
    }
    env.checkDrained();
  }

  acceptedEnded(): void {
    this.#env.checkDrained();
  }

  onGuardTimer(ptx: ProxyTx): void {
    onGuardTimer(this.#env, ptx);
  }
}

export { OUTBOUND, INBOUND, type Direction };
