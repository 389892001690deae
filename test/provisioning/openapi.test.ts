// GET /api/openapi.json: a parseable OpenAPI 3.1 document listing every route with its methods,
// the bearer security scheme and the role each operation requires; any valid token may read it.
import t from "tap";
import { Validator } from "@seriousme/openapi-schema-validator";
import { makeTestPki } from "../helpers/pki.js";
import { ROLES } from "../../src/provisioning/roles.js";
import { ROUTES } from "../../src/provisioning/routes.js";
import { startHarness } from "./harness.js";

const pki = await makeTestPki();
t.teardown(() => pki.cleanup());
const h = await startHarness(t, { pki, provisioning: { limits: { maxBatchSize: 321 } } });

t.test("openapi.json parses, is 3.1, and lists every path and method", async (t) => {
  t.equal((await h.request("GET", "/api/openapi.json")).status, 401, "a token is required");
  const r = await h.request("GET", "/api/openapi.json", { token: await h.token({ roles: [] }) });
  t.equal(r.status, 200);
  t.match(r.headers["content-type"], /^application\/json/);
  const doc = JSON.parse(r.body.toString());
  t.match(doc.openapi, /^3\.1\./);
  // Against the official OpenAPI 3.1 JSON Schema (and every $ref resolvable), not only our own checks.
  const validator = new Validator();
  const result = await validator.validate(structuredClone(doc));
  t.ok(result.valid, `valid OpenAPI ${validator.version}: ${JSON.stringify(result.errors)}`);
  t.equal(validator.version, "3.1");
  t.doesNotThrow(() => validator.resolveRefs(), "every $ref resolves");
  t.same(Object.keys(doc.paths).sort(), Object.values(ROUTES).map((x) => x.template).sort(), "every route, nothing else");
  for (const route of Object.values(ROUTES)) {
    const item = doc.paths[route.template];
    t.same(Object.keys(item).filter((k) => k !== "parameters").sort(), Object.keys(route.methods).map((m) => m.toLowerCase()).sort(), `${route.template}: methods`);
    for (const [method, role] of Object.entries(route.methods)) {
      const op = item[method.toLowerCase()];
      t.same(op.security, [{ mutualTLS: [], bearerAuth: role ? [role] : [] }], `${method} ${route.template} requires ${role ?? "any token"}`);
      t.ok(op.responses["401"] && op.responses["429"], `${method} ${route.template}: 401 and 429 documented`);
    }
  }
  t.match(doc.components.securitySchemes.bearerAuth, { type: "http", scheme: "bearer", bearerFormat: "JWT" });
  t.equal(doc.components.securitySchemes.mutualTLS.type, "mutualTLS");
  for (const role of Object.values(ROLES)) t.match(doc.info.description, role, `${role} described`);
  t.equal(doc.components.schemas.BatchInput.properties.numbers.maxItems, 321, "configured batch limit");
  // Every $ref resolves.
  const refs = [...r.body.toString().matchAll(/"\$ref":"#\/components\/schemas\/([^"]+)"/g)].map((m) => m[1]!);
  t.ok(refs.length > 5);
  for (const name of new Set(refs)) t.ok(doc.components.schemas[name], `schema ${name} exists`);
});
