// The import graph of src/ built from the .ts sources: a small scanner of `import … from "…"`,
// `export … from "…"` and `import("…")` specifiers (relative ones only; packages are leaves), so
// architecture rules can be checked without a dependency.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";

export type ImportGraph = Map<string, { local: string[]; packages: string[] }>;

const SPECIFIER = /(?:^|[\s;}])(?:import|export)\s+(?:type\s+)?(?:[^'"]*?\s+from\s+)?["']([^"']+)["']|import\(\s*["']([^"']+)["']\s*\)/g;

function sourceFiles(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) sourceFiles(p, out);
    else if (name.endsWith(".ts") && !name.endsWith(".d.ts")) out.push(p);
  }
  return out;
}

/** Comments removed (an example import in a comment is not an edge). Strings are left alone. */
function stripComments(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, "").replace(/(^|[^:"'`\\])\/\/.*$/gm, "$1");
}

/**
 * Edges between files under `root` (paths relative to it). `typeOnly` false: `import type` edges
 * are left out (they vanish at run time and cannot form a load-order cycle).
 */
export function importGraph(root: string, o: { typeOnly?: boolean } = {}): ImportGraph {
  const abs = resolve(root);
  const graph: ImportGraph = new Map();
  for (const file of sourceFiles(abs)) {
    const text = stripComments(readFileSync(file, "utf8"));
    const local: string[] = [];
    const packages: string[] = [];
    for (const m of text.matchAll(SPECIFIER)) {
      const spec = m[1] ?? m[2]!;
      if (o.typeOnly === false && /^\s*(?:[;}]\s*)?(?:import|export)\s+type\s/.test(m[0].replace(/^[\s;}]/, ""))) continue;
      if (!spec.startsWith(".")) {
        packages.push(spec);
        continue;
      }
      const target = resolve(dirname(file), spec.replace(/\.js$/, ".ts"));
      local.push(relative(abs, target));
    }
    graph.set(relative(abs, file), { local, packages });
  }
  return graph;
}

/** Every elementary cycle found by a depth-first search (each reported once, as a path). */
export function findCycles(graph: ImportGraph): string[][] {
  const cycles: string[][] = [];
  const state = new Map<string, 1 | 2>();
  const stack: string[] = [];
  const visit = (n: string): void => {
    state.set(n, 1);
    stack.push(n);
    for (const m of graph.get(n)?.local ?? []) {
      if (!graph.has(m)) continue;
      const s = state.get(m);
      if (s === 1) cycles.push([...stack.slice(stack.indexOf(m)), m]);
      else if (s === undefined) visit(m);
    }
    stack.pop();
    state.set(n, 2);
  };
  for (const n of [...graph.keys()].sort()) if (!state.has(n)) visit(n);
  return cycles;
}

/** Files reachable from `start` (inclusive) and the packages they import. */
export function closure(graph: ImportGraph, start: string): { files: Set<string>; packages: Set<string> } {
  const files = new Set<string>();
  const packages = new Set<string>();
  const todo = [start];
  while (todo.length > 0) {
    const f = todo.pop()!;
    if (files.has(f)) continue;
    files.add(f);
    const e = graph.get(f);
    if (e === undefined) continue;
    for (const p of e.packages) packages.add(p);
    todo.push(...e.local);
  }
  return { files, packages };
}
