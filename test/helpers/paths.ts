// Where the checkout's files are, for tests that read data files (scenarios, corpora) or start the
// built app. Tests run from their compiled copies in dist/test (see test/run-suite.mjs) as well as
// from test/ through tap's TypeScript loader, so a path relative to the test module's own URL
// would differ between the two: resolve from the checkout's root (the nearest package.json) instead.
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

function findRoot(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, "package.json"))) return dir;
    if (dirname(dir) === dir) throw new Error(`no package.json above ${from}`);
  }
}

/** The checkout's root directory (holds package.json, src/, test/, dist/). */
export const repoRoot = findRoot(dirname(fileURLToPath(import.meta.url)));

/** An absolute path from checkout-relative parts: repoPath("test", "sip", "torture"). */
export function repoPath(...parts: string[]): string {
  return join(repoRoot, ...parts);
}
