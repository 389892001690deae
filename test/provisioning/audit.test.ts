// GET /api/v1/audit over real mutual TLS with a SQLite store: what each write path records (the
// shared scenario, also run on PostgreSQL), the filters (time range, subject, number), newest-first
// cursor pagination that stays stable while entries arrive, input validation naming the field,
// and the Admin role (the full role × endpoint matrix is in auth-matrix.ts).
import t from "tap";
import { makeTestPki } from "../helpers/pki.js";
import { ROLES } from "../../src/provisioning/roles.js";
import { startHarness } from "./harness.js";
import { runAuditScenario } from "./audit-scenario.js";
import { runAccountAuditScenario } from "./account-audit-scenario.js";

const pki = await makeTestPki();
t.teardown(() => pki.cleanup());
const limits = { rateLimit: { requestsPerMinute: 100_000 } };

t.test("audit trail through the API [sqlite]", async (t) => {
  const h = await startHarness(t, { pki, provisioning: limits });
  await runAuditScenario(t, h);
});

t.test("accounts in the audit trail through the API [sqlite]", async (t) => {
  const h = await startHarness(t, { pki, provisioning: limits });
  await runAccountAuditScenario(t, h);
});

t.test("filters, pagination, validation and role", async (t) => {
  const h = await startHarness(t, { pki, provisioning: limits });
  const admin = await h.token({ sub: "auditor", roles: [ROLES.admin] });
  const get = (query: string, token = admin) => h.request("GET", `/api/v1/audit${query}`, { token });
  const alice = { subject: "alice", peer: "dev-trunk", via: "test" };
  const carol = { subject: "cli:carol", peer: null, via: "cli numbers import" };
  await h.store.numbers.upsertMany(Array.from({ length: 20 }, (_, i) => ({ number: `+4930222${String(i).padStart(3, "0")}`, service: "svc-a" })), carol);
  for (let i = 0; i < 5; i++) await h.store.numbers.upsert({ number: "+4930333000", service: i % 2 ? "svc-a" : "svc-b" }, alice);
  await h.store.audit.recordAlone({ kind: "keys", op: "rotate", actor: { subject: "cli:carol", peer: null, via: "cli keys rotate" }, before: { active: "k1" }, after: { active: "k2" } });

  const all = (await get("?limit=1000")).json.items as { id: string; at: string; subject: string; kind: string; target?: string }[];
  t.equal(all.length, 26);
  t.same(
    all.map((e) => e.id),
    [...all.map((e) => e.id)].sort().reverse(),
    "newest first",
  );
  t.match(all[0], { kind: "keys", op: "rotate", subject: "cli:carol", via: "cli keys rotate", before: { active: "k1" }, after: { active: "k2" } });
  t.notOk("target" in all[0]! || "number" in all[0]!, "key operations name no target");

  // Pages of 7: every entry once, in order; an entry recorded mid-walk shifts nothing.
  const seen: string[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const r = await get(`?limit=7${cursor ? `&cursor=${cursor}` : ""}`);
    t.equal(r.status, 200);
    seen.push(...r.json.items.map((e: { id: string }) => e.id));
    cursor = r.json.nextCursor;
    if (pages++ === 1) await h.store.numbers.upsert({ number: "+4930444000", service: "svc-a" }, alice);
  } while (cursor);
  t.same(seen, all.map((e) => e.id), "pages visit every entry once, newest first");
  t.equal(pages, 4);
  all.unshift((await get("?limit=1")).json.items[0]); // the one recorded mid-walk

  // Subject and number filters, combined with pagination.
  const bySubject = (await get("?subject=alice&limit=1000")).json.items as { subject: string }[];
  t.equal(bySubject.length, 6, "5 upserts and the one recorded mid-walk");
  t.ok(bySubject.every((e) => e.subject === "alice"));
  t.equal((await get("?subject=cli%3Acarol&limit=1000")).json.items.length, 21);
  const byNumber = await get(`?number=${encodeURIComponent("+49 (30) 333-000")}&limit=2`);
  t.same(byNumber.json.items.map((e: { number: string; op: string }) => [e.number, e.op]), [["+4930333000", "update"], ["+4930333000", "update"]]);
  const page2 = await get(`?number=%2B4930333000&limit=2&cursor=${byNumber.json.nextCursor}`);
  const page3 = await get(`?number=%2B4930333000&limit=2&cursor=${page2.json.nextCursor}`);
  t.same(page3.json.items.map((e: { op: string }) => e.op), ["create"], "5 entries for that number: 2 + 2 + 1");
  t.equal(page3.json.nextCursor, null);
  t.same((await get("?number=%2B4930999999")).json.items, [], "a number never changed: no entries");

  // Time range: from inclusive, to exclusive, any offset.
  const pivot = all[10]!.at;
  const atOrAfter = all.filter((e) => e.at >= pivot).length;
  const fromPivot = await get(`?from=${encodeURIComponent(pivot)}&limit=1000`);
  t.equal(fromPivot.json.items.length, atOrAfter);
  t.ok(fromPivot.json.items.every((e: { at: string }) => e.at >= pivot));
  const shifted = new Date(Date.parse(pivot) + 2 * 3600_000).toISOString().replace("Z", "+02:00");
  t.equal((await get(`?from=${encodeURIComponent(shifted)}&limit=1000`)).json.items.length, atOrAfter, "an offset names the same instant");
  const beforePivot = await get(`?to=${encodeURIComponent(pivot)}&limit=1000`);
  t.equal(beforePivot.json.items.length, all.length - atOrAfter);
  t.equal((await get(`?from=${encodeURIComponent(pivot)}&to=${encodeURIComponent(pivot)}`)).json.items.length, 0, "an empty range");

  // Bad input: 400 naming the field, in the API's error shape.
  for (const [query, field] of [
    ["?from=2025-01-01", "from"],
    ["?from=2025-02-30T00:00:00Z", "from"],
    ["?to=2025-01-01T00:00:00", "to"],
    ["?to=2025-01-01T24:00:00Z", "to"],
    ["?from=2025-01-02T00:00:00Z&to=2025-01-01T00:00:00Z", "to"],
    ["?number=12345", "number"],
    ["?subject=", "subject"],
    ["?subject=a%0Ab", "subject"],
    [`?subject=${"s".repeat(257)}`, "subject"],
    ["?limit=0", "limit"],
    ["?limit=1001", "limit"],
    ["?cursor=%21%21", "cursor"],
    ["?cursor=Zm9vYmFy", "cursor"],
    ["?service=svc-a", "service"],
    ["?from=2025-01-01T00:00:00Z&from=2025-01-02T00:00:00Z", "from"],
  ] as const) {
    const r = await get(query);
    t.equal(r.status, 400, `${query} → 400`);
    t.match(r.json, { error: "invalid_request", field, message: String }, `${query}: names ${field}`);
  }

  // Admin only: every other role is refused (each role and token variant: auth-matrix.ts).
  for (const role of [ROLES.read, ROLES.write, ROLES.delete]) {
    const r = await get("", await h.token({ roles: [role] }));
    t.equal(r.status, 403, `${role} → 403`);
  }
  t.equal((await h.request("GET", "/api/v1/audit")).status, 401, "no token → 401");
});
