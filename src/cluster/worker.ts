// A cluster worker: the whole App (SIP, HTTP, provisioning listeners, shared with the other
// workers through the primary) minus the admin endpoint, which the primary serves for everyone.
// The config comes from the primary (read once, so every worker runs the same one); the worker
// answers the primary's IPC requests (metrics, readiness), reloads and stops when told.
//
// Signals: the primary is the one to signal. SIGINT is ignored here because a terminal's Ctrl-C
// reaches every process of the group and the primary already forwards the stop; SIGTERM sent to
// this process alone drains it (the primary then replaces it); SIGHUP reloads its certificates.
import { App } from "../app.js";
import { setLogHashKey } from "../observability/hash.js";
import { EXIT_FAILURE, EXIT_OK, type CliIo } from "../cli/io.js";
import type { Config } from "../config/schema/index.js";
import { clusterLogger } from "./cluster-logger.js";
import { isToWorker, WORKER_SLOT_ENV, type ToPrimary, type ToWorker } from "./messages.js";
import { describeStartFailure } from "./start-failure.js";

/** How long a fresh worker waits for its config before giving up (the primary sends it at once). */
const CONFIGURE_TIMEOUT_MS = 30_000;

function send(msg: ToPrimary): Promise<void> {
  return new Promise((resolve) => {
    if (!process.connected || !process.send) return resolve();
    process.send(msg, undefined, {}, () => resolve());
  });
}

export async function runWorker(configPath: string, io: CliIo): Promise<number> {
  const slot = Number(process.env[WORKER_SLOT_ENV] ?? "0");
  let app: App | undefined;
  let started = false;
  let stopRequested = false;
  let resolveExit!: (code: number) => void;
  const exit = new Promise<number>((r) => (resolveExit = r));
  let resolveConfig!: (m: Extract<ToWorker, { tg: "configure" }>) => void;
  const configured = new Promise<Extract<ToWorker, { tg: "configure" }>>((r) => (resolveConfig = r));

  const stop = (reason: string) => {
    if (stopRequested) return;
    stopRequested = true;
    if (!app) return resolveExit(EXIT_OK); // not configured yet: nothing to drain
    if (!started) return; // stop once start() has finished (below)
    app.logger.info({ reason }, "stopping");
    app.stop().then(() => resolveExit(EXIT_OK), () => resolveExit(EXIT_FAILURE));
  };

  process.on("message", (msg: unknown) => {
    if (!isToWorker(msg)) return;
    switch (msg.tg) {
      case "configure":
        return resolveConfig(msg);
      case "metrics":
        if (!app || !started) return void send({ tg: "metrics", id: msg.id, metrics: [] });
        app.metrics.registry.getMetricsAsJSON().then(
          (metrics) => send({ tg: "metrics", id: msg.id, metrics }),
          () => send({ tg: "metrics", id: msg.id, metrics: [] }),
        );
        return;
      case "readiness":
        return void send({ tg: "readiness", id: msg.id, notReady: app && started ? app.notReady() : ["starting"] });
      case "reload":
        if (app && started) {
          app.logger.info("reload requested by the primary: reloading TLS material and the admission limits");
          const tlsOk = app.reloadTls();
          // Every worker re-reads the same file: each applies the limits to the connections it holds.
          app.reloadConfig(configPath);
          void send({ tg: "reloaded", ok: tlsOk });
        }
        return;
      case "stop":
        return stop("stop requested by the primary");
    }
  });
  process.on("SIGINT", () => undefined);
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGHUP", () => {
    if (app && started) {
      app.logger.info("SIGHUP: reloading TLS material and the admission limits");
      app.reloadTls();
      app.reloadConfig(configPath);
    }
  });

  await send({ tg: "hello" });
  const timeout = new Promise<undefined>((r) => setTimeout(() => r(undefined), CONFIGURE_TIMEOUT_MS).unref());
  const msg = await Promise.race([configured, timeout, exit.then(() => undefined)]);
  if (msg === undefined) {
    if (stopRequested) return EXIT_OK;
    io.err(`trunkgate: worker ${slot}: no configuration from the primary within ${CONFIGURE_TIMEOUT_MS} ms`);
    return EXIT_FAILURE;
  }

  const config: Config = msg.config;
  // The same hashes in every worker's logs (App.start replaces it with logging.hashKeyFile if set).
  if (msg.logHashKey !== "") setLogHashKey(Buffer.from(msg.logHashKey, "hex"));
  const logger = clusterLogger(config, { worker: slot });
  app = new App(config, logger, undefined, undefined, { adminServer: false, retentionScheduler: slot === 1 });
  try {
    await app.start();
  } catch (err) {
    const failure = describeStartFailure(err, configPath);
    logger.error({ error: err instanceof Error ? err.message : String(err) }, "worker failed to start");
    await send({ tg: "failed", code: failure.code, lines: failure.lines });
    return failure.code;
  }
  started = true;
  await send({
    tg: "started",
    listeners: Object.fromEntries(app.components.map((c) => [c.name, c.address()?.port])),
  });
  if (stopRequested) {
    stopRequested = false;
    stop("stop requested during startup");
  }
  return exit;
}
