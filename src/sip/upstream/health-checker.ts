// Active health checks: every `intervalMs` each target of each service with health checks enabled
// gets an OPTIONS over its pooled connection; a response within `timeoutMs` (anything but
// 408/503/504) counts as success, silence or a broken connection as failure. TargetHealth turns
// the results into up/down with the configured thresholds; the gauge follows.
import { buildRequest, newTag } from "../message/build.js";
import { PROBE_BRANCH_PREFIX } from "../message/branch-marks.js";
import type { Logger } from "../../observability/logger.js";
import type { SipMetrics } from "../metrics.js";
import type { TimerEntry, TimerTarget, Timers } from "../timer/timers.js";
import { probeSucceeded } from "./health-state.js";
import type { UpstreamService, UpstreamTarget } from "./service.js";

/**
 * What a probe needs of a connection (the transport's Flow satisfies it). Declared here so that
 * upstream/ does not import transport/ (which imports upstream/: the folders would form a cycle).
 */
export interface ProbeFlow {
  readonly transport: "TLS" | "TCP";
  send(data: Buffer): boolean;
}

/** Who sends the probes (the proxy's ProxyIdentity satisfies it). */
export interface ProbeIdentity {
  readonly sentBy: string;
  readonly advertisedHost: string;
}

const enum ProbeTimer {
  Interval = 1,
  Timeout,
}

class TargetProbe implements TimerTarget {
  branch: string | undefined;
  flow: ProbeFlow | undefined;
  interval: TimerEntry | undefined;
  timeout: TimerEntry | undefined;
  cseq = 0;
  readonly callId = `tg-health-${newTag()}`;
  readonly fromTag = newTag();

  constructor(
    readonly checker: HealthChecker,
    readonly target: UpstreamTarget,
    readonly intervalMs: number,
    readonly timeoutMs: number,
  ) {}

  onTimer(kind: number): void {
    if (kind === ProbeTimer.Interval) this.checker.probe(this);
    else this.checker.timedOut(this);
  }
}

export interface HealthCheckerOptions {
  services: readonly UpstreamService[];
  timers: Timers;
  identity: ProbeIdentity;
  metrics: SipMetrics;
  logger: Logger;
  /** The pooled flow toward a target (opening it when needed). */
  flowTo(target: UpstreamTarget): ProbeFlow;
}

export class HealthChecker {
  readonly #probes: TargetProbe[] = [];
  readonly #byBranch = new Map<string, TargetProbe>();
  #running = false;

  constructor(private o: HealthCheckerOptions) {
    for (const c of o.services) {
      const hc = c.config.healthCheck;
      for (const t of c.targets) {
        o.metrics.targetUp.labels(t.service, t.label).set(1);
        if (hc.enabled) this.#probes.push(new TargetProbe(this, t, hc.intervalMs, hc.timeoutMs));
      }
    }
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    // First probe right away, so a dead target is known within one timeout of startup.
    for (const p of this.#probes) this.probe(p);
  }

  stop(): void {
    this.#running = false;
    for (const p of this.#probes) {
      this.o.timers.cancel(p.interval);
      this.o.timers.cancel(p.timeout);
      if (p.branch !== undefined) this.#byBranch.delete(p.branch);
      p.branch = undefined;
    }
  }

  probe(p: TargetProbe): void {
    if (!this.#running) return;
    p.interval = this.o.timers.start(p, ProbeTimer.Interval, p.intervalMs);
    if (p.branch !== undefined) return; // previous probe still outstanding (timeout > interval)
    const flow = this.o.flowTo(p.target);
    // Our branch format (the core routes responses with it), marked as a probe.
    const branch = PROBE_BRANCH_PREFIX + newTag();
    const cfg = p.target.config;
    const me = this.o.identity;
    const bytes = buildRequest({
      method: "OPTIONS",
      requestUri: `sip:${cfg.host.includes(":") && !cfg.host.startsWith("[") ? `[${cfg.host}]` : cfg.host}:${cfg.port};transport=${cfg.transport}`,
      via: `SIP/2.0/${flow.transport} ${me.sentBy};branch=${branch}`,
      from: `<sip:trunkgate@${me.advertisedHost}>;tag=${p.fromTag}`,
      to: `<sip:${cfg.host.includes(":") && !cfg.host.startsWith("[") ? `[${cfg.host}]` : cfg.host}:${cfg.port}>`,
      callId: p.callId,
      cseq: ++p.cseq,
      headers: [["Accept", "application/sdp"]],
    });
    p.branch = branch;
    p.flow = flow;
    this.#byBranch.set(branch, p);
    p.timeout = this.o.timers.start(p, ProbeTimer.Timeout, p.timeoutMs);
    if (!flow.send(bytes)) this.#result(p, false);
  }

  /** Called by the core for OPTIONS responses; true when the branch was one of our probes. */
  onResponse(branch: string, status: number): boolean {
    const p = this.#byBranch.get(branch);
    if (p === undefined) return false;
    if (status < 200) return true;
    this.#result(p, probeSucceeded(status));
    return true;
  }

  timedOut(p: TargetProbe): void {
    p.timeout = undefined;
    if (p.branch !== undefined) this.#result(p, false);
  }

  /** The connection a probe was sent on closed: that probe failed. */
  onFlowClosed(flow: ProbeFlow): void {
    for (const p of this.#probes) if (p.flow === flow && p.branch !== undefined) this.#result(p, false);
  }

  #result(p: TargetProbe, ok: boolean): void {
    if (p.branch !== undefined) this.#byBranch.delete(p.branch);
    p.branch = undefined;
    p.flow = undefined;
    this.o.timers.cancel(p.timeout);
    p.timeout = undefined;
    const t = p.target;
    if (t.health.record(ok)) {
      this.o.metrics.targetUp.labels(t.service, t.label).set(t.up ? 1 : 0);
      this.o.logger.warn({ upstreamService: t.service, upstream: t.label, up: t.up }, t.up ? "upstream target is up" : "upstream target is down");
    }
  }

  /** Targets currently up / total, for stats. */
  summary(): { up: number; total: number } {
    let up = 0;
    let total = 0;
    for (const c of this.o.services) for (const t of c.targets) {
      total++;
      if (t.up) up++;
    }
    return { up, total };
  }
}
