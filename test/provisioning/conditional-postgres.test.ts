// On PostgreSQL (a throwaway cluster), where requests really run side by side: concurrent PUTs
// creating the same new number get exactly one 201 (it was a read before the write, so racing
// creators could all be told "created"), and If-Match lets exactly one of racing updaters win.
import t from "tap";
import { ROLES } from "../../src/provisioning/roles.js";
import { PG_SKIP, startPostgresHarness } from "./harness.js";

t.test("racing creators and updaters [postgres]", { skip: PG_SKIP }, async (t) => {
  const h = await startPostgresHarness(t, { database: "cond", provisioning: { rateLimit: { requestsPerMinute: 100_000 } } });
  const admin = await h.token({ roles: [ROLES.admin] });
  for (let round = 0; round < 5; round++) {
    const path = `/api/v1/numbers/%2B49302009${round}`;
    const created = await Promise.all(Array.from({ length: 6 }, (_, i) => h.request("PUT", path, { token: admin, body: { service: "svc-a", customHeader: `w=${i}` } })));
    t.same(created.map((a) => a.status).sort(), [200, 200, 200, 200, 200, 201], `round ${round}: one 201, the rest 200`);
    const tag = (await h.request("GET", path, { token: admin })).headers.etag as string;
    const updates = await Promise.all(
      Array.from({ length: 6 }, (_, i) => h.request("PUT", path, { token: admin, body: { service: "svc-b", customHeader: `u=${i}` }, headers: { "if-match": tag } })),
    );
    t.same(updates.map((a) => a.status).sort(), [200, 412, 412, 412, 412, 412], `round ${round}: one If-Match update wins`);
  }
});
