// pino JSON logs. Pretty printing only when asked (logging.pretty), through pino-pretty as a
// transport, which is a dev dependency: production images log JSON only.
import { pino, type Logger } from "pino";
import { REDACT_CENSOR, REDACT_PATHS } from "./redaction.js";

export type { Logger } from "pino";

export interface LoggerOptions {
  level?: string;
  pretty?: boolean;
  /** Where to write (tests pass a stream to read log lines back). */
  destination?: NodeJS.WritableStream;
}

export function createLogger(opts: LoggerOptions = {}): Logger {
  const base = {
    level: opts.level ?? "info",
    base: { service: "trunkgate" },
    redact: { paths: REDACT_PATHS, censor: REDACT_CENSOR },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label: string) => ({ level: label }) },
  };
  if (opts.destination) return pino(base, opts.destination as pino.DestinationStream);
  if (opts.pretty) return pino({ ...base, transport: { target: "pino-pretty", options: { colorize: true } } });
  return pino(base);
}
