// How a failed start is reported, the same whether the single process or a cluster worker failed:
// the lines for stderr and the exit code (2 = invalid configuration, 1 = anything else; every
// message names the config key at fault).
import { ConfigError } from "../config/load.js";
import { EXIT_FAILURE, EXIT_USAGE } from "../cli/io.js";

export interface StartFailure {
  code: number;
  lines: string[];
}

export function describeStartFailure(err: unknown, configPath: string): StartFailure {
  if (err instanceof ConfigError) {
    return { code: EXIT_USAGE, lines: [`trunkgate: ${configPath} is invalid:`, ...err.problems.map((p) => `  ${p}`)] };
  }
  // TLS material, listen (StartupError), store and key errors all carry a message naming their key.
  return { code: EXIT_FAILURE, lines: [`trunkgate: cannot start: ${err instanceof Error ? err.message : String(err)}`] };
}
