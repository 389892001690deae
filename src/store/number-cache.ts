// In-memory routing table for the SIP hot path: normalised E.164 → { service, customHeader }, the
// values the number routes by (an account's defaults already resolved into each entry).
// lookup() is a synchronous Map get. The cache reloads only when the store's numbers_version
// changed, so every replica can poll cheaply (one tiny query per interval) and converge on
// changes made through any replica.
import type { Logger } from "pino";
import type { Registry } from "prom-client";
import type { NumberRepository } from "./numbers.js";
import { storeMetrics, type StoreMetrics } from "./metrics.js";
import { isValidStoredRoute } from "./number-rules.js";
import type { ChangeFeed } from "./number-change-feed.js";

export interface NumberRoute {
  readonly service: string;
  readonly customHeader: string | null;
}

export interface NumberCacheOptions {
  /** Pushes changes committed by any replica (PostgreSQL LISTEN/NOTIFY); polling stays the fallback. */
  changeFeed?: ChangeFeed;
  /** Called after each reload with the version loaded (tests, diagnostics). */
  onReload?: (version: number) => void;
  /** Poll the version at this interval (ms); 0 or absent: only explicit refreshIfChanged(). */
  refreshIntervalMs?: number;
  logger?: Logger;
  registry?: Registry;
  pageSize?: number;
}

export class NumberCache {
  private routes: Map<string, NumberRoute> = new Map();
  private loadedVersion = -1;
  private timer: NodeJS.Timeout | undefined;
  private refreshing: Promise<boolean> | null = null;
  private queued: Promise<boolean> | null = null;
  private unsubscribe: (() => void) | undefined;
  private readonly metrics: StoreMetrics | undefined;

  constructor(
    private readonly numbers: NumberRepository,
    private readonly opts: NumberCacheOptions = {},
  ) {
    this.metrics = opts.registry ? storeMetrics(opts.registry) : undefined;
  }

  /**
   * Loads the table, refreshes after every write through this replica's repository (before the
   * write resolves), on every change pushed by the change feed, and polls when an interval is
   * configured.
   */
  async start(): Promise<void> {
    this.unsubscribe ??= this.numbers.onCommitted(() => this.refreshLogged());
    await this.opts.changeFeed?.start(() => void this.refreshLogged());
    await this.refreshIfChanged();
    const every = this.opts.refreshIntervalMs ?? 0;
    if (every > 0 && !this.timer) {
      this.timer = setInterval(() => void this.refreshLogged(), every);
      this.timer.unref();
    }
  }

  /** Stops polling and listening; resolves once the change feed's connection is closed. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    await this.opts.changeFeed?.close();
  }

  private refreshLogged(): Promise<boolean> {
    return this.refreshIfChanged().catch((err: unknown) => {
      this.opts.logger?.warn({ err: (err as Error).message }, "number cache refresh failed; keeping the previous table");
      return false;
    });
  }

  /** `e164` must already be normalised (normaliseE164). */
  lookup(e164: string): NumberRoute | undefined {
    return this.routes.get(e164);
  }

  get size(): number {
    return this.routes.size;
  }

  get version(): number {
    return this.loadedVersion;
  }

  /**
   * Reloads when the store's version moved; resolves true when it reloaded. What is committed
   * before the call is in the table when it resolves: a refresh already running may have read the
   * version too early, so callers arriving meanwhile share one more run after it.
   */
  refreshIfChanged(): Promise<boolean> {
    if (!this.refreshing) {
      this.refreshing = this.doRefresh().finally(() => (this.refreshing = null));
      return this.refreshing;
    }
    this.queued ??= this.refreshing
      .catch(() => false)
      .then(() => {
        this.queued = null;
        return this.refreshIfChanged();
      });
    return this.queued;
  }

  private async doRefresh(): Promise<boolean> {
    // Read the version before the rows: a change in between makes the next poll reload again
    // rather than leaving the cache stale under a newer version number.
    const version = await this.numbers.version();
    if (version === this.loadedVersion) return false;
    const next = new Map<string, NumberRoute>();
    let refused = 0;
    let cursor: string | null = null;
    do {
      const page = await this.numbers.list({ cursor, limit: this.opts.pageSize ?? 1000 });
      for (const e of page.items) {
        // A row stored before every write path applied the same rules (e.g. an old `numbers
        // import`) must not put a control byte or an unusable service into a SIP request.
        // A number of an account routes by what it resolves to (its own fields, else the
        // account's defaults), resolved here once per reload: a lookup stays one Map get.
        const service = e.effective ? e.effective.service : e.service;
        const customHeader = e.effective ? e.effective.customHeader : e.customHeader;
        if (!isValidStoredRoute(service, customHeader)) refused++;
        else next.set(e.number, { service: service!, customHeader });
      }
      cursor = page.nextCursor;
    } while (cursor);
    if (refused > 0) {
      this.opts.logger?.warn({ refused }, "numbers not routed: stored service or custom header breaks the provisioning rules; re-provision them (trunkgate numbers export shows them)");
    }
    this.routes = next; // swap whole table: lookups never see a half-loaded map
    this.loadedVersion = version;
    this.metrics?.numbersProvisioned.set(next.size);
    this.opts.logger?.debug({ entries: next.size, version }, "number cache reloaded");
    this.opts.onReload?.(version);
    return true;
  }
}
