// What every transaction state machine shares: timer values, timer kinds, the actions a transition
// returns and the timer callbacks into the owner (the transaction layer, layer.ts). Transactions
// never see a message: they take a status code, change state and return what the layer must do
// with the message it holds (ClientAction, SendResult, AckAction). That keeps them pure (testable
// with a manual clock and no sockets), keeps parsing out of the state logic, and means nothing
// re-enters the proxy core in the middle of a transition; only timers call the owner.

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

/**
 * What the transaction layer does after a client transaction took in a response. The transaction
 * changes state and returns this; it never calls its owner mid-transition (the proxy core used
 * to be re-entered from inside a transition).
 */
export const enum ClientAction {
  /** Nothing: dropped or absorbed (late non-2xx in Accepted, anything after Terminated). */
  Drop = 0,
  /** Pass the response to the TU (provisionals; 2xx retransmissions in Accepted). */
  PassUp,
  /** INVITE: the first 2xx. Pass it up, then call settleAccepted() (Timer M, unless handed off). */
  PassUpAccepted,
  /** Non-INVITE: the final response. Pass it up, then settleCompleted() (Timer K or end). */
  PassUpCompleted,
  /** INVITE non-2xx final: send the ACK, pass it up, then settleCompleted() (Timer D or end). */
  AckPassUpCompleted,
  /** INVITE, Completed: a retransmitted non-2xx final: ACK it again, nothing else. */
  Ack,
}

/** What the layer does after a response was offered to a server transaction (sendResponse). */
export const enum SendResult {
  /** Not to be sent: a final response went out already. */
  Refused = 0,
  /** Send it; nothing else to do. */
  Sent,
  /** Send it, then settle(): the transaction ends (non-INVITE final over TLS/TCP: Timer J = 0). */
  SentThenEnd,
  /** INVITE 2xx: send it, then either replace the transaction by a compact record or settle() (Timer L). */
  SentAccepted,
}

/** What an ACK that matched an INVITE server transaction asks for. */
export const enum AckAction {
  Absorb = 0,
  /** Accepted (RFC 6026): forward the ACK end to end. */
  Forward,
}

/** Timer-driven events of client transactions (timers fire outside any other transition). */
export interface ClientTxOwner<T> {
  /** Unreliable transports only: put the request on the wire again. */
  retransmitRequest(tx: T): void;
  /** No final response: Timer B/F fired or the transport failed (§8.1.3.1: treat as 408/503). */
  clientFailed(tx: T, why: ClientFailure): void;
  /** INVITE only: Timer C fired (the TU cancels if a provisional came, else acts as on Timer B). */
  clientTimerC(tx: T): void;
  /** The transaction is gone: drop it from the matching table. */
  clientTerminated(tx: T): void;
}

/** Timer-driven events of server transactions. */
export interface ServerTxOwner<T> {
  /** Put the last response on the wire again (Timer G, or a request retransmission). */
  retransmitResponse(tx: T): void;
  /** INVITE only: Timer H fired (no ACK for a non-2xx final). */
  ackTimeout(tx: T): void;
  serverTerminated(tx: T): void;
}
