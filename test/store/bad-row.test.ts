// One tampered ciphertext used to stop everything: start-up failed (the routing cache's first load
// threw "authentication failed", naming no row) and `numbers export` aborted. Now the row is named
// (table and blind index — never the number), counted in trunkgate_store_unreadable_rows_total,
// and everything else is served and exported.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import pg from "pg";
import { eachBackend, type BackendEnv } from "./backends.js";
import { liveSetup, startLive, writeLiveConfig } from "./live-instance.js";
import { runCli } from "../helpers/cli.js";
import { testPki } from "../sip/e2e/harness.js";
import { sqlitePathOf } from "../../src/store/db/open.js";

const NUMBERS = ["+41446681801", "+41446681802", "+41446681803"];

/** Flips one character in the middle of the first row's number ciphertext; returns the row's blind index. */
async function tamperFirstNumber(env: BackendEnv): Promise<string> {
  const flip = (enc: string) => {
    const i = enc.length - 10;
    return `${enc.slice(0, i)}${enc[i] === "A" ? "B" : "A"}${enc.slice(i + 1)}`;
  };
  if (env.dialect === "sqlite") {
    const db = new Database(sqlitePathOf(env.url)!);
    try {
      const row = db.prepare("SELECT number_index, number_enc FROM numbers ORDER BY number_index LIMIT 1").get() as { number_index: string; number_enc: string };
      db.prepare("UPDATE numbers SET number_enc = ? WHERE number_index = ?").run(flip(row.number_enc), row.number_index);
      return row.number_index;
    } finally {
      db.close();
    }
  }
  const c = new pg.Client({ connectionString: env.url });
  await c.connect();
  try {
    const row = (await c.query("SELECT number_index, number_enc FROM numbers ORDER BY number_index LIMIT 1")).rows[0] as { number_index: string; number_enc: string };
    await c.query("UPDATE numbers SET number_enc = $1 WHERE number_index = $2", [flip(row.number_enc), row.number_index]);
    return row.number_index;
  } finally {
    await c.end();
  }
}

eachBackend("a tampered row is named and counted; start-up and export carry on with the others", async (t, env) => {
  const setup = await liveSetup(await testPki(), env.dir, env.url);
  const config = await writeLiveConfig(setup, "bad-row.yaml");
  const csv = join(env.dir, "numbers.csv");
  writeFileSync(csv, `number,service\n${NUMBERS.map((n) => `${n},svc-a`).join("\n")}\n`);
  const imported = await runCli(["numbers", "import", csv, "--config", config], { timeoutMs: 60_000 });
  t.equal(imported.code, 0, imported.stderr);
  const bad = await tamperFirstNumber(env);

  const live = await startLive(setup, config);
  t.teardown(() => live.stop());
  const logged = await live.cli.waitFor((l) => l.msg?.startsWith("stored row cannot be decrypted") === true, "the bad row logged");
  t.match(logged, { table: "numbers", row: bad, keyId: "k1", reason: /authentication failed/ }, "names table and row (blind index)");
  t.equal(await live.metric("trunkgate_store_unreadable_rows_total", 'table="numbers"'), 1, "counted");
  const listed = await live.api("GET", "/api/v1/numbers");
  t.equal(listed.status, 200);
  t.equal((listed.json as { items: unknown[] }).items.length, 2, "the other rows are listed");
  let readable = 0;
  for (const n of NUMBERS) if ((await live.api("GET", `/api/v1/numbers/${n}`)).status === 200) readable++;
  t.equal(readable, 2, "the other numbers are served");

  const exported = await runCli(["numbers", "export", "--config", config], { timeoutMs: 60_000 });
  t.equal(exported.code, 1, "non-zero: something could not be exported");
  t.equal(exported.stdout.trim().split("\n").length, 3, "header and the two readable rows");
  t.match(exported.stderr, `could not read 1 row(s); exported the others:\n  numbers row ${bad}: authentication failed`);
  for (const n of NUMBERS) {
    t.notOk(exported.stderr.includes(n.slice(1)), "stderr carries no number in clear");
    t.notOk(live.cli.lines.some((l) => JSON.stringify(l).includes(n.slice(1))), "nor do the logs");
  }
});
