// The API's routes, matched with plain string operations (no regex per request). Each route has a
// template — the only form of the path that reaches logs and metric labels, so a number in the path
// never does — and, per method, the role it requires.
import { ROLES, type Role } from "./roles.js";

export type RouteId = "number" | "numbers" | "numbersBatch" | "numbersBatchDelete" | "account" | "accounts" | "services" | "statisticsDaily" | "audit" | "openapi";

export interface RouteDef {
  id: RouteId;
  template: string;
  /** Method → role required (undefined: any valid token). */
  methods: Readonly<Record<string, Role | undefined>>;
  /** "GET, PUT" for the Allow header of a 405. */
  allow: string;
}

function def(id: RouteId, template: string, methods: Record<string, Role | undefined>): RouteDef {
  return { id, template, methods, allow: Object.keys(methods).join(", ") };
}

export const ROUTES: Readonly<Record<RouteId, RouteDef>> = {
  number: def("number", "/api/v1/numbers/{e164}", { GET: ROLES.read, PUT: ROLES.write, PATCH: ROLES.write, DELETE: ROLES.delete }),
  numbers: def("numbers", "/api/v1/numbers", { GET: ROLES.read }),
  numbersBatch: def("numbersBatch", "/api/v1/numbers:batch", { POST: ROLES.write }),
  numbersBatchDelete: def("numbersBatchDelete", "/api/v1/numbers:batchDelete", { POST: ROLES.delete }),
  account: def("account", "/api/v1/accounts/{id}", { GET: ROLES.read, PUT: ROLES.write, PATCH: ROLES.write, DELETE: ROLES.delete }),
  accounts: def("accounts", "/api/v1/accounts", { GET: ROLES.read }),
  services: def("services", "/api/v1/services", { GET: ROLES.read }),
  statisticsDaily: def("statisticsDaily", "/api/v1/statistics/daily", { GET: ROLES.read }),
  audit: def("audit", "/api/v1/audit", { GET: ROLES.admin }),
  openapi: def("openapi", "/api/openapi.json", { GET: undefined }),
};

/** Label used for requests that matched no route. */
export const UNMATCHED = "unmatched";

export interface RouteMatch {
  route: RouteDef;
  /** The raw (still percent-encoded) {e164} or {id} path segment, for the number and account routes. */
  param: string | undefined;
}

const NUMBER_PREFIX = "/api/v1/numbers/";
const ACCOUNT_PREFIX = "/api/v1/accounts/";

/** `path` without the query string. */
export function matchRoute(path: string): RouteMatch | undefined {
  switch (path) {
    case "/api/v1/numbers":
      return { route: ROUTES.numbers, param: undefined };
    case "/api/v1/numbers:batch":
      return { route: ROUTES.numbersBatch, param: undefined };
    case "/api/v1/numbers:batchDelete":
      return { route: ROUTES.numbersBatchDelete, param: undefined };
    case "/api/v1/accounts":
      return { route: ROUTES.accounts, param: undefined };
    case "/api/v1/services":
      return { route: ROUTES.services, param: undefined };
    case "/api/v1/statistics/daily":
      return { route: ROUTES.statisticsDaily, param: undefined };
    case "/api/v1/audit":
      return { route: ROUTES.audit, param: undefined };
    case "/api/openapi.json":
      return { route: ROUTES.openapi, param: undefined };
  }
  if (path.startsWith(NUMBER_PREFIX) && path.length > NUMBER_PREFIX.length && path.indexOf("/", NUMBER_PREFIX.length) < 0) {
    return { route: ROUTES.number, param: path.slice(NUMBER_PREFIX.length) };
  }
  if (path.startsWith(ACCOUNT_PREFIX) && path.length > ACCOUNT_PREFIX.length && path.indexOf("/", ACCOUNT_PREFIX.length) < 0) {
    return { route: ROUTES.account, param: path.slice(ACCOUNT_PREFIX.length) };
  }
  return undefined;
}

/** Splits a request target into path and query (without '?'); a fragment is dropped. */
export function splitTarget(target: string): { path: string; query: string } {
  const h = target.indexOf("#");
  const t = h < 0 ? target : target.slice(0, h);
  const q = t.indexOf("?");
  return q < 0 ? { path: t, query: "" } : { path: t.slice(0, q), query: t.slice(q + 1) };
}
