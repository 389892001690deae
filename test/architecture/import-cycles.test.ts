// Architecture rules on src/'s import graph (built from the .ts sources by ./import-graph.ts):
// - no import cycle between files (a few cycles outside src/sip predate this check: listed below,
//   to be removed by their owners; any other cycle fails);
// - no cycle between the folders of src/sip (the core reshape of issue 10 removed the last ones:
//   message <-> parse, transport <-> upstream, proxy -> transport -> upstream -> proxy);
// - sip.js (the reference grammar, ~200× slower than the own parser) is never in the import
//   closure of src/sip/server.ts, the per-message path.
import t from "tap";
import { closure, findCycles, importGraph, type ImportGraph } from "./import-graph.js";

const graph = importGraph("src");

/** File cycles that existed when this check was added (owned outside src/sip). */
const KNOWN_FILE_CYCLES = new Set([
  "app.ts -> components.ts -> app.ts",
  "app.ts -> components.ts -> http/component.ts -> app.ts",
  "app.ts -> components.ts -> provisioning/component.ts -> app.ts",
  "app.ts -> components.ts -> sip/component.ts -> app.ts",
]);

/** src/sip/<folder> (or the root file's name without .ts) of a file under src/sip. */
function sipFolder(file: string): string {
  const parts = file.split("/");
  return parts.length > 2 ? `sip/${parts[1]}` : `sip/${parts[1]!.replace(/\.ts$/, "")}`;
}

function sipFolderGraph(g: ImportGraph): ImportGraph {
  const out: ImportGraph = new Map();
  for (const [file, e] of g) {
    if (!file.startsWith("sip/")) continue;
    const from = sipFolder(file);
    const node = out.get(from) ?? { local: [], packages: [] };
    out.set(from, node);
    for (const target of e.local) {
      if (!target.startsWith("sip/")) continue;
      const to = sipFolder(target);
      if (to !== from && !node.local.includes(to)) node.local.push(to);
    }
  }
  for (const n of out.values()) n.local.sort();
  return out;
}

t.test("the scanner sees the imports it must see", async (t) => {
  const core = graph.get("sip/proxy/core.ts");
  t.ok(core, "src/sip/proxy/core.ts is in the graph");
  t.ok(core!.local.includes("sip/parse/index.ts"), "a relative import, .js mapped to .ts");
  t.ok(graph.get("sip/parse/uri-validate.ts")!.packages.includes("sip.js"), "a package import");
});

t.test("no import cycle between files of src/ (beyond the listed older ones)", async (t) => {
  const cycles = findCycles(graph).map((c) => c.join(" -> "));
  const fresh = cycles.filter((c) => !KNOWN_FILE_CYCLES.has(c));
  t.same(fresh, [], "no new file cycle");
  t.same(cycles.filter((c) => c.startsWith("sip/")), [], "none at all inside src/sip");
});

t.test("no cycle between the folders of src/sip", async (t) => {
  const cycles = findCycles(sipFolderGraph(graph)).map((c) => c.join(" -> "));
  t.same(cycles, [], "no folder cycle");
});

t.test("sip.js is not in the import closure of src/sip/server.ts", async (t) => {
  const { files, packages } = closure(graph, "sip/server.ts");
  t.ok(files.has("sip/proxy/core.ts"), "the closure reaches the core");
  t.notOk(packages.has("sip.js"), `sip.js not imported by any of ${files.size} modules`);
});
