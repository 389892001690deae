#!/usr/bin/env node
// Runs the test suite from its compiled form: `npm test` (all), `npm run test:unit`,
// `npm run test:integration`. Not a test file itself (tap only picks up *.test.*).
//
// Why compiled: tap's TypeScript loader compiles each test file and everything it imports again in
// every test process, seconds of CPU per file before the first assertion. `npm run build:test`
// (run first by the npm scripts) compiles src/ and test/ once into dist/ with tsc; this script then
// hands tap the dist/test/**/*.test.js files and tells the loader to stand aside for them
// (TAP_TYPE_STRIP_ONLY=1 makes @tapjs/typescript's import hook load nothing; the tests are plain
// JavaScript with source maps, so failures still name the .ts lines).
//
//   node test/run-suite.mjs [all|unit|integration] [tap options] [test/x.test.ts ...]
//
// A *.test.ts argument runs that file's compiled twin (dist/test/x.test.js). New test files need no
// registration: every test/**/*.test.ts is compiled and found here.
//
// unit vs integration, decided from the code, not from a list: a test is integration when it or a
// test helper it imports (transitively, within test/) imports node:child_process, i.e. may spawn a
// process (the app, PostgreSQL, SIPp, openssl, curl, promtool). Everything else runs in-process.
//
// What one run sets up once for all its files: a run directory (the test PKI), one PostgreSQL
// server when a selected file uses test/helpers/postgres.ts (TRUNKGATE_TEST_PG_URL; each file gets
// its own databases on it) and Node's compile cache. See CONTRIBUTING.md, "Tests".
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const srcTests = join(root, "test");
const outTests = join(root, "dist", "test");

function walk(dir, pred, out = []) {
  if (!existsSync(dir)) return out;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) walk(p, pred, out);
    else if (pred(e.name)) out.push(p);
  }
  return out;
}

const isTs = (n) => n.endsWith(".ts") && !n.endsWith(".d.ts");
const toOut = (ts) => join(outTests, relative(srcTests, ts)).replace(/\.ts$/, ".js");
const toSrc = (js) => join(srcTests, relative(outTests, js)).replace(/\.js$/, ".ts");

/**
 * dist/test must mirror test/: a compiled file whose .ts was deleted or renamed would otherwise run
 * as a ghost test, and a test the incremental build did not emit would silently not run.
 * Returns the test sources that have no up-to-date compiled file.
 */
function syncOutputs() {
  for (const js of walk(outTests, (n) => n.endsWith(".js") || n.endsWith(".js.map"))) {
    const base = js.endsWith(".map") ? js.slice(0, -4) : js;
    if (!existsSync(toSrc(base))) rmSync(js, { force: true });
  }
  return walk(srcTests, isTs).filter((ts) => !existsSync(toOut(ts)) || statSync(toOut(ts)).mtimeMs < statSync(ts).mtimeMs);
}

/** Relative imports of a compiled test module (static and dynamic with a literal). */
function imports(js) {
  const text = readFileSync(js, "utf8");
  const specs = [];
  for (const m of text.matchAll(/(?:\bfrom\s*|\bimport\s*\(?\s*)["']([^"']+)["']/g)) specs.push(m[1]);
  return specs;
}

/** Whether the compiled test module, or a test/ module it imports (transitively), satisfies pred. */
function reaches(js, pred, memo) {
  if (memo.has(js)) return memo.get(js);
  memo.set(js, false); // an import cycle among helpers ends here
  let result = false;
  for (const spec of imports(js)) {
    if (pred(spec, js)) result = true;
    else if (spec.startsWith(".")) {
      const dep = resolve(dirname(js), spec);
      // Only test/ code decides: the app's own modules never spawn or start PostgreSQL on import.
      if (dep.startsWith(outTests + "/") && existsSync(dep) && reaches(dep, pred, memo)) result = true;
    }
    if (result) break;
  }
  memo.set(js, result);
  return result;
}

const spawnMemo = new Map();
const spawnsProcesses = (js) => reaches(js, (spec) => spec === "node:child_process" || spec === "child_process", spawnMemo);

const pgHelper = join(outTests, "helpers", "postgres.js");
const pgMemo = new Map();
const usesPostgres = (js) => js === pgHelper || reaches(js, (spec, from) => spec.startsWith(".") && resolve(dirname(from), spec) === pgHelper, pgMemo);

/**
 * One PostgreSQL server for the whole run (test/helpers/postgres.ts: each file gets its own
 * databases on it), when a selected file uses PostgreSQL. Returns the environment for tap and a
 * stop function; when the server cannot start, says why and lets each file fail (or start its
 * own) as it would have without the runner.
 */
async function sharedPostgres(files) {
  const none = { env: {}, stop: async () => {} };
  if (process.env.TRUNKGATE_SKIP_PG === "1" || process.env.TRUNKGATE_TEST_PG_URL) return none;
  if (!files.some(usesPostgres)) return none;
  try {
    const { startPostgres } = await import(pathToFileURL(pgHelper).href);
    // Three files at a time, each with a few stores of up to 10 pooled connections.
    const server = await startPostgres({ own: true, maxConnections: 300 });
    if (!server) return none;
    return { env: { TRUNKGATE_TEST_PG_URL: server.url }, stop: () => server.stop() };
  } catch (err) {
    console.error(`shared PostgreSQL server not started (each PostgreSQL test file tries its own): ${err.message}`);
    return none;
  }
}

function build() {
  const tsc = (extra) =>
    new Promise((res) => {
      const child = spawn(process.execPath, [join(root, "node_modules", "typescript", "bin", "tsc"), "-p", join(srcTests, "tsconfig.json"), ...extra], { stdio: "inherit", cwd: root });
      child.on("exit", (code) => res(code ?? 1));
    });
  return (async () => {
    let code = await tsc([]);
    if (code !== 0) return code;
    const stale = syncOutputs();
    if (stale.length > 0) {
      // The incremental build's record says these are emitted but their files are gone or older:
      // forget the record and emit everything once more.
      rmSync(join(root, "dist", ".tsbuildinfo-test"), { force: true });
      code = await tsc([]);
      if (code !== 0) return code;
      const still = syncOutputs();
      if (still.length > 0) {
        console.error(`not compiled: ${still.map((p) => relative(root, p)).join(", ")}`);
        return 1;
      }
    }
    return 0;
  })();
}

async function main() {
  const [mode = "all", ...rest] = process.argv.slice(2);
  if (mode === "build") process.exit(await build());
  if (mode === "list") {
    // Which files a mode would run, with their class: for checking the unit/integration split.
    for (const f of walk(outTests, (n) => n.endsWith(".test.js")).sort()) console.log(`${spawnsProcesses(f) ? "integration" : "unit"}\t${relative(root, toSrc(f))}`);
    return;
  }
  if (!["all", "unit", "integration"].includes(mode)) {
    console.error(`usage: node test/run-suite.mjs [build|all|unit|integration] [tap options] [test files]`);
    process.exit(2);
  }
  const named = rest.filter((a) => !a.startsWith("-") && /\.test\.[cm]?[jt]s$/.test(a));
  const options = rest.filter((a) => !named.includes(a));
  let files;
  if (named.length > 0) {
    files = named.map((a) => (a.endsWith(".ts") ? toOut(resolve(root, a)) : resolve(root, a)));
    const missing = files.filter((f) => !existsSync(f));
    if (missing.length > 0) {
      console.error(`no compiled test for: ${missing.map((f) => relative(root, f)).join(", ")} (run npm run build:test)`);
      process.exit(2);
    }
  } else {
    const all = walk(outTests, (n) => n.endsWith(".test.js")).sort();
    if (all.length === 0) {
      console.error("no compiled tests under dist/test: run npm run build:test first");
      process.exit(2);
    }
    // The order given here does not matter: tap runs its files in path order, whatever we pass.
    files = all.filter((f) => mode === "all" || (mode === "integration") === spawnsProcesses(f));
  }
  // What the test processes of this one run share (the test PKI material, test/helpers/pki.ts):
  // a directory of its own, so two runs side by side never mix, removed when the run ends.
  const runDir = mkdtempSync(join(tmpdir(), "trunkgate-test-run-"));
  const pg = await sharedPostgres(files);
  const tap = join(root, "node_modules", ".bin", "tap");
  const args = ["--test-env=TAP_TYPE_STRIP_ONLY=1", ...options, ...files.map((f) => relative(root, f))];
  // Every test process, and every `trunkgate` process the tests spawn, loads the same modules
  // (tap's, the app's): Node's on-disk compile cache spares each one compiling them again (about
  // a tenth of a small file's CPU, docs/benchmarks.md). Entries are keyed by the source's content,
  // so a rebuilt file is never served stale code.
  const compileCache = process.env.NODE_COMPILE_CACHE ?? join(root, "dist", ".node-compile-cache");
  const env = { ...process.env, ...pg.env, NODE_COMPILE_CACHE: compileCache, TRUNKGATE_TEST_RUN_DIR: runDir };
  const child = spawn(tap, args, { stdio: "inherit", cwd: root, env });
  const forward = (sig) => child.kill(sig);
  process.on("SIGINT", forward);
  process.on("SIGTERM", forward);
  child.on("exit", async (code, signal) => {
    await pg.stop().catch((err) => console.error(`stopping the shared PostgreSQL server: ${err.message}`));
    rmSync(runDir, { recursive: true, force: true });
    process.exit(code ?? (signal ? 1 : 0));
  });
}

await main();
