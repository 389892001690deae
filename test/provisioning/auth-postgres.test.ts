// The endpoint × role matrix once more with the store on PostgreSQL (a throwaway cluster).
import t from "tap";
import { PG_SKIP, startPostgresHarness } from "./harness.js";
import { runAuthMatrix } from "./auth-matrix.js";

t.test("endpoint × role matrix [postgres]", { skip: PG_SKIP }, async (t) => {
  const h = await startPostgresHarness(t, { database: "prov", provisioning: { rateLimit: { requestsPerMinute: 10_000 } } });
  await runAuthMatrix(t, h);
});
