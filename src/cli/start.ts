// `trunkgate start [--config FILE]`: run until SIGTERM/SIGINT (graceful drain, exit 0).
// SIGHUP reloads certificates, keys, roots and CRLs.
import { parseArgs } from "node:util";
import { App } from "../app.js";
import { StartupError } from "../component.js";
import { ConfigError, loadConfigFile, resolveConfigPath } from "../config/load.js";
import { TlsMaterialError } from "../tls/pem.js";
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE, type CliIo } from "./io.js";

export async function startCommand(argv: string[], io: CliIo): Promise<number> {
  let values: { config?: string | undefined };
  try {
    ({ values } = parseArgs({ args: argv, options: { config: { type: "string" } } }));
  } catch (err) {
    io.err(`usage: trunkgate start [--config FILE]\n${(err as Error).message}`);
    return EXIT_USAGE;
  }
  const path = resolveConfigPath(values.config);
  let app: App;
  try {
    app = new App(loadConfigFile(path));
    await app.start();
  } catch (err) {
    if (err instanceof ConfigError) {
      io.err(`trunkgate: ${path} is invalid:`);
      for (const p of err.problems) io.err(`  ${p}`);
      return EXIT_USAGE;
    }
    if (err instanceof TlsMaterialError || err instanceof StartupError) {
      io.err(`trunkgate: cannot start: ${err.message}`);
      return EXIT_FAILURE;
    }
    // Store, key and other startup failures carry a message naming their config key.
    io.err(`trunkgate: cannot start: ${err instanceof Error ? err.message : String(err)}`);
    return EXIT_FAILURE;
  }
  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) {
        app.logger.warn({ signal }, "second signal: exiting now");
        return resolve(EXIT_FAILURE);
      }
      stopping = true;
      app.logger.info({ signal }, "stopping");
      app.stop().then(() => resolve(EXIT_OK), () => resolve(EXIT_FAILURE));
    };
    process.on("SIGTERM", () => stop("SIGTERM"));
    process.on("SIGINT", () => stop("SIGINT"));
    process.on("SIGHUP", () => {
      app.logger.info("SIGHUP: reloading TLS material");
      app.reloadTls();
    });
  });
}
