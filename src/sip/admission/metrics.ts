// Admission metrics. The peer label takes configured peer names only (a connection's peer is
// always one of them), so the series are bounded by the config: peers × reasons.
import { Counter, Gauge, type Registry } from "prom-client";
import { REJECTION_REASONS, type PeerAdmission, type RejectionReason } from "./peer-admission.js";

type CounterChild = { inc(n?: number): void };

export class AdmissionMetrics {
  readonly rejections: Counter<"peer" | "reason">;
  readonly calls: Gauge<"peer">;
  /** Children by peer, then by reason index: no label hashing when refusing under a storm. */
  readonly #children = new Map<string, CounterChild[]>();

  constructor(registry: Registry, peers: () => Iterable<PeerAdmission>) {
    const registers = [registry];
    this.rejections = new Counter({
      name: "trunkgate_sip_admission_rejections_total",
      help: "Requests from trunks refused by admission control (503 + Retry-After), by peer and reason: concurrent_calls, call_rate, request_rate, overload",
      labelNames: ["peer", "reason"],
      registers,
    });
    this.calls = new Gauge({
      name: "trunkgate_sip_admission_calls",
      help: "Calls each peer has running, as counted against its maxConcurrentCalls (in setup plus answered)",
      labelNames: ["peer"],
      registers,
      collect() {
        for (const p of peers()) this.labels(p.name).set(p.activeCalls);
      },
    });
  }

  /** Creates the peer's series at 0 (so a rate() over them works before the first refusal). */
  addPeer(name: string): void {
    if (this.#children.has(name)) return;
    const children = REJECTION_REASONS.map((r) => this.rejections.labels(name, r));
    for (const c of children) c.inc(0);
    this.#children.set(name, children);
  }

  rejected(peer: string, reason: RejectionReason): void {
    this.#children.get(peer)?.[REJECTION_REASONS.indexOf(reason)]?.inc();
  }
}
