// Accounts in the audit trail through the API, shared by the SQLite (audit.test.ts) and PostgreSQL
// (audit-postgres.test.ts) runs: each account write records who (token subject, certificate peer),
// what and which account; a cascade delete records the account and each number it deleted; a
// refused delete (409) records nothing; no name, header value or number in the logs. Run on a
// harness whose audit trail is empty. Not a test file itself.
import type { Test } from "tap";
import { ROLES } from "../../src/provisioning/roles.js";
import type { Harness } from "./harness.js";

const N4 = "+4930111004";
const N5 = "+4930111005";
const PEER = "dev-trunk"; // the harness client certificate's configured peer
const ACCOUNT_VIA = "/api/v1/accounts/{id}";

export async function runAccountAuditScenario(t: Test, h: Harness): Promise<void> {
  const alice = await h.token({ sub: "alice", roles: [ROLES.write, ROLES.delete] });
  const bob = await h.token({ sub: "bob", roles: [ROLES.write, ROLES.delete] });
  const admin = await h.token({ sub: "auditor", roles: [ROLES.admin] });
  const audit = async (query = "") => {
    const r = await h.request("GET", `/api/v1/audit${query}`, { token: admin });
    t.equal(r.status, 200, `GET /api/v1/audit${query} → 200`);
    return (r.json as { items: Record<string, unknown>[] }).items;
  };
  const before = (await audit("?limit=1000")).length;
  const patch = { "content-type": "application/merge-patch+json" };
  const acme = { name: "ACME Secret GmbH", service: "svc-a", customHeader: "tenant=acme-secret" };

  t.equal((await h.request("PUT", "/api/v1/accounts/acme", { token: alice, body: acme })).status, 201);
  t.equal((await h.request("PATCH", "/api/v1/accounts/acme", { token: bob, body: { service: "svc-b" }, headers: patch })).status, 200);
  t.equal((await h.request("PUT", `/api/v1/numbers/${N4}`, { token: alice, body: { account: "acme" } })).status, 201);
  t.equal((await h.request("PUT", `/api/v1/numbers/${N5}`, { token: alice, body: { account: "acme", service: "svc-a" } })).status, 201);
  t.equal((await h.request("DELETE", "/api/v1/accounts/acme", { token: bob })).status, 409, "an account with numbers: refused");
  t.equal((await audit("?limit=1000")).length, before + 4, "the refused delete recorded nothing");

  const cascade = await h.request("DELETE", "/api/v1/accounts/acme?cascade=true", { token: bob });
  t.equal(cascade.status, 200);
  t.equal(cascade.json.numbersDeleted, 2);
  const latest = await audit("?limit=7");
  t.same(
    latest.map((e) => [e.kind, e.op, e.subject, e.peer, e.via]),
    [
      ["account", "delete", "bob", PEER, `DELETE ${ACCOUNT_VIA}`],
      ["number", "delete", "bob", PEER, `DELETE ${ACCOUNT_VIA}`],
      ["number", "delete", "bob", PEER, `DELETE ${ACCOUNT_VIA}`],
      ["number", "create", "alice", PEER, "PUT /api/v1/numbers/{e164}"],
      ["number", "create", "alice", PEER, "PUT /api/v1/numbers/{e164}"],
      ["account", "update", "bob", PEER, `PATCH ${ACCOUNT_VIA}`],
      ["account", "create", "alice", PEER, `PUT ${ACCOUNT_VIA}`],
    ],
    "newest first: the cascade (the account above one entry per number it deleted), the numbers, the account's changes",
  );
  const accountEntries = latest.filter((e) => e.kind === "account");
  t.same(
    accountEntries.map((e) => [e.target, e.before, e.after]),
    [
      ["acme", { ...acme, service: "svc-b" }, null],
      ["acme", acme, { ...acme, service: "svc-b" }],
      ["acme", null, acme],
    ],
    "the account by its id, its fields before and after",
  );
  t.same(
    (await audit(`?number=${encodeURIComponent(N4)}`)).map((e) => [e.op, e.via, e.number, e.before, e.after]),
    [
      ["delete", `DELETE ${ACCOUNT_VIA}`, N4, { service: null, customHeader: null, account: "acme" }, null],
      ["create", "PUT /api/v1/numbers/{e164}", N4, null, { service: null, customHeader: null, account: "acme" }],
    ],
    "a number deleted by the cascade is found by its number, with its own fields and account",
  );
  t.same((await audit(`?number=${encodeURIComponent(N5)}&subject=bob`)).map((e) => [e.op, e.before]), [["delete", { service: "svc-a", customHeader: null, account: "acme" }]]);
  t.notOk(latest.slice(0, 3).some((e) => "number" in e), "unfiltered: a cascaded number is not named");
  t.notMatch(h.logs.text, /ACME Secret|tenant=acme|4930111004|4930111005/, "no account name, header value or number in the logs");
}
