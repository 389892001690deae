// The composition root: config → logger, metrics, TLS contexts, peer identity → components
// (SIP proxy, HTTP proxy, provisioning API) → admin endpoints → signals. Nothing else wires things.
import { readFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import type { Config } from "./config/schema/index.js";
import { ConfigError, loadConfigFile } from "./config/load.js";
import { restartOnlyChanges } from "./config/live-reload.js";
import { type Component, listenError } from "./component.js";
import { AdminServer } from "./admin/admin-server.js";
import { setLogHashKey } from "./observability/hash.js";
import { createLogger, flushLogger, type Logger } from "./observability/logger.js";
import { createMetrics, type EdgeMetrics } from "./observability/metrics.js";
import { generateDevPki } from "./pki/dev-pki.js";
import { missingDevPkiFile, planDevPki } from "./pki/dev-pki-plan.js";
import { TlsMaterialError } from "./tls/pem.js";
import { openCustomerData, type CustomerData } from "./store/customer-data.js";
import { TlsContextProvider } from "./tls/context-provider.js";
import { reportExpiry } from "./tls/expiry.js";
import { FileChangeWatcher } from "./tls/file-watcher.js";
import { createPeerIdentity, type PeerIdentity } from "./tls/peer-identity.js";
import { VERSION } from "./version.js";
import { defaultComponents } from "./components.js";

export interface Shared {
  config: Config;
  logger: Logger;
  metrics: EdgeMetrics;
  tls: TlsContextProvider;
  identity: PeerIdentity;
  /** The store, number routing table and call-record writer. */
  data: CustomerData;
  /** Wall clock (injectable in tests: call records, retention). */
  now: () => Date;
}

/** How this process runs the app (defaults: a single process, exactly as before workers existed). */
export interface AppOptions {
  /** Serve /metrics, /healthz, /readyz here (false in a cluster worker: the primary serves them). */
  adminServer?: boolean;
  /** Run the periodic call-record retention purge here (false in all cluster workers but one). */
  retentionScheduler?: boolean;
}

export class App {
  readonly logger: Logger;
  readonly metrics: EdgeMetrics;
  tls!: TlsContextProvider;
  identity!: PeerIdentity;
  admin!: AdminServer;
  data!: CustomerData;
  readonly components: Component[] = [];
  #watcher: FileChangeWatcher | undefined;
  #draining = false;
  #stopped: Promise<void> | undefined;

  constructor(
    readonly config: Config,
    logger?: Logger,
    private builders: ComponentBuilder[] = defaultComponents,
    /** Injectable clock for the store (call records, retention); tests move it. */
    readonly now?: () => Date,
    private options: AppOptions = {},
  ) {
    this.logger = logger ?? createLogger({ level: config.logging.level, pretty: config.logging.pretty });
    this.metrics = createMetrics(VERSION);
  }

  get draining(): boolean {
    return this.#draining;
  }

  /** Build everything; fails fast with an error naming the config key at fault. */
  async start(): Promise<void> {
    const cfg = this.config;
    if (cfg.logging.hashKeyFile) setLogHashKey(readFileSync(cfg.logging.hashKeyFile));
    await this.#ensureDevPki();
    this.tls = new TlsContextProvider(cfg.tls);
    this.identity = createPeerIdentity(cfg.peers);
    if (cfg.peers.length === 0) this.logger.warn("no peers configured: every client certificate will be refused");
    reportExpiry(this.tls.material, this.metrics, this.logger);
    this.tls.on("reload", (m) => {
      this.metrics.reloads.labels("success").inc();
      reportExpiry(m, this.metrics, this.logger);
      this.logger.info({ files: m.files.length }, "TLS material reloaded; new connections use it");
      this.#watcher?.restart();
    });
    this.tls.on("reloadError", (err) => {
      this.metrics.reloads.labels("error").inc();
      this.logger.error({ error: err.message }, "TLS reload failed; keeping the previous certificates");
    });
    this.metrics.reloads.labels("success").inc(0);
    this.metrics.reloads.labels("error").inc(0);

    this.data = await openCustomerData(cfg, { logger: this.logger, registry: this.metrics.registry, ...(this.now ? { now: this.now } : {}) });
    // Stopped before its first run (scheduled with setImmediate, after this continuation): purging
    // is idempotent, but one process doing it is enough.
    if (this.options.retentionScheduler === false) this.data.retention.stop();
    const shared: Shared = {
      config: cfg,
      logger: this.logger,
      metrics: this.metrics,
      tls: this.tls,
      identity: this.identity,
      data: this.data,
      now: this.now ?? (() => new Date()),
    };
    for (const build of this.builders) {
      const c = await build(shared);
      if (c) this.components.push(c);
    }
    const withAdmin = this.options.adminServer !== false;
    if (withAdmin) {
      const registry = this.metrics.registry;
      this.admin = new AdminServer({
        host: cfg.admin.listen.host,
        port: cfg.admin.listen.port,
        metrics: () => registry.metrics(),
        contentType: registry.contentType,
        notReady: () => this.notReady(),
      });
    }
    try {
      for (const c of this.components) await c.start();
      if (withAdmin) {
        await this.admin.listen().catch((err) => {
          throw listenError("admin.listen", cfg.admin.listen.host, cfg.admin.listen.port, err);
        });
      }
    } catch (err) {
      await Promise.allSettled(this.components.map((c) => c.close()));
      await this.data.close().catch(() => undefined);
      throw err;
    }
    if (cfg.tls.watch) {
      this.#watcher = new FileChangeWatcher(() => this.tls.material.files, () => this.reloadTls());
      this.#watcher.start();
    }
    this.logger.info(
      {
        version: VERSION,
        listeners: Object.fromEntries(this.components.map((c) => [c.name, c.address()?.port])),
        ...(withAdmin ? { admin: `${cfg.admin.listen.host}:${(this.admin.server.address() as AddressInfo).port}` } : {}),
      },
      "trunkgate started",
    );
  }

  /** What keeps this process from being ready (empty when ready): draining, or a component's name. */
  notReady(): string[] {
    const failing = this.#draining ? ["draining"] : [];
    for (const c of this.components) if (!c.ready()) failing.push(c.name);
    return failing;
  }

  reloadTls(): boolean {
    return this.tls.reload();
  }

  /**
   * SIGHUP: re-read the config file and apply what can change live (the admission limits). An
   * invalid file changes nothing (the error names the key); other changed keys are logged as
   * needing a restart. Returns whether the new config was applied.
   */
  reloadConfig(path: string): boolean {
    let next: Config;
    try {
      next = loadConfigFile(path);
    } catch (err) {
      const problems = err instanceof ConfigError ? err.problems : [String(err)];
      this.logger.error({ file: path, problems }, `config reload refused, the running limits stay: ${problems.join("; ")}`);
      return false;
    }
    const restart = restartOnlyChanges(this.config, next);
    if (restart.length > 0) {
      this.logger.warn({ file: path, keys: restart }, `config reload: changed keys that need a restart (not applied): ${restart.join(", ")}`);
    }
    for (const c of this.components) c.reloadConfig?.(next);
    return true;
  }

  /** Graceful stop: readiness goes red, listeners stop accepting, work in flight drains. */
  stop(graceMs = this.config.lifecycle.drainGraceSeconds * 1000): Promise<void> {
    this.#stopped ??= (async () => {
      this.#draining = true;
      this.#watcher?.stop();
      const deadline = Date.now() + graceMs;
      this.logger.info({ graceMs }, "draining");
      await Promise.allSettled(this.components.map((c) => c.drain(deadline)));
      await Promise.allSettled(this.components.map((c) => c.close()));
      await this.data?.close().catch((err: Error) => this.logger.error({ error: err.message }, "closing the store failed"));
      await this.admin?.close();
      this.logger.info("stopped");
      await flushLogger(this.logger);
    })();
    return this.#stopped;
  }

  #ensureDevPki(): Promise<void> {
    return ensureDevPki(this.config, this.logger);
  }
}

/**
 * Generates the development PKI when tls.devPki.autoGenerate is on and its directory holds none of
 * it; a configured file missing from a directory that holds one is an error naming the key (see
 * src/pki/dev-pki-plan.ts). Exported for the cluster primary, which runs it once before forking.
 */
export async function ensureDevPki(config: Config, logger: Logger): Promise<void> {
  const plan = planDevPki(config.tls);
  if (plan.action === "none") return;
  if (plan.action === "missing") {
    const first = plan.missing[0]!;
    throw new TlsMaterialError(first.key, missingDevPkiFile(plan, first.file));
  }
  const { files: written } = await generateDevPki({ outDir: plan.dir, force: true });
  logger.warn(
    { dir: plan.dir, files: written.length },
    "GENERATED A DEVELOPMENT PKI: these certificates are for local testing only, never for production",
  );
}

/** Each capability contributes a builder (src/components.ts); the order is the start order. */
export type ComponentBuilder = (s: Shared) => Promise<Component | undefined>;
