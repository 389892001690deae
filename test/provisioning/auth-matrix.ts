// Every endpoint × role: 401 without a token and with a bad one, 403 with the wrong role, 2xx with
// the right role and with Admin. Shared by the SQLite and PostgreSQL runs. Not a test file itself.
import type { Test } from "tap";
import { ALL_ROLES, ROLES, type Role } from "../../src/provisioning/roles.js";
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
  { name: "GET services", method: "GET", path: "/api/v1/services", role: ROLES.read, ok: [200] },
  { name: "GET statistics", method: "GET", path: "/api/v1/statistics/daily?from=2025-01-01&to=2025-01-31", role: ROLES.read, ok: [200] },
  { name: "GET openapi.json", method: "GET", path: "/api/openapi.json", role: undefined, ok: [200] },
];

export async function runAuthMatrix(t: Test, h: Harness): Promise<void> {
  await h.store.numbers.upsert({ number: N1, service: "svc-a", customHeader: "tenant=1" });
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
      ] as const) {
        const bad = await call(token);
        t.equal(bad.status, 401, `${what} token → 401`);
        t.match(bad.headers["www-authenticate"], /error="invalid_token"/, `${what}: invalid_token challenge`);
      }

      if (ep.role !== undefined) {
        const wrong = ALL_ROLES.filter((r) => r !== ep.role && r !== ROLES.admin);
        const forbidden = await call(await h.token({ roles: wrong }));
        t.equal(forbidden.status, 403, `roles ${wrong.join(",")} → 403`);
        t.equal(forbidden.json.error, "insufficient_scope");
        t.match(forbidden.headers["www-authenticate"], /error="insufficient_scope"/);
        const noRoles = await call(await h.token({}));
        t.equal(noRoles.status, 403, "no roles claim → 403");
      } else {
        const anyToken = await call(await h.token({ roles: [] }));
        t.equal(anyToken.status, 200, "any valid token may read the OpenAPI document");
      }

      for (const roles of [ep.role ? [ep.role] : [ROLES.read], [ROLES.admin]]) {
        await ep.before?.(h);
        const ok = await call(await h.token({ roles }));
        t.ok(ep.ok.includes(ok.status), `${roles.join(",")} → ${ok.status} (${JSON.stringify(ok.json)})`);
        if (ok.status !== 204) t.match(ok.headers["content-type"], /^application\/json/);
      }
    });
  }
}
