// `trunkgate start [--config FILE]`: run until SIGTERM/SIGINT (graceful drain, exit 0).
// SIGHUP reloads certificates, keys, roots and CRLs, and the config file's admission limits.
// lifecycle.workers > 1: this process becomes the cluster primary (src/cluster/primary.ts) and the
// workers it forks run this same command, which hands them to src/cluster/worker.ts.
import cluster from "node:cluster";
import { parseArgs } from "node:util";
import { App } from "../app.js";
import { runPrimary } from "../cluster/primary.js";
import { describeStartFailure } from "../cluster/start-failure.js";
import { runWorker } from "../cluster/worker.js";
import { workerCount } from "../cluster/worker-count.js";
import type { Config } from "../config/schema/index.js";
import { loadConfigFile, resolveConfigPath } from "../config/load.js";
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE, type CliIo } from "./io.js";

const HELP = `usage: trunkgate start [--config FILE]
  run the proxy until SIGTERM/SIGINT (graceful drain for lifecycle.drainGraceSeconds, then exit 0);
  SIGHUP reloads certificates, keys, roots and CRLs, and the admission limits of the config file
  (sip.admission, peers[].admission; other keys need a restart). --config defaults to $TRUNKGATE_CONFIG, else
  config/default.yaml. Exit codes: 2 invalid configuration, 1 cannot start (the message names the key).`;

export async function startCommand(argv: string[], io: CliIo): Promise<number> {
  let values: { config?: string | undefined; help?: boolean | undefined };
  try {
    ({ values } = parseArgs({ args: argv, options: { config: { type: "string" }, help: { type: "boolean", short: "h" } } }));
  } catch (err) {
    io.err(`${(err as Error).message}\n${HELP}`);
    return EXIT_USAGE;
  }
  if (values.help) {
    io.out(HELP);
    return EXIT_OK;
  }
  const path = resolveConfigPath(values.config);
  // A worker gets its configuration from the primary, which read it once for everyone.
  if (cluster.isWorker) return runWorker(path, io);
  let config: Config;
  try {
    config = loadConfigFile(path);
  } catch (err) {
    return report(describeStartFailure(err, path), io);
  }
  const workers = workerCount(config.lifecycle.workers);
  if (workers > 1) return runPrimary(config, path, workers, io);

  const app = new App(config);
  try {
    await app.start();
  } catch (err) {
    return report(describeStartFailure(err, path), io);
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
      app.logger.info("SIGHUP: reloading TLS material and the admission limits");
      app.reloadTls();
      app.reloadConfig(path);
    });
  });
}

function report(failure: { code: number; lines: string[] }, io: CliIo): number {
  for (const l of failure.lines) io.err(l);
  return failure.code;
}
