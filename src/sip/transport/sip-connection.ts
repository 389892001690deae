// One SIP connection over TLS (or TCP toward a tcp upstream target): stream framing, CRLF
// keepalive pong, progress-based timeouts, bounded write queue. Messages are handed to the
// handler as framed Buffers; parsing and proxying happen there. The shared base does all of that;
// TrunkConnection (a downstream connection, with its peer) and UpstreamConnection (to one target
// of an upstream service) only add what makes each a Flow (flow.ts).
//
// Timeouts measure progress in complete SIP messages, never bytes: a peer that dribbles a byte
// now and then, or sends only CRLF keep-alives, must not hold a connection (and a slot of its
// per-peer cap) for ever. First message: a complete message within firstMessageMs of connect
// (keep-alives are answered but do not count). Incomplete message: once a message has begun it
// must be complete within messageCompleteMs. Idle: closed after idleMs without a complete message
// (keep-alives do not extend it).
import type { Socket } from "node:net";
import type { PeerConfig } from "../../config/schema/index.js";
import { SipStreamFramer, type FramingError, type FramingLimits } from "./framing.js";
import { INBOUND, OUTBOUND } from "../direction.js";
import type { TimerEntry, TimerTarget, Timers } from "../timer/timers.js";
import type { UpstreamTarget } from "../upstream/service.js";
import type { TrunkFlow, UpstreamFlow } from "./flow.js";
import type { SipTap } from "../trace/sip-tap.js";

export type ConnectionTimeout = "first_message" | "incomplete_message" | "idle";

/** A connection of either kind: `conn.side === INBOUND` narrows it. */
export type SipConnection = TrunkConnection | UpstreamConnection;

export interface ConnectionHandler {
  onMessage(conn: SipConnection, message: Buffer): void;
  onFramingError(conn: SipConnection, error: FramingError): void;
  /** The connection is being closed by one of its timeouts (before onClose). */
  onTimeout(conn: SipConnection, reason: ConnectionTimeout): void;
  onClose(conn: SipConnection): void;
}

export interface ConnectionTimeouts {
  /** A downstream connection must send its first message within this time. 0: no limit. */
  firstMessageMs: number;
  /** Closed after this long without receiving a complete message (keep-alives do not count). */
  idleMs: number;
  /** A message whose first bytes arrived must be complete within this time. */
  messageCompleteMs: number;
  /**
   * After the stream could no longer be framed: how long the connection stays open (reading
   * nothing more) so that answers to the requests it already carried can still go out on it.
   */
  lingerMs: number;
}

const PONG = Buffer.from("\r\n", "latin1");
/** A peer that does not read what we send gets disconnected before our memory fills up. */
const MAX_QUEUED_BYTES = 8 * 1024 * 1024;

const enum ConnTimer {
  FirstMessage = 1,
  Idle,
  Connect,
  Linger,
  Incomplete,
}

/** "SIP/" at the start: a response (status line), not a request. */
function isResponseBytes(b: Buffer): boolean {
  return b.length > 12 && b[0] === 83 && b[1] === 73 && b[2] === 80 && b[3] === 47;
}

/** "ACK ": a request that gets no response. */
function isAckBytes(b: Buffer): boolean {
  return b[0] === 65 && b[1] === 67 && b[2] === 75 && b[3] === 32;
}

/** A final (>= 200) status in a response we send ("SIP/2.0 NNN"). */
function isFinalResponseBytes(b: Buffer): boolean {
  return isResponseBytes(b) && b[8]! >= 50;
}

let nextId = 1;

// Write coalescing: the first write to a connection in a tick corks its socket; all are uncorked
// together once the current event (one socket read, one timer) has been handled. Messages that go
// to the same connection in one tick (a 180 and a 200 read in one chunk, a response and the next
// request under load) then leave as one TLS record and one syscall instead of one each.
let corked: SipConnectionBase[] = [];
let spare: SipConnectionBase[] = [];
let flushScheduled = false;

function flushCorked(): void {
  flushScheduled = false;
  const list = corked;
  corked = spare;
  spare = list;
  for (let i = 0; i < list.length; i++) list[i]!.uncork();
  list.length = 0;
}

abstract class SipConnectionBase implements TimerTarget {
  readonly id = nextId++;
  readonly transport: "TLS" | "TCP";
  #framer: SipStreamFramer;
  #open = true;
  /** Upstream connections: false until the TCP/TLS handshake completes. */
  connected: boolean;
  #gotMessage = false;
  /** When the message being received began (its first bytes arrived); -1 between messages. */
  #partialSince = -1;
  #partialTimer: TimerEntry | undefined;
  carriedClientTransactions = false;
  #corked = false;
  /** When the last complete message arrived (connect time before the first). */
  #lastMessageAt: number;
  #timer: TimerEntry | undefined;
  #connectTimer: TimerEntry | undefined;
  /**
   * Requests received (ACK aside) minus final responses sent on this connection: what a
   * connection that can no longer be framed waits for before it closes (linger).
   */
  #unanswered = 0;
  #sentBy: string | undefined;
  #viaPrefix: string | undefined;
  #lingering = false;
  readonly openedAt: number;
  /** SIP tracing (sip.trace), set by the connection manager; undefined when off. */
  tap: SipTap | undefined = undefined;

  constructor(
    readonly socket: Socket,
    tls: boolean,
    connected: boolean,
    private handler: ConnectionHandler,
    private timers: Timers,
    private timeouts: ConnectionTimeouts,
    limits: FramingLimits,
  ) {
    this.transport = tls ? "TLS" : "TCP";
    this.connected = connected;
    this.#framer = new SipStreamFramer(limits);
    this.openedAt = this.#lastMessageAt = timers.now();
    socket.setNoDelay(true);
    socket.on("data", (chunk: Buffer) => this.#onData(chunk));
    socket.on("error", () => this.destroy());
    socket.on("close", () => this.#closed());
    socket.on("end", () => socket.end());
    if (connected && timeouts.firstMessageMs > 0) {
      this.#timer = timers.start(this, ConnTimer.FirstMessage, timeouts.firstMessageMs);
    } else if (connected) this.#armIdle(timeouts.idleMs);
  }

  /** This connection as its concrete kind (what the handler and the tap are given). */
  protected abstract get self(): SipConnection;

  get open(): boolean {
    return this.#open;
  }

  /** For connections we open: fail them if the handshake does not finish in time. */
  armConnectTimeout(ms: number): void {
    this.#connectTimer = this.timers.start(this, ConnTimer.Connect, ms);
  }

  /** The TCP/TLS handshake of a connection we opened completed. */
  markConnected(): void {
    this.connected = true;
    this.timers.cancel(this.#connectTimer);
    this.#connectTimer = undefined;
    this.#lastMessageAt = this.timers.now();
    this.#armIdle(this.timeouts.idleMs);
  }

  /** host:port advertised on this connection (see Flow.sentBy); set by the connection manager. */
  get sentBy(): string | undefined {
    return this.#sentBy;
  }

  get viaPrefix(): string | undefined {
    return this.#viaPrefix;
  }

  advertise(sentBy: string): void {
    if (sentBy === this.#sentBy) return;
    this.#sentBy = sentBy;
    this.#viaPrefix = `SIP/2.0/${this.transport} ${sentBy};branch=`;
  }

  /** Whether a complete SIP message ever arrived on this connection (keep-alives aside). */
  get carriedMessage(): boolean {
    return this.#gotMessage;
  }

  /** When the last complete message arrived (the connect time before the first). */
  get lastMessageAt(): number {
    return this.#lastMessageAt;
  }

  send(data: Buffer): boolean {
    if (!this.#open) return false;
    if (this.socket.writableLength > MAX_QUEUED_BYTES) {
      this.destroy();
      return false;
    }
    if (!this.#corked) {
      this.#corked = true;
      this.socket.cork();
      corked.push(this);
      if (!flushScheduled) {
        flushScheduled = true;
        process.nextTick(flushCorked);
      }
    }
    this.socket.write(data);
    if (this.tap !== undefined && data !== PONG) this.tap.sent(this.self, data);
    if (this.#unanswered > 0 && isFinalResponseBytes(data) && --this.#unanswered === 0 && this.#lingering) this.end();
    return true;
  }

  /**
   * The request just handed over cannot be answered (no Via): stop reading, and close once every
   * other request this connection carried has its final response, at most after lingerMs.
   */
  closeUnanswerable(): void {
    this.#framer.close();
    if (this.#unanswered > 0) this.#unanswered--; // the unanswerable request itself
    this.#linger();
  }

  #linger(): void {
    if (this.#lingering) return;
    this.#lingering = true;
    if (this.#unanswered === 0) return this.end();
    this.timers.cancel(this.#connectTimer);
    this.#connectTimer = this.timers.start(this, ConnTimer.Linger, this.timeouts.lingerMs);
  }

  /** Called by the tick-end flush. */
  uncork(): void {
    if (!this.#corked) return;
    this.#corked = false;
    this.socket.uncork();
  }

  destroy(): void {
    if (!this.#open) return;
    this.socket.destroy();
    this.#closed();
  }

  /** Close after what was queued has been written (drain, connection limits). */
  end(): void {
    if (!this.#open) return;
    this.socket.end(() => this.destroy());
  }

  onTimer(kind: number): void {
    if (!this.#open) return;
    if (kind === ConnTimer.Connect) {
      if (!this.connected) this.destroy();
      return;
    }
    if (kind === ConnTimer.Linger) return this.destroy();
    if (kind === ConnTimer.Incomplete) {
      this.#partialTimer = undefined;
      if (this.#partialSince < 0) return;
      const waited = this.timers.now() - this.#partialSince;
      if (waited >= this.timeouts.messageCompleteMs) return this.#timedOut("incomplete_message");
      this.#partialTimer = this.timers.start(this, ConnTimer.Incomplete, this.timeouts.messageCompleteMs - waited);
      return;
    }
    if (kind === ConnTimer.FirstMessage) {
      this.#timer = undefined;
      if (!this.#gotMessage) return this.#timedOut("first_message");
      this.#armIdle(this.timeouts.idleMs - (this.timers.now() - this.#lastMessageAt));
      return;
    }
    // Idle: one timer per connection, re-armed only when it fires (messages just move the mark).
    const idleFor = this.timers.now() - this.#lastMessageAt;
    if (idleFor >= this.timeouts.idleMs) return this.#timedOut("idle");
    this.#armIdle(this.timeouts.idleMs - idleFor);
  }

  #timedOut(reason: ConnectionTimeout): void {
    this.handler.onTimeout(this.self, reason);
    this.destroy();
  }

  #armIdle(ms: number): void {
    // Quantised to 1 s so idle re-arms share the same timer queue (fixed durations are cheap).
    this.#timer = this.timers.start(this, ConnTimer.Idle, Math.max(1000, Math.ceil(ms / 1000) * 1000));
  }

  #onData(chunk: Buffer): void {
    const events = this.#framer.push(chunk);
    // Whatever completed here, a message still buffered after it began in this chunk at the earliest.
    if (events.length > 0) this.#partialSince = -1;
    for (let i = 0; i < events.length; i++) {
      if (!this.#open || this.#lingering) return;
      const ev = events[i]!;
      if (ev.type === "message") {
        this.#lastMessageAt = this.timers.now();
        if (!this.#gotMessage) {
          this.#gotMessage = true;
          if (this.#timer !== undefined) {
            this.timers.cancel(this.#timer);
            this.#armIdle(this.timeouts.idleMs);
          }
        }
        if (!isResponseBytes(ev.message) && !isAckBytes(ev.message)) this.#unanswered++;
        if (this.tap !== undefined) this.tap.received(this.self, ev.message);
        this.handler.onMessage(this.self, ev.message);
      } else if (ev.type === "ping") {
        // RFC 5626 §4.4.1: CRLFCRLF ping → CRLF pong. Not progress: no timer moves.
        this.send(PONG);
      } else {
        this.handler.onFramingError(this.self, ev.error);
        if (ev.error.fatal) return this.#linger();
      }
    }
    if (this.#open && !this.#lingering) this.#trackPartial();
  }

  /** Start (or stop) the clock of a message whose first bytes are buffered. */
  #trackPartial(): void {
    if (!this.#framer.midMessage) {
      this.#partialSince = -1;
      return;
    }
    if (this.#partialSince >= 0) return; // the same message, still incomplete: its clock runs on
    this.#partialSince = this.timers.now();
    if (this.#partialTimer === undefined) this.#partialTimer = this.timers.start(this, ConnTimer.Incomplete, this.timeouts.messageCompleteMs);
  }

  #closed(): void {
    if (!this.#open) return;
    this.#open = false;
    this.timers.cancel(this.#timer);
    this.timers.cancel(this.#connectTimer);
    this.timers.cancel(this.#partialTimer);
    this.#timer = this.#connectTimer = this.#partialTimer = undefined;
    this.handler.onClose(this.self);
  }
}

/**
 * A downstream connection: accepted by the mTLS listener (the peer was identified by its client
 * certificate before this object exists) or opened by trunkgate toward the peer's sip.targets.
 * Always TLS.
 */
export class TrunkConnection extends SipConnectionBase implements TrunkFlow {
  readonly side = INBOUND;

  constructor(
    socket: Socket,
    readonly peer: PeerConfig,
    connected: boolean,
    handler: ConnectionHandler,
    timers: Timers,
    timeouts: ConnectionTimeouts,
    limits: FramingLimits,
  ) {
    super(socket, true, connected, handler, timers, timeouts, limits);
  }

  protected override get self(): TrunkConnection {
    return this;
  }
}

/** The pooled connection to one target of an upstream service (TLS or TCP as the target says). */
export class UpstreamConnection extends SipConnectionBase implements UpstreamFlow {
  readonly side = OUTBOUND;

  constructor(
    socket: Socket,
    readonly target: UpstreamTarget,
    tls: boolean,
    handler: ConnectionHandler,
    timers: Timers,
    timeouts: ConnectionTimeouts,
    limits: FramingLimits,
  ) {
    super(socket, tls, false, handler, timers, timeouts, limits);
  }

  protected override get self(): UpstreamConnection {
    return this;
  }
}
