// Loggers for the processes of a cluster. A worker's lines carry `worker` (its slot, 1..N); the
// primary's carry `role: "primary"`, plus `worker` when the line is about one worker (started,
// exited, replaced), so filtering on worker=N shows that worker's whole life.
//
// They share one stdout pipe. pino's asynchronous destination batches lines into one write() of up
// to 16 KiB, but writes to a pipe are only atomic up to PIPE_BUF (4096 bytes on Linux), so two
// processes' batches could interleave mid-line. Capping each write at PIPE_BUF keeps every line
// whole (a single line longer than that could still interleave; trunkgate's lines are far shorter).
import { pino } from "pino";
import type { Config } from "../config/schema/index.js";
import { createLogger, type Logger } from "../observability/logger.js";

const PIPE_BUF = 4096;

export function clusterLogger(config: Config, bindings: { worker: number } | { role: "primary" }): Logger {
  const { level, pretty } = config.logging;
  const base = pretty
    ? createLogger({ level, pretty })
    : createLogger({ level, destination: pino.destination({ dest: 1, sync: false, maxWrite: PIPE_BUF }) as unknown as NodeJS.WritableStream });
  return base.child(bindings);
}
