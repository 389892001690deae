// postinstall: make sure the native addon (better-sqlite3) loads in the Node that runs trunkgate.
// npm puts node_modules/.bin first on PATH for every script, so this runs on the project's own Node
// (devDependency "node", pinned in package.json) even when npm itself runs on an older system Node.
// better-sqlite3's own install script normally builds it for that Node already (npm runs every
// package's preinstall, where "node" fetches its binary, before any install script). This catches
// what can still go wrong: an npm config `nodedir` pointing at an older Node's headers (the addon
// then builds for the wrong ABI), or a node_modules installed by another Node. It rebuilds the addon
// once against the headers shipped with the running Node, and fails the install with a clear
// message rather than letting `npm start` fail later.
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const wanted = Number(/>=\s*(\d+)/.exec(JSON.parse(readFileSync(join(root, "package.json"), "utf8")).engines.node)?.[1] ?? 0);
const major = Number(process.versions.node.split(".")[0]);

if (major < wanted) {
  console.error(`trunkgate: this install runs on Node ${process.version}, the project needs >= ${wanted}. ` +
    `The project's Node comes with its devDependencies ("node" in package.json): run plain \`npm ci\` ` +
    `(not --omit=dev / --ignore-scripts), or install Node ${wanted}+ yourself.`);
  process.exit(1);
}

/**
 * null when better-sqlite3 opens a database in this Node, else why not. Checked in a child process
 * of this Node: a process that once failed to load the addon keeps the failed library mapped, and
 * loading the rebuilt file from the same path in it fails with "Module did not self-register".
 */
function addonProblem() {
  const probe = 'const D = require("better-sqlite3"); new D(":memory:").close();';
  const r = spawnSync(process.execPath, ["-e", probe], { cwd: root, encoding: "utf8" });
  if (r.status === 0) return null;
  const lines = `${r.stderr ?? ""}`.split("\n").filter((l) => /Error|error:/.test(l));
  return lines[0]?.trim() ?? `the probe exited with ${r.status ?? r.signal}`;
}

/** A directory holding include/node/node_version.h of exactly this Node (what node-gyp calls nodedir). */
function headersOfThisNode() {
  const candidates = [
    join(dirname(process.execPath), ".."), // an official Node tree: bin/node beside include/node
    join(root, "node_modules/node/node_modules", `node-${process.platform}-${process.arch}`), // npm's "node" package
  ];
  return candidates.find((dir) => {
    const h = join(dir, "include/node/node_version.h");
    if (!existsSync(h)) return false;
    const text = readFileSync(h, "utf8");
    const v = ["MAJOR", "MINOR", "PATCH"].map((k) => new RegExp(`#define NODE_${k}_VERSION (\\d+)`).exec(text)?.[1]).join(".");
    return v === process.versions.node;
  });
}

const problem = addonProblem();
if (problem) {
  const nodedir = headersOfThisNode();
  console.error(`trunkgate: better-sqlite3 does not load in Node ${process.version} (${problem}); rebuilding it` +
    (nodedir ? ` against ${nodedir}` : ""));
  const npmCli = process.env.npm_execpath;
  const [cmd, args] = npmCli ? [process.execPath, [npmCli, "rebuild", "better-sqlite3"]] : ["npm", ["rebuild", "better-sqlite3"]];
  const env = { ...process.env, ...(nodedir ? { npm_config_nodedir: nodedir } : {}) };
  const r = spawnSync(cmd, args, { cwd: root, env, stdio: "inherit" });
  const still = r.status === 0 ? addonProblem() : `npm rebuild exited with ${r.status}`;
  if (still) {
    console.error(`trunkgate: better-sqlite3 still does not load in Node ${process.version}: ${still}. ` +
      "It needs a C++ toolchain (python3, make, g++) and this Node's headers (npm config nodedir).");
    process.exit(1);
  }
}
