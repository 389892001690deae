// Every endpoint × role: 401 without a token and with a bad one (garbage, unknown key, tampered),
// then each role on its own (2xx for the required role and Admin, 403 for every other), all wrong
// roles together, and no roles. Shared by the SQLite and PostgreSQL runs. Not a test file itself.
import type { Test } from "tap";
import { ALL_ROLES, ROLES, type Role } from "../../src/provisioning/roles.js";
import { ROUTES } from "../../src/provisioning/routes.js";
import { signingKey, signToken, type Harness } from "./harness.js";

interface Endpoint {
  name: string;
  method: string;
  path: string;
  body?: () => unknown;
  /** Content-Type of the body (default application/json). */
  contentType?: string;
  /** undefined: any valid token. */
  role: Role | undefined;
  ok: number[];
  /** Runs before each call that should succeed (e.g. the number to delete must exist). */
  before?: (h: Harness) => Promise<void>;
}

const N1 = "+4930123456";
const N2 = "+4930123457";

export const ENDPOINTS: Endpoint[] = [
  { name: "GET number", method: "GET", path: `/api/v1/numbers/${N1}`, role: ROLES.read, ok: [200] },
  { name: "PUT number", method: "PUT", path: `/api/v1/numbers/%2B4930123457`, body: () => ({ service: "svc-a" }), role: ROLES.write, ok: [200, 201] },
  {
    name: "PATCH number",
    method: "PATCH",
    path: `/api/v1/numbers/${N1}`,
    body: () => ({ customHeader: "tenant=2" }),
    contentType: "application/merge-patch+json",
    role: ROLES.write,
    ok: [200],
  },
  {
    name: "DELETE number",
    method: "DELETE",
    path: `/api/v1/numbers/${N2}`,
    role: ROLES.delete,
    ok: [204],
    before: async (h) => void (await h.store.numbers.upsert({ number: N2, service: "svc-b" })),
  },
  { name: "GET numbers", method: "GET", path: "/api/v1/numbers?limit=10", role: ROLES.read, ok: [200] },
  {
    name: "POST numbers:batch",
    method: "POST",
    path: "/api/v1/numbers:batch",
    body: () => ({ numbers: [{ number: "+4930100001", service: "svc-a" }, { number: "+4930100002", service: "svc-b", customHeader: "x=1" }] }),
    role: ROLES.write,
    ok: [200],
  },
  {
    name: "POST numbers:batchDelete",
    method: "POST",
    path: "/api/v1/numbers:batchDelete",
    body: () => ({ numbers: ["+4930100003"] }),
    role: ROLES.delete,
    ok: [200],
    before: async (h) => void (await h.store.numbers.upsert({ number: "+4930100003", service: "svc-a" })),
  },
  { name: "GET account", method: "GET", path: "/api/v1/accounts/acct-1", role: ROLES.read, ok: [200] },
  { name: "PUT account", method: "PUT", path: "/api/v1/accounts/acct-2", body: () => ({ service: "svc-a", customHeader: "t=2" }), role: ROLES.write, ok: [200, 201] },
  {
    name: "PATCH account",
    method: "PATCH",
    path: "/api/v1/accounts/acct-1",
    body: () => ({ name: "Renamed" }),
    contentType: "application/merge-patch+json",
    role: ROLES.write,
    ok: [200],
  },
  {
    name: "DELETE account",
    method: "DELETE",
    path: "/api/v1/accounts/acct-3?cascade=true",
    role: ROLES.delete,
    ok: [200],
    before: async (h) => {
      await h.store.accounts.change("acct-3", () => ({ put: { id: "acct-3", service: "svc-b" }, result: 0 }));
      await h.store.numbers.upsert({ number: "+4930100009", account: "acct-3" });
    },
  },
  { name: "GET accounts", method: "GET", path: "/api/v1/accounts?limit=10", role: ROLES.read, ok: [200] },
  { name: "GET numbers of an account", method: "GET", path: "/api/v1/numbers?account=acct-1&service=svc-a", role: ROLES.read, ok: [200] },
  { name: "GET services", method: "GET", path: "/api/v1/services", role: ROLES.read, ok: [200] },
  { name: "GET statistics", method: "GET", path: "/api/v1/statistics/daily?from=2025-01-01&to=2025-01-31", role: ROLES.read, ok: [200] },
  { name: "GET audit", method: "GET", path: `/api/v1/audit?limit=5&number=${encodeURIComponent(N1)}`, role: ROLES.admin, ok: [200] },
  { name: "GET openapi.json", method: "GET", path: "/api/openapi.json", role: undefined, ok: [200] },
];

export async function runAuthMatrix(t: Test, h: Harness): Promise<void> {
  // Every route and method of the API is in the matrix (a new endpoint cannot be forgotten).
  const covered = new Set(
    ENDPOINTS.map((e) => `${e.method} ${e.path.split("?")[0]!.replace(/\/numbers\/[^/]+$/, "/numbers/{e164}").replace(/\/accounts\/[^/]+$/, "/accounts/{id}")}`),
  );
  for (const route of Object.values(ROUTES)) for (const m of Object.keys(route.methods)) t.ok(covered.has(`${m} ${route.template}`), `matrix covers ${m} ${route.template}`);
  await h.store.numbers.upsert({ number: N1, service: "svc-a", customHeader: "tenant=1" });
  await h.store.accounts.change("acct-1", () => ({ put: { id: "acct-1", service: "svc-a" }, result: 0 }));
  const stranger = await signingKey("not-in-jwks");
  for (const ep of ENDPOINTS) {
    await t.test(ep.name, async (t) => {
      const headers: Record<string, string> = ep.contentType ? { "content-type": ep.contentType } : {};
      const call = (token?: string) => h.request(ep.method, ep.path, { token, body: ep.body?.(), headers });

      const none = await call();
      t.equal(none.status, 401, "no token → 401");
      t.match(none.headers["www-authenticate"], /^Bearer realm=/);
      t.equal(none.json.error, "invalid_token");
      t.ok(none.headers["x-request-id"], "X-Request-Id on errors too");

      for (const [what, token] of [
        ["garbage", "not.a.jwt"],
        ["unknown key", await signToken(stranger, { roles: [ROLES.admin] })],
        ["tampered", (await h.token({ roles: [ROLES.read] })).replace(/\.[^.]+$/, ".AAAA")],
        ["expired", await h.token({ roles: [ROLES.admin], exp: -600 })],
      ] as const) {
        const bad = await call(token);
        t.equal(bad.status, 401, `${what} token → 401`);
        t.match(bad.headers["www-authenticate"], /error="invalid_token"/, `${what}: invalid_token challenge`);
      }

      // Each role on its own: exactly the required role and Admin are granted.
      for (const role of ALL_ROLES) {
        const granted = ep.role === undefined || role === ep.role || role === ROLES.admin;
        if (granted) await ep.before?.(h);
        const r = await call(await h.token({ roles: [role] }));
        if (granted) {
          t.ok(ep.ok.includes(r.status), `${role} alone → ${r.status} (${JSON.stringify(r.json)?.slice(0, 200)})`);
          if (r.status !== 204) t.match(r.headers["content-type"], /^application\/json/);
        } else {
          t.equal(r.status, 403, `${role} alone → 403`);
          t.equal(r.json.error, "insufficient_scope");
          t.match(r.headers["www-authenticate"], new RegExp(`error="insufficient_scope", scope="${ep.role}"`));
        }
      }
      if (ep.role !== undefined) {
        const wrong = ALL_ROLES.filter((r) => r !== ep.role && r !== ROLES.admin);
        t.equal((await call(await h.token({ roles: wrong }))).status, 403, `all other roles together (${wrong.join(",")}) → 403`);
        t.equal((await call(await h.token({}))).status, 403, "no roles claim → 403");
        t.equal((await call(await h.token({ roles: [] }))).status, 403, "empty roles → 403");
      } else {
        const anyToken = await call(await h.token({ roles: [] }));
        t.equal(anyToken.status, 200, "any valid token may read the OpenAPI document");
      }
    });
  }
}
