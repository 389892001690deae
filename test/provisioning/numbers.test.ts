// Number provisioning over real mutual TLS on a real SQLite store: CRUD semantics, validation errors
// that name the field, pagination, the all-or-nothing batch, HTTP-level refusals (404, 405, 413,
// 415, malformed JSON), and what the logs must never carry.
import t from "tap";
import { makeTestPki } from "../helpers/pki.js";
import { curl } from "../helpers/curl.js";
import { ROLES } from "../../src/provisioning/roles.js";
import { startHarness } from "./harness.js";

const pki = await makeTestPki();
t.teardown(() => pki.cleanup());
const h = await startHarness(t, {
  pki,
  provisioning: { rateLimit: { requestsPerMinute: 100_000 }, limits: { maxBatchSize: 50, maxBodyBytes: 64 * 1024 } },
});
const admin = await h.token({ roles: [ROLES.admin], sub: "admin-client" });

t.test("PUT creates (201) then updates (200); GET reads it back; DELETE 204 then 404", async (t) => {
  const path = "/api/v1/numbers/%2B41446681800";
  const c = await h.request("PUT", path, { token: admin, body: { service: "svc-a", customHeader: "  tenant=42  " } });
  t.equal(c.status, 201);
  t.same(c.json, { number: "+41446681800", service: "svc-a", customHeader: "tenant=42" }, "normalised, header trimmed");
  const u = await h.request("PUT", "/api/v1/numbers/+41446681800", { token: admin, body: { service: "svc-b" } });
  t.equal(u.status, 200, "same number with a literal '+' updates");
  t.same(u.json, { number: "+41446681800", service: "svc-b", customHeader: null }, "PUT replaces: an omitted customHeader clears it");
  const again = await h.request("PUT", path, { token: admin, body: { ...u.json, customHeader: "a=b" } });
  t.equal(again.status, 200, "a GET body (with its number) can be PUT back");
  const g = await h.request("GET", path, { token: admin });
  t.same(g.json, { number: "+41446681800", service: "svc-b", customHeader: "a=b" });
  t.same(await h.store.numbers.get("+41446681800"), g.json, "what the API says is what the store holds");
  t.equal((await h.request("DELETE", path, { token: admin })).status, 204);
  const gone = await h.request("GET", path, { token: admin });
  t.equal(gone.status, 404);
  t.equal(gone.json.error, "not_found");
  t.equal((await h.request("DELETE", path, { token: admin })).status, 404);
});

t.test("a forbidden write changes nothing", async (t) => {
  const r = await h.request("PUT", "/api/v1/numbers/+4940111111", { token: await h.token({ roles: [ROLES.read] }), body: { service: "svc-a" } });
  t.equal(r.status, 403);
  t.equal(await h.store.numbers.get("+4940111111"), null);
});

t.test("validation errors name the field and never echo the value", async (t) => {
  const put = (path: string, body: unknown) => h.request("PUT", path, { token: admin, body });
  const cases: [string, string, unknown, string][] = [
    ["invalid number in path", "/api/v1/numbers/4930123456", { service: "svc-a" }, "number"],
    ["letters in number", "/api/v1/numbers/%2B49abc", { service: "svc-a" }, "number"],
    ["too many digits", "/api/v1/numbers/%2B1234567890123456", { service: "svc-a" }, "number"],
    ["bad percent-encoding", "/api/v1/numbers/%E0%A4%A", { service: "svc-a" }, "number"],
    ["unknown service", "/api/v1/numbers/%2B4930999", { service: "nope" }, "service"],
    ["missing service", "/api/v1/numbers/%2B4930999", { customHeader: "x" }, "service"],
    ["service not a string", "/api/v1/numbers/%2B4930999", { service: 5 }, "service"],
    ["CRLF in customHeader", "/api/v1/numbers/%2B4930999", { service: "svc-a", customHeader: "a\r\nVia: evil" }, "customHeader"],
    ["NUL in customHeader", "/api/v1/numbers/%2B4930999", { service: "svc-a", customHeader: "a\u0000b" }, "customHeader"],
    ["non-ASCII customHeader", "/api/v1/numbers/%2B4930999", { service: "svc-a", customHeader: "caf\u00e9" }, "customHeader"],
    ["long customHeader", "/api/v1/numbers/%2B4930999", { service: "svc-a", customHeader: "x".repeat(257) }, "customHeader"],
    ["customHeader not a string", "/api/v1/numbers/%2B4930999", { service: "svc-a", customHeader: 12 }, "customHeader"],
    ["unknown member", "/api/v1/numbers/%2B4930999", { service: "svc-a", sevrice: "svc-b" }, "sevrice"],
    ["body number differs", "/api/v1/numbers/%2B4930999", { service: "svc-a", number: "+4930998" }, "number"],
    ["body is an array", "/api/v1/numbers/%2B4930999", [1], "body"],
    ["body is null", "/api/v1/numbers/%2B4930999", null, "body"],
  ];
  for (const [what, path, body, field] of cases) {
    const r = await put(path, body);
    t.equal(r.status, 400, `${what} → 400`);
    t.equal(r.json.error, "invalid_request", what);
    t.equal(r.json.field, field, `${what}: field ${field} (${r.json.message})`);
    t.notMatch(r.body.toString(), /evil|caf|4930998|abc/, `${what}: the value is not echoed`);
  }
  t.equal(await h.store.numbers.count(), 0, "nothing was written");
  const ok = await put("/api/v1/numbers/%2B4930999", { service: "svc-a", customHeader: "x".repeat(256) });
  t.equal(ok.status, 201, "256 printable characters are fine");
  const gets = await h.request("GET", "/api/v1/numbers/0049", { token: admin });
  t.equal(gets.status, 400);
  t.equal(gets.json.field, "number");
  const unknownQuery = await h.request("GET", "/api/v1/numbers/%2B4930999?x=1", { token: admin });
  t.equal(unknownQuery.json.field, "x");
  await h.store.numbers.delete("+4930999");
});

t.test("pagination round trip: every number exactly once, limit and cursor checked", async (t) => {
  const want = Array.from({ length: 23 }, (_, i) => `+4989${String(1000 + i)}`);
  const b = await h.request("POST", "/api/v1/numbers:batch", { token: admin, body: { numbers: want.map((number, i) => ({ number, service: i % 2 ? "svc-a" : "svc-b" })) } });
  t.equal(b.status, 200);
  t.match(b.json, { atomic: true, upserted: 23, failed: 0 });
  const seen: string[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const q: string = cursor ? `&cursor=${encodeURIComponent(cursor)}` : "";
    const r = await h.request("GET", `/api/v1/numbers?limit=5${q}`, { token: admin });
    t.equal(r.status, 200);
    t.ok(r.json.items.length <= 5);
    seen.push(...r.json.items.map((e: { number: string }) => e.number));
    cursor = r.json.nextCursor;
    pages++;
  } while (cursor && pages < 20);
  t.equal(pages, 5, "23 numbers in pages of 5");
  t.same([...seen].sort(), [...want].sort(), "each number exactly once");
  const all = await h.request("GET", "/api/v1/numbers", { token: admin });
  t.equal(all.json.items.length, 23, "default limit 100 holds them all");
  t.equal(all.json.nextCursor, null);
  for (const [q, field] of [
    ["limit=0", "limit"],
    ["limit=1001", "limit"],
    ["limit=abc", "limit"],
    ["limit=-1", "limit"],
    ["cursor=%%%", "cursor"],
    ["cursor=bm90LWEtY3Vyc29y", "cursor"],
    ["cursor=", "cursor"],
    ["limit=5&limit=6", "limit"],
    ["page=2", "page"],
  ] as const) {
    const r = await h.request("GET", `/api/v1/numbers?${q}`, { token: admin });
    t.equal(r.status, 400, `${q} → 400`);
    t.equal(r.json.field, field, `${q}: field ${field}`);
  }
  t.equal((await h.request("GET", "/api/v1/numbers?limit=1000", { token: admin })).status, 200);
  await h.store.numbers.upsertMany([]);
  for (const n of want) await h.store.numbers.delete(n);
});

t.test("batch: all or nothing, errors name numbers[i].field, size limit 413", async (t) => {
  const good = (i: number) => ({ number: `+3361${String(100000 + i)}`, service: "svc-a" });
  const bad = await h.request("POST", "/api/v1/numbers:batch", {
    token: admin,
    body: { numbers: [good(0), good(1), good(2), { number: "+336199", service: "unknown-svc" }, good(4)] },
  });
  t.equal(bad.status, 400);
  t.equal(bad.json.field, "numbers[3].service");
  t.equal(await h.store.numbers.count(), 0, "nothing written when one entry is bad");
  for (const [body, field] of [
    [{ numbers: [good(0), { number: "12", service: "svc-a" }] }, "numbers[1].number"],
    [{ numbers: [good(0), { service: "svc-a" }] }, "numbers[1].number"],
    [{ numbers: [good(0), { ...good(1), customHeader: "a\nb" }] }, "numbers[1].customHeader"],
    [{ numbers: [good(0), { ...good(1), extra: 1 }] }, "numbers[1].extra"],
    [{ numbers: [good(0), "x"] }, "numbers[1]"],
    [{ numbers: [good(0), good(0)] }, "numbers[1].number"],
    [{ numbers: "nope" }, "numbers"],
    [{}, "numbers"],
    [{ numbers: [], more: 1 }, "more"],
  ] as const) {
    const r = await h.request("POST", "/api/v1/numbers:batch", { token: admin, body });
    t.equal(r.status, 400, `${JSON.stringify(body).slice(0, 60)} → 400`);
    t.equal(r.json.field, field);
  }
  const tooMany = await h.request("POST", "/api/v1/numbers:batch", { token: admin, body: { numbers: Array.from({ length: 51 }, (_, i) => good(i)) } });
  t.equal(tooMany.status, 413, "51 entries over maxBatchSize 50");
  t.equal(tooMany.json.field, "numbers");
  const max = await h.request("POST", "/api/v1/numbers:batch", { token: admin, body: { numbers: Array.from({ length: 50 }, (_, i) => good(i)) } });
  t.equal(max.status, 200);
  t.equal(await h.store.numbers.count(), 50);
  for (let i = 0; i < 50; i++) await h.store.numbers.delete(good(i).number);
});

t.test("HTTP refusals: 404, 405 with Allow, 415, 413, malformed JSON", async (t) => {
  const r404 = await h.request("GET", "/api/v1/nope", { token: admin });
  t.equal(r404.status, 404);
  t.equal(r404.json.error, "not_found");
  t.equal((await h.request("GET", "/api/v1/numbers/+49/extra", { token: admin })).status, 404);
  t.equal((await h.request("GET", "/", {})).status, 404, "404 needs no token");
  const r405 = await h.request("POST", "/api/v1/numbers/+4930123456", { token: admin });
  t.equal(r405.status, 405);
  t.equal(r405.headers.allow, "GET, PUT, PATCH, DELETE");
  t.equal((await h.request("DELETE", "/api/v1/numbers", { token: admin })).headers.allow, "GET");
  t.equal((await h.request("GET", "/api/v1/numbers:batch", { token: admin })).headers.allow, "POST");
  const r415 = await h.request("PUT", "/api/v1/numbers/+4930123456", { token: admin, raw: '{"service":"svc-a"}', headers: { "content-type": "text/plain" } });
  t.equal(r415.status, 415);
  const noType = await h.request("PUT", "/api/v1/numbers/+4930123456", { token: admin, raw: '{"service":"svc-a"}' });
  t.equal(noType.status, 415, "no Content-Type → 415");
  const latin1 = await h.request("PUT", "/api/v1/numbers/+4930123456", { token: admin, raw: '{"service":"svc-a"}', headers: { "content-type": "application/json; charset=latin1" } });
  t.equal(latin1.status, 415);
  const utf8 = await h.request("PUT", "/api/v1/numbers/+4930123456", { token: admin, raw: '{"service":"svc-a"}', headers: { "content-type": "Application/JSON; charset=UTF-8" } });
  t.equal(utf8.status, 201);
  const malformed = await h.request("PUT", "/api/v1/numbers/+4930123456", { token: admin, raw: '{"service":', headers: { "content-type": "application/json" } });
  t.equal(malformed.status, 400);
  t.equal(malformed.json.field, "body");
  t.match(malformed.json.message, /malformed JSON/);
  const empty = await h.request("PUT", "/api/v1/numbers/+4930123456", { token: admin, raw: "", headers: { "content-type": "application/json" } });
  t.equal(empty.status, 400);
  const big = Buffer.from(JSON.stringify({ service: "svc-a", customHeader: "x".repeat(70 * 1024) }));
  const r413 = await h.request("PUT", "/api/v1/numbers/+4930123456", { token: admin, raw: big, headers: { "content-type": "application/json" } });
  t.equal(r413.status, 413, "over maxBodyBytes (64 KiB here)");
  t.equal(r413.json.error, "payload_too_large");
  // Chunked (no Content-Length): counted while streaming.
  const chunked = await h.request("PUT", "/api/v1/numbers/+4930123456", {
    token: admin,
    raw: big,
    headers: { "content-type": "application/json", "transfer-encoding": "chunked" },
  });
  t.equal(chunked.status, 413, "chunked body over the limit");
  await h.store.numbers.delete("+4930123456");
});

t.test("X-Request-Id: a sane client id is echoed, otherwise one is made", async (t) => {
  const mine = await h.request("GET", "/api/v1/services", { token: admin, headers: { "x-request-id": "abc-123" } });
  t.equal(mine.headers["x-request-id"], "abc-123");
  const junk = await h.request("GET", "/api/v1/services", { token: admin, headers: { "x-request-id": "a b<c>" } });
  t.match(junk.headers["x-request-id"], /^[0-9a-f-]{36}$/);
});

t.test("curl with the test client certificate", async (t) => {
  const base = `https://localhost:${h.port}`;
  const put = await curl(pki, `${base}/api/v1/numbers/%2B4930555`, [
    "-X", "PUT", "-H", `Authorization: Bearer ${admin}`, "-H", "Content-Type: application/json", "--data", '{"service":"svc-b","customHeader":"k=v"}',
  ]);
  t.equal(put.status, 201, put.stderr);
  const get = await curl(pki, `${base}/api/v1/numbers/+4930555`, ["-H", `Authorization: Bearer ${admin}`]);
  t.equal(get.status, 200);
  t.same(JSON.parse(get.body), { number: "+4930555", service: "svc-b", customHeader: "k=v" });
  t.ok(get.headers["x-request-id"]);
  const svc = await curl(pki, `${base}/api/v1/services`, ["-H", `Authorization: Bearer ${admin}`]);
  t.same(JSON.parse(svc.body), { services: [{ name: "svc-a" }, { name: "svc-b" }], numbersTotal: 1 });
  await h.store.numbers.delete("+4930555");
});

t.test("logs: one access line per request with the route template; no numbers, header values or tokens", async (t) => {
  const secretHeader = "tenant=SECRETVALUE";
  const n = h.logs.lines.length;
  const tok = await h.token({ roles: [ROLES.admin], sub: "subject-xyz" });
  await h.request("PUT", "/api/v1/numbers/%2B4977712345", { token: tok, body: { service: "svc-a", customHeader: secretHeader } });
  await h.request("GET", "/api/v1/numbers/+4977712345", { token: tok });
  await h.request("PUT", "/api/v1/numbers/%2B4977712345", { token: tok, body: { service: "svc-a", customHeader: "bad\nSECRETVALUE" } });
  await h.request("DELETE", "/api/v1/numbers/+4977712345", { token: tok });
  await h.request("GET", "/api/v1/numbers/+4977712345");
  const lines = h.logs.lines.slice(n);
  const access = lines.filter((l) => l.msg === "provisioning request");
  t.equal(access.length, 5, "one line per request");
  t.same(access.map((l) => l.route), Array(5).fill("/api/v1/numbers/{e164}"));
  t.same(access.map((l) => l.status), [201, 200, 400, 204, 401]);
  t.match(access[0], { method: "PUT", peer: "dev-trunk", subject: /^[0-9a-f]{16}$/ });
  t.ok(typeof access[0]!.durationMs === "number");
  const text = JSON.stringify(lines);
  for (const secret of ["4977712345", "SECRETVALUE", "subject-xyz", tok.slice(0, 20), tok.split(".")[2]!]) {
    t.notOk(text.includes(secret), `logs do not contain ${secret.slice(0, 12)}…`);
  }
});
