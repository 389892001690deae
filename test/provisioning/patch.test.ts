// PATCH /api/v1/numbers/{e164} with application/merge-patch+json (RFC 7396) over real mutual TLS:
// change the service or the custom header alone, null removes the header, If-Match applies, other
// content types get 415 with Accept-Patch, and what cannot be an entry is a 400 naming the field.
import t from "tap";
import { makeTestPki } from "../helpers/pki.js";
import { ROLES } from "../../src/provisioning/roles.js";
import { startHarness } from "./harness.js";

const pki = await makeTestPki();
t.teardown(() => pki.cleanup());
const h = await startHarness(t, { pki, provisioning: { rateLimit: { requestsPerMinute: 100_000 } } });
const admin = await h.token({ roles: [ROLES.admin] });
const PATH = "/api/v1/numbers/%2B4930300001";
const MP = { "content-type": "application/merge-patch+json" };
const patch = (body: unknown, headers: Record<string, string> = {}, token = admin) => h.request("PATCH", PATH, { token, body, headers: { ...MP, ...headers } });

t.test("a patch changes only what it names; null removes the header", async (t) => {
  t.equal((await patch({ service: "svc-b" })).status, 404, "the number must exist (PUT creates)");
  t.equal(await h.store.numbers.get("+4930300001"), null, "PATCH did not create it");
  const c = await h.request("PUT", PATH, { token: admin, body: { service: "svc-a", customHeader: "t=1" } });
  const svc = await patch({ service: "svc-b" });
  t.equal(svc.status, 200);
  t.same(svc.json, { number: "+4930300001", service: "svc-b", customHeader: "t=1" }, "service alone; header kept");
  t.not(svc.headers.etag, c.headers.etag, "a new ETag");
  const hdr = await patch({ customHeader: "  t=2 " });
  t.same(hdr.json, { number: "+4930300001", service: "svc-b", customHeader: "t=2" }, "header alone (trimmed); service kept");
  const rm = await patch({ customHeader: null });
  t.same(rm.json, { number: "+4930300001", service: "svc-b", customHeader: null }, "null removes the header");
  const noop = await patch({});
  t.equal(noop.status, 200);
  t.equal(noop.headers.etag, rm.headers.etag, "an empty patch changes nothing");
  t.same(await h.store.numbers.get("+4930300001"), rm.json, "the store holds what the API answered");
});

t.test("PATCH honours If-Match", async (t) => {
  const cur = await h.request("GET", PATH, { token: admin });
  const stale = await patch({ service: "svc-a" }, { "if-match": '"stale"' });
  t.equal(stale.status, 412);
  t.equal((await h.request("GET", PATH, { token: admin })).json.service, cur.json.service, "unchanged");
  const ok = await patch({ service: "svc-a" }, { "if-match": cur.headers.etag as string });
  t.equal(ok.status, 200);
  t.equal((await patch({ service: "svc-b" }, { "if-match": cur.headers.etag as string })).status, 412, "the old tag no longer matches");
});

t.test("invalid patches: 400 naming the field, nothing changed", async (t) => {
  const before = (await h.request("GET", PATH, { token: admin })).json;
  for (const [body, field] of [
    [{ service: null }, "service"],
    [{ service: "nope" }, "service"],
    [{ service: 3 }, "service"],
    [{ customHeader: "a\r\nVia: evil" }, "customHeader"],
    [{ customHeader: 5 }, "customHeader"],
    [{ number: "+4930300002" }, "number"],
    [{ number: null }, "number"],
    [{ sevrice: "svc-a" }, "sevrice"],
    [["service"], "body"],
    ["svc-a", "body"],
    [null, "body"],
  ] as const) {
    const r = await patch(body);
    t.equal(r.status, 400, `${JSON.stringify(body)} → 400`);
    t.equal(r.json.field, field, `${JSON.stringify(body)}: field ${field}`);
    t.notMatch(r.body.toString(), /evil|4930300002/, "the value is not echoed");
  }
  t.same((await h.request("GET", PATH, { token: admin })).json, before, "nothing changed");
  t.equal((await patch({ number: "+49 30 300001", customHeader: "x" })).status, 200, "the path's number in another notation is fine");
});

t.test("only application/merge-patch+json: 415 with Accept-Patch otherwise; write role", async (t) => {
  for (const type of ["application/json", "text/plain", "application/json-patch+json", "application/merge-patch+json; charset=latin1"]) {
    const r = await h.request("PATCH", PATH, { token: admin, raw: '{"service":"svc-a"}', headers: { "content-type": type } });
    t.equal(r.status, 415, `${type} → 415`);
    t.equal(r.headers["accept-patch"], "application/merge-patch+json");
  }
  t.equal((await h.request("PATCH", PATH, { token: admin, raw: '{"service":"svc-a"}' })).status, 415, "no Content-Type → 415");
  const charset = await h.request("PATCH", PATH, { token: admin, raw: '{"service":"svc-a"}', headers: { "content-type": "application/merge-patch+json; charset=utf-8" } });
  t.equal(charset.status, 200, "charset=utf-8 is fine");
  t.equal((await patch({ service: "svc-b" }, {}, await h.token({ roles: [ROLES.read, ROLES.delete] }))).status, 403, "read+delete cannot patch");
  t.equal((await h.request("PUT", PATH, { token: admin, raw: '{"service":"svc-a"}', headers: MP })).status, 415, "PUT still wants application/json");
});
