// What every transaction state machine shares: timer values, timer kinds, and the callbacks into
// the transaction user (the proxy core). Transactions are message-agnostic: they see status codes
// and opaque message objects, and ask their owner to put bytes on the wire. That keeps them pure
// (testable with a manual clock and no sockets) and keeps parsing out of the state logic.

/** RFC 3261 §17 timer base values plus whether the transport is reliable (TLS/TCP: yes). */
export interface TxTiming {
  t1: number;
  t2: number;
  t4: number;
  /** Reliable transports: no retransmissions, and timers D, I, J, K are zero (§17.1.1.2, §17.2). */
  reliable: boolean;
  /** Timer C for proxied INVITEs (§16.6 step 11: > 3 min), restarted on each provisional. */
  timerC: number;
}

export const DEFAULT_TIMING: TxTiming = { t1: 500, t2: 4000, t4: 5000, reliable: true, timerC: 180_001 };

/** Timer kinds (numbers, so a timer is an (object, kind) pair and needs no closure). */
export const enum TimerKind {
  A = 1,
  B,
  C,
  D,
  M,
  E,
  F,
  K,
  G,
  H,
  I,
  J,
  L,
  /** Proxy failover: no provisional from this target in time, try the next (INVITE client). */
  Failover,
}

export const enum ClientState {
  Calling = 1, // INVITE: request sent, nothing heard (non-INVITE: "Trying")
  Proceeding,
  Accepted, // RFC 6026: INVITE 2xx received; further 2xx pass to the TU until Timer M
  Completed,
  Terminated,
}

export const enum ServerState {
  Proceeding = 1, // non-INVITE starts in "Trying", which behaves the same for a proxy
  Completed,
  Confirmed,
  Accepted, // RFC 6026: INVITE 2xx sent; ACKs and 2xx retransmissions pass through until Timer L
  Terminated,
}

/** Why a client transaction ended without a final response. */
export type ClientFailure = "timeout" | "transport" | "failover";

export interface ClientTxOwner<T> {
  /** Unreliable transports only: put the request on the wire again. */
  retransmitRequest(tx: T): void;
  /** A response for the TU: provisionals, the final, and (INVITE, Accepted) 2xx retransmissions. */
  clientResponse(tx: T, response: unknown, status: number): void;
  /** INVITE only: send the ACK for a non-2xx final response (again on each retransmission). */
  sendAck(tx: T, response: unknown): void;
  /** No final response: Timer B/F fired or the transport failed (§8.1.3.1: treat as 408/503). */
  clientFailed(tx: T, why: ClientFailure): void;
  /** INVITE only: Timer C fired (the TU cancels if a provisional came, else acts as on Timer B). */
  clientTimerC(tx: T): void;
  /** The transaction is gone: drop it from the matching table. */
  clientTerminated(tx: T): void;
}

export interface ServerTxOwner<T> {
  /** Put the last response on the wire again (request retransmission, or Timer G). */
  retransmitResponse(tx: T): void;
  /** INVITE only, Accepted: an ACK matched this transaction (RFC 6026): forward it end to end. */
  ackInAccepted(tx: T, ack: unknown): void;
  /**
   * INVITE only, reliable transports: a 2xx was just sent. Return true when the owner keeps its
   * own compact record of the Accepted state (over TLS/TCP nothing is retransmitted from it, so
   * it only has to recognise the INVITE, its ACK and its CANCEL for Timer L): the transaction then
   * ends at once, starts no Timer L and is not reported terminated (the owner replaced it).
   */
  takeOverAccepted?(tx: T): boolean;
  /** INVITE only: Timer H fired (no ACK for a non-2xx final). */
  ackTimeout(tx: T): void;
  serverTerminated(tx: T): void;
}
