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

export const lifecycleSchema = z
  .strictObject({
    /** On SIGTERM: stop accepting, wait this long for work in flight, then close what is left. */
    drainGraceSeconds: z.number().min(0).max(3600).default(30),
  })
  .prefault({});
export type LifecycleConfig = z.infer<typeof lifecycleSchema>;
