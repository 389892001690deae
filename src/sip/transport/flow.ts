// A flow, as the proxy core sees a connection: where a message came from and a way to send bytes
// back on it. Implemented by TrunkConnection/UpstreamConnection over real sockets
// (sip-connection.ts), and by in-memory fakes in tests.
//
// Two kinds, told apart by `side`: a trunk flow (downstream: a connection with a peer, accepted by
// the listener or opened toward the peer's sip.targets) always knows its peer, because the mTLS
// listener identifies the peer before the connection object exists; an upstream flow always knows
// the target (one address of an upstream service) it goes to. `flow.side === INBOUND` narrows the
// type, so no code needs a non-null assertion on either field.
import type { PeerConfig } from "../../config/schema/index.js";
import { INBOUND, type OUTBOUND } from "../direction.js";
import type { UpstreamTarget } from "../upstream/service.js";

interface FlowBase {
  /** Process-unique connection number (also the `tgc` Record-Route hint). */
  readonly id: number;
  /** Via transport token for messages sent on this flow. */
  readonly transport: "TLS" | "TCP";
  /**
   * host:port trunkgate advertises on this flow (Via, its Record-Route entry): sip.advertisedHost,
   * else the flow's local address (identity.ts). Undefined: use the proxy-wide default.
   */
  readonly sentBy?: string | undefined;
  /** `SIP/2.0/<transport> <sentBy>;branch=`, built once per flow (a branch is appended per request). */
  readonly viaPrefix?: string | undefined;
  readonly open: boolean;
  /**
   * Set by the proxy core once it started a client transaction on this flow: only such flows make
   * it scan its client transactions when they close.
   */
  carriedClientTransactions?: boolean;
  /** Queue bytes for sending; false when the flow is closed (nothing was queued). */
  send(data: Buffer): boolean;
}

/** A downstream flow: a connection with a trunk, whose peer is known (authenticated). */
export interface TrunkFlow extends FlowBase {
  readonly side: typeof INBOUND;
  /** The configured identity of the trunk at the other end. */
  readonly peer: PeerConfig;
}

/** An upstream flow: the pooled connection to one target of an upstream service. */
export interface UpstreamFlow extends FlowBase {
  readonly side: typeof OUTBOUND;
  readonly target: UpstreamTarget;
}

export type Flow = TrunkFlow | UpstreamFlow;

/** The peer name of a trunk flow, for log fields and `peer` labels; undefined for an upstream flow. */
export function peerNameOf(flow: Flow): string | undefined {
  return flow.side === INBOUND ? flow.peer.name : undefined;
}

/** The target of an upstream flow; undefined for a trunk flow. */
export function targetOf(flow: Flow): UpstreamTarget | undefined {
  return flow.side === INBOUND ? undefined : flow.target;
}

/** The target label of an upstream flow (the `upstream` log field); undefined for a trunk flow. */
export function upstreamLabelOf(flow: Flow): string | undefined {
  return flow.side === INBOUND ? undefined : flow.target.label;
}

/** Where the core gets flows toward the next hop from. */
export interface FlowProvider {
  /** The pooled connection to an upstream target (opened on demand; writes queue while connecting). */
  toTarget(target: UpstreamTarget): UpstreamFlow;
  /**
   * A flow toward a trunk: the connection with id `preferredId` when still open, else any open
   * connection of that peer (RFC 5923 alias), else a new connection to the peer's sip.targets;
   * undefined when none of that is possible.
   */
  toPeer(peer: string, preferredId: number): TrunkFlow | undefined;
  /** Another open flow to the same peer/target, without connecting (responses after a reconnect). */
  aliasOf(flow: Flow): Flow | undefined;
}
