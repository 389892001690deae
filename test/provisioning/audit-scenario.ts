// The audit trail through the API, shared by the SQLite (audit.test.ts) and PostgreSQL
// (audit-postgres.test.ts) runs: each write path records who (token subject, certificate peer),
// what and which number; a refused atomic batch records nothing; ?atomic=false records only the
// applied entries; GET /api/v1/audit filters by number. Not a test file itself.
import type { Test } from "tap";
import { ROLES } from "../../src/provisioning/roles.js";
import type { Harness } from "./harness.js";

export const N1 = "+4930111001";
export const N2 = "+4930111002";
export const N3 = "+4930111003";
const PEER = "dev-trunk"; // the harness client certificate's configured peer

export async function runAuditScenario(t: Test, h: Harness): Promise<void> {
  const as = async (sub: string, roles: string[]) => h.token({ sub, roles });
  const alice = await as("alice", [ROLES.write, ROLES.delete]);
  const bob = await as("bob", [ROLES.write, ROLES.delete]);
  const admin = await as("auditor", [ROLES.admin]);
  const audit = async (query = "") => {
    const r = await h.request("GET", `/api/v1/audit${query}`, { token: admin });
    t.equal(r.status, 200, `GET /api/v1/audit${query} → 200 (${JSON.stringify(r.json).slice(0, 200)})`);
    return r.json as { items: Record<string, unknown>[]; nextCursor: string | null };
  };
  const count = async () => (await audit("?limit=1000")).items.length;

  t.equal((await h.request("PUT", `/api/v1/numbers/${N1}`, { token: alice, body: { service: "svc-a", customHeader: "tenant=1", account: null } })).status, 201);
  t.equal(
    (await h.request("PATCH", `/api/v1/numbers/${N1}`, { token: bob, body: { customHeader: "tenant=2" }, headers: { "content-type": "application/merge-patch+json" } })).status,
    200,
  );
  t.equal((await h.request("DELETE", `/api/v1/numbers/${N1}`, { token: alice })).status, 204);
  t.equal((await h.request("DELETE", `/api/v1/numbers/${N1}`, { token: alice })).status, 404, "a delete of nothing records nothing");
  t.equal(await count(), 3);

  const byNumber = await audit(`?number=${encodeURIComponent("+49 30 111 001")}`);
  t.same(
    byNumber.items.map((e) => [e.op, e.subject, e.peer, e.via, e.number, e.before, e.after]),
    [
      ["delete", "alice", PEER, "DELETE /api/v1/numbers/{e164}", N1, { service: "svc-a", customHeader: "tenant=2", account: null }, null],
      ["update", "bob", PEER, "PATCH /api/v1/numbers/{e164}", N1, { service: "svc-a", customHeader: "tenant=1", account: null }, { service: "svc-a", customHeader: "tenant=2", account: null }],
      ["create", "alice", PEER, "PUT /api/v1/numbers/{e164}", N1, null, { service: "svc-a", customHeader: "tenant=1", account: null }],
    ],
    "filtered by number (any notation): the number is shown, newest first",
  );
  const unfiltered = await audit();
  t.notOk(unfiltered.items.some((e) => "number" in e), "without the number filter no entry names a number (only its blind index is stored)");
  t.notMatch(JSON.stringify(unfiltered), /4930111/, "nor any trace of it");

  // Atomic batch with an invalid entry: refused, nothing written, nothing recorded.
  const refused = await h.request("POST", "/api/v1/numbers:batch", { token: alice, body: { numbers: [{ number: N2, service: "svc-a" }, { number: "bogus", service: "svc-a" }] } });
  t.equal(refused.status, 400);
  const refusedDelete = await h.request("POST", "/api/v1/numbers:batchDelete", { token: alice, body: { numbers: [N1, "bogus"] } });
  t.equal(refusedDelete.status, 400);
  t.equal(await count(), 3, "a refused atomic batch leaves no audit entry");

  // atomic=false: the valid entries are applied and recorded, one entry each; the invalid are not.
  const partial = await h.request("POST", "/api/v1/numbers:batch?atomic=false", {
    token: bob,
    body: { numbers: [{ number: N2, service: "svc-a" }, { number: "bogus", service: "svc-a" }, { number: N3, service: "svc-b", customHeader: "x=1" }] },
  });
  t.equal(partial.status, 200);
  t.equal(partial.json.upserted, 2);
  const partialDelete = await h.request("POST", "/api/v1/numbers:batchDelete?atomic=false", { token: alice, body: { numbers: [N2, "bogus", N1] } });
  t.equal(partialDelete.status, 200);
  t.same([partialDelete.json.deleted, partialDelete.json.notFound, partialDelete.json.failed], [1, 1, 1]);
  const latest = (await audit("?limit=3")).items;
  t.same(
    latest.map((e) => [e.op, e.subject, e.via]),
    [
      ["delete", "alice", "POST /api/v1/numbers:batchDelete"],
      // one batch, one entry per applied number (in blind-index order within the batch)
      ...[
        ["create", "bob", "POST /api/v1/numbers:batch"],
        ["create", "bob", "POST /api/v1/numbers:batch"],
      ],
    ],
  );
  t.equal(await count(), 6, "3 + the 2 applied upserts + the 1 applied delete");
  t.same((await audit(`?number=${encodeURIComponent(N3)}`)).items.map((e) => [e.op, e.after]), [["create", { service: "svc-b", customHeader: "x=1", account: null }]]);
  t.same((await audit(`?number=${encodeURIComponent(N2)}`)).items.map((e) => e.op), ["delete", "create"]);

  // Logs: never the number or a header value.
  t.notMatch(h.logs.text, /4930111|tenant=|x=1/, "no number or header value in the logs");
}
