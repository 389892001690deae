// A flow, as the proxy core sees a connection: where a message came from and a way to send bytes
// back on it. Implemented by SipConnection over real sockets, and by in-memory fakes in tests.
import type { PeerConfig } from "../../config/schema/index.js";
import type { Direction } from "../direction.js";
import type { UpstreamTarget } from "../upstream/cluster.js";

export interface Flow {
  /** Process-unique connection number (also the `tgc` Record-Route hint). */
  readonly id: number;
  /** INBOUND (0): a connection with a trunk (peer); OUTBOUND (1): a connection with an upstream. */
  readonly side: Direction;
  /** Trunk-side flows: the authenticated peer. */
  readonly peer: PeerConfig | undefined;
  /** Upstream-side flows: the target this connection goes to. */
  readonly target: UpstreamTarget | undefined;
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

/** Where the core gets flows toward the next hop from. */
export interface FlowProvider {
  /** The pooled connection to an upstream target (opened on demand; writes queue while connecting). */
  toTarget(target: UpstreamTarget): Flow;
  /**
   * A flow toward a trunk: the connection with id `preferredId` when still open, else any open
   * authenticated connection of that peer (RFC 5923 alias), else a new connection to the peer's
   * sip.targets; undefined when none of that is possible.
   */
  toPeer(peer: string, preferredId: number): Flow | undefined;
  /** Another open flow to the same peer/target, without connecting (responses after a reconnect). */
  aliasOf(flow: Flow): Flow | undefined;
}
