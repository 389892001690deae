// The endpoint × role matrix once more with the store on PostgreSQL (a throwaway cluster).
import t from "tap";
import { makeTestPki } from "../helpers/pki.js";
import { pgSkipped, startPostgres } from "../helpers/postgres.js";
import { startHarness } from "./harness.js";
import { runAuthMatrix } from "./auth-matrix.js";

t.test("endpoint × role matrix [postgres]", { skip: pgSkipped() ? "PostgreSQL tests skipped: TRUNKGATE_SKIP_PG=1" : false }, async (t) => {
  const pki = await makeTestPki();
  t.teardown(() => pki.cleanup());
  const pg = await startPostgres();
  if (!pg) throw new Error("PostgreSQL server unavailable");
  t.teardown(() => pg.stop());
  const h = await startHarness(t, { pki, storeUrl: await pg.createDatabase("prov"), provisioning: { rateLimit: { requestsPerMinute: 10_000 } } });
  await runAuthMatrix(t, h);
});
