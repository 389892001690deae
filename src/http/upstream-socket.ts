// The plumbing of one lean upstream connection: its socket (TCP, or TLS with the client's context
// built once, SNI by the rules of upstream-pool.ts, the last session offered again) and its phase
// timers (connect, response head, body idle, keep-alive), made once per connection and re-armed
// with refresh(): no timer is allocated per request.
import { connect as netConnect, type Socket } from "node:net";
import { connect as tlsConnect, type SecureContext } from "node:tls";
import type { HeadLimits } from "./h1-head.js";

export interface ConnectionOptions {
  host: string;
  port: number;
  /** Set for https: the context built once from trunkgate's client certificate and trust store. */
  secureContext: SecureContext | undefined;
  /** SNI and the name checked against the certificate; undefined for an IP address (RFC 6066 §3). */
  servername: string | undefined;
  connectMs: number;
  responseMs: number;
  bodyIdleMs: number;
  keepAliveMs: number;
  limits: HeadLimits;
}

export function openUpstreamSocket(o: ConnectionOptions, session: Buffer | undefined): Socket {
  const s = o.secureContext
    ? tlsConnect({
        host: o.host,
        port: o.port,
        secureContext: o.secureContext,
        ALPNProtocols: ["http/1.1"],
        rejectUnauthorized: true,
        ...(o.servername !== undefined ? { servername: o.servername } : {}),
        ...(session !== undefined ? { session } : {}),
      })
    : netConnect({ host: o.host, port: o.port });
  // As undici: no Nagle delay on small heads, TCP keep-alive probes on long idle connections.
  s.setNoDelay(true);
  s.setKeepAlive(true, 60_000);
  return s;
}

export const enum Phase {
  Connect,
  /** Request on the wire, response head awaited. */
  Response,
  BodyIdle,
  KeepAlive,
}

/** One timer per phase; only the armed one counts when it fires (the others are left to lapse). */
export class PhaseTimers {
  readonly #timers: (NodeJS.Timeout | undefined)[] = [undefined, undefined, undefined, undefined];
  armed: Phase | undefined = undefined;

  constructor(
    private readonly ms: number[],
    private readonly fire: (phase: Phase) => void,
  ) {}

  arm(phase: Phase): void {
    this.armed = phase;
    const t = this.#timers[phase];
    if (t !== undefined) t.refresh();
    else {
      const n = setTimeout(() => this.#fired(phase), this.ms[phase]);
      n.unref();
      this.#timers[phase] = n;
    }
  }

  disarm(): void {
    this.armed = undefined;
  }

  /** Activity in `phase`: its clock starts again (nothing when another phase is armed). */
  refresh(phase: Phase): void {
    if (this.armed === phase) this.#timers[phase]!.refresh();
  }

  setMs(phase: Phase, ms: number): void {
    if (ms === this.ms[phase]) return;
    this.ms[phase] = ms;
    clearTimeout(this.#timers[phase]);
    this.#timers[phase] = undefined;
    if (this.armed === phase) this.arm(phase);
  }

  clear(): void {
    this.armed = undefined;
    for (const t of this.#timers) clearTimeout(t);
  }

  #fired(phase: Phase): void {
    if (this.armed === phase) this.fire(phase);
  }
}
