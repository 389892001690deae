// Accounts in the audit trail through the API, shared by the SQLite (audit.test.ts) and PostgreSQL
// (audit-postgres.test.ts) runs: each account write records who (token subject, certificate peer),
// what and which account; a cascade delete records the account and each number it deleted; a
// refused delete (409) records nothing; ?account=<id> finds the account's own entries (with the
// other filters and pages); no name, header value or number in the logs. Run on a
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
  await runAccountFilter(t, h, admin, alice);
  t.notMatch(h.logs.text, /ACME Secret|tenant=acme|4930111004|4930111005/, "no account name, header value or number in the logs");
}

/** ?account=<id>: the account's own entries (not its numbers'), combined with the other filters and pages. */
async function runAccountFilter(t: Test, h: Harness, admin: string, alice: string): Promise<void> {
  type Item = { id: string; at: string; kind: string; op: string; subject: string; target?: string; number?: string };
  const get = (query: string) => h.request("GET", `/api/v1/audit${query}`, { token: admin });
  const items = async (query: string) => {
    const r = await get(query);
    t.equal(r.status, 200, `GET /api/v1/audit${query} → 200`);
    return r.json.items as Item[];
  };
  t.equal((await h.request("PUT", "/api/v1/accounts/globex", { token: alice, body: { name: "Globex" } })).status, 201);

  const acme = await items("?account=acme");
  t.same(
    acme.map((e) => [e.kind, e.op, e.subject, e.target]),
    [
      ["account", "delete", "bob", "acme"],
      ["account", "update", "bob", "acme"],
      ["account", "create", "alice", "acme"],
    ],
    "the account's own entries, newest first: not its numbers' (nor the other account's)",
  );
  t.same((await items("?account=acme&subject=bob")).map((e) => e.op), ["delete", "update"], "combined with subject");
  const created = acme[2]!.at;
  t.equal((await items(`?account=acme&from=${encodeURIComponent(created)}`)).length, 3, "combined with from (inclusive)");
  t.same(await items(`?account=acme&to=${encodeURIComponent(created)}`), [], "combined with to (exclusive): nothing before its creation");
  t.same(await items("?account=nobody"), [], "an account never written: no entries");

  // Pages of one: every entry once, in order; a change of that account recorded mid-walk shifts nothing.
  const seen: string[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const r = await get(`?account=acme&limit=1${cursor ? `&cursor=${cursor}` : ""}`);
    t.equal(r.status, 200);
    seen.push(...r.json.items.map((e: Item) => e.id));
    cursor = r.json.nextCursor;
    if (pages++ === 0) t.equal((await h.request("PUT", "/api/v1/accounts/acme", { token: alice, body: { name: "ACME again" } })).status, 201);
  } while (cursor);
  t.same(seen, acme.map((e) => e.id), "pages visit each of the account's entries once, newest first");
  t.match((await items("?account=acme&limit=1"))[0], { kind: "account", op: "create", target: "acme" }, "the one recorded mid-walk heads a new walk");

  // A number's blind index (base64url) is a valid account id: the two filters never cross.
  const n4Index = h.store.numbers.indexOf("+4930111004");
  t.equal((await h.request("PUT", `/api/v1/accounts/${n4Index}`, { token: alice, body: { name: "Look-alike" } })).status, 201);
  t.same((await items("?number=%2B4930111004")).map((e) => [e.kind, e.op]), [["number", "delete"], ["number", "create"]], "by number: only the number's entries");
  t.same((await items(`?account=${n4Index}`)).map((e) => [e.kind, e.op, e.number]), [["account", "create", undefined]], "by account: only the account's entry");

  for (const query of ["?account=", "?account=a%20b", `?account=${"a".repeat(65)}`, "?account=acme&account=globex", "?account=acme&number=%2B4930111004"]) {
    const r = await get(query);
    t.equal(r.status, 400, `${query} → 400`);
    t.match(r.json, { error: "invalid_request", field: "account", message: String }, `${query}: names account`);
  }
}
