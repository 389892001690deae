// /api/v1/accounts over real mutual TLS: create, read, replace, merge-patch and delete an account
// (ETag / If-Match like a number's), numbers inheriting its defaults and following their change,
// listing numbers by account (and service), the refused delete (409 naming how many numbers) and
// the cascade, batches naming an account, and every bad input a 400 naming the field.
import t from "tap";
import { makeTestPki } from "../helpers/pki.js";
import { ROLES } from "../../src/provisioning/roles.js";
import { startHarness } from "./harness.js";
import { curl } from "../helpers/curl.js";

const pki = await makeTestPki();
t.teardown(() => pki.cleanup());
const h = await startHarness(t, { pki, provisioning: { rateLimit: { requestsPerMinute: 100_000 } } });
const admin = await h.token({ roles: [ROLES.admin] });
const MP = { "content-type": "application/merge-patch+json" };
const req = (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) =>
  h.request(method, path, { token: admin, body, headers: method === "PATCH" ? { ...MP, ...headers } : headers });

t.test("an account: create, read, replace, patch, conditional requests", async (t) => {
  const created = await req("PUT", "/api/v1/accounts/acme", { name: " ACME GmbH ", service: "svc-a", customHeader: "tenant=acme" });
  t.equal(created.status, 201, JSON.stringify(created.json));
  t.same(created.json, { id: "acme", name: "ACME GmbH", service: "svc-a", customHeader: "tenant=acme", numbers: 0 });
  t.match(created.headers.etag, /^"[^"]+"$/);
  const got = await req("GET", "/api/v1/accounts/acme");
  t.same(got.json, created.json);
  t.equal(got.headers.etag, created.headers.etag);
  t.equal((await req("GET", "/api/v1/accounts/acme", undefined, { "if-none-match": created.headers.etag as string })).status, 304);
  t.equal((await req("PUT", "/api/v1/accounts/acme", { service: "svc-b" }, { "if-none-match": "*" })).status, 412, "create-only on an existing account");
  t.equal((await req("PATCH", "/api/v1/accounts/acme", { name: "x" }, { "if-match": '"stale"' })).status, 412);
  const patched = await req("PATCH", "/api/v1/accounts/acme", { name: "ACME Group" }, { "if-match": created.headers.etag as string });
  t.equal(patched.status, 200);
  t.same(patched.json, { id: "acme", name: "ACME Group", service: "svc-a", customHeader: "tenant=acme", numbers: 0 }, "only the name changed");
  t.not(patched.headers.etag, created.headers.etag);
  t.equal((await req("PATCH", "/api/v1/accounts/nobody", { name: "x" })).status, 404, "PATCH does not create");
  t.equal((await req("GET", "/api/v1/accounts/nobody")).status, 404);
  const replaced = await req("PUT", "/api/v1/accounts/bare", { id: "bare" });
  t.same(replaced.json, { id: "bare", name: null, service: null, customHeader: null, numbers: 0 }, "no defaults at all is an account too");
});

t.test("bad input is a 400 naming the field, never echoing the value", async (t) => {
  const cases: [string, string, unknown, string][] = [
    ["PUT", "/api/v1/accounts/bad%20id", { service: "svc-a" }, "id"],
    ["PUT", `/api/v1/accounts/${"x".repeat(65)}`, { service: "svc-a" }, "id"],
    ["PUT", "/api/v1/accounts/acme2", { service: "nope" }, "service"],
    ["PUT", "/api/v1/accounts/acme2", { customHeader: "a\r\nX-Evil: 1" }, "customHeader"],
    ["PUT", "/api/v1/accounts/acme2", { name: "Jane\nDoe" }, "name"],
    ["PUT", "/api/v1/accounts/acme2", { colour: "red" }, "colour"],
    ["PUT", "/api/v1/accounts/acme2", { id: "other" }, "id"],
    ["PUT", "/api/v1/accounts/acme2", [1], "body"],
    ["GET", "/api/v1/accounts?limit=0", undefined, "limit"],
    ["GET", "/api/v1/accounts?cursor=***", undefined, "cursor"],
    ["GET", "/api/v1/numbers?account=a%20b", undefined, "account"],
    ["DELETE", "/api/v1/accounts/acme?cascade=maybe", undefined, "cascade"],
  ];
  for (const [method, path, body, field] of cases) {
    const r = await req(method, path, body);
    t.equal(r.status, 400, `${method} ${path.slice(0, 50)} → 400`);
    t.equal(r.json.field, field, `names ${field}`);
    t.notMatch(JSON.stringify(r.json), /Jane|X-Evil|red/, "the value is not echoed");
  }
  t.equal(await h.store.accounts.get("acme2"), null, "nothing was created");
});

t.test("numbers inherit the account's defaults, override them, and follow a change", async (t) => {
  await req("PUT", "/api/v1/accounts/inherit", { service: "svc-a", customHeader: "ctx=1" });
  const n = await req("PUT", "/api/v1/numbers/%2B4930600001", { account: "inherit" });
  t.equal(n.status, 201, JSON.stringify(n.json));
  t.same(n.json, { number: "+4930600001", service: null, customHeader: null, account: "inherit", effective: { service: "svc-a", customHeader: "ctx=1" } });
  const own = await req("PUT", "/api/v1/numbers/%2B4930600002", { account: "inherit", service: "svc-b" });
  t.same(own.json.effective, { service: "svc-b", customHeader: "ctx=1" }, "own service, inherited header");

  const changed = await req("PATCH", "/api/v1/accounts/inherit", { service: "svc-b", customHeader: "ctx=2" });
  t.equal(changed.status, 200);
  t.equal(changed.json.numbers, 2);
  const after = await req("GET", "/api/v1/numbers/%2B4930600001");
  t.same(after.json.effective, { service: "svc-b", customHeader: "ctx=2" }, "the inherited values followed");
  t.not(after.headers.etag, n.headers.etag, "and so did the number's ETag");
  t.equal((await req("PATCH", "/api/v1/numbers/%2B4930600001", { customHeader: "x" }, { "if-match": n.headers.etag as string })).status, 412, "a tag from before the account's change is stale");

  const inherit = await req("PATCH", "/api/v1/numbers/%2B4930600002", { service: null });
  t.same(inherit.json, { number: "+4930600002", service: null, customHeader: null, account: "inherit", effective: { service: "svc-b", customHeader: "ctx=2" } }, "service: null inherits again");
  const leave = await req("PATCH", "/api/v1/numbers/%2B4930600002", { account: null });
  t.equal(leave.status, 400, "leaving the account without an own service");
  t.equal(leave.json.field, "account");
  const out = await req("PATCH", "/api/v1/numbers/%2B4930600002", { account: null, service: "svc-a" });
  t.same(out.json, { number: "+4930600002", service: "svc-a", customHeader: null }, "out of the account, as a number without one");

  const unknown = await req("PUT", "/api/v1/numbers/%2B4930600003", { account: "nobody", service: "svc-a" });
  t.equal(unknown.status, 400);
  t.equal(unknown.json.field, "account");
  t.match(unknown.json.message, /unknown account/);
  const noDefault = await req("PUT", "/api/v1/numbers/%2B4930600003", { account: "bare" });
  t.equal(noDefault.status, 400);
  t.equal(noDefault.json.field, "service", "an account without a default service: the number needs its own");
  t.equal((await req("PUT", "/api/v1/numbers/%2B4930600003", {})).status, 400, "no account, no service");

  const drop = await req("PATCH", "/api/v1/accounts/inherit", { service: null });
  t.equal(drop.status, 409, "a default service a number relies on cannot be removed");
  t.equal(drop.json.field, "service");
  t.equal(drop.json.numbers, 1);
});

t.test("listing numbers by account, with service; accounts page by page", async (t) => {
  await req("PUT", "/api/v1/accounts/list-a", { service: "svc-a" });
  await req("PUT", "/api/v1/accounts/list-b", { service: "svc-b" });
  const batch = await req("POST", "/api/v1/numbers:batch?atomic=false", {
    numbers: [
      { number: "+4930610001", account: "list-a" },
      { number: "+4930610002", account: "list-a", service: "svc-b" },
      { number: "+4930610003", account: "list-b" },
      { number: "+4930610004", account: "nobody", service: "svc-a" },
      { number: "+4930610005", account: "bare" },
      { number: "+4930610006", account: "list-a" },
    ],
  });
  t.equal(batch.status, 200, JSON.stringify(batch.json));
  t.equal(batch.json.upserted, 4);
  t.match(batch.json.results[3], { index: 3, status: "failed", error: { field: "numbers[3].account" } });
  t.match(batch.json.results[4], { index: 4, status: "failed", error: { field: "numbers[4].service" } });
  const atomic = await req("POST", "/api/v1/numbers:batch", { numbers: [{ number: "+4930610007", account: "list-a" }, { number: "+4930610008", account: "nobody", service: "svc-a" }] });
  t.equal(atomic.status, 400);
  t.equal(atomic.json.field, "numbers[1].account");
  t.equal(await h.store.numbers.get("+4930610007"), null, "an atomic batch with an unknown account writes nothing");

  const list = async (q: string) => {
    const r = await req("GET", `/api/v1/numbers?${q}`);
    t.equal(r.status, 200, q);
    return (r.json.items as { number: string }[]).map((e) => e.number).sort();
  };
  t.same(await list("account=list-a"), ["+4930610001", "+4930610002", "+4930610006"]);
  t.same(await list("account=list-a&service=svc-a"), ["+4930610001", "+4930610006"], "by the service they route to");
  t.same(await list("account=list-a&service=svc-b"), ["+4930610002"]);
  t.same(await list("account=list-b&service=svc-b"), ["+4930610003"], "inherited service");

  const ids: string[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const r = await req("GET", `/api/v1/accounts?limit=2${cursor ? `&cursor=${cursor}` : ""}`);
    t.equal(r.status, 200);
    ids.push(...(r.json.items as { id: string }[]).map((a) => a.id));
    cursor = r.json.nextCursor;
    pages++;
  } while (cursor && pages < 20);
  t.same(ids, [...ids].sort(), "in id order");
  t.ok(["acme", "bare", "inherit", "list-a", "list-b"].every((id) => ids.includes(id)), "every account, across pages");
  t.equal(new Set(ids).size, ids.length, "each once");
});

t.test("deleting an account: refused while it has numbers, unless cascade", async (t) => {
  await req("PUT", "/api/v1/accounts/gone", { service: "svc-a" });
  await req("POST", "/api/v1/numbers:batch", { numbers: [{ number: "+4930620001", account: "gone" }, { number: "+4930620002", account: "gone", service: "svc-b" }] });
  const refused = await req("DELETE", "/api/v1/accounts/gone");
  t.equal(refused.status, 409);
  t.match(refused.json, { error: "conflict", field: "account", numbers: 2 });
  t.match(refused.json.message, /2 number/);
  t.ok(await h.store.accounts.get("gone"), "still there");
  const cur = await req("GET", "/api/v1/accounts/gone");
  t.equal((await req("DELETE", "/api/v1/accounts/gone?cascade=true", undefined, { "if-match": '"stale"' })).status, 412);
  const cascaded = await req("DELETE", "/api/v1/accounts/gone?cascade=true", undefined, { "if-match": cur.headers.etag as string });
  t.equal(cascaded.status, 200);
  t.same(cascaded.json, { deleted: "gone", numbersDeleted: 2 });
  t.equal(await h.store.numbers.get("+4930620001"), null);
  t.equal(await h.store.numbers.get("+4930620002"), null);
  t.equal((await req("DELETE", "/api/v1/accounts/gone")).status, 404);
  await req("PUT", "/api/v1/accounts/empty", {});
  t.equal((await req("DELETE", "/api/v1/accounts/empty")).status, 204, "no numbers: deleted without cascade");
});

t.test("the walk-through of docs/provisioning-api.md (Accounts), with curl", async (t) => {
  const base = `https://localhost:${h.port}`;
  const auth = ["-H", `Authorization: Bearer ${admin}`];
  const json = (body: string) => ["-H", "Content-Type: application/json", "--data", body];
  const step = (method: string, path: string, args: string[] = []) => curl(pki, `${base}${path}`, ["-X", method, ...auth, ...args]);
  t.equal((await step("PUT", "/api/v1/accounts/walk", json('{"name":"ACME GmbH","service":"svc-a","customHeader":"tenant=acme"}'))).status, 201);
  const n1 = await step("PUT", "/api/v1/numbers/%2B4930123456", json('{"account":"walk"}'));
  t.same(JSON.parse(n1.body), { number: "+4930123456", service: null, customHeader: null, account: "walk", effective: { service: "svc-a", customHeader: "tenant=acme" } });
  t.equal((await step("PUT", "/api/v1/numbers/%2B4930123457", json('{"account":"walk","service":"svc-b"}'))).status, 201);
  const moved = await step("PATCH", "/api/v1/accounts/walk", ["-H", "Content-Type: application/merge-patch+json", "--data", '{"service":"svc-b"}']);
  t.equal(moved.status, 200, moved.body);
  t.equal(JSON.parse((await step("GET", "/api/v1/numbers/%2B4930123456")).body).effective.service, "svc-b", "the number follows");
  t.equal(JSON.parse((await step("GET", "/api/v1/numbers?account=walk")).body).items.length, 2);
  t.equal(JSON.parse((await step("GET", "/api/v1/numbers?account=walk&service=svc-b")).body).items.length, 2);
  const refused = await step("DELETE", "/api/v1/accounts/walk");
  t.equal(refused.status, 409);
  t.match(JSON.parse(refused.body), { error: "conflict", field: "account", numbers: 2 });
  const cascaded = await step("DELETE", "/api/v1/accounts/walk?cascade=true");
  t.same(JSON.parse(cascaded.body), { deleted: "walk", numbersDeleted: 2 });
  t.equal((await step("GET", "/api/v1/accounts?limit=100")).status, 200);
});

t.test("a GET body can be PUT back: the read-only members are ignored", async (t) => {
  await req("PUT", "/api/v1/accounts/roundtrip", { service: "svc-a", customHeader: "r=1" });
  await req("PUT", "/api/v1/numbers/%2B4930630001", { account: "roundtrip" });
  const account = await req("GET", "/api/v1/accounts/roundtrip");
  const back = await req("PUT", "/api/v1/accounts/roundtrip", account.json, { "if-match": account.headers.etag as string });
  t.equal(back.status, 200, JSON.stringify(back.json));
  t.equal(back.headers.etag, account.headers.etag, "unchanged");
  const number = await req("GET", "/api/v1/numbers/%2B4930630001");
  const again = await req("PUT", "/api/v1/numbers/%2B4930630001", number.json, { "if-match": number.headers.etag as string });
  t.equal(again.status, 200, JSON.stringify(again.json));
  t.same(again.json, number.json);
  const ignored = await req("PATCH", "/api/v1/numbers/%2B4930630001", { effective: { service: "svc-b", customHeader: null } });
  t.same(ignored.json.effective, { service: "svc-a", customHeader: "r=1" }, "effective cannot be written");
});
