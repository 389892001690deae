// Per-peer admission control and overload protection: the gate in front of the proxy core for
// requests from trunks (server.ts calls admit() before core.onRequest). A refused request is
// answered 503 + Retry-After statelessly on its own connection and never reaches the core;
// responses and requests from upstream services never come here. Decisions: peer-admission.ts;
// call counting: call-tracker.ts (calls in setup) and the dialog table's events (answered calls).
import type { Registry } from "prom-client";
import type { PeerConfig } from "../../config/schema/index.js";
import type { SipAdmissionConfig } from "../../config/schema/admission.js";
import type { Logger } from "../../observability/logger.js";
import type { Dialog, DialogListener } from "../dialog/dialogs.js";
import { INBOUND, type SipMetrics } from "../metrics.js";
import { buildResponse } from "../message/build.js";
import type { SipRequest } from "../parse/index.js";
import type { CallObserver } from "../proxy/call-observer.js";
import type { Flow, TrunkFlow } from "../transport/flow.js";
import { CallTracker, setupKey } from "./call-tracker.js";
import { peerLimits } from "./limits.js";
import { AdmissionMetrics } from "./metrics.js";
import { EventLoopLagSampler, OverloadDetector } from "./overload.js";
import { PeerAdmission, RequestKind, requestKind, type RejectionReason } from "./peer-admission.js";

/** What admit() decided. */
export const enum Admit {
  /** Answered 503 here: do not hand it to the core. */
  Refused,
  Passed,
  /** Passed, and counted as a new call: tell notTaken() if the core does not take it. */
  NewCall,
}

/** Overload ends after this long without a late sample (and at least 5 samples). */
const OVERLOAD_HOLD_MS = 1000;
/** At most one log line per peer this often while its requests are being refused. */
const REFUSAL_LOG_MS = 10_000;

export interface AdmissionControlOptions {
  config: SipAdmissionConfig;
  peers: readonly PeerConfig[];
  registry: Registry;
  logger: Logger;
  sipMetrics: SipMetrics;
  /** Monotonic ms (the proxy's timers' clock). */
  now: () => number;
}

export class AdmissionControl implements DialogListener {
  readonly #peers = new Map<string, PeerAdmission>();
  readonly #tracker = new CallTracker();
  readonly #metrics: AdmissionMetrics;
  readonly #overload: OverloadDetector;
  readonly #o: AdmissionControlOptions;
  readonly #lastLogged = new Map<string, number>();
  #config: SipAdmissionConfig;
  #sampler: EventLoopLagSampler | undefined;
  #lastLagMs = 0;

  constructor(o: AdmissionControlOptions) {
    this.#o = o;
    this.#config = o.config;
    this.#metrics = new AdmissionMetrics(o.registry, () => this.#peers.values());
    const now = o.now();
    for (const p of o.peers) {
      this.#peers.set(p.name, new PeerAdmission(p.name, peerLimits(o.config, p), now));
      this.#metrics.addPeer(p.name);
    }
    this.#overload = new OverloadDetector(o.config.eventLoopLagMs, holdMs(o.config));
  }

  get overloaded(): boolean {
    return this.#overload.overloaded;
  }

  /** The peer's admission state (tests, stats); undefined for a name not configured. */
  peer(name: string): PeerAdmission | undefined {
    return this.#peers.get(name);
  }

  /** Calls in setup, all peers together (a leak check for tests). */
  get callsInSetup(): number {
    return this.#tracker.size;
  }

  // ---------------------------------------------------------------- the gate

  /** A request from a trunk: let it through, or answer it 503 + Retry-After here. */
  admit(flow: TrunkFlow, req: SipRequest): Admit {
    const peer = this.#peers.get(flow.peer.name);
    if (peer === undefined) return Admit.Passed;
    const kind = requestKind(req.method, req.to.tag !== undefined);
    // A retransmitted INVITE of a call in setup is the same call: the core absorbs it.
    const key = kind === RequestKind.NewCall ? setupKey(req.callId, req.from.tag) : "";
    if (kind === RequestKind.NewCall && this.#tracker.has(key)) return Admit.Passed;
    const now = this.#o.now();
    const reason = peer.decide(kind, now, this.#overload.overloaded);
    if (reason !== undefined) {
      this.#refuse(flow, req, peer, reason, now);
      return Admit.Refused;
    }
    if (kind !== RequestKind.NewCall) return Admit.Passed;
    this.#tracker.started(key, peer, flow.id, now);
    return Admit.NewCall;
  }

  /** The core answered a new call's INVITE itself without a transaction (400, 488, …): not a call. */
  notTaken(req: SipRequest): void {
    this.#tracker.ended(setupKey(req.callId, req.from.tag));
  }

  #refuse(flow: Flow, req: SipRequest, peer: PeerAdmission, reason: RejectionReason, now: number): void {
    flow.send(buildResponse(req, 503, "Service Unavailable", { headers: peer.limits.retryAfter }));
    this.#o.sipMetrics.response(503, req.method, INBOUND);
    this.#metrics.rejected(peer.name, reason);
    const last = this.#lastLogged.get(peer.name);
    if (last === undefined || now - last >= REFUSAL_LOG_MS) {
      this.#lastLogged.set(peer.name, now);
      this.#o.logger.warn(
        { peer: peer.name, reason, method: req.method, calls: peer.activeCalls, lagMs: Math.round(this.#lastLagMs) },
        "admission control: refusing requests from a peer (503; see trunkgate_sip_admission_rejections_total)",
      );
    }
  }

  // ---------------------------------------------------------------- call events

  /** The core's call events, passed on to `inner` (call records) after counting calls that end. */
  observe(inner: CallObserver | undefined): CallObserver {
    return {
      inviteCompleted: (c) => {
        if (c.direction === INBOUND) this.#tracker.ended(setupKey(c.req.callId, c.req.from.tag));
        inner?.inviteCompleted(c);
      },
      byeCompleted: (callId, direction) => inner?.byeCompleted(callId, direction),
    };
  }

  dialogAdded(d: Dialog): void {
    if (d.initiator !== INBOUND) return;
    const p = this.#peers.get(d.peer);
    if (p !== undefined) p.dialogs++;
  }

  dialogRemoved(d: Dialog): void {
    if (d.initiator !== INBOUND) return;
    const p = this.#peers.get(d.peer);
    if (p !== undefined && p.dialogs > 0) p.dialogs--;
  }

  /** A connection closed: a trunk's calls still in setup on it end. */
  connectionClosed(flow: Flow): void {
    if (flow.side === INBOUND) this.#tracker.connectionClosed(flow.id);
  }

  /** Periodic: forgets calls in setup older than any INVITE transaction can live. */
  sweep(maxSetupMs: number): void {
    const n = this.#tracker.sweep(this.#o.now(), maxSetupMs);
    if (n > 0) this.#o.logger.warn({ calls: n, maxSetupMs }, "admission control: forgot calls in setup that never ended (no final response seen)");
  }

  // ---------------------------------------------------------------- lifecycle, live reload

  start(): void {
    this.#syncSampler();
  }

  close(): void {
    this.#sampler?.stop();
    this.#sampler = undefined;
  }

  /** Live reload: new limits for every configured peer (peers themselves need a restart). */
  reconfigure(config: SipAdmissionConfig, peers: readonly PeerConfig[]): void {
    const now = this.#o.now();
    const byName = new Map(peers.map((p) => [p.name, p]));
    for (const p of this.#peers.values()) p.reconfigure(peerLimits(config, byName.get(p.name) ?? {}), now);
    const samplerChanged = config.lagSampleMs !== this.#config.lagSampleMs;
    this.#config = config;
    this.#overload.reconfigure(config.eventLoopLagMs, holdMs(config));
    if (samplerChanged) this.close();
    this.#syncSampler();
  }

  #syncSampler(): void {
    const want = this.#config.eventLoopLagMs > 0;
    if (!want) return this.close();
    if (this.#sampler !== undefined) return;
    this.#sampler = new EventLoopLagSampler(this.#config.lagSampleMs, (lag, now) => this.#onLag(lag, now));
    this.#sampler.start();
  }

  #onLag(lagMs: number, nowMs: number): void {
    this.#lastLagMs = lagMs;
    if (!this.#overload.observe(lagMs, nowMs)) return;
    if (this.#overload.overloaded) {
      this.#o.logger.warn({ lagMs: Math.round(lagMs), thresholdMs: this.#config.eventLoopLagMs }, "overload: event loop late, new INVITEs get 503");
    } else this.#o.logger.info({ thresholdMs: this.#config.eventLoopLagMs }, "overload over: new INVITEs admitted again");
  }
}

function holdMs(c: SipAdmissionConfig): number {
  return Math.max(OVERLOAD_HOLD_MS, 5 * c.lagSampleMs);
}
