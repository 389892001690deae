// The pooled keep-alive connections to http.upstream.url. For https the pool connects with
// trunkgate's client certificate, the trust store and the TLS policy (TlsContextProvider
// .clientOptions()), and verifies the upstream's name: SNI and the identity check use the URL
// host, or its IP address against IP SANs (no SNI for an IP, RFC 6066 §3). On a TLS reload a new
// pool takes new requests; the old one is closed gracefully (its requests in flight finish).
import { Pool } from "undici";
import type { HttpConfig } from "../config/schema/index.js";
import type { Logger } from "../observability/logger.js";
import type { TlsContextProvider } from "../tls/context-provider.js";

export class UpstreamPool {
  readonly url: URL;
  #pool: Pool;
  #retired = new Set<Pool>();
  readonly #onReload = () => this.#rebuild();

  constructor(
    private readonly cfg: HttpConfig,
    private readonly tls: TlsContextProvider,
    private readonly logger: Logger,
  ) {
    this.url = new URL(cfg.upstream.url);
    this.#pool = this.#make();
    if (this.url.protocol === "https:") tls.on("reload", this.#onReload);
  }

  get pool(): Pool {
    return this.#pool;
  }

  get isHttps(): boolean {
    return this.url.protocol === "https:";
  }

  #make(): Pool {
    const t = this.cfg.timeouts;
    const connect = this.isHttps
      ? { ...this.tls.clientOptions(), rejectUnauthorized: true, timeout: t.upstreamConnectMs }
      : { timeout: t.upstreamConnectMs };
    return new Pool(this.url.origin, {
      connections: this.cfg.upstream.maxConnections,
      pipelining: 1,
      keepAliveTimeout: this.cfg.upstream.keepAliveTimeoutMs,
      headersTimeout: t.upstreamResponseMs,
      bodyTimeout: t.upstreamBodyIdleMs,
      connect,
    });
  }

  #rebuild(): void {
    const old = this.#pool;
    try {
      this.#pool = this.#make();
    } catch (err) {
      this.logger.error({ error: (err as Error).message }, "http upstream pool not rebuilt after TLS reload; keeping the old one");
      return;
    }
    this.#retired.add(old);
    old
      .close()
      .catch(() => undefined)
      .finally(() => this.#retired.delete(old));
    this.logger.info({ upstream: this.url.origin }, "http upstream pool rebuilt with reloaded TLS material");
  }

  /** Let requests in flight finish, then close the connections. */
  async close(): Promise<void> {
    this.tls.off("reload", this.#onReload);
    await Promise.allSettled([this.#pool.close(), ...[...this.#retired].map((p) => p.close())]);
  }

  /** Tear down every upstream connection now. */
  async destroy(): Promise<void> {
    this.tls.off("reload", this.#onReload);
    await Promise.allSettled([this.#pool.destroy(), ...[...this.#retired].map((p) => p.destroy())]);
  }
}
