// The provisioning API as a Component: an mTLS listener (same TLS policy and peer rules as every
// listener) feeding a node:https server whose requests go through RequestPipeline. The lead wires it
// in src/components.ts when provisioning.enabled; it does not own the store it is given.
import { createServer as createHttpsServer, type Server as HttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import type { JWTVerifyGetKey } from "jose";
import type { Shared } from "../app.js";
import { type Component, listenError, StartupError } from "../component.js";
import { MtlsListener } from "../listener/mtls-listener.js";
import type { Store } from "../store/store.js";
import { VERSION } from "../version.js";
import { JwksError, JwksFileKeys } from "./auth/jwks-file.js";
import { jwksUrlKeys, type JwksUrlKeys } from "./auth/jwks-url.js";
import { TokenVerifier } from "./auth/token-verifier.js";
import { createProvisioningMetrics } from "./metrics.js";
import { openApiDocument } from "./openapi.js";
import { RateLimiter } from "./rate-limiter.js";
import { RequestPipeline } from "./server.js";

export interface ProvisioningComponent extends Component {
  readonly listener: MtlsListener;
  readonly pipeline: RequestPipeline;
}

export async function createProvisioningComponent(shared: Shared, store: Store): Promise<Component> {
  return buildProvisioningComponent(shared, store);
}

/** As createProvisioningComponent, with the listener and pipeline exposed (tests, diagnostics). */
export async function buildProvisioningComponent(shared: Shared, store: Store, opts: { now?: () => number } = {}): Promise<ProvisioningComponent> {
  const { config, logger: rootLogger } = shared;
  const cfg = config.provisioning;
  const logger = rootLogger.child({ component: "provisioning" });
  const metrics = createProvisioningMetrics(shared.metrics.registry);
  const { auth } = cfg;
  // The schema enforces these when provisioning.enabled; a caller building it anyway gets the same words.
  if ((auth.jwksFile === undefined) === (auth.jwksUrl === undefined)) {
    throw new StartupError("provisioning.auth.jwksFile", "exactly one of jwksFile or jwksUrl is required");
  }
  if (auth.issuer === undefined) throw new StartupError("provisioning.auth.issuer", "required");
  if (auth.audience === undefined) throw new StartupError("provisioning.auth.audience", "required");

  let urlKeys: JwksUrlKeys | undefined;
  let getKey: JWTVerifyGetKey;
  if (auth.jwksFile !== undefined) {
    try {
      getKey = new JwksFileKeys({
        path: auth.jwksFile,
        checkMs: auth.jwksFileCheckMs,
        cooldownMs: auth.unknownKidCooldownMs,
        logger,
        now: opts.now,
        onReload: (r) => metrics.jwksReloads.labels(r).inc(),
      }).getKey;
    } catch (err) {
      if (err instanceof JwksError) throw new StartupError("provisioning.auth.jwksFile", err.message);
      throw err;
    }
  } else {
    urlKeys = jwksUrlKeys({
      url: auth.jwksUrl!,
      ca: shared.tls.material.trust.caPems,
      cooldownMs: auth.unknownKidCooldownMs,
      cacheMaxAgeMs: auth.jwksCacheMaxAgeMs,
      timeoutMs: auth.jwksFetchTimeoutMs,
    });
    getKey = urlKeys.getKey;
  }

  const services = config.sip.upstreams.map((u) => u.name);
  const pipeline = new RequestPipeline({
    store,
    services,
    serviceSet: new Set(services),
    maxBatchSize: cfg.limits.maxBatchSize,
    maxBodyBytes: cfg.limits.maxBodyBytes,
    verifier: new TokenVerifier({
      getKey,
      issuer: auth.issuer,
      audience: auth.audience,
      algorithms: auth.algorithms,
      clockToleranceSeconds: auth.clockToleranceSeconds,
      rolesClaim: auth.rolesClaim,
    }),
    limiter: new RateLimiter({ requestsPerMinute: cfg.rateLimit.requestsPerMinute, burst: cfg.rateLimit.burst, now: opts.now }),
    metrics,
    logger,
    openapi: Buffer.from(
      JSON.stringify(
        openApiDocument({
          version: VERSION,
          maxBatchSize: cfg.limits.maxBatchSize,
          maxBodyBytes: cfg.limits.maxBodyBytes,
          requestsPerMinute: cfg.rateLimit.requestsPerMinute,
        }),
      ),
    ),
  });

  let http!: HttpsServer;
  const listener = new MtlsListener({
    name: "provisioning",
    host: cfg.listen.host,
    port: cfg.listen.port,
    tls: shared.tls,
    identity: shared.identity,
    metrics: shared.metrics,
    logger,
    handshakeTimeoutMs: config.tls.handshakeTimeoutMs,
    requireClientAuthEku: config.tls.requireClientAuthEku,
    maxConnections: cfg.limits.maxConnections,
    perPeerLimit: (p) => p.maxConnections,
    alpnProtocols: ["http/1.1"],
    createServer: (options) => {
      http = createHttpsServer(
        {
          ...options,
          maxHeaderSize: cfg.limits.maxHeaderBytes,
          headersTimeout: cfg.timeouts.headersMs,
          requestTimeout: cfg.timeouts.requestMs,
          keepAliveTimeout: cfg.timeouts.keepAliveMs,
          connectionsCheckingInterval: Math.max(50, Math.min(1_000, Math.floor(cfg.timeouts.headersMs / 4))),
        },
        pipeline.handle,
      );
      return http;
    },
    onConnection: () => undefined, // the https server takes the socket from here
  });
  // `Expect: 100-continue` goes through the pipeline like any request: it sends 100 Continue only
  // when it is about to read the body (after authentication, and never for a declared length over
  // maxBodyBytes, which is answered 413 before the client uploads anything).
  http.on("checkContinue", pipeline.handle);
  http.on("clientError", (err: NodeJS.ErrnoException, socket) => {
    // Unparseable requests never reach the pipeline: answer in the API's JSON shape, then close.
    const status = err.code === "HPE_HEADER_OVERFLOW" ? 431 : err.code === "ERR_HTTP_REQUEST_TIMEOUT" ? 408 : 400;
    const code = status === 431 ? "request_header_fields_too_large" : status === 408 ? "request_timeout" : "invalid_request";
    metrics.requests.labels("unmatched", "OTHER", "4xx").inc();
    if (socket.writable && !(socket as { _httpMessage?: unknown })._httpMessage) {
      const body = JSON.stringify({ error: code, message: status === 400 ? "malformed HTTP request" : code.replace(/_/g, " ") });
      socket.end(
        `HTTP/1.1 ${status} ${status === 431 ? "Request Header Fields Too Large" : status === 408 ? "Request Timeout" : "Bad Request"}\r\n` +
          `content-type: application/json; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
      );
    } else socket.destroy();
  });

  let up = false;
  let bound: AddressInfo | undefined;
  const closeAll = async () => {
    listener.stopAccepting();
    http.closeAllConnections();
    listener.destroyAll();
    await urlKeys?.close().catch(() => undefined);
    up = false;
  };
  return {
    name: "provisioning",
    listener,
    pipeline,
    async start() {
      bound = await listener.listen().catch((err) => {
        throw listenError("provisioning.listen", cfg.listen.host, cfg.listen.port, err);
      });
      up = true;
      if (urlKeys) {
        // Warm the key cache; an IdP that is down now must not keep the proxy from starting.
        await urlKeys.reload().catch((err: Error) => logger.warn({ error: err.message }, "provisioning JWKS URL not reachable yet; will retry on the first token"));
      }
    },
    ready: () => up,
    address: () => bound,
    async drain(deadline: number) {
      listener.stopAccepting();
      http.closeIdleConnections();
      if (pipeline.active > 0) {
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([
          pipeline.idle(),
          new Promise<void>((r) => {
            timer = setTimeout(r, Math.max(0, deadline - Date.now()));
            timer.unref();
          }),
        ]);
        clearTimeout(timer);
      }
      await closeAll();
    },
    close: closeAll,
  };
}
