// An upstream service (what Envoy calls a cluster): the targets of one `sip.upstreams` entry,
// ordered by priority (lower first), then picked by weight within a priority (RFC 2782 style:
// weighted random), skipping targets that are down or already tried for this request. Failover
// state per request is a 32-bit mask of tried target indexes, so picking the next target allocates nothing.
import type { SipConfig } from "../../config/schema/index.js";
import { TargetHealth } from "./health-state.js";

export type UpstreamConfig = SipConfig["upstreams"][number];
export type TargetConfig = UpstreamConfig["targets"][number];

export class UpstreamTarget {
  readonly health: TargetHealth;
  /** "host:port", used as the metrics label and the log field (config-bounded). */
  readonly label: string;
  /** SNI / certificate name: serverName, else host when it is a name (never an IP address). */
  readonly serverName: string | undefined;

  constructor(
    readonly service: string,
    readonly index: number,
    readonly config: TargetConfig,
    upThreshold: number,
    downThreshold: number,
  ) {
    this.health = new TargetHealth(upThreshold, downThreshold);
    this.label = `${config.host}:${config.port}`;
    this.serverName = config.serverName ?? (isIpLiteral(config.host) ? undefined : config.host);
  }

  get up(): boolean {
    return this.health.up;
  }
}

export function isIpLiteral(host: string): boolean {
  if (host.includes(":")) return true; // IPv6 (with or without brackets)
  let dots = 0;
  for (let i = 0; i < host.length; i++) {
    const c = host.charCodeAt(i);
    if (c === 46) dots++;
    else if (c < 48 || c > 57) return false;
  }
  return dots === 3;
}

export class UpstreamService {
  readonly targets: UpstreamTarget[];
  /** Target indexes grouped by priority, groups in ascending priority. */
  readonly #groups: number[][];

  constructor(readonly config: UpstreamConfig, private random: () => number = Math.random) {
    const hc = config.healthCheck;
    this.targets = config.targets.map((t, i) => new UpstreamTarget(config.name, i, t, hc.upThreshold, hc.downThreshold));
    const byPriority = new Map<number, number[]>();
    config.targets.forEach((t, i) => {
      const g = byPriority.get(t.priority) ?? [];
      g.push(i);
      byPriority.set(t.priority, g);
    });
    this.#groups = [...byPriority.entries()].sort((a, b) => a[0] - b[0]).map(([, g]) => g);
  }

  get name(): string {
    return this.config.name;
  }

  /** Whether any target is up (else new requests get 503 + Retry-After). */
  anyUp(): boolean {
    for (const t of this.targets) if (t.up) return true;
    return false;
  }

  /**
   * The next target to try, or undefined when every usable target was tried. `tried` has bit i
   * set for target i. Lower priority values first; within a priority, weighted random among the
   * untried targets that are up (weight 0 only when no weighted one is left).
   */
  pick(tried: number): UpstreamTarget | undefined {
    for (const group of this.#groups) {
      let total = 0;
      let zeroWeight = -1;
      for (const i of group) {
        const t = this.targets[i]!;
        if ((tried & (1 << i)) !== 0 || !t.up) continue;
        if (t.config.weight === 0) {
          if (zeroWeight < 0) zeroWeight = i;
        } else total += t.config.weight;
      }
      if (total === 0) {
        if (zeroWeight >= 0) return this.targets[zeroWeight];
        continue;
      }
      let r = this.random() * total;
      let last: UpstreamTarget | undefined;
      for (const i of group) {
        const t = this.targets[i]!;
        if ((tried & (1 << i)) !== 0 || !t.up || t.config.weight === 0) continue;
        last = t;
        r -= t.config.weight;
        if (r < 0) return t;
      }
      return last;
    }
    return undefined;
  }
}

/** Responses after which the next target is tried (RFC 3261 leaves it to the proxy; we are strict). */
export function isFailoverStatus(status: number): boolean {
  return status === 408 || status === 503 || status === 504;
}
