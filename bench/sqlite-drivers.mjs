// better-sqlite3 against Node's built-in node:sqlite, in the Node that runs this (the choice of
// SQLite driver for Node 24, docs/benchmarks.md "Runtime"): the store's settings (WAL, synchronous
// NORMAL), N single-row write transactions (BEGIN IMMEDIATE / INSERT / COMMIT, as the store writes)
// and N selects by a unique key through prepared statements; CPU-µs per operation of this process.
//
//   node bench/sqlite-drivers.mjs [--rows 20000] [--dir /tmp]      (one JSON line per driver)
import { rmSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { parseArgs } from "node:util";

const { values: o } = parseArgs({ options: { rows: { type: "string", default: "20000" }, dir: { type: "string", default: "/tmp" } } });
const rows = Number(o.rows);
if (!Number.isInteger(rows) || rows < 1) {
  console.error(`sqlite-drivers: --rows takes a positive whole number, not ${o.rows}`);
  process.exit(2);
}
const require = createRequire(import.meta.url);

async function open(driver, file) {
  if (driver === "better-sqlite3") {
    const Database = require("better-sqlite3");
    return new Database(file);
  }
  const { DatabaseSync } = await import("node:sqlite");
  return new DatabaseSync(file);
}

const cpuUs = (since) => {
  const d = process.cpuUsage(since);
  return d.user + d.system;
};

for (const driver of ["better-sqlite3", "node:sqlite"]) {
  const file = join(o.dir, `trunkgate-sqlite-drivers-${process.pid}.db`);
  const db = await open(driver, file);
  for (const p of ["journal_mode = WAL", "synchronous = NORMAL", "busy_timeout = 5000"]) db.exec(`PRAGMA ${p}`);
  db.exec("CREATE TABLE t (id INTEGER PRIMARY KEY, k TEXT UNIQUE, v BLOB)");
  const insert = db.prepare("INSERT INTO t (k, v) VALUES (?, ?)");
  const select = db.prepare("SELECT id, v FROM t WHERE k = ?");
  const blob = Buffer.alloc(200, 7);
  let t0 = process.cpuUsage();
  for (let i = 0; i < rows; i++) {
    db.exec("BEGIN IMMEDIATE");
    insert.run(`k${i}`, blob);
    db.exec("COMMIT");
  }
  const insertUs = cpuUs(t0) / rows;
  t0 = process.cpuUsage();
  for (let i = 0; i < rows; i++) select.all(`k${(i * 7919) % rows}`);
  const selectUs = cpuUs(t0) / rows;
  db.close();
  for (const s of ["", "-wal", "-shm"]) rmSync(file + s, { force: true });
  console.log(JSON.stringify({ driver, node: process.version, rows, insertTxCpuUs: +insertUs.toFixed(1), selectCpuUs: +selectUs.toFixed(2) }));
}
