// `trunkgate start` with lifecycle.workers > 1: this process becomes the node:cluster primary. It
// serves no SIP or HTTP itself. It prepares what must happen once (dev PKI, store key and
// migrations), forks the workers, which share every listener through it, serves the admin endpoint
// for all of them (/metrics aggregated over IPC, /readyz = every worker ready), forwards signals
// and replaces workers that die. See docs/operations.md.
//
// Connection scheduling: round-robin (cluster.SCHED_RR, the primary accepts and hands each new
// connection to the next worker) unless NODE_CLUSTER_SCHED_POLICY says otherwise ("none": every
// worker accepts on the shared socket itself).
import cluster from "node:cluster";
import { randomBytes } from "node:crypto";
import type { AddressInfo } from "node:net";
import { AdminServer } from "../admin/admin-server.js";
import { listenError } from "../component.js";
import type { Config } from "../config/schema/index.js";
import { loadConfigFile } from "../config/load.js";
import { withLiveKeys } from "../config/live-reload.js";
import { EXIT_FAILURE, EXIT_OK, type CliIo } from "../cli/io.js";
import { flushLogger } from "../observability/logger.js";
import { VERSION } from "../version.js";
import { createClusterMetrics } from "./cluster-metrics.js";
import { clusterLogger } from "./cluster-logger.js";
import { aggregateCluster } from "./metrics-aggregation.js";
import { prepareForWorkers } from "./prepare.js";
import { describeStartFailure } from "./start-failure.js";
import { WorkerPool, type WorkerFailure } from "./worker-pool.js";

/** A first start that takes longer than this (store, PKI, listeners) is reported as a failure. */
const STARTUP_TIMEOUT_MS = 60_000;
/** After the drain grace: how long workers get to close and exit before they are killed. */
const EXIT_MARGIN_MS = 10_000;

export async function runPrimary(config: Config, configPath: string, size: number, io: CliIo): Promise<number> {
  const logger = clusterLogger(config, { role: "primary" });
  const fail = async (lines: string[], code: number): Promise<number> => {
    for (const l of lines) io.err(l);
    await flushLogger(logger);
    return code;
  };

  try {
    await prepareForWorkers(config, logger);
  } catch (err) {
    const f = describeStartFailure(err, configPath);
    return fail(f.lines, f.code);
  }

  const metrics = createClusterMetrics();
  metrics.workers.labels("desired").set(size);
  metrics.restarts.inc(0);
  const logHashKey = config.logging.hashKeyFile ? "" : randomBytes(32).toString("hex");
  const pool = new WorkerPool({ size, config, logHashKey, logger });
  let running = config;
  pool.on("restart", () => metrics.restarts.inc());

  const admin = new AdminServer({
    host: config.admin.listen.host,
    port: config.admin.listen.port,
    contentType: metrics.registry.contentType,
    metrics: async () => {
      metrics.workers.labels("running").set(pool.running);
      const [{ processes, retired }, own] = await Promise.all([pool.collectMetrics(), metrics.registry.getMetricsAsJSON()]);
      return aggregateCluster([{ worker: "primary", metrics: own }, ...processes], retired).metrics();
    },
    notReady: async () => (pool.stopping ? ["draining"] : pool.notReady()),
  });
  let adminAddress: AddressInfo;
  try {
    adminAddress = await admin.listen();
  } catch (err) {
    const e = listenError("admin.listen", config.admin.listen.host, config.admin.listen.port, err);
    return fail([`trunkgate: cannot start: ${e.message}`], EXIT_FAILURE);
  }

  // Before forking, so that the schedulingPolicy assignment takes effect (it is read at the first fork).
  if (process.env.NODE_CLUSTER_SCHED_POLICY === undefined) cluster.schedulingPolicy = cluster.SCHED_RR;
  const policy = cluster.schedulingPolicy === cluster.SCHED_RR ? "round-robin" : "os";

  return new Promise<number>((resolve) => {
    let finished = false;
    const finish = async (code: number, lines: string[] = []) => {
      if (finished) return;
      finished = true;
      process.off("SIGTERM", onTerm).off("SIGINT", onInt).off("SIGHUP", onHup);
      await admin.close();
      if (lines.length === 0) logger.info({ code }, "stopped");
      resolve(await fail(lines, code));
    };
    let killTimer: NodeJS.Timeout | undefined;
    const stop = (signal: string) => {
      if (pool.stopping) {
        logger.warn({ signal }, "second signal: killing the workers and exiting now");
        pool.kill();
        return;
      }
      const graceMs = config.lifecycle.drainGraceSeconds * 1000;
      logger.info({ signal, graceMs, workers: pool.pids().length }, "stopping: every worker drains");
      killTimer = setTimeout(() => {
        logger.error({ afterMs: graceMs + EXIT_MARGIN_MS }, "workers still running after the drain grace; killing them");
        pool.kill();
      }, graceMs + EXIT_MARGIN_MS);
      pool.stop();
    };
    const onTerm = () => stop("SIGTERM");
    const onInt = () => stop("SIGINT");
    const onHup = () => {
      const n = pool.reload();
      logger.info({ workers: n }, "SIGHUP: reloading TLS material and the admission limits in every worker");
      // Each worker re-reads the file and logs what it applied or refused; the primary only keeps
      // the live keys for the workers it will start later (replacements), nothing else.
      try {
        running = withLiveKeys(running, loadConfigFile(configPath));
        pool.setConfig(running);
      } catch {
        // invalid: the workers log why; replacements keep the limits running now
      }
    };
    process.on("SIGTERM", onTerm).on("SIGINT", onInt).on("SIGHUP", onHup);

    const startupTimer = setTimeout(() => {
      onStartupFailed({ slot: 0, code: EXIT_FAILURE, lines: [`trunkgate: cannot start: workers did not start within ${STARTUP_TIMEOUT_MS / 1000} s`] });
    }, STARTUP_TIMEOUT_MS);
    let startupFailure: WorkerFailure | undefined;
    const onStartupFailed = (f: WorkerFailure) => {
      if (startupFailure !== undefined || pool.stopping) return;
      startupFailure = f;
      clearTimeout(startupTimer);
      // Nothing was served yet: no drain, and no restart (a bad config would only fail again).
      logger.error({ worker: f.slot, error: f.lines.join(" ") }, "a worker failed to start; stopping every worker");
      pool.kill();
    };
    pool.on("startupFailed", onStartupFailed);
    pool.on("allStarted", (listeners) => {
      clearTimeout(startupTimer);
      logger.info(
        { version: VERSION, workers: size, scheduling: policy, listeners, admin: `${adminAddress.address}:${adminAddress.port}` },
        "trunkgate started",
      );
    });
    pool.on("stopped", (clean) => {
      clearTimeout(startupTimer);
      if (killTimer) clearTimeout(killTimer);
      if (startupFailure) return void finish(startupFailure.code, startupFailure.lines);
      void finish(clean ? EXIT_OK : EXIT_FAILURE);
    });
    pool.start();
  });
}
