// Optimistic concurrency over real mutual TLS: ETag on GET/PUT, If-Match (412 on a stale or weak
// tag, or a number that does not exist), If-None-Match: * as create-only, 304 for a GET whose
// If-None-Match matches, a malformed header refused naming it, and the tag revealing nothing.
import t from "tap";
import { makeTestPki } from "../helpers/pki.js";
import { ROLES } from "../../src/provisioning/roles.js";
import { startHarness } from "./harness.js";

const pki = await makeTestPki();
t.teardown(() => pki.cleanup());
const h = await startHarness(t, { pki, provisioning: { rateLimit: { requestsPerMinute: 100_000 } } });
const admin = await h.token({ roles: [ROLES.admin] });
const PATH = "/api/v1/numbers/%2B4930200001";
const put = (body: unknown, headers: Record<string, string> = {}) => h.request("PUT", PATH, { token: admin, body, headers });
const get = (headers: Record<string, string> = {}) => h.request("GET", PATH, { token: admin, headers });
const del = (headers: Record<string, string> = {}) => h.request("DELETE", PATH, { token: admin, headers });

t.test("ETag on GET and PUT; it changes exactly when the entry changes", async (t) => {
  const c = await put({ service: "svc-a", customHeader: "t=1" });
  t.equal(c.status, 201);
  t.match(c.headers.etag, /^"[A-Za-z0-9_-]{27}"$/, "a strong, quoted tag");
  const g = await get();
  t.equal(g.headers.etag, c.headers.etag, "GET answers the tag the PUT returned");
  t.notMatch(c.headers.etag, /4930200001|svc-a|t=1/, "the tag carries nothing in clear");
  const same = await put({ service: "svc-a", customHeader: "t=1" });
  t.equal(same.headers.etag, c.headers.etag, "rewriting the same entry keeps the tag (same representation)");
  const changed = await put({ service: "svc-a", customHeader: "t=2" });
  t.not(changed.headers.etag, c.headers.etag, "a changed header changes the tag");
  const svc = await put({ service: "svc-b", customHeader: "t=2" });
  t.not(svc.headers.etag, changed.headers.etag, "a changed service changes the tag");
  t.equal((await del()).status, 204);
});

t.test("If-Match: lost update refused with 412, nothing changed", async (t) => {
  const first = await put({ service: "svc-a" });
  const tag = first.headers.etag as string;
  // Two clients read the same state; the first update wins, the second is refused.
  const a = await put({ service: "svc-b" }, { "if-match": tag });
  t.equal(a.status, 200);
  const b = await put({ service: "svc-a", customHeader: "late" }, { "if-match": tag });
  t.equal(b.status, 412);
  t.equal(b.json.error, "precondition_failed");
  t.same((await get()).json, { number: "+4930200001", service: "svc-b", customHeader: null }, "the first update stands");
  const list = await put({ service: "svc-a" }, { "if-match": `"nope", ${a.headers.etag}` });
  t.equal(list.status, 200, "any tag of a list may match");
  const weak = await put({ service: "svc-b" }, { "if-match": `W/${list.headers.etag}` });
  t.equal(weak.status, 412, "If-Match compares strongly: a weak tag never matches");
  t.equal((await put({ service: "svc-b" }, { "if-match": "*" })).status, 200, "If-Match: * when it exists");
  t.equal((await del({ "if-match": tag })).status, 412, "DELETE with a stale tag");
  t.equal((await get()).status, 200, "still there");
  t.equal((await del({ "if-match": (await get()).headers.etag as string })).status, 204, "DELETE with the current tag");
  const missing = await put({ service: "svc-a" }, { "if-match": "*" });
  t.equal(missing.status, 412, "If-Match on a number that does not exist: 412, not created");
  t.equal((await get()).status, 404);
  t.equal((await del({ "if-match": "*" })).status, 412, "DELETE If-Match: * of a missing number");
});

t.test("If-None-Match: * is create-only; on GET a matching tag answers 304", async (t) => {
  const c = await put({ service: "svc-a" }, { "if-none-match": "*" });
  t.equal(c.status, 201);
  const again = await put({ service: "svc-b" }, { "if-none-match": "*" });
  t.equal(again.status, 412, "exists: refused");
  t.equal((await get()).json.service, "svc-a", "unchanged");
  const nm = await get({ "if-none-match": c.headers.etag as string });
  t.equal(nm.status, 304);
  t.equal(nm.headers.etag, c.headers.etag);
  t.equal(nm.body.length, 0, "no body");
  t.equal((await get({ "if-none-match": `W/${c.headers.etag}` })).status, 304, "If-None-Match compares weakly");
  t.equal((await get({ "if-none-match": '"other"' })).status, 200);
  t.equal((await get({ "if-match": '"other"' })).status, 412, "GET with a failing If-Match");
  t.equal((await del()).status, 204);
});

t.test("a malformed If-Match / If-None-Match is a 400 naming the header, not ignored", async (t) => {
  await put({ service: "svc-a" });
  for (const [name, value] of [
    ["if-match", "abc"],
    ["if-match", '"unterminated'],
    ["if-match", '"a" "b"'],
    ["if-none-match", "W/abc"],
    ["if-match", ","],
  ] as const) {
    const r = await put({ service: "svc-b" }, { [name]: value });
    t.equal(r.status, 400, `${name}: ${value} → 400`);
    t.equal(r.json.field, name === "if-match" ? "If-Match" : "If-None-Match");
  }
  t.equal((await get()).json.service, "svc-a", "nothing changed");
  t.equal((await del()).status, 204);
});

