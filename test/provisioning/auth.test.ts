// Authentication and authorisation over real mutual TLS: the endpoint × role matrix (SQLite here,
// once more on PostgreSQL in auth-postgres.test.ts), token claim checks, metrics.
import t from "tap";
import { makeTestPki } from "../helpers/pki.js";
import { metricValue } from "../helpers/http-harness.js";
import { ROLES } from "../../src/provisioning/roles.js";
import { startHarness } from "./harness.js";
import { runAuthMatrix } from "./auth-matrix.js";

const pki = await makeTestPki();
t.teardown(() => pki.cleanup());
const h = await startHarness(t, { pki, provisioning: { rateLimit: { requestsPerMinute: 10_000 } } });

t.test("endpoint × role matrix [sqlite]", (t) => runAuthMatrix(t, h));

t.test("expired, not-yet-valid, wrong issuer, wrong audience, no exp, bad roles claim → 401", async (t) => {
  const path = "/api/v1/services";
  const cases: [string, Parameters<typeof h.token>[0], string][] = [
    ["expired", { roles: [ROLES.admin], exp: -120 }, "expired"],
    ["wrong issuer", { roles: [ROLES.admin], iss: "https://evil.test/" }, "iss"],
    ["wrong audience", { roles: [ROLES.admin], aud: "someone-else" }, "aud"],
    ["no exp", { roles: [ROLES.admin], exp: null }, "exp"],
    ["roles not an array", { roles: ROLES.admin }, "roles"],
    ["roles with a number", { roles: [ROLES.admin, 7] }, "roles"],
  ];
  for (const [what, opts, hint] of cases) {
    const r = await h.request("GET", path, { token: await h.token(opts) });
    t.equal(r.status, 401, `${what} → 401`);
    t.match(r.headers["www-authenticate"], /^Bearer realm="trunkgate-provisioning", error="invalid_token"/, what);
    t.match(r.json.message, hint, `${what}: message says why (${r.json.message})`);
  }
  // Within the clock tolerance (30 s default) a just-expired token still passes.
  const r = await h.request("GET", path, { token: await h.token({ roles: [ROLES.read], exp: -5 }) });
  t.equal(r.status, 200, "expired 5 s ago is within the clock tolerance");
});

t.test("'bearer' scheme is case-insensitive; other schemes count as missing", async (t) => {
  const tok = await h.token({ roles: [ROLES.read] });
  t.equal((await h.request("GET", "/api/v1/services", { headers: { authorization: `bearer ${tok}` } })).status, 200);
  const basic = await h.request("GET", "/api/v1/services", { headers: { authorization: "Basic dXNlcjpwYXNz" } });
  t.equal(basic.status, 401);
  t.notMatch(basic.headers["www-authenticate"], /error=/);
});

t.test("auth failures are counted by reason", async (t) => {
  const m = (reason: string) => metricValue(h.metrics, "trunkgate_provisioning_auth_failures_total", { reason });
  const before = { missing: await m("missing"), invalid: await m("invalid"), expired: await m("expired"), forbidden: await m("forbidden") };
  await h.request("GET", "/api/v1/services");
  await h.request("GET", "/api/v1/services", { token: "x.y.z" });
  await h.request("GET", "/api/v1/services", { token: await h.token({ roles: [ROLES.read], exp: -600 }) });
  await h.request("GET", "/api/v1/services", { token: await h.token({ roles: [ROLES.write] }) });
  t.equal(await m("missing"), before.missing + 1);
  t.equal(await m("invalid"), before.invalid + 1);
  t.equal(await m("expired"), before.expired + 1);
  t.equal(await m("forbidden"), before.forbidden + 1);
  t.ok((await metricValue(h.metrics, "trunkgate_provisioning_requests_total", { route: "/api/v1/services", method: "GET", status_class: "4xx" })) >= 4);
});
