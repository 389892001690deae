// Per-client rate limiting: 5/min configured; the 6th request in the window gets 429 with
// Retry-After; a batch counts once; clients are token subjects (else the TLS peer) and do not share
// budgets. The clock is injected, so refill is tested without waiting.
import t from "tap";
import { makeTestPki } from "../helpers/pki.js";
import { metricValue } from "../helpers/http-harness.js";
import { ROLES } from "../../src/provisioning/roles.js";
import { RateLimiter } from "../../src/provisioning/rate-limiter.js";
import { startHarness } from "./harness.js";

t.test("RateLimiter: burst, refill, retry-after, idle buckets swept", async (t) => {
  let now = 0;
  const rl = new RateLimiter({ requestsPerMinute: 60, burst: 3, now: () => now, sweepAt: 2 });
  t.same([rl.take("a"), rl.take("a"), rl.take("a")].map((d) => d.allowed), [true, true, true]);
  t.same(rl.take("a"), { allowed: false, retryAfterSeconds: 1 });
  now += 999;
  t.equal(rl.take("a").allowed, false, "not quite one token after 999 ms");
  now += 1;
  t.equal(rl.take("a").allowed, true, "one token per second at 60/min");
  t.equal(rl.take("b").allowed, true, "another client has its own bucket");
  now += 60_000; // both full again: sweeping drops them when a third client arrives
  rl.take("c");
  t.equal(rl.size, 1, "idle (full) buckets were dropped");
});

const pki = await makeTestPki();
t.teardown(() => pki.cleanup());
let now = Date.now();
const h = await startHarness(t, { pki, provisioning: { rateLimit: { requestsPerMinute: 5 } }, now: () => now });

t.test("6th request within the minute → 429 with Retry-After; refill after 12 s", async (t) => {
  const tok = await h.token({ roles: [ROLES.read], sub: "client-a" });
  const before = await metricValue(h.metrics, "trunkgate_provisioning_rate_limited_total");
  for (let i = 1; i <= 5; i++) t.equal((await h.request("GET", "/api/v1/services", { token: tok })).status, 200, `request ${i}`);
  const r = await h.request("GET", "/api/v1/services", { token: tok });
  t.equal(r.status, 429);
  t.equal(r.headers["retry-after"], "12", "5/min = one request per 12 s");
  t.equal(r.json.error, "rate_limited");
  t.ok(r.headers["x-request-id"]);
  t.equal(await metricValue(h.metrics, "trunkgate_provisioning_rate_limited_total"), before + 1);
  const other = await h.token({ roles: [ROLES.read], sub: "client-b" });
  t.equal((await h.request("GET", "/api/v1/services", { token: other })).status, 200, "another subject is not affected");
  now += 12_000;
  t.equal((await h.request("GET", "/api/v1/services", { token: tok })).status, 200, "one request allowed again after 12 s");
  t.equal((await h.request("GET", "/api/v1/services", { token: tok })).status, 429);
});

t.test("a batch of 20 numbers counts as one request", async (t) => {
  const tok = await h.token({ roles: [ROLES.admin], sub: "batcher" });
  const numbers = Array.from({ length: 20 }, (_, i) => ({ number: `+4971${String(100 + i)}`, service: "svc-a" }));
  t.equal((await h.request("POST", "/api/v1/numbers:batch", { token: tok, body: { numbers } })).status, 200);
  for (let i = 0; i < 4; i++) t.equal((await h.request("GET", "/api/v1/numbers?limit=1", { token: tok })).status, 200);
  t.equal((await h.request("GET", "/api/v1/numbers?limit=1", { token: tok })).status, 429, "6th request");
});

t.test("requests without a valid token, or with a token without sub, are charged to the TLS peer", async (t) => {
  now += 120_000;
  for (let i = 0; i < 5; i++) t.equal((await h.request("GET", "/api/v1/services")).status, 401);
  t.equal((await h.request("GET", "/api/v1/services")).status, 429, "token guessing is rate limited too");
  const noSub = await h.token({ roles: [ROLES.read], sub: null });
  t.equal((await h.request("GET", "/api/v1/services", { token: noSub })).status, 429, "no sub: the peer's bucket");
  const withSub = await h.token({ roles: [ROLES.read], sub: "client-c" });
  t.equal((await h.request("GET", "/api/v1/services", { token: withSub })).status, 200);
});
