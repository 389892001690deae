#!/usr/bin/env node
// The `trunkgate` command: dispatches to one module per subcommand in src/cli/.
import { auditCommand } from "./cli/audit.js";
import { certsCommand } from "./cli/certs.js";
import { configCheckCommand } from "./cli/config-check.js";
import { EXIT_USAGE, processIo, type CliIo } from "./cli/io.js";
import { keysCommand } from "./cli/keys.js";
import { numbersCommand } from "./cli/numbers.js";
import { retentionCommand } from "./cli/retention.js";
import { startCommand } from "./cli/start.js";

const USAGE = `usage: trunkgate <command>
  start [--config FILE]                          run the proxy (default config/default.yaml; env TRUNKGATE_CONFIG)
  config check [--config FILE]                   validate a configuration; exit 2 listing every problem
  certs init --out DIR [--hosts h1,h2] [--force] create a development PKI
  certs inspect FILE... [--passphrase-file F]    describe certificates (PEM, DER, PKCS#12)
  keys init --out FILE | keys rotate             data-encryption keys for the store
  numbers import FILE.csv | numbers export       provisioned numbers
  retention run                                  purge call records past retention now
  audit HOST[:PORT] [--peer NAME] [--json]       check a carrier endpoint against trunkgate's TLS policy and config`;

type Command = (argv: string[], io: CliIo) => Promise<number>;

const commands: Record<string, Command> = {
  start: startCommand,
  config: (argv, io) => (argv[0] === "check" ? configCheckCommand(argv.slice(1), io) : usage(io)),
  certs: certsCommand,
  keys: keysCommand,
  numbers: numbersCommand,
  retention: retentionCommand,
  audit: auditCommand,
};

async function usage(io: CliIo): Promise<number> {
  io.err(USAGE);
  return EXIT_USAGE;
}

export async function main(argv: string[], io: CliIo = processIo): Promise<number> {
  const [name, ...rest] = argv;
  if (name === "--help" || name === "-h" || name === "help") {
    io.out(USAGE);
    return 0;
  }
  const command = name ? commands[name] : undefined;
  if (!command) return usage(io);
  return command(rest, io);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
    // Let pino flush; anything still holding the loop (e.g. an idle keep-alive socket) must not
    // keep a stopped proxy alive.
    setTimeout(() => process.exit(code), 200).unref();
  },
  (err: unknown) => {
    process.stderr.write(`trunkgate: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
