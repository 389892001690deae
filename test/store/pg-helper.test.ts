import t from "tap";
import pg from "pg";
import { pgSkipped, startPostgres } from "../helpers/postgres.js";

const skip = pgSkipped() ? "TRUNKGATE_SKIP_PG=1" : false;
t.test("throwaway cluster starts on loopback, gives separate databases and stops", { skip }, async (t) => {
  const server = await startPostgres();
  if (!server) throw new Error("unreachable: startPostgres returned null without TRUNKGATE_SKIP_PG");
  const a = await server.createDatabase();
  const b = await server.createDatabase();
  t.not(a, b);
  t.match(a, /^postgres:\/\/postgres@127\.0\.0\.1:\d+\//);
  const c = new pg.Client({ connectionString: a });
  await c.connect();
  const r = await c.query("SELECT current_database() AS db, host(inet_server_addr()) AS addr");
  await c.end();
  t.equal(r.rows[0]!.db, a.slice(a.lastIndexOf("/") + 1));
  t.equal(r.rows[0]!.addr, "127.0.0.1");
  await server.stop();
  const after = new pg.Client({ connectionString: a, connectionTimeoutMillis: 2000 });
  await t.rejects(after.connect(), "server is gone after stop()");
  await after.end().catch(() => {});
});
