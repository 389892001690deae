// Shared plumbing for the store's CLI commands (keys, numbers, retention): subcommand dispatch,
// flag parsing with clear usage errors, and opening the configured store. Exit codes: 0 ok,
// 1 failed, 2 usage.
import { parseArgs, type ParseArgsConfig } from "node:util";
import { isAbsolute, resolve } from "node:path";
import { userInfo } from "node:os";
import { loadConfigFile, resolveConfigPath } from "../config/load.js";
import type { Config } from "../config/schema/index.js";
import { openStoreFromConfig, type Store } from "../store/store.js";
import type { AuditActor } from "../store/audit-trail.js";
import type { CliIo } from "./io.js";

export type { CliIo } from "./io.js";

export class UsageError extends Error {
  override name = "UsageError";
}

export function parseFlags(argv: string[], options: NonNullable<ParseArgsConfig["options"]>, allowPositionals = false) {
  try {
    return parseArgs({ args: argv, options, allowPositionals, strict: true });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

export function loadCliConfig(configFlag: string | undefined): Config {
  return loadConfigFile(resolveConfigPath(configFlag));
}

export function absolute(p: string): string {
  return isAbsolute(p) ? p : resolve(process.cwd(), p);
}

export function openCliStore(config: Config): Promise<Store> {
  return openStoreFromConfig(config.store, { baseDir: process.cwd() });
}

/**
 * Who the audit trail names for a CLI change: the local user (`cli:<user name>`, or `cli:uid:<n>`
 * where the user has no name, e.g. a container's arbitrary uid) and the command (`via`).
 */
export function cliActor(command: string): AuditActor {
  let user: string;
  try {
    user = userInfo().username;
  } catch {
    user = `uid:${process.getuid?.() ?? "?"}`;
  }
  return { subject: `cli:${user}`, peer: null, via: `cli ${command}` };
}

/** Runs a command body; usage errors print the help, other errors their message. */
export async function runCommand(io: CliIo, help: string, body: () => Promise<number>): Promise<number> {
  try {
    return await body();
  } catch (err) {
    if (err instanceof UsageError) {
      io.err(`${err.message}\n\n${help}`);
      return 2;
    }
    io.err(`error: ${(err as Error).message}`);
    return 1;
  }
}

/** `trunkgate <command> <sub> …`: runs the named subcommand; help prints HELP; else a usage error. */
export function runSubcommand(
  argv: string[],
  io: CliIo,
  help: string,
  subcommands: Record<string, (rest: string[], io: CliIo) => number | Promise<number>>,
): Promise<number> {
  return runCommand(io, help, async () => {
    const [sub, ...rest] = argv;
    if (wantsHelp(sub, rest)) {
      io.out(help);
      return 0;
    }
    const run = sub === undefined ? undefined : subcommands[sub];
    if (run === undefined) throw new UsageError(sub === undefined ? "missing subcommand" : `unknown subcommand "${sub}"`);
    return run(rest, io);
  });
}

/** `help`, `--help` or `-h` as the subcommand, or `--help`/`-h` anywhere after it. */
export function wantsHelp(sub: string | undefined, rest: readonly string[]): boolean {
  return sub === "help" || sub === "--help" || sub === "-h" || rest.includes("--help") || rest.includes("-h");
}
