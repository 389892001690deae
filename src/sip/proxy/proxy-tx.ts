// The per-request context every proxy phase works on (RFC 3261 §16 response context): the server
// transaction toward the sender, the current client transaction toward the next hop, what the
// request filter and the route phase decided, failover state and the best final response so far.
// Plain fields, no closures: the phases drive it.
import type { SipRequest, SipResponse } from "../parse/index.js";
import type { RouteHints } from "./route-set.js";
import type { TimerEntry, TimerTarget } from "../timer/timers.js";
import type { ClientTx as AnyClientTx, ServerTx as AnyServerTx, TxContext } from "../transaction/layer.js";
import type { Flow } from "../transport/flow.js";
import type { UpstreamService, UpstreamTarget } from "../upstream/service.js";
import { INBOUND, type Direction } from "../direction.js";

export type ServerTx = AnyServerTx<ProxyTx>;
export type ClientTx = AnyClientTx<ProxyTx>;

export interface ProxyTxOwner {
  onGuardTimer(ptx: ProxyTx): void;
}

export class ProxyTx implements TimerTarget, TxContext<ProxyTx> {
  server!: ServerTx;
  client: ClientTx | undefined;
  clientFlow: Flow | undefined;
  /** Bytes of the request as sent on the current attempt, and their parse (for CANCEL/ACK). */
  sent: Buffer | undefined;
  sentParsed: SipRequest | undefined;
  attempt = 0;
  /** Bit i set: target i of the upstream service was tried. */
  tried = 0;
  /** Toward an upstream (a request from a trunk): the service routed to. */
  upstreamService: UpstreamService | undefined;
  /** Toward an upstream: the target of the current attempt. */
  target: UpstreamTarget | undefined;
  /** In-dialog requests go to one place only: no failover. */
  fixed = false;
  /** Toward a trunk (a request from an upstream): the chosen peer's name and preferred connection. */
  peerName: string | undefined;
  peerConnectionId = -1;
  hints: RouteHints | undefined;
  requestUri: string | undefined;
  extraHeaders: readonly (readonly [string, string])[] | undefined;
  removeHeaders: readonly string[] | undefined = undefined;
  /**
   * Toward a trunk: the name of the upstream service the call is accounted to (the route
   * decision's `service`, chosen by the calling number; call records).
   */
  accountedService: string | undefined = undefined;
  body: Buffer | undefined;
  recordRoute = false;
  bestStatus = 0;
  bestResponse: SipResponse | undefined;
  cancelled = false;
  cancelPending = false;
  /** Status sent if the guard timer fires (487 after CANCEL, 408 after Timer C). */
  guardStatus = 487;
  guard: TimerEntry | undefined;
  finalSent = false;
  finalStatus = 0;
  firstResponseAt = 0;

  readonly method: string;
  readonly callId: string;
  /** The request had no To tag (it may create a dialog). */
  readonly outOfDialog: boolean;
  /** The request's From and To tags (the dialog key once the request is released). */
  readonly fromTag: string | undefined;
  readonly toTag: string | undefined;
  #req: SipRequest | undefined;

  constructor(
    private owner: ProxyTxOwner,
    readonly inFlow: Flow,
    req: SipRequest,
    readonly dir: Direction,
    readonly isInvite: boolean,
    readonly txPart: string,
    readonly loopPart: string,
    readonly startedAt: number,
  ) {
    this.#req = req;
    this.method = req.method;
    this.callId = req.callId;
    this.toTag = req.to.tag;
    this.fromTag = req.from.tag;
    this.outOfDialog = this.toTag === undefined;
  }

  /**
   * The peer of the trunk side of this transaction: the sender's, for a request from a trunk; the
   * one it is forwarded to, for a request from an upstream (undefined until routed).
   */
  trunkPeerName(): string | undefined {
    const f = this.inFlow;
    return f.side === INBOUND ? f.peer.name : this.peerName;
  }

  /**
   * The upstream side's target: the one being tried, for a request from a trunk (undefined until
   * routed); the one it came from, for a request from an upstream.
   */
  upstreamTarget(): UpstreamTarget | undefined {
    const f = this.inFlow;
    return f.side === INBOUND ? this.target : f.target;
  }

  /** The request as received; gone once the final response was sent (see releaseForwardingState). */
  get req(): SipRequest {
    if (this.#req === undefined) throw new Error("request of a finished transaction used");
    return this.#req;
  }

  /**
   * Once the final response went out nothing is forwarded any more: drop what only forwarding
   * needed (the parsed request included), so the transactions kept for RFC 6026's Accepted state
   * (64·T1: 160 000 of them at 5000 calls/s) stay small.
   */
  releaseForwardingState(keepSent: boolean): void {
    this.#req = undefined;
    // Over UDP the ACK for a retransmitted non-2xx is rebuilt from `sent`; over TLS/TCP never.
    if (!keepSent) this.sent = undefined;
    this.sentParsed = undefined;
    this.bestResponse = undefined;
    this.body = undefined;
    this.hints = undefined;
    this.extraHeaders = undefined;
  }

  onTimer(): void {
    this.guard = undefined;
    this.owner.onGuardTimer(this);
  }
}
