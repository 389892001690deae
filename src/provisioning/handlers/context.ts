// What a route handler gets: the store, the configured services, limits, and the parsed request.
import type { IncomingHttpHeaders } from "node:http";
import type { AuditActor } from "../../store/audit-trail.js";
import type { Store } from "../../store/store.js";

export interface HandlerDeps {
  store: Store;
  /** Names of config.sip.upstreams, in config order. */
  services: readonly string[];
  serviceSet: ReadonlySet<string>;
  maxBatchSize: number;
}

export interface HandlerRequest {
  method: string;
  /** Raw {e164} segment of the number route. */
  param: string | undefined;
  query: string;
  /** Parsed JSON body (PUT and POST only). */
  body: unknown;
  /** Request headers (conditional requests read If-Match / If-None-Match). */
  headers: IncomingHttpHeaders;
  /** Who makes the request (token subject, certificate peer, method and route): for the audit trail. */
  actor: AuditActor;
}
