// GET /api/v1/numbers?service=: the filter walks one service's numbers page by page (each exactly
// once, cursor stable), accepts a service no longer configured (its numbers are how an operator
// finds them) and refuses a malformed one naming the field.
import t from "tap";
import { makeTestPki } from "../helpers/pki.js";
import { ROLES } from "../../src/provisioning/roles.js";
import { startHarness } from "./harness.js";

const pki = await makeTestPki();
t.teardown(() => pki.cleanup());
const h = await startHarness(t, { pki, provisioning: { rateLimit: { requestsPerMinute: 100_000 } } });
const reader = await h.token({ roles: [ROLES.read] });

async function walk(query: string, limit: number): Promise<{ numbers: string[]; pages: number; services: Set<string> }> {
  const numbers: string[] = [];
  const services = new Set<string>();
  let cursor: string | null = null;
  let pages = 0;
  do {
    const c: string = cursor ? `&cursor=${encodeURIComponent(cursor)}` : "";
    const r = await h.request("GET", `/api/v1/numbers?limit=${limit}${query}${c}`, { token: reader });
    if (r.status !== 200) throw new Error(`status ${r.status}: ${JSON.stringify(r.json)}`);
    for (const e of r.json.items as { number: string; service: string }[]) {
      numbers.push(e.number);
      services.add(e.service);
    }
    cursor = r.json.nextCursor;
    pages++;
  } while (cursor && pages < 50);
  return { numbers, pages, services };
}

t.test("service filter: every number of that service exactly once, across pages", async (t) => {
  const all = Array.from({ length: 30 }, (_, i) => ({ number: `+4930500${String(100 + i)}`, service: i % 3 === 0 ? "svc-b" : "svc-a" }));
  await h.store.numbers.upsertMany([...all, { number: "+4930500999", service: "retired-svc" }]);
  const a = await walk("&service=svc-a", 4);
  t.same(a.services, new Set(["svc-a"]), "only svc-a");
  t.same([...a.numbers].sort(), all.filter((e) => e.service === "svc-a").map((e) => e.number).sort(), "each svc-a number exactly once");
  t.equal(a.pages, 5, "20 numbers in pages of 4");
  const b = await walk("&service=svc-b", 100);
  t.equal(b.numbers.length, 10);
  t.equal(b.pages, 1);
  const retired = await walk("&service=retired-svc", 10);
  t.same(retired.numbers, ["+4930500999"], "a service no longer configured can be listed");
  t.same((await walk("&service=none-here", 10)).numbers, [], "no numbers: an empty page");
  t.equal((await walk("", 7)).numbers.length, 31, "no filter: everything");
});

t.test("a malformed or repeated service filter is a 400 naming it", async (t) => {
  for (const q of ["service=", "service=a%20b", "service=svc-a&service=svc-b", `service=${"x".repeat(129)}`]) {
    const r = await h.request("GET", `/api/v1/numbers?${q}`, { token: reader });
    t.equal(r.status, 400, `${q.slice(0, 40)} → 400`);
    t.equal(r.json.field, "service");
  }
});
