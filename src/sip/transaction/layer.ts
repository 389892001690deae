// The transaction layer (RFC 3261 §17): owns the server and client transaction tables, matches
// requests (§17.2.3) and responses (§17.1.3) to them, applies what each transition returns
// (ClientAction, SendResult, AckAction), keeps RFC 6026's Accepted state as compact records over
// TLS/TCP (accepted.ts), and fails the client transactions of a flow that closed (§17.1.4).
// The proxy logic is its user (TransactionUser): it gets typed messages and transaction events,
// never a call from inside a transition.
import type { Direction } from "../direction.js";
import type { SipRequest, SipResponse } from "../parse/index.js";
import type { KeyExpiryTarget, Timers } from "../timer/timers.js";
import type { Flow } from "../transport/flow.js";
import { AcceptedInviteClient } from "./accepted.js";
import { InviteClientTransaction } from "./invite-client.js";
import { InviteServerTransaction } from "./invite-server.js";
import { NonInviteClientTransaction } from "./non-invite-client.js";
import { NonInviteServerTransaction } from "./non-invite-server.js";
import { serverKey } from "./server-key.js";
import {
  AckAction, ClientAction, ClientState, SendResult,
  type ClientFailure, type ClientTxOwner, type ServerTxOwner, type TxTiming,
} from "./types.js";

export type ServerTx<C> = InviteServerTransaction<C> | NonInviteServerTransaction<C>;
export type ClientTx<C> = InviteClientTransaction<C> | NonInviteClientTransaction<C>;

/** What the layer needs to know of the user's per-request context. */
export interface TxContext<C> {
  /** The flow the request came in on (responses go back there). */
  readonly inFlow: Flow;
  readonly dir: Direction;
  /** The flow the current attempt was forwarded on. */
  readonly clientFlow: Flow | undefined;
  /** The current attempt's client transaction. */
  readonly client: ClientTx<C> | undefined;
  /** The peer of the trunk side, kept in the Accepted record for the `peer` metric label. */
  trunkPeerName(): string | undefined;
}

/** The proxy core, as the transaction layer sees it. */
export interface TransactionUser<C> {
  /** A response for the TU: provisionals, the final, and (INVITE, Accepted) 2xx retransmissions. */
  clientResponse(tx: ClientTx<C>, res: SipResponse, status: number): void;
  /** INVITE: send the ACK for a non-2xx final response (again on each retransmission). */
  sendAck(tx: ClientTx<C>, res: SipResponse): void;
  retransmitRequest(tx: ClientTx<C>): void;
  clientFailed(tx: ClientTx<C>, why: ClientFailure): void;
  clientTimerC(tx: ClientTx<C>): void;
  retransmitResponse(tx: ServerTx<C>): void;
  /** An ACK to forward end to end (a 2xx's ACK, or one matching an INVITE in Accepted). */
  forwardAck(side: Direction, ack: SipRequest): void;
  /** A 2xx retransmission for an INVITE whose Accepted state is a compact record. */
  accepted2xx(rec: AcceptedInviteClient, res: SipResponse): void;
  /** A server transaction ended (removed from the table). */
  serverEnded(tx: ServerTx<C>): void;
  /** A compact Accepted record of the server side expired. */
  acceptedEnded(): void;
}

/** How a response was matched (§17.1.3). */
export const enum ResponseMatch {
  /** Given to its transaction (or absorbed by the rules of its state). */
  Done = 0,
  /** No transaction: the user decides (health probe, stray 2xx, drop). */
  Stray,
  /** Matched but with a single Via: nothing it could be forwarded to. */
  Malformed,
}

export class TransactionLayer<C extends TxContext<C>> implements ClientTxOwner<ClientTx<C>>, ServerTxOwner<ServerTx<C>> {
  // Server transactions by server key (INVITE/ACK in one table, other methods in another: a CANCEL
  // shares its INVITE's branch but is a transaction of its own). Over TLS/TCP an answered INVITE's
  // entry becomes the Direction it came from for its Accepted state (see accepted.ts).
  readonly #sInvite = new Map<string, InviteServerTransaction<C> | Direction>();
  readonly #sOther = new Map<string, NonInviteServerTransaction<C>>();
  // Client transactions by the branch we generated; answered INVITEs over TLS/TCP: AcceptedInviteClient.
  readonly #cInvite = new Map<string, InviteClientTransaction<C> | AcceptedInviteClient>();
  readonly #cOther = new Map<string, NonInviteClientTransaction<C>>();
  #tu!: TransactionUser<C>;

  /** Ends the compact Accepted-state records (64·T1 after the 2xx: Timer L / Timer M). */
  readonly #serverAcceptedExpiry: KeyExpiryTarget = {
    onKeyExpired: (key) => {
      if (typeof this.#sInvite.get(key) !== "number") return;
      this.#sInvite.delete(key);
      this.#tu.acceptedEnded();
    },
  };
  readonly #clientAcceptedExpiry: KeyExpiryTarget = {
    onKeyExpired: (branch) => {
      if (this.#cInvite.get(branch) instanceof AcceptedInviteClient) this.#cInvite.delete(branch);
    },
  };

  constructor(
    private readonly timers: Timers,
    private readonly timing: TxTiming,
  ) {}

  /** Set once, by the proxy core that owns this layer. */
  bind(tu: TransactionUser<C>): void {
    this.#tu = tu;
  }

  /** Server transactions alive (including those kept after the final response, RFC 6026). */
  get serverCount(): number {
    return this.#sInvite.size + this.#sOther.size;
  }

  get clientCount(): number {
    return this.#cInvite.size + this.#cOther.size;
  }

  // ------------------------------------------------------------------ server side

  /**
   * A request that matches a server transaction (§17.2.3) is a retransmission: the last response
   * goes out again (or, in Accepted over TLS/TCP, it is absorbed). True when it matched.
   */
  absorbRetransmission(key: string, isInvite: boolean): boolean {
    const existing = isInvite ? this.#sInvite.get(key) : this.#sOther.get(key);
    if (existing === undefined) return false;
    // A number: an answered INVITE in Accepted over TLS/TCP, where retransmissions are absorbed.
    if (typeof existing !== "number" && existing.receiveRequestRetransmission()) this.#tu.retransmitResponse(existing);
    return true;
  }

  createServer(key: string, ctx: C, isInvite: boolean): ServerTx<C> {
    if (isInvite) {
      const stx = new InviteServerTransaction<C>(key, ctx, this, this.timers, this.timing);
      this.#sInvite.set(key, stx);
      return stx;
    }
    const stx = new NonInviteServerTransaction<C>(key, ctx, this, this.timers, this.timing);
    this.#sOther.set(key, stx);
    return stx;
  }

  /** The INVITE server transaction a CANCEL names (§9.2), its compact Accepted record, or undefined. */
  inviteFor(req: SipRequest): InviteServerTransaction<C> | Direction | undefined {
    return this.#sInvite.get(serverKey(req));
  }

  /**
   * An ACK: for a non-2xx final it matches its INVITE's transaction and is absorbed there (our
   * client transaction sent its own ACK); in Accepted (RFC 6026) or with no transaction (the ACK
   * for a 2xx, a transaction of its own, §17.1.1.3) it is forwarded end to end.
   */
  receiveAck(side: Direction, ack: SipRequest): void {
    const stx = this.#sInvite.get(serverKey(ack));
    if (stx === undefined) return this.#tu.forwardAck(side, ack);
    if (typeof stx === "number") return this.#tu.forwardAck(stx, ack);
    if (stx.receiveAck() === AckAction.Forward) this.#tu.forwardAck(stx.ctx.inFlow.side, ack);
  }

  /** First half of sending a response: whether it may go out (the transaction's state changes). */
  sendResponse(stx: ServerTx<C>, status: number, bytes: Buffer): SendResult {
    return stx.sendResponse(status, bytes);
  }

  /** Second half, after the user put the response on the wire and did its bookkeeping. */
  settle(stx: ServerTx<C>, sent: SendResult): void {
    if (sent === SendResult.SentThenEnd) stx.settle();
    else if (sent === SendResult.SentAccepted && stx instanceof InviteServerTransaction && !this.#takeOverAccepted(stx)) stx.settle();
  }

  /**
   * Over TLS/TCP, a 2xx to an INVITE just went out: replace both transactions by compact records
   * (accepted.ts) for the 64·T1 of RFC 6026's Accepted state. Only in the plain case, where both
   * sides reached Accepted with this attempt; anything unusual keeps the full transactions.
   */
  #takeOverAccepted(stx: InviteServerTransaction<C>): boolean {
    if (!this.timing.reliable) return false;
    const ctx = stx.ctx;
    const c = ctx.client;
    if (!(c instanceof InviteClientTransaction)) return false;
    if (c.state !== ClientState.Accepted || this.#sInvite.get(stx.key) !== stx || this.#cInvite.get(c.branch) !== c) return false;
    const lifetime = 64 * this.timing.t1;
    stx.handOffAccepted();
    c.handOffAccepted();
    this.#cInvite.set(c.branch, new AcceptedInviteClient(ctx.inFlow, ctx.dir, ctx.trunkPeerName()));
    this.timers.expireLater(this.#clientAcceptedExpiry, c.branch, lifetime);
    this.#sInvite.set(stx.key, ctx.dir);
    this.timers.expireLater(this.#serverAcceptedExpiry, stx.key, lifetime);
    return true;
  }

  // ------------------------------------------------------------------ client side

  createClient(branch: string, ctx: C, isInvite: boolean): ClientTx<C> {
    if (isInvite) {
      const itx = new InviteClientTransaction<C>(branch, ctx, this, this.timers, this.timing);
      this.#cInvite.set(branch, itx);
      return itx;
    }
    const ntx = new NonInviteClientTransaction<C>(branch, ctx, this, this.timers, this.timing);
    this.#cOther.set(branch, ntx);
    return ntx;
  }

  /** A response with one of our branches (§17.1.3: branch + CSeq method). */
  receiveResponse(branch: string, res: SipResponse): ResponseMatch {
    const method = res.cseq.method;
    let tx: ClientTx<C> | undefined;
    if (method === "INVITE") {
      const c = this.#cInvite.get(branch);
      if (c instanceof AcceptedInviteClient) {
        if (res.viaCount < 2) return ResponseMatch.Malformed;
        // RFC 6026 §7.2: in Accepted only 2xx (retransmissions) reach the TU; others are dropped.
        if (res.status >= 200 && res.status < 300) this.#tu.accepted2xx(c, res);
        return ResponseMatch.Done;
      }
      tx = c;
    } else if (method === "CANCEL") {
      // The answer to a CANCEL we sent (hop by hop): absorbed.
      return this.#cInvite.has(branch) ? ResponseMatch.Done : ResponseMatch.Stray;
    } else tx = this.#cOther.get(branch);
    if (tx === undefined) return ResponseMatch.Stray;
    if (res.viaCount < 2) return ResponseMatch.Malformed;
    const status = res.status;
    switch (tx.receiveResponse(status)) {
      case ClientAction.PassUp:
        this.#tu.clientResponse(tx, res, status);
        break;
      case ClientAction.PassUpAccepted:
        this.#tu.clientResponse(tx, res, status);
        if (tx instanceof InviteClientTransaction) tx.settleAccepted();
        break;
      case ClientAction.AckPassUpCompleted:
        this.#tu.sendAck(tx, res);
        this.#tu.clientResponse(tx, res, status);
        tx.settleCompleted();
        break;
      case ClientAction.PassUpCompleted:
        this.#tu.clientResponse(tx, res, status);
        tx.settleCompleted();
        break;
      case ClientAction.Ack:
        this.#tu.sendAck(tx, res);
        break;
      default:
        break;
    }
    return ResponseMatch.Done;
  }

  /** A flow closed: every client transaction still waiting on it failed (§8.1.3.1, §17.1.4). */
  flowClosed(flow: Flow): void {
    // The scan below walks every client transaction (RFC 6026 keeps INVITE ones 64·T1, so tens of
    // thousands at a few thousand calls/s): skip it for flows no request was ever forwarded on,
    // e.g. a trunk's connection closing after each call (one TLS connection per call).
    if (flow.carriedClientTransactions !== true) return;
    const failed: ClientTx<C>[] = [];
    for (const tx of this.#cInvite.values()) {
      if (!(tx instanceof AcceptedInviteClient) && tx.running && tx.ctx.clientFlow === flow) failed.push(tx);
    }
    for (const tx of this.#cOther.values()) if (tx.running && tx.ctx.clientFlow === flow) failed.push(tx);
    for (const tx of failed) tx.transportError();
  }

  // ------------------------------------------------------------------ timer-driven events

  retransmitRequest(tx: ClientTx<C>): void {
    this.#tu.retransmitRequest(tx);
  }

  clientFailed(tx: ClientTx<C>, why: ClientFailure): void {
    this.#tu.clientFailed(tx, why);
  }

  clientTimerC(tx: ClientTx<C>): void {
    this.#tu.clientTimerC(tx);
  }

  clientTerminated(tx: ClientTx<C>): void {
    if (tx instanceof InviteClientTransaction) this.#cInvite.delete(tx.branch);
    else this.#cOther.delete(tx.branch);
  }

  retransmitResponse(tx: ServerTx<C>): void {
    this.#tu.retransmitResponse(tx);
  }

  ackTimeout(): void {
    // Timer H: the trunk never ACKed our non-2xx final. Nothing to undo.
  }

  serverTerminated(tx: ServerTx<C>): void {
    if (tx instanceof InviteServerTransaction) this.#sInvite.delete(tx.key);
    else this.#sOther.delete(tx.key);
    this.#tu.serverEnded(tx);
  }
}
