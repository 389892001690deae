// `npm test` must run on the project's Node (package.json engines; the pinned devDependency "node"
// that npm puts first on PATH), not on whatever older Node the machine has, and so must every child
// the tests spawn with process.execPath; the native addon must be built for that Node.
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import t from "tap";
import { repoPath } from "../helpers/paths.js";

const pkg = JSON.parse(readFileSync(repoPath("package.json"), "utf8")) as {
  engines: { node: string };
  devDependencies: Record<string, string>;
};
const wantedMajor = Number(/>=\s*(\d+)/.exec(pkg.engines.node)?.[1]);
const major = (v: string) => Number(v.replace(/^v/, "").split(".")[0]);

t.test("the suite runs on the Node that package.json asks for", async (t) => {
  t.ok(wantedMajor >= 24, `engines.node is ${pkg.engines.node}`);
  t.ok(major(process.version) >= wantedMajor, `running on ${process.version}, engines ${pkg.engines.node}`);
  t.equal(major(pkg.devDependencies.node ?? "0"), wantedMajor, "the pinned devDependency node is of that major");
});

t.test("a spawned process.execPath child runs on the same Node", async (t) => {
  const r = spawnSync(process.execPath, ["-p", "process.version"], { encoding: "utf8" });
  t.equal(r.status, 0);
  t.equal(r.stdout.trim(), process.version);
});

t.test("better-sqlite3 is built for this Node", async (t) => {
  const require = createRequire(import.meta.url);
  const Database = require("better-sqlite3") as new (path: string) => { prepare(sql: string): { get(): unknown }; close(): void };
  const db = new Database(":memory:");
  t.same(db.prepare("SELECT 1 AS one").get(), { one: 1 });
  db.close();
});
