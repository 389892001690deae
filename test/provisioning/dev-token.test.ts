// `trunkgate tokens dev` issues a JWKS and a token the running API accepts, with the roles where
// provisioning.auth.rolesClaim says (Keycloak's realm_access.roles here); a token carrying its roles
// elsewhere gets no roles.
import t from "tap";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { stringify } from "yaml";
import { tokensCommand } from "../../src/cli/tokens.js";
import { claimAt, claimObject } from "../../src/provisioning/auth/roles-claim.js";
import { ROLES } from "../../src/provisioning/roles.js";
import { makeTestPki } from "../helpers/pki.js";
import { runIn } from "../helpers/capture-io.js";
import { AUDIENCE, ISSUER, startHarness } from "./harness.js";

const pki = await makeTestPki();
t.teardown(() => pki.cleanup());
const h = await startHarness(t, { pki, provisioning: { auth: { rolesClaim: "realm_access.roles", unknownKidCooldownMs: 0 } } });

function cliConfig(): string {
  const p = join(h.dir, "cli.yaml");
  writeFileSync(p, stringify({ provisioning: { auth: { issuer: ISSUER, audience: AUDIENCE, rolesClaim: "realm_access.roles" } } }));
  return p;
}

t.test("tokens dev --jwks-out: the API (rolesClaim realm_access.roles) accepts the token it prints", async (t) => {
  const r = await runIn((io) => tokensCommand(["dev", "--config", cliConfig(), "--jwks-out", h.jwksPath, "--roles", ROLES.read], io));
  t.equal(r.code, 0, r.stderr);
  const token = r.stdout.trim();
  t.match(token, /^[\w-]+\.[\w-]+\.[\w-]+$/, "stdout is the token alone");
  t.match(r.stderr, /realm_access\.roles=Provisioning\.Read/);
  const payload = JSON.parse(Buffer.from(token.split(".")[1]!, "base64url").toString()) as Record<string, unknown>;
  t.same(payload.realm_access, { roles: [ROLES.read] });
  t.equal(payload.iss, ISSUER);
  // The new key id is unknown to the API, which re-reads the JWKS file at once.
  const ok = await h.request("GET", "/api/v1/services", { token });
  t.equal(ok.status, 200);
  const forbidden = await h.request("PUT", "/api/v1/numbers/+4930123456", { token, body: { service: "svc-a" } });
  t.equal(forbidden.status, 403, "Read only: no write");
});

t.test("a token with top-level roles gets none when the claim is realm_access.roles", async (t) => {
  const r = await runIn((io) => tokensCommand(["dev", "--jwks-out", h.jwksPath, "--issuer", ISSUER, "--audience", AUDIENCE, "--roles", ROLES.admin], io));
  t.equal(r.code, 0, r.stderr);
  const res = await h.request("GET", "/api/v1/services", { token: r.stdout.trim() });
  t.equal(res.status, 403);
});

t.test("without --jwks-out both the JWKS (public only) and the token are printed", async (t) => {
  const r = await runIn((io) => tokensCommand(["dev", "--config", cliConfig()], io));
  t.equal(r.code, 0, r.stderr);
  const lines = r.stdout.split("\n").filter((l) => l && !l.startsWith("#"));
  const jwks = JSON.parse(lines[0]!) as { keys: Record<string, unknown>[] };
  t.equal(jwks.keys.length, 1);
  t.notOk("d" in jwks.keys[0]!, "no private key material");
  t.match(lines[1], /^[\w-]+\.[\w-]+\.[\w-]+$/);
});

t.test("bad flags are usage errors", async (t) => {
  for (const args of [["dev", "--ttl-seconds", "0"], ["dev", "--roles", ","], ["dev", "--bogus"], ["mint"]]) {
    const r = await runIn((io) => tokensCommand(args, io));
    t.equal(r.code, 2, args.join(" "));
  }
});

t.test("claimAt / claimObject: names, dotted paths, namespaced claims with dots", async (t) => {
  t.same(claimAt({ roles: ["a"] }, "roles"), ["a"]);
  t.same(claimAt({ realm_access: { roles: ["a"] } }, "realm_access.roles"), ["a"]);
  t.same(claimAt({ "https://example.com/roles": ["a"] }, "https://example.com/roles"), ["a"]);
  t.equal(claimAt({ realm_access: ["x"] }, "realm_access.roles"), undefined);
  t.equal(claimAt({}, "realm_access.roles"), undefined);
  t.same(claimObject("realm_access.roles", ["a"]), { realm_access: { roles: ["a"] } });
  t.same(claimObject("https://example.com/roles", ["a"]), { "https://example.com/roles": ["a"] });
});
