// Batches over real mutual TLS: per-entry results for POST /api/v1/numbers:batch and
// /api/v1/numbers:batchDelete, atomic by default (one bad entry: 400 with every entry's result,
// nothing written), ?atomic=false applying the valid entries, duplicates, limits and roles.
import t from "tap";
import { makeTestPki } from "../helpers/pki.js";
import { ROLES } from "../../src/provisioning/roles.js";
import { startHarness } from "./harness.js";

const pki = await makeTestPki();
t.teardown(() => pki.cleanup());
const h = await startHarness(t, { pki, provisioning: { rateLimit: { requestsPerMinute: 100_000 }, limits: { maxBatchSize: 10 } } });
const admin = await h.token({ roles: [ROLES.admin] });
const upsert = (body: unknown, q = "") => h.request("POST", `/api/v1/numbers:batch${q}`, { token: admin, body });
const remove = (body: unknown, q = "", token = admin) => h.request("POST", `/api/v1/numbers:batchDelete${q}`, { token, body });
const N = (i: number) => `+4930400${String(100 + i)}`;

t.test("upsert: created / updated per entry", async (t) => {
  await h.store.numbers.upsert({ number: N(1), service: "svc-a" });
  const r = await upsert({ numbers: [{ number: N(0), service: "svc-a" }, { number: "+49 30 400 101", service: "svc-b", customHeader: "x=1" }] });
  t.equal(r.status, 200);
  t.same(r.json, {
    atomic: true,
    upserted: 2,
    failed: 0,
    results: [
      { index: 0, number: N(0), status: "created" },
      { index: 1, number: N(1), status: "updated" },
    ],
  });
  t.same(await h.store.numbers.get(N(1)), { number: N(1), service: "svc-b", customHeader: "x=1" });
  await h.store.numbers.deleteMany([N(0), N(1)]);
});

t.test("upsert, atomic (default): one bad entry refuses all, every entry's result given", async (t) => {
  const r = await upsert({ numbers: [{ number: N(0), service: "svc-a" }, { number: N(1), service: "nope" }, { number: "12", service: "svc-a" }, { number: N(0), service: "svc-b" }] });
  t.equal(r.status, 400);
  t.equal(r.json.error, "invalid_request");
  t.equal(r.json.field, "numbers[1].service", "the first refused entry is named as before");
  t.equal(r.json.failed, 3);
  t.same(r.json.results.map((x: { status: string }) => x.status), ["skipped", "failed", "failed", "failed"]);
  t.same(r.json.results.map((x: { error?: { field: string } }) => x.error?.field), [undefined, "numbers[1].service", "numbers[2].number", "numbers[3].number"]);
  t.match(r.json.results[3].error.message, /same number as numbers\[0\]/);
  t.notMatch(r.body.toString(), /"12"|nope/, "refused values are not echoed");
  t.equal(await h.store.numbers.count(), 0, "nothing written");
});

t.test("upsert ?atomic=false: valid entries written, the others reported", async (t) => {
  const r = await upsert({ numbers: [{ number: N(0), service: "svc-a" }, { number: N(1), service: "nope" }, { number: N(2), service: "svc-b", customHeader: "a\nb" }, { number: N(3), service: "svc-b" }] }, "?atomic=false");
  t.equal(r.status, 200);
  t.match(r.json, { atomic: false, upserted: 2, failed: 2 });
  t.same(r.json.results.map((x: { status: string }) => x.status), ["created", "failed", "failed", "created"]);
  t.equal(r.json.results[2].error.field, "numbers[2].customHeader");
  t.equal(await h.store.numbers.count(), 2);
  t.equal(await h.store.numbers.get(N(1)), null);
  const allBad = await upsert({ numbers: [{ number: N(5), service: "nope" }] }, "?atomic=false");
  t.equal(allBad.status, 200, "nothing valid: still 200 with the results");
  t.match(allBad.json, { upserted: 0, failed: 1 });
  await h.store.numbers.deleteMany([N(0), N(3)]);
});

t.test("batch delete: deleted / not_found per entry; atomic refuses on a bad entry", async (t) => {
  await h.store.numbers.upsertMany([0, 1, 2].map((i) => ({ number: N(i), service: "svc-a" })));
  const bad = await remove({ numbers: [N(0), "not-a-number", N(1)] });
  t.equal(bad.status, 400);
  t.equal(bad.json.field, "numbers[1]");
  t.same(bad.json.results.map((x: { status: string }) => x.status), ["skipped", "failed", "skipped"]);
  t.notMatch(bad.body.toString(), /not-a-number/);
  t.equal(await h.store.numbers.count(), 3, "nothing deleted");
  const r = await remove({ numbers: [N(0), "+49 30 400 101", N(9)] });
  t.equal(r.status, 200);
  t.same(r.json, {
    atomic: true,
    deleted: 2,
    notFound: 1,
    failed: 0,
    results: [
      { index: 0, number: N(0), status: "deleted" },
      { index: 1, number: N(1), status: "deleted" },
      { index: 2, number: N(9), status: "not_found" },
    ],
  });
  const partial = await remove({ numbers: [N(2), N(2), 7] }, "?atomic=false");
  t.equal(partial.status, 200);
  t.same(partial.json.results.map((x: { status: string }) => x.status), ["deleted", "failed", "failed"]);
  t.same(partial.json.results.map((x: { error?: { field: string } }) => x.error?.field), [undefined, "numbers[1]", "numbers[2]"]);
  t.equal(await h.store.numbers.count(), 0);
});

t.test("batch refusals: shape, atomic parameter, size limit, roles", async (t) => {
  for (const [q, body, status, field] of [
    ["?atomic=maybe", { numbers: [] }, 400, "atomic"],
    ["?atomic=true&atomic=false", { numbers: [] }, 400, "atomic"],
    ["?limit=1", { numbers: [] }, 400, "limit"],
    ["", { numbers: "x" }, 400, "numbers"],
    ["", { numbers: [], x: 1 }, 400, "x"],
    ["", { numbers: Array.from({ length: 11 }, (_, i) => N(i)) }, 413, "numbers"],
  ] as const) {
    const r = await remove(body, q);
    t.equal(r.status, status, `${q} ${JSON.stringify(body).slice(0, 40)} → ${status}`);
    t.equal(r.json.field, field);
  }
  t.same((await remove({ numbers: [] })).json, { atomic: true, deleted: 0, notFound: 0, failed: 0, results: [] }, "an empty batch is fine");
  t.equal((await remove({ numbers: [N(0)] }, "", await h.token({ roles: [ROLES.write] }))).status, 403, "batch delete needs the Delete role");
  const del = await h.token({ roles: [ROLES.delete] });
  t.equal((await h.request("POST", "/api/v1/numbers:batch", { token: del, body: { numbers: [] } })).status, 403, "batch upsert needs the Write role");
});
