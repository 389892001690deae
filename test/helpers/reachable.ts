// Whether another uid can reach a path: tests that run something as an unprivileged user (the
// container test's uid 10001, PostgreSQL as `postgres`) check it first and say what blocks them.
import { stat } from "node:fs/promises";
import { dirname, parse, resolve } from "node:path";

/**
 * The first directory on the way to path that a uid other than its owner and group cannot enter
 * (no o+x), or undefined when the whole way is open.
 */
export async function closedAncestor(path: string): Promise<string | undefined> {
  const root = parse(path).root;
  for (let dir = resolve(path); ; dir = dirname(dir)) {
    if (((await stat(dir)).mode & 0o001) === 0) return dir;
    if (dir === root) return undefined;
  }
}
