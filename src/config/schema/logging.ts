import { z } from "zod";

export const loggingSchema = z
  .strictObject({
    level: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
    pretty: z.boolean().default(false),
    /** Secret used to hash identifiers (Call-IDs, numbers) in logs; file path, generated if absent. */
    hashKeyFile: z.string().optional(),
  })
  .prefault({});
export type LoggingConfig = z.infer<typeof loggingSchema>;

const WORKERS = 'an integer from 1 to 256, or "auto"';

export const lifecycleSchema = z
  .strictObject({
    /** On SIGTERM: stop accepting, wait this long for work in flight, then close what is left. */
    drainGraceSeconds: z.number().min(0).max(3600).default(30),
    /**
     * Processes serving traffic: 1 = a single process (no cluster); N > 1 = a node:cluster primary
     * (admin endpoint, signals, supervision) and N workers sharing the listeners; "auto" = one per
     * CPU (os.availableParallelism()). See docs/operations.md.
     */
    workers: z
      .union([z.literal("auto"), z.number(WORKERS).int(WORKERS).min(1, WORKERS).max(256, WORKERS)], { error: WORKERS })
      .default(1),
  })
  .prefault({});
export type LifecycleConfig = z.infer<typeof lifecycleSchema>;
