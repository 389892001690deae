import t from "tap";
import pg from "pg";
import { pgSkipped, SHARED_PG_ENV, sharedPostgres, startPostgres } from "../helpers/postgres.js";

const skip = pgSkipped() ? "TRUNKGATE_SKIP_PG=1" : false;

async function currentDatabase(url: string): Promise<{ db: string; addr: string }> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query("SELECT current_database() AS db, host(inet_server_addr()) AS addr")).rows[0];
  } finally {
    await c.end();
  }
}

t.test("throwaway cluster starts on loopback, gives separate databases and stops", { skip }, async (t) => {
  // own: this file tests the server start itself, whether or not the run shares a server.
  const server = await startPostgres({ own: true });
  if (!server) throw new Error("unreachable: startPostgres returned null without TRUNKGATE_SKIP_PG");
  t.teardown(() => server.stop());
  const a = await server.createDatabase();
  const b = await server.createDatabase();
  t.not(a, b);
  t.match(a, /^postgres:\/\/postgres@127\.0\.0\.1:\d+\//);
  const r = await currentDatabase(a);
  t.equal(r.db, a.slice(a.lastIndexOf("/") + 1));
  t.equal(r.addr, "127.0.0.1");

  t.test("a shared server's view: its own databases, dropped by stop(), the server stays up", async (t) => {
    const view = sharedPostgres(server.url);
    t.equal(view.port, server.port);
    const x = await view.createDatabase("view");
    const y = await view.createDatabase("view");
    t.not(x, y);
    t.equal((await currentDatabase(x)).db, x.slice(x.lastIndexOf("/") + 1));
    // A session left open (a store a test did not close) must not keep its database alive.
    const open = new pg.Client({ connectionString: y });
    open.on("error", () => {});
    await open.connect();
    await view.stop();
    await open.end().catch(() => {});
    for (const gone of [x, y]) {
      const c = new pg.Client({ connectionString: gone, connectionTimeoutMillis: 5000 });
      await t.rejects(c.connect(), { message: /does not exist/ }, "dropped by stop()");
      await c.end().catch(() => {});
    }
    t.equal((await currentDatabase(b)).db, b.slice(b.lastIndexOf("/") + 1), "other databases and the server unaffected");
    await t.rejects(view.createDatabase(), /after stop/);
  });

  t.test("startPostgres() hands out a view of the server named in TRUNKGATE_TEST_PG_URL", async (t) => {
    const saved = process.env[SHARED_PG_ENV];
    process.env[SHARED_PG_ENV] = server.url;
    t.teardown(() => {
      if (saved === undefined) delete process.env[SHARED_PG_ENV];
      else process.env[SHARED_PG_ENV] = saved;
    });
    const view = await startPostgres();
    t.equal(view?.url, server.url, "no second server");
    const z = await view!.createDatabase();
    await view!.stop();
    const c = new pg.Client({ connectionString: z, connectionTimeoutMillis: 5000 });
    await t.rejects(c.connect(), { message: /does not exist/ });
    await c.end().catch(() => {});
  });

  t.test("stop() stops the server", async (t) => {
    await server.stop();
    const after = new pg.Client({ connectionString: a, connectionTimeoutMillis: 2000 });
    await t.rejects(after.connect(), "server is gone after stop()");
    await after.end().catch(() => {});
  });
});

// test/run-suite.mjs names its run directory in TRUNKGATE_TEST_RUN_DIR: under it, a file that uses
// this helper must find the run's one server (else every such file would start its own again).
const underRunner = process.env.TRUNKGATE_TEST_RUN_DIR !== undefined;
t.test("under the test runner, the run's shared server is named and answers", { skip: skip || (underRunner ? false : "not run by test/run-suite.mjs") }, async (t) => {
  const url = process.env[SHARED_PG_ENV];
  t.ok(url, `${SHARED_PG_ENV} set by the runner`);
  t.equal((await currentDatabase(url!)).db, new URL(url!).pathname.slice(1));
});
