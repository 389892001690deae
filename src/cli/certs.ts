// `trunkgate certs …`: create the development PKI and inspect certificate files.
// Exit codes: 0 done, 1 something could not be done (existing files, unreadable input), 2 usage.
import { existsSync, readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { DEFAULT_CONFIG_PATH, loadConfigFile, resolveConfigPath } from "../config/load.js";
import { generateDevPki, PkiExistsError, PkiInputError } from "../pki/dev-pki.js";
import { formatCertReports, inspectCertificates } from "../pki/inspect.js";
import { loadTrustedRoots } from "../pki/trusted-roots.js";
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE, type CliIo } from "./io.js";


const USAGE = `usage:
  trunkgate certs init --out DIR [--hosts h1,h2,…] [--force]
      write a development CA, server (ECDSA + RSA), client and upstream-client certificates to DIR
  trunkgate certs inspect FILE… [--passphrase-file F] [--config FILE]
      show subject, validity, SANs, key, EKU, fingerprint, SPKI pin and chain status
      (FILE: PEM with one or more certificates, DER, or PKCS#12 .p12/.pfx)
`;

class UsageError extends Error {}

export async function certsCommand(argv: string[], io: CliIo): Promise<number> {
  const [sub, ...rest] = argv;
  if (rest.includes("--help") || rest.includes("-h")) {
    io.out(USAGE);
    return EXIT_OK;
  }
  try {
    switch (sub) {
      case "init":
        return await init(rest, io);
      case "inspect":
        return inspect(rest, io);
      case undefined:
        throw new UsageError("a subcommand is required");
      case "help":
      case "--help":
      case "-h":
        io.out(USAGE);
        return EXIT_OK;
      default:
        throw new UsageError(`unknown subcommand "${sub}"`);
    }
  } catch (err) {
    if (err instanceof UsageError || isParseArgsError(err)) {
      io.err(`certs: ${(err as Error).message}\n${USAGE}`);
      return EXIT_USAGE;
    }
    throw err;
  }
}

function isParseArgsError(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return typeof code === "string" && code.startsWith("ERR_PARSE_ARGS_");
}

async function init(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: { out: { type: "string" }, hosts: { type: "string" }, force: { type: "boolean", default: false } },
    allowPositionals: true,
  });
  if (positionals.length > 0) throw new UsageError(`init: unexpected argument "${positionals[0]}"`);
  if (!values.out) throw new UsageError("init: --out DIR is required");
  let hosts: string[] | undefined;
  if (values.hosts !== undefined) {
    hosts = values.hosts.split(",").map((h) => h.trim()).filter((h) => h !== "");
    if (hosts.length === 0) throw new UsageError("init: --hosts needs at least one host name or IP address");
  }
  try {
    const { files } = await generateDevPki({ outDir: values.out, hosts, force: values.force });
    io.out(
      `wrote the development PKI (for development and tests only; never trust this CA in production):\n` +
        files.map((f) => `  ${f}${f.endsWith(".key") ? "  (private key, mode 0600)" : ""}\n`).join(""),
    );
    return EXIT_OK;
  } catch (err) {
    if (err instanceof PkiExistsError) {
      io.err(`certs init: ${err.file} already exists; nothing was written. Pass --force to replace the dev PKI.\n`);
      return EXIT_FAILURE;
    }
    if (err instanceof PkiInputError) throw new UsageError(`init: ${err.message}`);
    io.err(`certs init: cannot write to ${values.out}: ${(err as Error).message}\n`);
    return EXIT_FAILURE;
  }
}

function inspect(args: string[], io: CliIo): number {
  const { values, positionals: files } = parseArgs({
    args,
    options: { "passphrase-file": { type: "string" }, config: { type: "string" } },
    allowPositionals: true,
  });
  if (files.length === 0) throw new UsageError("inspect: at least one FILE is required");

  let passphrase: string | undefined;
  const passFile = values["passphrase-file"];
  if (passFile !== undefined) {
    try {
      // The first line only, like openssl's file: passphrase source (a trailing newline is not part of it).
      passphrase = readFileSync(passFile, "utf8").split(/\r?\n/)[0] ?? "";
    } catch (err) {
      io.err(`certs inspect: cannot read passphrase file ${passFile}: ${(err as NodeJS.ErrnoException).code ?? String(err)}\n`);
      return EXIT_FAILURE;
    }
  }

  const trust = configuredTrust(values.config, io);
  const roots = loadTrustedRoots(trust);
  for (const p of roots.problems) io.err(`note: trusted root skipped: ${p}\n`);
  io.out(`trusted roots: ${roots.roots.length} certificate(s) from ${roots.sources.join(", ") || "(none)"}\n`);

  let code = EXIT_OK;
  for (const file of files) {
    let bytes: Buffer;
    try {
      bytes = readFileSync(file);
    } catch (err) {
      io.err(`certs inspect: cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}\n`);
      code = EXIT_FAILURE;
      continue;
    }
    try {
      const reports = inspectCertificates(bytes, { trustedRoots: roots.roots, passphrase });
      io.out(`\n== ${file} ==\n${formatCertReports(reports)}`);
    } catch (err) {
      io.err(`certs inspect: ${file}: ${(err as Error).message}\n`);
      code = EXIT_FAILURE;
    }
  }
  return code;
}

/**
 * The tls.trust section of the configuration, when one is named (--config, TRUNKGATE_CONFIG) or
 * config/default.yaml exists and loads. Otherwise undefined: the bundled roots alone are used, and
 * a configuration that was asked for but failed to load is reported.
 */
function configuredTrust(cliPath: string | undefined, io: CliIo) {
  const path = resolveConfigPath(cliPath);
  if (path === DEFAULT_CONFIG_PATH && !existsSync(path)) return undefined;
  try {
    return loadConfigFile(path).tls.trust;
  } catch (err) {
    io.err(`note: configuration not used, checking against the bundled roots only:\n  ${(err as Error).message}\n`);
    return undefined;
  }
}
