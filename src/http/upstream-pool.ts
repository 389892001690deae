// The connections to http.upstream.url, through the client http.upstream.client names: trunkgate's
// lean HTTP/1.1 client (upstream-client.ts) or undici's Pool. WebSocket upgrades always go through
// undici's Pool (made on first use when the lean client carries the requests). For https both
// connect with trunkgate's client certificate, the trust store and the TLS policy
// (TlsContextProvider.clientOptions()), and verify the upstream's name: SNI and the identity check
// use the URL host, or its IP address against IP SANs (no SNI for an IP, RFC 6066 §3). On a TLS
// reload new clients take new requests; the old ones are closed gracefully (their requests in
// flight, and for the lean client those queued, finish).
import { Pool } from "undici";
import type { HttpConfig } from "../config/schema/index.js";
import type { Logger } from "../observability/logger.js";
import type { TlsContextProvider } from "../tls/context-provider.js";
import { LeanUpstreamClient } from "./upstream-client.js";
import type { UpstreamClient, UpstreamHandler, UpstreamRequest } from "./upstream-types.js";

export class UpstreamPool {
  readonly url: URL;
  /** Carries the requests: the lean client, or the same Pool as #undici. */
  #client: UpstreamClient;
  #undici: Pool | undefined;
  #retired = new Set<UpstreamClient>();
  readonly #onReload = () => this.#rebuild();

  constructor(
    private readonly cfg: HttpConfig,
    private readonly tls: TlsContextProvider,
    private readonly logger: Logger,
  ) {
    this.url = new URL(cfg.upstream.url);
    this.#client = this.#makeClient();
    if (this.url.protocol === "https:") tls.on("reload", this.#onReload);
  }

  /** undici's Pool, for WebSocket upgrades (and every request when http.upstream.client is undici). */
  get pool(): Pool {
    return (this.#undici ??= this.#makeUndici());
  }

  get isHttps(): boolean {
    return this.url.protocol === "https:";
  }

  dispatch(request: UpstreamRequest, handler: UpstreamHandler): void {
    this.#client.dispatch(request, handler);
  }

  #makeClient(): UpstreamClient {
    if (this.cfg.upstream.client === "lean") return new LeanUpstreamClient(this.url, this.cfg, this.tls);
    return (this.#undici = this.#makeUndici());
  }

  #makeUndici(): Pool {
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
    const oldClient = this.#client;
    const oldUndici = this.#undici;
    try {
      this.#undici = undefined;
      this.#client = this.#makeClient();
      if (oldUndici !== undefined) this.#undici ??= this.#makeUndici();
    } catch (err) {
      this.#client = oldClient;
      this.#undici = oldUndici;
      this.logger.error({ error: (err as Error).message }, "http upstream pool not rebuilt after TLS reload; keeping the old one");
      return;
    }
    const old = new Set<UpstreamClient>([oldClient]);
    if (oldUndici) old.add(oldUndici);
    for (const c of old) {
      this.#retired.add(c);
      c.close()
        .catch(() => undefined)
        .finally(() => this.#retired.delete(c));
    }
    this.logger.info({ upstream: this.url.origin }, "http upstream pool rebuilt with reloaded TLS material");
  }

  #everyClient(): UpstreamClient[] {
    const all = new Set<UpstreamClient>([this.#client, ...this.#retired]);
    if (this.#undici) all.add(this.#undici);
    return [...all];
  }

  /** Let requests in flight finish, then close the connections. */
  async close(): Promise<void> {
    this.tls.off("reload", this.#onReload);
    await Promise.allSettled(this.#everyClient().map((c) => c.close()));
  }

  /** Tear down every upstream connection now. */
  async destroy(): Promise<void> {
    this.tls.off("reload", this.#onReload);
    await Promise.allSettled(this.#everyClient().map((c) => c.destroy()));
  }
}
