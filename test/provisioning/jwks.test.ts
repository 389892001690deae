// Verification keys: the JWKS file is re-read when a token names an unknown kid (rate limited by a
// cooldown) and when the file changes; a broken file keeps the old keys; startup refuses a missing
// or unsafe file naming the config key; a JWKS URL is fetched over HTTPS with trunkgate's trust store.
import t from "tap";
import { once } from "node:events";
import { createServer } from "node:https";
import type { AddressInfo } from "node:net";
import { writeFileSync } from "node:fs";
import { Registry } from "prom-client";
import { makeTestPki } from "../helpers/pki.js";
import { metricValue } from "../helpers/http-harness.js";
import { parseConfig } from "../../src/config/load.js";
import { ROLES } from "../../src/provisioning/roles.js";
import { buildProvisioningComponent } from "../../src/provisioning/component.js";
import { createLogger } from "../../src/observability/logger.js";
import { createMetrics } from "../../src/observability/metrics.js";
import { edgeConfig } from "../helpers/edge.js";
import { sharedFor, signingKey, signToken, startHarness, writeJwks, ISSUER, AUDIENCE } from "./harness.js";

const pki = await makeTestPki();
t.teardown(() => pki.cleanup());

t.test("unknown kid: re-read at once, then not again within the cooldown", async (t) => {
  let now = 1_000_000;
  const h = await startHarness(t, { pki, now: () => now, provisioning: { auth: { unknownKidCooldownMs: 10_000, jwksFileCheckMs: 3_600_000 } } });
  const k2 = await signingKey("k2");
  writeJwks(h.jwksPath, [h.key, k2]);
  const r = await h.request("GET", "/api/v1/services", { token: await signToken(k2, { roles: [ROLES.read] }) });
  t.equal(r.status, 200, "a key added to the file is picked up on its first token");
  t.equal(await metricValue(h.metrics, "trunkgate_provisioning_jwks_reloads_total", { result: "success" }), 1);

  const k3 = await signingKey("k3");
  const tok3 = await signToken(k3, { roles: [ROLES.read] });
  now += 10_000;
  t.equal((await h.request("GET", "/api/v1/services", { token: tok3 })).status, 401, "k3 unknown (file checked, unchanged)");
  writeJwks(h.jwksPath, [h.key, k2, k3]);
  t.equal((await h.request("GET", "/api/v1/services", { token: tok3 })).status, 401, "within the cooldown the file is not re-read");
  now += 10_000;
  t.equal((await h.request("GET", "/api/v1/services", { token: tok3 })).status, 200, "after the cooldown it is");
});

t.test("a removed key stops working once the file is checked; a broken file keeps the old keys", async (t) => {
  const h = await startHarness(t, { pki, provisioning: { auth: { jwksFileCheckMs: 0 } } });
  const k2 = await signingKey("k2");
  const old = await h.token({ roles: [ROLES.read] });
  t.equal((await h.request("GET", "/api/v1/services", { token: old })).status, 200);
  writeJwks(h.jwksPath, [k2]);
  t.equal((await h.request("GET", "/api/v1/services", { token: old })).status, 401, "k1 was removed from the file");
  const tok2 = await signToken(k2, { roles: [ROLES.read] });
  t.equal((await h.request("GET", "/api/v1/services", { token: tok2 })).status, 200);
  writeFileSync(h.jwksPath, "{ not json");
  t.equal((await h.request("GET", "/api/v1/services", { token: tok2 })).status, 200, "broken file: previous keys stay");
  t.ok((await metricValue(h.metrics, "trunkgate_provisioning_jwks_reloads_total", { result: "error" })) >= 1);
  t.ok(h.logs.lines.some((l) => l.msg === "provisioning JWKS file reload failed; keeping the previous keys"));
});

async function build(auth: Record<string, unknown>) {
  const config = edgeConfig(pki, { provisioning: { enabled: true, listen: { host: "127.0.0.1", port: 0 }, auth: { issuer: ISSUER, audience: AUDIENCE, ...auth } } });
  // Startup fails before the store is touched, so none is opened.
  const shared = sharedFor(config, createLogger({ level: "silent" }), createMetrics("test", new Registry()), undefined);
  return buildProvisioningComponent(shared, undefined as never);
}

t.test("startup refuses a missing, empty or private JWKS file, naming the key", async (t) => {
  await t.rejects(build({ jwksFile: `${pki.dir}/nope.json` }), /provisioning\.auth\.jwksFile: cannot read .*ENOENT/);
  const empty = `${pki.dir}/empty.json`;
  writeFileSync(empty, JSON.stringify({ keys: [] }));
  await t.rejects(build({ jwksFile: empty }), /provisioning\.auth\.jwksFile: the key set is empty/);
  const { exportJWK, generateKeyPair } = await import("jose");
  const kp = await generateKeyPair("ES256", { extractable: true });
  const priv = `${pki.dir}/private.json`;
  writeFileSync(priv, JSON.stringify({ keys: [await exportJWK(kp.privateKey)] }));
  await t.rejects(build({ jwksFile: priv }), /provisioning\.auth\.jwksFile: keys\[0\]: contains private/);
});

t.test("config: exactly one of jwksFile/jwksUrl, issuer and audience when enabled; errors name the key", async (t) => {
  const check = (yaml: string) => {
    try {
      parseConfig(yaml);
      return "ok";
    } catch (err) {
      return (err as Error).message;
    }
  };
  t.equal(check("provisioning: {enabled: false}"), "ok", "nothing required while disabled");
  t.match(check("provisioning: {enabled: true, auth: {issuer: i, audience: a}}"), /provisioning\.auth\.jwksFile: one of jwksFile or jwksUrl is required/);
  t.match(check("provisioning: {enabled: true, auth: {jwksFile: f, jwksUrl: 'https://idp/jwks', issuer: i, audience: a}}"), /provisioning\.auth\.jwksUrl: set either/);
  t.match(check("provisioning: {enabled: true, auth: {jwksFile: f, audience: a}}"), /provisioning\.auth\.issuer: required/);
  t.match(check("provisioning: {enabled: true, auth: {jwksFile: f, issuer: i}}"), /provisioning\.auth\.audience: required/);
  t.match(check("provisioning: {enabled: true, auth: {jwksUrl: 'http://idp.example/jwks', issuer: i, audience: a}}"), /provisioning\.auth\.jwksUrl: must be https/);
  t.equal(check("provisioning: {enabled: true, auth: {jwksUrl: 'http://127.0.0.1:9/jwks', issuer: i, audience: a}}"), "ok", "http on loopback");
  t.match(check("provisioning: {enabled: true, auth: {jwksFile: f, issuer: i, audience: a, algorithms: [HS256]}}"), /provisioning\.auth\.algorithms\.0/);
  t.match(check("provisioning: {rateLimit: {requestsPerMinute: 0}}"), /provisioning\.rateLimit\.requestsPerMinute/);
  t.match(check("provisioning: {limits: {maxBatchSiz: 5}}"), /provisioning\.limits\.maxBatchSiz: unknown key/);
  const d = parseConfig("{}").provisioning;
  t.match(d, {
    enabled: false,
    listen: { host: "127.0.0.1", port: 8444 },
    auth: { algorithms: ["ES256", "RS256", "EdDSA"], clockToleranceSeconds: 30, jwksFileCheckMs: 5000, unknownKidCooldownMs: 5000 },
    rateLimit: { requestsPerMinute: 100 },
    limits: { maxBodyBytes: 1048576, maxBatchSize: 1000 },
  });
});

t.test("jwksUrl: keys fetched over HTTPS, verified with the configured trust (test CA)", async (t) => {
  const key = await signingKey("url-k1");
  let fetches = 0;
  const idp = createServer({ cert: pki.serverEcdsa.cert, key: pki.serverEcdsa.key }, (req, res) => {
    fetches++;
    if (req.url !== "/.well-known/jwks.json") return void res.writeHead(404).end();
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ keys: [key.jwk] }));
  });
  idp.listen(0, "127.0.0.1");
  await once(idp, "listening");
  t.teardown(() => new Promise<void>((r) => idp.close(() => r())));
  const url = `https://localhost:${(idp.address() as AddressInfo).port}/.well-known/jwks.json`;
  const h = await startHarness(t, { pki, provisioning: { auth: { jwksUrl: url } } });
  t.equal(fetches, 1, "fetched once at start");
  const ok = await h.request("GET", "/api/v1/services", { token: await signToken(key, { roles: [ROLES.read] }) });
  t.equal(ok.status, 200);
  const stranger = await signingKey("url-k2");
  const bad = await h.request("GET", "/api/v1/services", { token: await signToken(stranger, { roles: [ROLES.read] }) });
  t.equal(bad.status, 401);
});

t.test("RS256 and EdDSA keys work too; algorithms outside the configured list are refused", async (t) => {
  const { exportJWK, generateKeyPair, SignJWT } = await import("jose");
  const keyOf = async (alg: "RS256" | "EdDSA", kid: string) => {
    const kp = await generateKeyPair(alg, { extractable: true, ...(alg === "EdDSA" ? { crv: "Ed25519" } : {}) });
    return { kid, privateKey: kp.privateKey, jwk: { ...(await exportJWK(kp.publicKey)), kid, alg }, alg };
  };
  const rsa = await keyOf("RS256", "rsa-1");
  const ed = await keyOf("EdDSA", "ed-1");
  const sign = (k: typeof rsa) =>
    new SignJWT({ roles: [ROLES.read] })
      .setProtectedHeader({ alg: k.alg, kid: k.kid })
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setSubject("alg-test")
      .setExpirationTime("5m")
      .sign(k.privateKey);
  const h = await startHarness(t, { pki });
  writeJwks(h.jwksPath, [h.key, rsa, ed]);
  t.equal((await h.request("GET", "/api/v1/services", { token: await sign(rsa) })).status, 200, "RS256");
  t.equal((await h.request("GET", "/api/v1/services", { token: await sign(ed) })).status, 200, "EdDSA");
  const hs = await new SignJWT({ roles: [ROLES.admin] })
    .setProtectedHeader({ alg: "HS256", kid: h.key.kid })
    .setIssuer(ISSUER)
    .setAudience(AUDIENCE)
    .setExpirationTime("5m")
    .sign(new TextEncoder().encode("a-shared-secret-that-is-long-enough-for-hs256"));
  t.equal((await h.request("GET", "/api/v1/services", { token: hs })).status, 401, "HS256 is never accepted");
  const unsigned = `${Buffer.from('{"alg":"none"}').toString("base64url")}.${Buffer.from(JSON.stringify({ iss: ISSUER, aud: AUDIENCE, exp: 9e9, roles: [ROLES.admin] })).toString("base64url")}.`;
  t.equal((await h.request("GET", "/api/v1/services", { token: unsigned })).status, 401, "alg none is never accepted");

  const esOnly = await startHarness(t, { pki, provisioning: { auth: { algorithms: ["ES256"] } } });
  writeJwks(esOnly.jwksPath, [esOnly.key, rsa]);
  const r = await esOnly.request("GET", "/api/v1/services", { token: await sign(rsa) });
  t.equal(r.status, 401, "RS256 refused when only ES256 is configured");
  t.match(r.json.message, /algorithm/);
});
