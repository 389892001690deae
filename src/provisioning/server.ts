// The request pipeline: route → token → rate limit → role → body → handler → JSON reply, with one
// access-log line and the metrics per request. Unknown paths (404) and methods (405) are answered
// before authentication: the API's shape is public (openapi.json describes it) and refusing them
// costs nothing. Rate limiting comes after token verification so that a client is its verified
// `sub` — an unverified one could be forged to drain someone else's budget — and requests without
// a valid token are charged to the TLS peer, so guessing tokens is rate limited too.
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Logger } from "../observability/logger.js";
import { hashId } from "../observability/hash.js";
import { peerOf } from "../listener/mtls-listener.js";
import { requestIdFor } from "../http/request-id.js";
import { NumberInputError } from "../store/numbers.js";
import { AccountInputError } from "../store/accounts.js";
import { accountRoute, listAccounts } from "./handlers/accounts.js";
import { StatisticsRangeError } from "../store/statistics.js";
import type { AuthResult, TokenVerifier } from "./auth/token-verifier.js";
import { listAudit } from "./handlers/audit.js";
import { batchDelete, batchUpsert } from "./handlers/batch.js";
import type { HandlerDeps, HandlerRequest } from "./handlers/context.js";
import { listNumbers, numberRoute } from "./handlers/numbers.js";
import { listServices } from "./handlers/services.js";
import { dailyStatistics } from "./handlers/statistics.js";
import { HttpError, errorBody, JSON_TYPE, MERGE_PATCH_TYPE, readJsonBody, sendJson, type Reply } from "./http-io.js";
import { methodLabel, statusClass, type ProvisioningMetrics } from "./metrics.js";
import type { RateLimiter } from "./rate-limiter.js";
import { grants } from "./roles.js";
import { matchRoute, splitTarget, UNMATCHED, type RouteId } from "./routes.js";
import { FieldError } from "./validation.js";

export interface PipelineDeps extends HandlerDeps {
  verifier: TokenVerifier;
  limiter: RateLimiter;
  metrics: ProvisioningMetrics;
  logger: Logger;
  maxBodyBytes: number;
  /** Serialised once at startup. */
  openapi: Buffer;
}

type Handler = (d: HandlerDeps, r: HandlerRequest) => Promise<Reply>;

const HANDLERS: Record<Exclude<RouteId, "openapi">, Handler> = {
  number: numberRoute,
  numbers: listNumbers,
  numbersBatch: batchUpsert,
  numbersBatchDelete: batchDelete,
  account: accountRoute,
  accounts: listAccounts,
  services: listServices,
  statisticsDaily: dailyStatistics,
  audit: listAudit,
};

const REALM = 'Bearer realm="trunkgate-provisioning"';

export class RequestPipeline {
  #active = 0;
  #idle: (() => void)[] = [];

  constructor(private readonly d: PipelineDeps) {}

  get active(): number {
    return this.#active;
  }

  /** Resolves once no request is in flight. */
  idle(): Promise<void> {
    return this.#active === 0 ? Promise.resolve() : new Promise((r) => this.#idle.push(r));
  }

  readonly handle = (req: IncomingMessage, res: ServerResponse): void => {
    this.#active++;
    const started = process.hrtime.bigint();
    const requestId = requestIdFor(req.headers["x-request-id"]);
    const log: AccessLine = { requestId, method: req.method ?? "", route: UNMATCHED, status: 0, durationMs: 0, peer: peerOf(req.socket)?.name };
    this.#run(req, res, requestId, log)
      .catch((err: unknown) => this.#fail(req, res, requestId, err))
      .finally(() => {
        log.status = res.statusCode;
        log.durationMs = Number(process.hrtime.bigint() - started) / 1e6;
        this.#record(log);
        if (--this.#active === 0 && this.#idle.length > 0) for (const w of this.#idle.splice(0)) w();
      });
  };

  async #run(req: IncomingMessage, res: ServerResponse, requestId: string, log: AccessLine): Promise<void> {
    const method = req.method ?? "";
    const { path, query } = splitTarget(req.url ?? "");
    const match = matchRoute(path);
    if (!match) throw new HttpError(404, "not_found", "no such resource");
    const { route } = match;
    log.route = route.template;
    if (!Object.hasOwn(route.methods, method)) {
      throw new HttpError(405, "method_not_allowed", `${method} is not allowed here`, undefined, { allow: route.allow });
    }

    const auth = await this.d.verifier.verify(req.headers.authorization);
    if (auth.ok && auth.subject !== undefined) log.subject = hashId(auth.subject);
    const client = auth.ok && auth.subject !== undefined ? `sub:${auth.subject}` : `peer:${log.peer ?? "?"}`;
    const decision = this.d.limiter.take(client);
    if (!decision.allowed) {
      this.d.metrics.rateLimited.inc();
      throw new HttpError(429, "rate_limited", "too many requests", undefined, { "retry-after": String(decision.retryAfterSeconds) }, { retryAfterSeconds: decision.retryAfterSeconds });
    }
    this.#authorise(auth, route.methods[method]);

    if (route.id === "openapi") {
      sendRaw(req, res, requestId, this.d.openapi);
      return;
    }
    const body =
      method === "PUT" || method === "POST" || method === "PATCH"
        ? await readJsonBody(req, this.d.maxBodyBytes, () => res.writeContinue(), method === "PATCH" ? MERGE_PATCH_TYPE : JSON_TYPE)
        : undefined;
    // The audit trail names the verified subject, the certificate's peer and the route (its template:
    // a number in the path never reaches it).
    const actor = { subject: auth.ok ? (auth.subject ?? null) : null, peer: log.peer ?? null, via: `${method} ${route.template}` };
    const reply = await HANDLERS[route.id](this.d, { method, param: match.param, query, body, headers: req.headers, actor });
    sendJson(req, res, requestId, reply);
  }

  #authorise(auth: AuthResult, needed: Parameters<typeof grants>[1]): void {
    if (!auth.ok) {
      this.d.metrics.authFailures.labels(auth.reason).inc();
      // RFC 6750 §3.1: no error code when the request carried no credentials at all.
      const challenge =
        auth.reason === "missing" ? REALM : `${REALM}, error="invalid_token", error_description="${auth.description}"`;
      throw new HttpError(401, "invalid_token", auth.reason === "missing" ? "bearer token required" : auth.description, undefined, { "www-authenticate": challenge });
    }
    if (!grants(auth.roles, needed)) {
      this.d.metrics.authFailures.labels("forbidden").inc();
      throw new HttpError(403, "insufficient_scope", `role ${needed} required`, undefined, {
        "www-authenticate": `${REALM}, error="insufficient_scope", scope="${needed}"`,
      });
    }
  }

  #fail(req: IncomingMessage, res: ServerResponse, requestId: string, err: unknown): void {
    let e: HttpError;
    if (err instanceof HttpError) e = err;
    else if (err instanceof FieldError) e = new HttpError(400, "invalid_request", err.message, err.field);
    else if (err instanceof NumberInputError) {
      const field = err.index !== undefined ? `numbers[${err.index}].${err.field}` : err.field;
      e = new HttpError(400, "invalid_request", err.reason, field);
    } else if (err instanceof AccountInputError) e = new HttpError(400, "invalid_request", err.reason, err.field);
    else if (err instanceof StatisticsRangeError) e = new HttpError(400, "invalid_request", err.message);
    else {
      // Error names and codes only: a driver message may quote values.
      this.d.logger.error({ requestId, error: (err as Error)?.name, code: (err as { code?: string })?.code }, "provisioning request failed");
      this.d.metrics.internalErrors.inc();
      e = new HttpError(500, "internal_error", "internal error");
    }
    if (res.headersSent) {
      res.destroy();
      return;
    }
    try {
      sendJson(req, res, requestId, { status: e.status, body: errorBody(e), headers: e.headers });
    } catch {
      // A throw here would be an unhandled rejection, which ends the process: this request's
      // connection goes instead.
      this.d.metrics.internalErrors.inc();
      res.destroy();
    }
  }

  #record(l: AccessLine): void {
    const m = this.d.metrics;
    m.requests.labels(l.route, methodLabel(l.method), statusClass(l.status)).inc();
    m.duration.labels(l.route).observe(l.durationMs / 1000);
    if (l.status >= 500) this.d.logger.warn(l, "provisioning request");
    else this.d.logger.info(l, "provisioning request");
  }
}

/** The access-log line: route template, never the path (it may hold a number); subject hashed. */
interface AccessLine {
  requestId: string;
  method: string;
  route: string;
  status: number;
  durationMs: number;
  peer: string | undefined;
  subject?: string;
}

function sendRaw(req: IncomingMessage, res: ServerResponse, requestId: string, body: Buffer): void {
  res.writeHead(200, {
    "x-request-id": requestId,
    "cache-control": "no-store",
    "x-content-type-options": "nosniff",
    "content-type": "application/json; charset=utf-8",
    "content-length": body.length,
    ...(req.complete ? {} : { connection: "close" }),
  });
  res.end(body);
}
