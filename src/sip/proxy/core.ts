// The transaction-stateful proxy core (RFC 3261 §16, §17): matches requests and responses to
// transactions, validates, routes, forwards with our Via / Record-Route, fails over between
// targets, handles CANCEL and ACK hop by hop, and applies the SRTP media policy.
//
// It is direction-agnostic: a request from a trunk goes to an upstream service, a request from an
// upstream goes to a trunk; which side a message came from is the flow's `side`. It never touches
// sockets: flows are handed in (FlowProvider), so the whole core runs in tests without any.
import type { Logger } from "../../observability/logger.js";
import { hashId } from "../../observability/hash.js";
import type { PeerConfig } from "../../config/schema/index.js";
import { checkBody } from "../media/body-policy.js";
import { INBOUND, OUTBOUND, type Direction, type SipMetrics } from "../metrics.js";
import {
  buildAckForNon2xx,
  buildCancel,
  buildRequest,
  buildResponse,
  forwardRequest,
  forwardResponse,
  newBranch,
  parseMessage,
  parseUri,
  type RequestEdits,
  type SipRequest,
  type SipResponse,
} from "../parse/index.js";
import { dialogKey, type DialogTable } from "../dialog/dialogs.js";
import { isReject, type PeerRouteDecision, type PeerRouteFn, type RouteDecision, type RouteFn } from "../route/decision.js";
import type { KeyExpiryTarget, Timers } from "../timer/timers.js";
import { InviteClientTransaction } from "../transaction/invite-client.js";
import { InviteServerTransaction } from "../transaction/invite-server.js";
import { NonInviteClientTransaction } from "../transaction/non-invite-client.js";
import { NonInviteServerTransaction } from "../transaction/non-invite-server.js";
import { ClientState, type ClientFailure, type ClientTxOwner, type ServerTxOwner, type TxTiming } from "../transaction/types.js";
import type { Flow, FlowProvider } from "../transport/flow.js";
import type { Dialog } from "../dialog/dialogs.js";
import { AcceptedInviteClient } from "./accepted.js";
import { isFailoverStatus, type UpstreamCluster, type UpstreamTarget } from "../upstream/cluster.js";
import { isBetterFinal, statusToForward } from "./best-response.js";
import { BranchFactory, isOurBranch, MAGIC_COOKIE } from "./branch.js";
import type { ProxyIdentity } from "./identity.js";
import { ProxyTx, type ClientTx, type ProxyTxOwner, type ServerTx } from "./proxy-tx.js";
import { reasonPhrase } from "./reasons.js";
import { consumeOwnRoutes, createsDialog, recordRouteTrunkToUpstream, recordRouteUpstreamToTrunk, RouteSigner, type RouteHints } from "./route-set.js";
import { OwnedHeaders } from "./owned-headers.js";
import { ALLOW, isOptionsForUs, validateRequest } from "./validate.js";
import { addHeaders, popOwnRoutes, removeHeaders } from "./request-edits.js";
import type { CallObserver } from "./call-observer.js";

export interface ProxyCoreOptions {
  identity: ProxyIdentity;
  timers: Timers;
  timing: TxTiming;
  flows: FlowProvider;
  clusters: ReadonlyMap<string, UpstreamCluster>;
  peers: ReadonlyMap<string, PeerConfig>;
  route: RouteFn;
  routeToPeer: PeerRouteFn;
  dialogs: DialogTable;
  metrics: SipMetrics;
  logger: Logger;
  srtpEnforce: boolean;
  retryAfterSeconds: number;
  logTransactions: boolean;
  branches?: BranchFactory;
  /** Told when an initial INVITE completes and when a BYE does (call records); off the hot path. */
  calls?: CallObserver;
  /** Health probes share the response path: OPTIONS responses with a probe branch go here. */
  probeResponse?: (branch: string, status: number) => boolean;
  /** Signs the hints in our Record-Route entries (sip.routeKeyFile); random key by default. */
  routeSigner?: RouteSigner;
  /** Header names trunkgate owns besides X-Trunkgate-* (the number-context header). */
  ownedHeaders?: readonly string[];
  /** sip.timeouts.failoverMs: an INVITE target without a provisional by then → next target (0: off). */
  failoverMs?: number;
}

type AnyClient = ClientTx;

const SRTP_WARNING = '"SRTP with AES_CM_128_HMAC_SHA1_80 required"';

/** Methods whose bodies carry offers/answers (RFC 3264, 3262, 3311). */
function carriesSdp(method: string): boolean {
  return method === "INVITE" || method === "UPDATE" || method === "PRACK" || method === "ACK";
}

function isPromise<T>(v: T | Promise<T>): v is Promise<T> {
  return typeof (v as { then?: unknown }).then === "function";
}

export class ProxyCore
  implements ClientTxOwner<AnyClient>, ServerTxOwner<ServerTx>, ProxyTxOwner
{
  readonly #o: ProxyCoreOptions;
  readonly #me: ProxyIdentity;
  readonly #timers: Timers;
  readonly #branches: BranchFactory;
  readonly #signer: RouteSigner;
  readonly #owned: OwnedHeaders;
  // Server transactions by incoming branch (INVITE/ACK in one table, other methods in another:
  // a CANCEL shares its INVITE's branch but is a transaction of its own). Over TLS/TCP an answered
  // INVITE's entry becomes the Direction it came from for its Accepted state (see accepted.ts).
  readonly #sInvite = new Map<string, InviteServerTransaction<ProxyTx> | Direction>();
  readonly #sOther = new Map<string, NonInviteServerTransaction<ProxyTx>>();
  // Client transactions by the branch we generated; answered INVITEs over TLS/TCP: AcceptedInviteClient.
  readonly #cInvite = new Map<string, InviteClientTransaction<ProxyTx> | AcceptedInviteClient>();
  readonly #cOther = new Map<string, NonInviteClientTransaction<ProxyTx>>();
  readonly #viaTls: string;
  readonly #viaTcp: string;
  #draining = false;
  /** The transaction whose response is being handed to its server transaction right now. */
  #sending: ProxyTx | undefined;
  #drained: (() => void) | undefined;
  /** Requests received and not yet answered with a final response. */
  #pending = 0;
  readonly #logInfo: boolean;
  /** Ends the compact Accepted-state records (64·T1 after the 2xx: Timer L / Timer M). */
  readonly #serverAcceptedExpiry: KeyExpiryTarget = {
    onKeyExpired: (key) => {
      if (typeof this.#sInvite.get(key) !== "number") return;
      this.#sInvite.delete(key);
      this.#checkDrained();
    },
  };
  readonly #clientAcceptedExpiry: KeyExpiryTarget = {
    onKeyExpired: (branch) => {
      if (this.#cInvite.get(branch) instanceof AcceptedInviteClient) this.#cInvite.delete(branch);
    },
  };

  constructor(opts: ProxyCoreOptions) {
    this.#o = opts;
    this.#me = opts.identity;
    this.#timers = opts.timers;
    this.#branches = opts.branches ?? new BranchFactory();
    this.#signer = opts.routeSigner ?? new RouteSigner();
    this.#owned = new OwnedHeaders(opts.ownedHeaders);
    this.#viaTls = `SIP/2.0/TLS ${this.#me.sentBy};branch=`;
    this.#viaTcp = `SIP/2.0/TCP ${this.#me.sentBy};branch=`;
    this.#logInfo = opts.logTransactions && opts.logger.isLevelEnabled("info");
  }

  /** Requests still waiting for their final response. */
  get pendingRequests(): number {
    return this.#pending;
  }

  /** Server transactions alive (including those kept after the final response, RFC 6026). */
  get transactions(): number {
    return this.#sInvite.size + this.#sOther.size;
  }

  get clientTransactions(): number {
    return this.#cInvite.size + this.#cOther.size;
  }

  // ------------------------------------------------------------------ entry points

  onRequest(flow: Flow, req: SipRequest): void {
    const m = this.#o.metrics;
    m.request(req.method, flow.side, flow.peer?.name);
    const method = req.method;
    if (method === "ACK") return this.#onAck(flow, req);
    if (method === "CANCEL") return this.#onCancel(flow, req);

    const key = serverKey(req);
    const isInvite = method === "INVITE";
    const existing = isInvite ? this.#sInvite.get(key) : this.#sOther.get(key);
    if (existing !== undefined) {
      // A number: an answered INVITE in Accepted over TLS/TCP, where retransmissions are absorbed.
      if (typeof existing !== "number") existing.receiveRequestRetransmission();
      return;
    }

    const loopPart = this.#loopPart(req);
    const v = validateRequest(req, this.#me, loopPart);
    if (v !== undefined) {
      if (v === "answer-options") return this.#answerOptions(flow, req);
      return this.#replyStateless(flow, req, v.status, v.reason, v.headers);
    }
    if (isOptionsForUs(req, this.#me)) return this.#answerOptions(flow, req);

    let body: Buffer | undefined;
    if (this.#o.srtpEnforce && req.contentLength > 0 && carriesSdp(method)) {
      const verdict = checkBody(req.contentType, req.body);
      if (!verdict.ok) {
        return this.#replyStateless(flow, req, 488, "Not Acceptable Here", [["Warning", `399 ${this.#me.advertisedHost} ${SRTP_WARNING}`]]);
      }
      body = verdict.body;
    }
    const inDialog = req.to.tag !== undefined;
    if (this.#draining && !inDialog) {
      return this.#replyStateless(flow, req, 503, "Service Unavailable", [["Retry-After", String(this.#o.retryAfterSeconds)]]);
    }
    const hints = this.#ownRoutes(req);
    if (hints === "malformed") return this.#replyStateless(flow, req, 400, "Bad Request - Malformed Route Header");

    const via = req.topVia;
    const ptx = new ProxyTx(this, flow, req, flow.side, isInvite,
      this.#branches.transactionPart(key, via.host, via.port ?? 0), loopPart, this.#timers.now());
    ptx.body = body;
    ptx.hints = hints;
    this.#pending++;
    ptx.recordRoute = !inDialog && createsDialog(method);
    if (isInvite) {
      const stx = new InviteServerTransaction<ProxyTx>(key, ptx, this, this.#timers, this.#o.timing);
      ptx.server = stx;
      this.#sInvite.set(key, stx);
      // §16.2/§17.2.1: answer 100 at once so the trunk stops retransmitting (and sees we are alive).
      this.#respond(ptx, 100, buildResponse(req, 100, "Trying"));
    } else {
      const stx = new NonInviteServerTransaction<ProxyTx>(key, ptx, this, this.#timers, this.#o.timing);
      ptx.server = stx;
      this.#sOther.set(key, stx);
    }
    if (flow.side === INBOUND) this.#routeUpstream(ptx);
    else this.#routeToTrunk(ptx);
  }

  onResponse(flow: Flow, res: SipResponse): void {
    const branch = res.topVia.branch;
    if (branch === undefined || !isOurBranch(branch)) return this.#o.metrics.drop("stray_response");
    const method = res.cseq.method;
    let tx: AnyClient | undefined;
    if (method === "INVITE") {
      const c = this.#cInvite.get(branch);
      if (c instanceof AcceptedInviteClient) {
        if (res.viaList.length < 2) return this.#o.metrics.drop("malformed_response");
        // RFC 6026 §7.2: in Accepted only 2xx (retransmissions) reach the TU; others are dropped.
        if (res.status >= 200 && res.status < 300) this.#acceptedInvite2xx(c, res, res.status);
        return;
      }
      tx = c;
    } else if (method === "CANCEL") {
      // The answer to a CANCEL we sent (hop by hop): absorbed.
      if (!this.#cInvite.has(branch)) this.#o.metrics.drop("stray_response");
      return;
    } else {
      tx = this.#cOther.get(branch);
      if (tx === undefined && method === "OPTIONS" && this.#o.probeResponse?.(branch, res.status)) return;
    }
    if (tx === undefined) {
      if (method === "INVITE" && res.status >= 200 && res.status < 300 && this.#forwardStray2xx(flow, res)) return;
      return this.#o.metrics.drop("stray_response");
    }
    if (res.viaList.length < 2) return this.#o.metrics.drop("malformed_response");
    tx.receiveResponse(res.status, res);
  }

  /**
   * A 2xx for an INVITE whose transaction is gone (a UAS retransmitting its 2xx because the ACK was
   * slow): RFC 3261 §16.7 forwards it statelessly. Not by Via (that address may be unreachable,
   * e.g. SIPp's plain-TCP side) but along the dialog, to the connection the dialog came from.
   */
  #forwardStray2xx(flow: Flow, res: SipResponse): boolean {
    if (res.viaList.length < 2) return false;
    const d = this.#o.dialogs.get(dialogKey(res.callId, res.from.tag, res.to.tag), this.#timers.now());
    if (d === undefined) return false;
    let out: Flow | undefined;
    if (flow.side === OUTBOUND && d.initiator === INBOUND) out = this.#o.flows.toPeer(d.peer, d.connectionId);
    else if (flow.side === INBOUND && d.initiator === OUTBOUND) {
      const t = this.#o.clusters.get(d.service)?.targets[d.targetIndex];
      if (t !== undefined) out = this.#o.flows.toTarget(t);
    }
    if (out === undefined) return false;
    if (this.#o.srtpEnforce && res.contentLength > 0 && !checkBody(res.contentType, res.body).ok) return false;
    out.send(forwardResponse(res));
    return true;
  }

  /** A flow closed: every client transaction still waiting on it failed (§8.1.3.1, §17.1.4). */
  onFlowClosed(flow: Flow): void {
    // The scan below walks every client transaction (RFC 6026 keeps INVITE ones 64·T1, so tens of
    // thousands at a few thousand calls/s): skip it for flows no request was ever forwarded on,
    // e.g. a trunk's connection closing after each call (one TLS connection per call).
    if (flow.carriedClientTransactions !== true) return;
    const failed: AnyClient[] = [];
    for (const tx of this.#cInvite.values()) {
      if (!(tx instanceof AcceptedInviteClient) && tx.running && tx.ctx.clientFlow === flow) failed.push(tx);
    }
    for (const tx of this.#cOther.values()) if (tx.running && tx.ctx.clientFlow === flow) failed.push(tx);
    for (const tx of failed) tx.transportError();
  }

  /**
   * New out-of-dialog requests get 503 from now on; in-dialog requests still flow. Resolves when
   * every request has its final response and every call has ended (the caller bounds the wait).
   */
  drain(): Promise<void> {
    this.#draining = true;
    if (this.#idle()) return Promise.resolve();
    return new Promise((resolve) => {
      this.#drained = resolve;
    });
  }

  #idle(): boolean {
    return this.#pending === 0 && this.#o.dialogs.size === 0;
  }

  /** Re-evaluate a pending drain (e.g. after idle dialogs were swept). */
  recheckDrain(): void {
    this.#checkDrained();
  }

  #checkDrained(): void {
    if (this.#drained !== undefined && this.#idle()) {
      const done = this.#drained;
      this.#drained = undefined;
      done();
    }
  }

  get draining(): boolean {
    return this.#draining;
  }

  // ------------------------------------------------------------------ routing

  #routeUpstream(ptx: ProxyTx): void {
    const req = ptx.req;
    const hints = ptx.hints;
    // In-dialog requests follow our own (verified) Route entry, then the dialog table. A new
    // request always gets the route decision, whatever Route it carries.
    if (req.to.tag !== undefined) {
      if (hints !== undefined && hints.service !== undefined) {
        const target = this.#o.clusters.get(hints.service)?.targets[hints.targetIndex];
        if (target !== undefined) return this.#forwardFixed(ptx, target);
      }
      const d = this.#o.dialogs.get(dialogKey(req.callId, req.from.tag, req.to.tag), this.#timers.now());
      if (d !== undefined) {
        const target = this.#o.clusters.get(d.service)?.targets[d.targetIndex];
        if (target !== undefined) return this.#forwardFixed(ptx, target);
      }
    }
    let decision: RouteDecision | Promise<RouteDecision>;
    try {
      decision = this.#o.route(req, ptx.inFlow.peer!);
    } catch (err) {
      return this.#routeError(ptx, err);
    }
    if (isPromise(decision)) {
      decision.then(
        (d) => this.#guarded(ptx, () => this.#applyDecision(ptx, d)),
        (err) => this.#guarded(ptx, () => this.#routeError(ptx, err)),
      );
    } else this.#applyDecision(ptx, decision);
  }

  /** Work resumed from a promise: an exception there would be an unhandled rejection. */
  #guarded(ptx: ProxyTx, fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.#o.logger.error({ error: (err as Error)?.message ?? String(err), callId: hashId(ptx.callId) }, "SIP request handling failed");
      if (!ptx.finalSent) this.#reply(ptx, 500, "Server Internal Error");
    }
  }

  #routeError(ptx: ProxyTx, err: unknown): void {
    this.#o.logger.error({ error: (err as Error)?.message ?? String(err), callId: hashId(ptx.callId) }, "route decision failed");
    this.#reply(ptx, 500, "Server Internal Error");
  }

  #applyDecision(ptx: ProxyTx, d: RouteDecision): void {
    if (ptx.finalSent) return; // cancelled while the decision was pending
    if (isReject(d)) {
      const headers: [string, string][] | undefined = d.retryAfterSeconds !== undefined ? [["Retry-After", String(d.retryAfterSeconds)]] : undefined;
      return this.#reply(ptx, d.reject, d.reason ?? reasonPhrase(d.reject), headers);
    }
    const cluster = this.#o.clusters.get(d.service);
    if (cluster === undefined) {
      this.#o.logger.error({ upstreamService: d.service }, "route decision named an unknown upstream service");
      return this.#reply(ptx, 500, "Server Internal Error");
    }
    if (d.requestUri !== undefined) {
      if (parseUri(d.requestUri) === undefined) {
        this.#o.logger.error({ upstreamService: d.service }, "route decision returned an invalid Request-URI");
        return this.#reply(ptx, 500, "Server Internal Error");
      }
      ptx.requestUri = d.requestUri;
    }
    ptx.extraHeaders = d.extraHeaders;
    ptx.removeHeaders = d.removeHeaders;
    ptx.cluster = cluster;
    if (!cluster.anyUp()) return this.#replyUnavailable(ptx);
    if (!this.#attemptNext(ptx)) this.#replyUnavailable(ptx);
  }

  #replyUnavailable(ptx: ProxyTx): void {
    this.#reply(ptx, 503, "Service Unavailable", [["Retry-After", String(this.#o.retryAfterSeconds)]]);
  }

  #forwardFixed(ptx: ProxyTx, target: UpstreamTarget): void {
    ptx.fixed = true;
    ptx.cluster = this.#o.clusters.get(target.service);
    ptx.tried |= 1 << target.index;
    ptx.target = target;
    this.#send(ptx, this.#o.flows.toTarget(target));
  }

  /** Next target of the cluster; false when none is left. */
  #attemptNext(ptx: ProxyTx): boolean {
    const cluster = ptx.cluster;
    if (cluster === undefined || ptx.fixed || ptx.attempt >= 35) return false;
    // The request as a whole is bounded by Timer B/F (64·T1), however many targets failed fast.
    if (ptx.attempt > 0 && this.#timers.now() - ptx.startedAt >= 64 * this.#o.timing.t1) return false;
    const target = cluster.pick(ptx.tried);
    if (target === undefined) return false;
    if (ptx.attempt > 0) this.#o.metrics.failovers.labels(cluster.name).inc();
    ptx.tried |= 1 << target.index;
    ptx.target = target;
    this.#send(ptx, this.#o.flows.toTarget(target));
    return true;
  }

  #routeToTrunk(ptx: ProxyTx): void {
    const req = ptx.req;
    const hints = ptx.hints;
    if (req.to.tag !== undefined) {
      if (hints !== undefined && hints.peer !== undefined) return this.#forwardToPeer(ptx, hints.peer, hints.connectionId);
      const d = this.#o.dialogs.get(dialogKey(req.callId, req.from.tag, req.to.tag), this.#timers.now());
      if (d !== undefined) return this.#forwardToPeer(ptx, d.peer, d.connectionId);
    }
    let decision: PeerRouteDecision | Promise<PeerRouteDecision>;
    try {
      decision = this.#o.routeToPeer(req, ptx.inFlow.target?.service ?? "");
    } catch (err) {
      return this.#routeError(ptx, err);
    }
    const apply = (d: PeerRouteDecision) => {
      if (ptx.finalSent) return;
      if (isReject(d)) return this.#reply(ptx, d.reject, d.reason ?? reasonPhrase(d.reject));
      if (!this.#o.peers.has(d.peer)) return this.#reply(ptx, 404, "No Route To Destination");
      if (d.requestUri !== undefined) ptx.requestUri = d.requestUri;
      ptx.extraHeaders = d.extraHeaders;
      ptx.removeHeaders = d.removeHeaders;
      ptx.service = d.service;
      this.#forwardToPeer(ptx, d.peer, -1);
    };
    if (isPromise(decision)) {
      decision.then(
        (d) => this.#guarded(ptx, () => apply(d)),
        (err) => this.#guarded(ptx, () => this.#routeError(ptx, err)),
      );
    } else apply(decision);
  }

  #forwardToPeer(ptx: ProxyTx, peer: string, connectionId: number): void {
    ptx.fixed = true;
    ptx.peerName = peer;
    const flow = this.#o.flows.toPeer(peer, connectionId);
    if (flow === undefined) {
      this.#o.metrics.drop("no_connection");
      return this.#reply(ptx, 480, "Temporarily Unavailable");
    }
    ptx.peerConnectionId = flow.id;
    this.#send(ptx, flow);
  }

  // ------------------------------------------------------------------ forwarding

  /** Forward the request on `flow` as a new client transaction (one attempt). */
  #send(ptx: ProxyTx, flow: Flow): void {
    const req = ptx.req;
    const branch = this.#branches.branch(ptx.txPart, ptx.loopPart, ptx.attempt++);
    const edits: RequestEdits = {
      prependVia: this.#viaPrefix(flow) + branch,
      maxForwards: "decrement",
    };
    const hints = ptx.hints;
    if (hints !== undefined) popOwnRoutes(edits, hints);
    if (ptx.dir === INBOUND) removeHeaders(edits, this.#owned.presentIn(req));
    if (ptx.recordRoute) edits.prependRecordRoute = this.#recordRoute(ptx, flow);
    if (ptx.requestUri !== undefined) edits.requestUri = ptx.requestUri;
    addHeaders(edits, ptx.extraHeaders);
    removeHeaders(edits, ptx.removeHeaders);
    if (ptx.body !== undefined) edits.body = { bytes: ptx.body };
    let bytes: Buffer;
    try {
      bytes = forwardRequest(req, edits);
    } catch (err) {
      // Header injection attempt in a routed value (CR/LF): refuse, never forward.
      this.#o.logger.error({ error: (err as Error).message }, "cannot build forwarded request");
      return this.#reply(ptx, 500, "Server Internal Error");
    }
    ptx.sent = bytes;
    ptx.sentParsed = undefined;
    ptx.clientFlow = flow;
    // A flag on the flow, not a WeakSet of flows: the WeakSet.add on every forwarded request cost
    // ~50 CPU-µs per call at 1000 calls/s (measured, bench/sip-load.mjs).
    if (flow.carriedClientTransactions !== true) flow.carriedClientTransactions = true;
    let tx: AnyClient;
    if (ptx.isInvite) {
      const itx = new InviteClientTransaction<ProxyTx>(branch, ptx, this, this.#timers, this.#o.timing);
      this.#cInvite.set(branch, itx);
      tx = itx;
    } else {
      const ntx = new NonInviteClientTransaction<ProxyTx>(branch, ptx, this, this.#timers, this.#o.timing);
      this.#cOther.set(branch, ntx);
      tx = ntx;
    }
    ptx.client = tx;
    if (tx instanceof InviteClientTransaction) this.#startInvite(ptx, tx);
    else tx.start();
    if (!flow.send(bytes)) tx.transportError();
  }

  /**
   * Timer B for this attempt is what is left of the request's 64·T1; the failover timer runs only
   * when another target could still be tried within it.
   */
  #startInvite(ptx: ProxyTx, tx: InviteClientTransaction<ProxyTx>): void {
    const timerB = 64 * this.#o.timing.t1;
    const left = Math.max(1, timerB - (this.#timers.now() - ptx.startedAt));
    const failoverMs = this.#o.failoverMs ?? 0;
    const more = failoverMs > 0 && failoverMs < left && !ptx.fixed && ptx.cluster !== undefined && ptx.cluster.pick(ptx.tried) !== undefined;
    tx.start(more ? failoverMs : 0, left);
  }

  /** Our Via up to the branch for a request leaving on `flow`: the address that flow advertises. */
  #viaPrefix(flow: Flow): string {
    return flow.viaPrefix ?? (flow.transport === "TLS" ? this.#viaTls : this.#viaTcp);
  }

  #recordRoute(ptx: ProxyTx, out: Flow): string {
    // Double Record-Route (RFC 5658): each entry names the address its side's connection reached.
    const inFlow = ptx.inFlow;
    if (inFlow.side === INBOUND) {
      const t = out.target!;
      return recordRouteTrunkToUpstream(this.#me, this.#signer, {
        callId: ptx.callId, upstreamTransport: t.config.transport, service: t.service, targetIndex: t.index,
        peer: inFlow.peer?.name ?? "", connectionId: inFlow.id, upstreamSentBy: out.sentBy, trunkSentBy: inFlow.sentBy,
      });
    }
    const t = inFlow.target;
    return recordRouteUpstreamToTrunk(this.#me, this.#signer, {
      callId: ptx.callId, upstreamTransport: t?.config.transport ?? "tls", service: t?.service ?? "", targetIndex: t?.index ?? -1,
      peer: ptx.peerName ?? "", connectionId: out.id, upstreamSentBy: inFlow.sentBy, trunkSentBy: out.sentBy,
    });
  }

  /** Our Route entries at the top; entries whose hints fail the MAC are counted. */
  #ownRoutes(req: SipRequest): RouteHints | undefined | "malformed" {
    const hints = consumeOwnRoutes(req, this.#me, this.#signer);
    if (hints !== undefined && hints !== "malformed" && hints.forged > 0) this.#o.metrics.forgedRoutes.inc(hints.forged);
    return hints;
  }

  #loopPart(req: SipRequest): string {
    let route = "";
    for (const h of req.headers) {
      if (h.name === "route") {
        route = req.getHeader("route") ?? "";
        break;
      }
    }
    return this.#branches.loopPart(req.requestUri, route);
  }

  // ------------------------------------------------------------------ ACK and CANCEL

  #onAck(flow: Flow, req: SipRequest): void {
    const stx = this.#sInvite.get(serverKey(req));
    if (stx !== undefined) {
      // ACK for a non-2xx final: absorbed here (our client transaction sent its own ACK upstream);
      // in Accepted (RFC 6026) it is passed on to be forwarded end to end. A number: the compact
      // Accepted record (the INVITE's side).
      if (typeof stx === "number") return this.#forwardAckStateless(stx, req);
      stx.receiveAck(req);
      return;
    }
    this.#forwardAckStateless(flow.side, req);
  }

  /** ACK for a 2xx: a transaction of its own that gets no response; forwarded statelessly (§16.11). */
  #forwardAckStateless(side: Direction, req: SipRequest): void {
    if (req.maxForwards === 0) return this.#o.metrics.drop("loop");
    if (this.#o.srtpEnforce && req.contentLength > 0) {
      const verdict = checkBody(req.contentType, req.body);
      // An answer in an ACK cannot be refused: not forwarding it makes the UAS end the call
      // (no ACK for its 2xx → BYE after 64·T1, RFC 3261 §13.3.1.4).
      if (!verdict.ok) return this.#o.metrics.drop("srtp_policy");
      if (verdict.body !== undefined) return this.#forwardAckWith(side, req, verdict.body);
    }
    this.#forwardAckWith(side, req, undefined);
  }

  #forwardAckWith(side: Direction, req: SipRequest, body: Buffer | undefined): void {
    const hints = this.#ownRoutes(req);
    if (hints === "malformed") return this.#o.metrics.drop("malformed_response");
    let out: Flow | undefined;
    if (side === INBOUND) {
      const target = this.#inDialogTarget(req, hints);
      if (target !== undefined) out = this.#o.flows.toTarget(target);
    } else {
      const dest = this.#inDialogPeer(req, hints);
      if (dest !== undefined) out = this.#o.flows.toPeer(dest.peer, dest.connectionId);
    }
    if (out === undefined) return this.#o.metrics.drop("no_connection");
    const via = req.topVia;
    const branch = this.#branches.branch(this.#branches.transactionPart(serverKey(req), via.host, via.port ?? 0), "ack", 0);
    const edits: RequestEdits = { prependVia: this.#viaPrefix(out) + branch, maxForwards: "decrement" };
    if (hints !== undefined) popOwnRoutes(edits, hints);
    if (side === INBOUND) removeHeaders(edits, this.#owned.presentIn(req));
    if (body !== undefined) edits.body = { bytes: body };
    if (!out.send(forwardRequest(req, edits))) this.#o.metrics.drop("write_failed");
  }

  #inDialogTarget(req: SipRequest, hints: RouteHints | undefined): UpstreamTarget | undefined {
    if (hints !== undefined && hints.service !== undefined) {
      const t = this.#o.clusters.get(hints.service)?.targets[hints.targetIndex];
      if (t !== undefined) return t;
    }
    const d = this.#o.dialogs.get(dialogKey(req.callId, req.from.tag, req.to.tag), this.#timers.now());
    if (d !== undefined) return this.#o.clusters.get(d.service)?.targets[d.targetIndex];
    return undefined;
  }

  #inDialogPeer(req: SipRequest, hints: RouteHints | undefined): { peer: string; connectionId: number } | undefined {
    if (hints !== undefined && hints.peer !== undefined) return { peer: hints.peer, connectionId: hints.connectionId };
    const d = this.#o.dialogs.get(dialogKey(req.callId, req.from.tag, req.to.tag), this.#timers.now());
    return d === undefined ? undefined : { peer: d.peer, connectionId: d.connectionId };
  }

  #onCancel(flow: Flow, req: SipRequest): void {
    const stx = this.#sInvite.get(serverKey(req));
    if (stx === undefined) {
      // §16.10 would forward it statelessly; with no INVITE transaction here there is nothing it
      // could cancel downstream of us, so the trunk gets a definite answer instead.
      return this.#replyStateless(flow, req, 481, "Call/Transaction Does Not Exist");
    }
    this.#replyStateless(flow, req, 200, "OK");
    if (typeof stx === "number") return; // answered already (compact Accepted record)
    const ptx = stx.ctx;
    if (ptx.finalSent || ptx.cancelled) return;
    ptx.cancelled = true;
    const c = ptx.client;
    if (c !== undefined && c.running && c instanceof InviteClientTransaction) {
      // §9.1: a CANCEL may only follow a provisional response; until then it waits.
      if (c.provisionalSeen) this.#sendCancel(ptx);
      else ptx.cancelPending = true;
      ptx.guardStatus = 487;
      ptx.guard = this.#timers.start(ptx, 0, 64 * this.#o.timing.t1);
    } else {
      this.#reply(ptx, 487, "Request Terminated");
    }
  }

  #sendCancel(ptx: ProxyTx): void {
    ptx.cancelPending = false;
    const sent = this.#sentRequest(ptx);
    if (sent === undefined || ptx.clientFlow === undefined) return;
    ptx.clientFlow.send(buildCancel(sent));
  }

  #sentRequest(ptx: ProxyTx): SipRequest | undefined {
    if (ptx.sentParsed !== undefined) return ptx.sentParsed;
    if (ptx.sent === undefined) return undefined;
    const r = parseMessage(ptx.sent);
    if (!r.ok || r.message.kind !== "request") return undefined;
    ptx.sentParsed = r.message;
    return r.message;
  }

  onGuardTimer(ptx: ProxyTx): void {
    if (ptx.finalSent) return;
    ptx.client?.abandon();
    this.#reply(ptx, ptx.guardStatus, reasonPhrase(ptx.guardStatus));
  }

  // ------------------------------------------------------------------ client transaction events

  retransmitRequest(tx: AnyClient): void {
    const ptx = tx.ctx;
    if (ptx.sent !== undefined) ptx.clientFlow?.send(ptx.sent);
  }

  sendAck(tx: AnyClient, response: unknown): void {
    const ptx = tx.ctx;
    const sent = this.#sentRequest(ptx);
    if (sent === undefined || ptx.clientFlow === undefined) return;
    ptx.clientFlow.send(buildAckForNon2xx(sent, response as SipResponse));
  }

  clientResponse(tx: AnyClient, response: unknown, status: number): void {
    const ptx = tx.ctx;
    if (tx !== ptx.client) return; // a superseded attempt
    const res = response as SipResponse;
    if (ptx.firstResponseAt === 0) ptx.firstResponseAt = this.#timers.now();
    if (status < 200) {
      if (ptx.cancelPending) this.#sendCancel(ptx);
      if (status === 100) return; // hop by hop (§16.7 step 5)
      this.#forwardProvisionalOr2xx(ptx, res, status);
      return;
    }
    const method = ptx.method;
    if (status < 300) {
      if (!this.#forwardProvisionalOr2xx(ptx, res, status)) return;
      if (method === "INVITE" && ptx.outOfDialog) {
        const d = this.#confirmDialog(ptx, res);
        // When the Accepted state was taken over (takeOverAccepted), its record re-confirms the
        // dialog on 2xx retransmissions as the transaction did.
        const rec = this.#cInvite.get((tx as InviteClientTransaction<ProxyTx>).branch);
        if (rec instanceof AcceptedInviteClient) rec.dialog = d;
      } else if (method === "BYE") this.#endDialog(ptx);
      return;
    }
    if (method === "BYE") this.#endDialog(ptx);
    this.#finalFailure(ptx, status, res);
  }

  clientFailed(tx: AnyClient, why: ClientFailure): void {
    const ptx = tx.ctx;
    if (tx !== ptx.client) return;
    this.#finalFailure(ptx, why === "transport" ? 503 : 408, undefined);
  }

  clientTimerC(tx: AnyClient): void {
    const ptx = tx.ctx;
    if (tx !== ptx.client || ptx.finalSent) return;
    if (tx instanceof InviteClientTransaction && tx.provisionalSeen) {
      // §16.8: Timer C with a provisional → CANCEL; the 487 comes back through. Guard → 408.
      ptx.cancelled = true;
      this.#sendCancel(ptx);
      ptx.guardStatus = 408;
      this.#timers.cancel(ptx.guard);
      ptx.guard = this.#timers.start(ptx, 0, 64 * this.#o.timing.t1);
    } else {
      tx.abandon();
      this.#finalFailure(ptx, 408, undefined);
    }
  }

  clientTerminated(tx: AnyClient): void {
    if (tx instanceof InviteClientTransaction) this.#cInvite.delete(tx.branch);
    else this.#cOther.delete(tx.branch);
  }

  /** Forward a 1xx or 2xx to the server side (media policy applied); false when not forwarded. */
  #forwardProvisionalOr2xx(ptx: ProxyTx, res: SipResponse, status: number): boolean {
    let body: Buffer | undefined;
    if (this.#o.srtpEnforce && res.contentLength > 0 && carriesSdp(ptx.method)) {
      const verdict = checkBody(res.contentType, res.body);
      if (!verdict.ok) {
        // A refused provisional, or a retransmitted 2xx after we already answered: dropped.
        if (status < 200 || ptx.finalSent) {
          this.#o.metrics.drop("srtp_policy");
          return false;
        }
        this.#refuseAnswer(ptx, res);
        return false;
      }
      body = verdict.body;
    }
    this.#respond(ptx, status, forwardResponse(res, body !== undefined ? { body: { bytes: body } } : undefined));
    return true;
  }

  /**
   * A 2xx whose SDP the media policy refuses: the far side already accepted the session, so we
   * end it there (ACK for INVITE, then BYE) and send 488 to the requester instead of the 2xx.
   */
  #refuseAnswer(ptx: ProxyTx, res: SipResponse): void {
    this.#o.metrics.drop("srtp_policy");
    const flow = ptx.clientFlow;
    const req = ptx.req;
    if (flow !== undefined && res.to.tag !== undefined) {
      const contact = res.contacts()?.[0]?.uri ?? req.requestUri;
      const routes: string[] = [];
      for (const rr of res.recordRoutes() ?? []) {
        const u = parseUri(rr.uri);
        if (u !== undefined && this.#me.isOurUri(u)) break;
        routes.unshift(rr.raw);
      }
      const headers: [string, string][] = routes.length > 0 ? [["Route", routes.join(", ")]] : [];
      const base = {
        requestUri: contact,
        from: req.from.raw,
        to: res.to.raw,
        callId: req.callId,
      };
      const via = this.#viaPrefix(flow);
      try {
        if (req.method === "INVITE") {
          flow.send(buildRequest({ ...base, method: "ACK", via: via + newBranch(), cseq: req.cseq.seq, headers }));
        }
        flow.send(buildRequest({
          ...base, method: "BYE", via: via + newBranch(), cseq: req.cseq.seq + 1,
          headers: [...headers, ["Reason", 'SIP;cause=488;text="SRTP required"']],
        }));
      } catch (err) {
        this.#o.logger.warn({ error: (err as Error).message }, "could not end a session refused by the media policy");
      }
    }
    this.#reply(ptx, 488, "Not Acceptable Here", [["Warning", `399 ${this.#me.advertisedHost} ${SRTP_WARNING}`]], res.to.tag);
  }

  #endDialog(bye: ProxyTx): void {
    this.#o.dialogs.end(dialogKey(bye.callId, bye.fromTag, bye.toTag));
    if (this.#drained !== undefined) this.#checkDrained();
  }

  #confirmDialog(ptx: ProxyTx, res: SipResponse): Dialog {
    const inFlow = ptx.inFlow;
    const fromTrunk = inFlow.side === INBOUND;
    const target = fromTrunk ? ptx.target : inFlow.target;
    const d: Dialog = {
      key: dialogKey(ptx.callId, ptx.fromTag, res.to.tag),
      callId: ptx.callId,
      service: target?.service ?? "",
      targetIndex: target?.index ?? -1,
      peer: fromTrunk ? (inFlow.peer?.name ?? "") : (ptx.peerName ?? ""),
      connectionId: fromTrunk ? inFlow.id : ptx.peerConnectionId,
      initiator: fromTrunk ? INBOUND : OUTBOUND,
      lastUsed: this.#timers.now(),
    };
    this.#o.dialogs.confirm(d);
    return d;
  }

  /**
   * A 2xx retransmission for an answered INVITE whose Accepted state is a compact record: what the
   * transactions did with it (forward to the caller, media policy first; refresh the dialog).
   */
  #acceptedInvite2xx(rec: AcceptedInviteClient, res: SipResponse, status: number): void {
    let body: Buffer | undefined;
    if (this.#o.srtpEnforce && res.contentLength > 0) {
      const verdict = checkBody(res.contentType, res.body);
      // Refused in a retransmitted 2xx after we already answered: dropped (as #forwardProvisionalOr2xx).
      if (!verdict.ok) return this.#o.metrics.drop("srtp_policy");
      body = verdict.body;
    }
    this.#writeTo(rec.inFlow, forwardResponse(res, body !== undefined ? { body: { bytes: body } } : undefined));
    this.#o.metrics.response(status, "INVITE", rec.dir, rec.inFlow.peer?.name);
    const d = rec.dialog;
    if (d !== undefined) {
      d.lastUsed = this.#timers.now();
      this.#o.dialogs.confirm(d);
    }
  }

  /** A final non-2xx (or no response): fail over when allowed, else send the best response. */
  #finalFailure(ptx: ProxyTx, status: number, res: SipResponse | undefined): void {
    if (ptx.finalSent) return;
    if (isBetterFinal(status, ptx.bestStatus)) {
      ptx.bestStatus = status;
      ptx.bestResponse = res;
    }
    if (isFailoverStatus(status) && !ptx.cancelled && this.#attemptNext(ptx)) return;
    this.#sendBest(ptx);
  }

  #sendBest(ptx: ProxyTx): void {
    const status = ptx.bestStatus;
    const res = ptx.bestResponse;
    const allTried = ptx.cluster === undefined || ptx.fixed || ptx.cluster.pick(ptx.tried) === undefined;
    if (res === undefined) {
      // Nothing heard: Timer B/F (408), or every connection failed (503, we are unavailable).
      if (status === 503) return this.#replyUnavailable(ptx);
      return this.#reply(ptx, status, reasonPhrase(status));
    }
    const out = statusToForward(status, allTried);
    if (out !== status) return this.#reply(ptx, out, reasonPhrase(out), undefined, res.to.tag);
    this.#respond(ptx, status, forwardResponse(res));
  }

  // ------------------------------------------------------------------ server transaction events

  retransmitResponse(tx: ServerTx): void {
    if (tx.lastResponse !== undefined) this.#write(tx.ctx, tx.lastResponse);
  }

  ackInAccepted(tx: ServerTx, ack: unknown): void {
    this.#forwardAckStateless(tx.ctx.inFlow.side, ack as SipRequest);
  }

  /**
   * Over TLS/TCP, a 2xx to an INVITE just went out (we are inside #respond, inside the client
   * transaction's clientResponse for that 2xx): replace both transactions by compact records
   * (accepted.ts) for the 64·T1 of RFC 6026's Accepted state. Only in the plain case, where both
   * sides reached Accepted with this attempt; anything unusual keeps the full transactions.
   */
  takeOverAccepted(tx: ServerTx): boolean {
    const ptx = tx.ctx;
    const c = ptx.client;
    if (!(tx instanceof InviteServerTransaction) || !(c instanceof InviteClientTransaction)) return false;
    if (c.state !== ClientState.Accepted || this.#sInvite.get(tx.key) !== tx || this.#cInvite.get(c.branch) !== c) return false;
    const lifetime = 64 * this.#o.timing.t1;
    c.handOffAccepted();
    this.#cInvite.set(c.branch, new AcceptedInviteClient(ptx.inFlow, ptx.dir));
    this.#timers.expireLater(this.#clientAcceptedExpiry, c.branch, lifetime);
    this.#sInvite.set(tx.key, ptx.dir);
    this.#timers.expireLater(this.#serverAcceptedExpiry, tx.key, lifetime);
    return true;
  }

  ackTimeout(): void {
    // Timer H: the trunk never ACKed our non-2xx final. Nothing to undo.
  }

  serverTerminated(tx: ServerTx): void {
    if (tx instanceof InviteServerTransaction) this.#sInvite.delete(tx.key);
    else this.#sOther.delete(tx.key);
    if (!tx.ctx.finalSent && tx.ctx !== this.#sending) {
      // Ended without a final response (its connection went away): no longer pending.
      tx.ctx.finalSent = true;
      this.#pending--;
    }
    this.#checkDrained();
  }

  // ------------------------------------------------------------------ sending responses

  /** Send a response through the server transaction (which may refuse: a final was sent). */
  #respond(ptx: ProxyTx, status: number, bytes: Buffer): void {
    // A non-INVITE server transaction over TLS/TCP terminates inside sendResponse (Timer J = 0);
    // serverTerminated must then leave the final-response bookkeeping below to us.
    this.#sending = ptx;
    const accepted = ptx.server.sendResponse(status, bytes);
    this.#sending = undefined;
    if (!accepted) return;
    this.#write(ptx, bytes);
    this.#o.metrics.response(status, ptx.method, ptx.dir, ptx.dir === INBOUND ? ptx.inFlow.peer?.name : ptx.peerName);
    if (status >= 200 && !ptx.finalSent) {
      ptx.finalSent = true;
      ptx.finalStatus = status;
      this.#pending--;
      if (this.#drained !== undefined) queueMicrotask(() => this.#checkDrained());
      this.#timers.cancel(ptx.guard);
      ptx.guard = undefined;
      // Nothing further will be forwarded for this request: stop a client transaction still
      // running (e.g. a guard fired, or a refusal raced with an attempt).
      const c = ptx.client;
      if (c !== undefined && c.running && status >= 300 && (c.finalStatus === 0)) {
        if (c instanceof InviteClientTransaction && c.provisionalSeen && !ptx.cancelled) this.#sendCancel(ptx);
        c.abandon();
      }
      const seconds = (this.#timers.now() - ptx.startedAt) / 1000;
      this.#o.metrics.duration(ptx.method, ptx.dir, seconds);
      if (this.#logInfo) this.#logTransaction(ptx, status, seconds);
      const calls = this.#o.calls;
      if (calls !== undefined) {
        if (ptx.isInvite && ptx.outOfDialog) this.#reportInvite(calls, ptx, status, seconds);
        else if (ptx.method === "BYE") calls.byeCompleted(ptx.callId, ptx.dir);
      }
      ptx.releaseForwardingState(!this.#o.timing.reliable);
    }
  }

  #reportInvite(calls: CallObserver, ptx: ProxyTx, status: number, seconds: number): void {
    const inbound = ptx.dir === INBOUND;
    calls.inviteCompleted({
      req: ptx.req,
      direction: ptx.dir,
      status,
      elapsedMs: seconds * 1000,
      peer: (inbound ? ptx.inFlow.peer?.name : ptx.peerName) ?? null,
      service: (inbound ? ptx.target?.service ?? ptx.cluster?.name : ptx.service ?? ptx.inFlow.target?.service) ?? null,
    });
  }

  #write(ptx: ProxyTx, bytes: Buffer): void {
    this.#writeTo(ptx.inFlow, bytes);
  }

  #writeTo(inFlow: Flow, bytes: Buffer): void {
    // §18.2.2: responses go back on the connection the request came in on. When it is gone they are
    // dropped and counted: never sent on another connection of the peer (that one runs other
    // transactions, issue 9 item 8), nor to the Via address (SIPp and NATed trunks put unreachable
    // addresses there); the sender's transaction times out or it retries on a new connection.
    if (!inFlow.send(bytes)) this.#o.metrics.drop("no_connection");
  }

  #reply(ptx: ProxyTx, status: number, reason: string, headers?: [string, string][], toTag?: string): void {
    if (ptx.finalSent) return; // answered already (e.g. cancelled while a route decision was pending)
    let bytes: Buffer;
    try {
      bytes = buildResponse(ptx.req, status, reason, { headers, toTag });
    } catch {
      bytes = buildResponse(ptx.req, status, reasonPhrase(status), { toTag });
    }
    this.#respond(ptx, status, bytes);
  }

  #replyStateless(flow: Flow, req: SipRequest, status: number, reason: string, headers?: [string, string][]): void {
    const bytes = buildResponse(req, status, reason, headers ? { headers } : undefined);
    this.#writeTo(flow, bytes);
    this.#o.metrics.response(status, req.method, flow.side, flow.peer?.name);
    if (this.#logInfo && status >= 200 && req.method !== "CANCEL") {
      this.#o.logger.info({
        event: "sip_transaction", method: req.method, callId: hashId(req.callId), status, durationMs: 0,
        direction: flow.side === INBOUND ? "inbound" : "outbound", peer: flow.peer?.name, upstreamService: flow.target?.service,
      }, "sip transaction");
    }
  }

  #answerOptions(flow: Flow, req: SipRequest): void {
    this.#replyStateless(flow, req, 200, "OK", [["Allow", ALLOW], ["Accept", "application/sdp"], ["Supported", ""]].filter((h) => h[1] !== "") as [string, string][]);
  }

  #logTransaction(ptx: ProxyTx, status: number, seconds: number): void {
    const inbound = ptx.dir === INBOUND;
    this.#o.logger.info({
      event: "sip_transaction",
      method: ptx.method,
      callId: hashId(ptx.callId),
      status,
      durationMs: Math.round(seconds * 1e4) / 10,
      firstResponseMs: ptx.firstResponseAt > 0 ? Math.round((ptx.firstResponseAt - ptx.startedAt) * 10) / 10 : undefined,
      direction: inbound ? "inbound" : "outbound",
      peer: inbound ? ptx.inFlow.peer?.name : ptx.peerName,
      upstreamService: inbound ? ptx.target?.service : ptx.inFlow.target?.service,
      upstream: inbound ? ptx.target?.label : ptx.inFlow.target?.label,
      attempts: ptx.attempt,
    }, "sip transaction");
  }
}

/**
 * Server transaction key (§17.2.3): branch and sent-by when RFC 3261-compliant (two trunks may
 * well pick the same branch, e.g. two SIPp instances with the same pid in two containers), else
 * a key from the RFC 2543 fields.
 */
function serverKey(req: SipRequest): string {
  const via = req.topVia;
  const b = via.branch;
  if (b !== undefined && b.startsWith(MAGIC_COOKIE)) return `${b}|${via.host}:${via.port ?? 0}`;
  // RFC 2543 peers: Request-URI, To tag, From tag, Call-ID, CSeq number, top Via.
  return `2543|${req.callId}|${req.cseq.seq}|${req.from.tag ?? ""}|${via.raw}`;
}

export { OUTBOUND, INBOUND, type Direction };
