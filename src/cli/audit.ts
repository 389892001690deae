// `trunkgate audit HOST[:PORT] [--peer NAME] …`: checks a carrier's endpoint against trunkgate's
// TLS policy and configuration and prints what to fix. Exit 0 ready, 1 on any failure, 2 usage.
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { runAudit } from "../audit/audit.js";
import { renderText } from "../audit/findings.js";
import { ConfigError, loadConfigFile, resolveConfigPath } from "../config/load.js";
import { TlsMaterialError } from "../tls/pem.js";
import { loadTlsMaterial } from "../tls/material.js";
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE, type CliIo } from "./io.js";

export const AUDIT_USAGE = `usage: trunkgate audit [HOST[:PORT]] [--peer NAME] [--server-name NAME] [--invite NUMBER]
                       [--json] [--timeout MS] [--config FILE] [--client-cert FILE --client-key FILE]
  HOST:PORT        the carrier's SIP/TLS endpoint (port 5061 when omitted; [v6]:port for IPv6);
                   omitted with --peer: the peer's first sip.targets entry
  --peer NAME      the peers[] entry this endpoint belongs to (its certificate must match it)
  --server-name    the name its certificate must carry (default: the peer target's serverName, else HOST)
  --invite NUMBER  also send a test INVITE with an SRTP offer, cancelled on its first provisional
  --json           the report as JSON
  --timeout MS     bound of each connection and answer (default 5000)
  --client-cert/--client-key  present this certificate instead of tls.clientCertificate`;

/** "host", "host:port", "[v6]" or "[v6]:port"; undefined when malformed. */
export function parseTarget(s: string): { host: string; port: number } | undefined {
  const m = /^\[([0-9A-Fa-f:.]+)\](?::(\d+))?$/.exec(s) ?? /^([^:\s[\]]+)(?::(\d+))?$/.exec(s);
  if (!m) return undefined;
  const port = m[2] === undefined ? 5061 : Number(m[2]);
  if (!Number.isInteger(port) || port < 1 || port > 65535) return undefined;
  return { host: m[1]!, port };
}

export async function auditCommand(argv: string[], io: CliIo): Promise<number> {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (err) {
    io.err(`${(err as Error).message}\n${AUDIT_USAGE}`);
    return EXIT_USAGE;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    io.out(AUDIT_USAGE);
    return EXIT_OK;
  }
  const usageError = (msg: string) => {
    io.err(`trunkgate audit: ${msg}\n${AUDIT_USAGE}`);
    return EXIT_USAGE;
  };
  if (positionals.length > 1) return usageError("one HOST[:PORT] at most");
  const timeoutMs = values.timeout === undefined ? 5000 : Number(values.timeout);
  if (!Number.isInteger(timeoutMs) || timeoutMs < 100 || timeoutMs > 120_000) return usageError("--timeout must be 100-120000 ms");
  if ((values["client-cert"] === undefined) !== (values["client-key"] === undefined)) return usageError("--client-cert and --client-key go together");
  if (values.invite !== undefined && !/^\+?[0-9A-Za-z*#.()-]{1,32}$/.test(values.invite)) return usageError("--invite takes a telephone number (digits, +, * and #)");

  const path = resolveConfigPath(values.config);
  let cfg: ReturnType<typeof loadConfigFile>;
  let material: ReturnType<typeof loadTlsMaterial>;
  try {
    cfg = loadConfigFile(path);
    material = loadTlsMaterial(cfg.tls);
  } catch (err) {
    if (err instanceof ConfigError) {
      io.err(`${path}: invalid`);
      for (const p of err.problems) io.err(p);
      return EXIT_USAGE;
    }
    if (err instanceof TlsMaterialError) {
      io.err(`${path}: ${err.message}`);
      return EXIT_USAGE;
    }
    throw err;
  }
  const peer = values.peer === undefined ? undefined : cfg.peers.find((p) => p.name === values.peer);
  if (values.peer !== undefined && !peer) return usageError(`no peer named "${values.peer}" in ${path} (peers: ${cfg.peers.map((p) => p.name).join(", ") || "none"})`);
  let target = positionals[0] === undefined ? undefined : parseTarget(positionals[0]);
  if (positionals[0] !== undefined && !target) return usageError(`"${positionals[0]}" is not HOST[:PORT]`);
  const peerTarget = peer?.sip.targets.find((t) => !target || (t.host === target.host && t.port === target.port)) ?? peer?.sip.targets[0];
  target ??= peerTarget ? { host: peerTarget.host, port: peerTarget.port } : undefined;
  if (!target) return usageError(peer ? `peer ${peer.name} has no sip.targets: name HOST[:PORT]` : "HOST[:PORT] or --peer is required");

  let identity: { cert: string; key: string } | undefined;
  if (values["client-cert"] !== undefined && values["client-key"] !== undefined) {
    try {
      identity = { cert: readFileSync(values["client-cert"], "utf8"), key: readFileSync(values["client-key"], "utf8") };
    } catch (err) {
      return usageError(`cannot read the client certificate or key: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
  }
  const report = await runAudit(cfg, material, {
    host: target.host,
    port: target.port,
    serverName: values["server-name"] ?? peerTarget?.serverName,
    expectedPeer: peer?.name,
    invite: values.invite,
    timeoutMs,
    identity,
  });
  io.out(values.json ? JSON.stringify(report, null, 2) : renderText(report));
  return report.ready ? EXIT_OK : EXIT_FAILURE;
}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      config: { type: "string" },
      peer: { type: "string" },
      "server-name": { type: "string" },
      invite: { type: "string" },
      json: { type: "boolean" },
      timeout: { type: "string" },
      "client-cert": { type: "string" },
      "client-key": { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
}
