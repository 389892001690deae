// `trunkgate config check [--config FILE]`: the checks `start` makes before opening a socket —
// the schema and cross-section relations (src/config/load.ts), then the files (config-preflight.ts).
import { parseArgs } from "node:util";
import { ConfigError, loadConfigFile, resolveConfigPath } from "../config/load.js";
import type { Config } from "../config/schema/index.js";
import { preflight } from "./config-preflight.js";
import { EXIT_OK, EXIT_USAGE, type CliIo } from "./io.js";

const HELP = `usage: trunkgate config check [--config FILE] [--skip-files]
  validate a configuration as start would: the schema and the relations between sections, then the
  files it names (certificates and keys match, roots and CRLs parse, the JWKS holds public keys only,
  the store key file parses and is private). Exit 0 with a summary (and warnings), or exit 2 listing
  every problem as "path.to.key: what is wrong". --skip-files checks the configuration alone (e.g.
  on a machine without the mounted secrets). --config defaults to $TRUNKGATE_CONFIG, else
  config/default.yaml; TRUNKGATE__… environment overrides apply, as for start.`;

/** `trunkgate config <sub>`: only `check` so far. */
export async function configCommand(argv: string[], io: CliIo): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === "check") return configCheckCommand(rest, io);
  if (sub === "--help" || sub === "-h" || sub === "help") {
    io.out(HELP);
    return EXIT_OK;
  }
  io.err(`${sub === undefined ? "a subcommand is required" : `unknown subcommand "${sub}"`}\n${HELP}`);
  return EXIT_USAGE;
}

export async function configCheckCommand(argv: string[], io: CliIo): Promise<number> {
  let values: { config?: string | undefined; "skip-files"?: boolean | undefined; help?: boolean | undefined };
  try {
    ({ values } = parseArgs({ args: argv, options: { config: { type: "string" }, "skip-files": { type: "boolean" }, help: { type: "boolean", short: "h" } } }));
  } catch (err) {
    io.err(`${(err as Error).message}\n${HELP}`);
    return EXIT_USAGE;
  }
  if (values.help) {
    io.out(HELP);
    return EXIT_OK;
  }
  const path = resolveConfigPath(values.config);
  let cfg: Config;
  try {
    cfg = loadConfigFile(path);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    // Files are checked once the configuration itself is valid (until then it is unclear which).
    io.err(`${path}: invalid (${err.problems.length} problem(s))`);
    for (const p of err.problems) io.err(`  ${p}`);
    return EXIT_USAGE;
  }
  const result = values["skip-files"] ? { problems: [], warnings: [], notes: ["files not checked (--skip-files)"] } : preflight(cfg);
  for (const w of result.warnings) io.err(`warning: ${w}`);
  if (result.problems.length > 0) {
    io.err(`${path}: invalid (${result.problems.length} problem(s))`);
    for (const p of result.problems) io.err(`  ${p}`);
    return EXIT_USAGE;
  }
  io.out(
    [
      `${path}: valid`,
      `  peers: ${cfg.peers.map((p) => p.name).join(", ") || "(none: every client is refused)"}`,
      `  sip: ${cfg.sip.enabled ? `${cfg.sip.listen.host}:${cfg.sip.listen.port}, upstreams ${cfg.sip.upstreams.map((u) => u.name).join(", ") || "(none)"}` : "disabled"}`,
      `  http: ${cfg.http.enabled ? `${cfg.http.listen.host}:${cfg.http.listen.port} → ${cfg.http.upstream.url}` : "disabled"}`,
      `  provisioning: ${cfg.provisioning.enabled ? `${cfg.provisioning.listen.host}:${cfg.provisioning.listen.port}` : "disabled"}`,
      `  admin: ${cfg.admin.listen.host}:${cfg.admin.listen.port}`,
      `  store: ${cfg.store.url.replace(/\/\/[^@/]*@/, "//***@")}`,
      ...result.notes.map((n) => `  note: ${n}`),
    ].join("\n"),
  );
  return EXIT_OK;
}
