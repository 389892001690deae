// store.url → driver: `sqlite:PATH` (relative to baseDir, the cwd by default) or postgres(ql)://…
import { isAbsolute, resolve } from "node:path";
import { StoreUrlError, type SqlDriver } from "./driver.js";
import { openPostgres } from "./postgres.js";
import { openSqlite } from "./sqlite.js";

export function sqlitePathOf(url: string, baseDir = process.cwd()): string | undefined {
  if (!url.startsWith("sqlite:")) return undefined;
  const p = url.slice("sqlite:".length);
  if (p === ":memory:") return p;
  return isAbsolute(p) ? p : resolve(baseDir, p);
}

export function openDriver(url: string, baseDir = process.cwd()): SqlDriver {
  const path = sqlitePathOf(url, baseDir);
  if (path !== undefined) {
    if (path === "" || path === baseDir) throw new StoreUrlError("store.url: sqlite: needs a file path (sqlite:data/trunkgate.db)");
    return openSqlite(path);
  }
  if (/^postgres(ql)?:\/\//.test(url)) return openPostgres(url);
  throw new StoreUrlError("store.url: expected sqlite:PATH or postgres://…");
}
