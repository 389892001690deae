// Two clients sending the same 2,000 numbers in opposite orders through POST /api/v1/numbers:batch
// at the same time, on PostgreSQL: both batches must be answered 2xx every round (no 500 from a
// deadlock), and the store must hold exactly one of the two versions of each number.
import t from "tap";
import { ROLES } from "../../src/provisioning/roles.js";
import { PG_SKIP, startPostgresHarness } from "./harness.js";

const COUNT = 2000;
const ROUNDS = 3;

t.test("overlapping batches in opposite orders never end in 500 [postgres]", { skip: PG_SKIP }, async (t) => {
  const h = await startPostgresHarness(t, {
    database: "batch",
    provisioning: { rateLimit: { requestsPerMinute: 10_000 }, limits: { maxBatchSize: COUNT, maxBodyBytes: 4 * 1024 * 1024 } },
  });
  const admin = await h.token({ roles: [ROLES.admin] });
  const numbers = Array.from({ length: COUNT }, (_, i) => `+4930${String(1_000_000 + i)}`);
  for (let round = 1; round <= ROUNDS; round++) {
    const forward = numbers.map((number) => ({ number, service: "svc-a", customHeader: `round=${round}` }));
    const backward = [...numbers].reverse().map((number) => ({ number, service: "svc-b", customHeader: `round=${round}` }));
    const [a, b] = await Promise.all([
      h.request("POST", "/api/v1/numbers:batch", { token: admin, body: { numbers: forward } }),
      h.request("POST", "/api/v1/numbers:batch", { token: admin, body: { numbers: backward } }),
    ]);
    t.equal(a.status, 200, `round ${round}: forward batch answered ${a.status} ${JSON.stringify(a.json)}`);
    t.equal(b.status, 200, `round ${round}: backward batch answered ${b.status} ${JSON.stringify(b.json)}`);
    t.equal(await h.store.numbers.count(), COUNT);
    // All or nothing per batch, and batches serialised: every number carries the same winner.
    const services = new Set<string | null>();
    let stale = 0;
    let cursor: string | null = null;
    do {
      const page = await h.store.numbers.list({ cursor, limit: 1000 });
      for (const e of page.items) {
        services.add(e.service);
        if (e.customHeader !== `round=${round}`) stale++;
      }
      cursor = page.nextCursor;
    } while (cursor);
    t.equal(stale, 0, `round ${round}: every number written this round`);
    t.equal(services.size, 1, `round ${round}: one batch won as a whole`);
  }
  t.notMatch(h.logs.text, /provisioning request failed/, "no internal error logged");
});
