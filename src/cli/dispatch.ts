// The `trunkgate` command line: the list of commands and the dispatch to one module per subcommand.
// src/main.ts runs it; tests call it in-process.
import { auditCommand } from "./audit.js";
import { certsCommand } from "./certs.js";
import { configCommand } from "./config-check.js";
import { healthCommand } from "./health.js";
import { EXIT_USAGE, processIo, type CliIo } from "./io.js";
import { keysCommand } from "./keys.js";
import { numbersCommand } from "./numbers.js";
import { retentionCommand } from "./retention.js";
import { startCommand } from "./start.js";
import { tokensCommand } from "./tokens.js";
import { VERSION } from "../version.js";

// Every subcommand, one line each: test/cli/help.test.ts checks this list against each command's
// own --help, so a subcommand added there cannot be missing here.
const USAGE = `usage: trunkgate <command> [options]      ("trunkgate <command> --help" describes one)
  start [--config FILE]                            run the proxy (default config/default.yaml; env TRUNKGATE_CONFIG)
  config check [--config FILE] [--skip-files]      run every check start runs; exit 2 listing every problem
  health [--config FILE] [--timeout-ms N]          GET /healthz on admin.listen; exit 0 when healthy (container HEALTHCHECK)
  certs init --out DIR [--hosts h1,h2] [--force]   create a development PKI
  certs inspect FILE... [--passphrase-file F]      describe certificates (PEM, DER, PKCS#12)
  keys init --out FILE [--force]                   create a keyring file for the store
  keys rotate [--config FILE] [--prune]            add a new active data key and re-encrypt stored values under it
  keys prune [--config FILE]                       remove old keys that no stored value uses
  keys status [--config FILE]                      key ids, the active one, how many stored values use each
  numbers import FILE.csv [--config FILE]          bulk import provisioned numbers (all or nothing)
  numbers export [--config FILE]                   provisioned numbers as CSV on stdout
  retention run [--config FILE]                    purge call records past retention now
  retention stats --from D --to D [--config FILE]  daily statistics as JSON lines
  tokens dev [--config FILE] [--jwks-out FILE]     a development JWKS and a signed token for the provisioning API
  audit [HOST[:PORT]] [--peer NAME] [--json]       check a carrier endpoint against trunkgate's TLS policy and config
  --version                                        print the version`;

type Command = (argv: string[], io: CliIo) => Promise<number>;

const commands: Record<string, Command> = {
  start: startCommand,
  config: configCommand,
  health: healthCommand,
  certs: certsCommand,
  keys: keysCommand,
  numbers: numbersCommand,
  retention: retentionCommand,
  tokens: tokensCommand,
  audit: auditCommand,
};

export async function main(argv: string[], io: CliIo = processIo): Promise<number> {
  const [name, ...rest] = argv;
  if (name === "--help" || name === "-h" || name === "help") {
    io.out(USAGE);
    return 0;
  }
  if (name === "--version" || name === "-V" || name === "version") {
    io.out(`trunkgate ${VERSION}`);
    return 0;
  }
  const command = name ? commands[name] : undefined;
  if (!command) {
    io.err(`${name === undefined ? "a command is required" : `unknown command "${name}"`}\n${USAGE}`);
    return EXIT_USAGE;
  }
  return command(rest, io);
}

