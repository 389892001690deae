// What the cluster primary does once, before forking, so that N workers do not race each other
// on first run and a broken setup fails once, clearly, without starting anything:
// * the development PKI (tls.devPki.autoGenerate) is generated here, not N times concurrently;
// * the TLS material is loaded once to validate it (each worker loads its own copy afterwards);
// * the store is opened and closed: that creates the key file on first run, applies migrations
//   and checks the key fingerprint, so workers find a ready store (SQLite WAL and BEGIN
//   IMMEDIATE with a busy timeout then let the N processes share the file).
import { ensureDevPki } from "../app.js";
import type { Config } from "../config/schema/index.js";
import type { Logger } from "../observability/logger.js";
import { openStoreFromConfig } from "../store/store.js";
import { TlsContextProvider } from "../tls/context-provider.js";

export async function prepareForWorkers(config: Config, logger: Logger): Promise<void> {
  await ensureDevPki(config, logger);
  new TlsContextProvider(config.tls);
  const store = await openStoreFromConfig(config.store, { logger });
  await store.close();
}
