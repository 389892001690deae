// The audit trail through the API with the store on PostgreSQL (a throwaway cluster): the shared
// scenario (write paths, refused atomic batches record nothing, ?atomic=false records the applied
// entries only), and accounts' changes and cascades.
import t from "tap";
import { PG_SKIP, startPostgresHarness } from "./harness.js";
import { runAuditScenario } from "./audit-scenario.js";
import { runAccountAuditScenario } from "./account-audit-scenario.js";

t.test("audit trail through the API [postgres]", { skip: PG_SKIP }, async (t) => {
  const h = await startPostgresHarness(t, { database: "audit", provisioning: { rateLimit: { requestsPerMinute: 10_000 } } });
  await runAuditScenario(t, h);
});

t.test("accounts in the audit trail through the API [postgres]", { skip: PG_SKIP }, async (t) => {
  const h = await startPostgresHarness(t, { database: "account_audit", provisioning: { rateLimit: { requestsPerMinute: 10_000 } } });
  await runAccountAuditScenario(t, h);
});
