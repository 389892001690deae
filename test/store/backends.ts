// Runs a test body against every store backend: SQLite always, PostgreSQL on a throwaway cluster
// (one per test file, one database per test). Not a test file itself.
import t from "tap";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Test } from "tap";
import { pgSkipped, startPostgres, type PgServer } from "../helpers/postgres.js";
import { Keyring } from "../../src/store/crypto/keyring.js";
import { openStore, type OpenStoreOptions, type Store } from "../../src/store/store.js";

export interface BackendEnv {
  dialect: "sqlite" | "postgres";
  url: string;
  /** Temp dir owned by this test (the SQLite file lives here). */
  dir: string;
  keyring: Keyring;
  open(opts?: Partial<OpenStoreOptions>): Promise<Store>;
}

let server: Promise<PgServer | null> | undefined;
function pgServer(): Promise<PgServer | null> {
  if (!server) {
    server = startPostgres();
    t.teardown(async () => {
      const s = await server!.catch(() => null);
      await s?.stop();
    });
  }
  return server;
}

export function tempDir(tt: Test): string {
  const dir = mkdtempSync(join(tmpdir(), "trunkgate-store-"));
  tt.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export function eachBackend(title: string, fn: (tt: Test, env: BackendEnv) => Promise<void>): void {
  for (const dialect of ["sqlite", "postgres"] as const) {
    const skip = dialect === "postgres" && pgSkipped() ? "PostgreSQL tests skipped: TRUNKGATE_SKIP_PG=1" : false;
    t.test(`${title} [${dialect}]`, { skip }, async (tt) => {
      const dir = tempDir(tt);
      let url: string;
      if (dialect === "sqlite") url = `sqlite:${join(dir, "store.db")}`;
      else {
        const s = await pgServer();
        if (!s) throw new Error("PostgreSQL server unavailable");
        url = await s.createDatabase();
      }
      const keyring = Keyring.generate();
      const stores: Store[] = [];
      tt.teardown(async () => {
        for (const s of stores) await s.close().catch(() => {});
      });
      const env: BackendEnv = {
        dialect,
        url,
        dir,
        keyring,
        async open(opts = {}) {
          const s = await openStore({ url, keyring, baseDir: dir, ...opts });
          stores.push(s);
          return s;
        },
      };
      await fn(tt, env);
    });
  }
}
