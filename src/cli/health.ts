// `trunkgate health`: the container's HEALTHCHECK. Reads admin.listen from the same configuration
// `start` uses (TRUNKGATE_CONFIG and TRUNKGATE__… overrides included), so moving the admin port in
// the config cannot leave a probe knocking on a hard-coded one. A wildcard listen address is probed
// on loopback.
import { request } from "node:http";
import { loadConfigFile, resolveConfigPath } from "../config/load.js";
import { EXIT_FAILURE, EXIT_OK } from "./io.js";
import { parseFlags, runCommand, UsageError, type CliIo } from "./store-command.js";

const HELP = `usage: trunkgate health [--config FILE] [--timeout-ms N] [--path /healthz|/readyz]
  GET http://<admin.listen>/healthz (or --path); exit 0 on 200, 1 otherwise (unreachable, timeout,
  another status). 0.0.0.0 and :: are probed on 127.0.0.1 and ::1. --timeout-ms defaults to 2000.`;

export function healthCommand(argv: string[], io: CliIo): Promise<number> {
  return runCommand(io, HELP, async () => {
    const { values } = parseFlags(argv, {
      config: { type: "string" },
      "timeout-ms": { type: "string" },
      path: { type: "string" },
      help: { type: "boolean", short: "h" },
    });
    if (values.help) {
      io.out(HELP);
      return EXIT_OK;
    }
    const timeoutMs = values["timeout-ms"] === undefined ? 2000 : Number(values["timeout-ms"]);
    if (!Number.isInteger(timeoutMs) || timeoutMs < 1) throw new UsageError("--timeout-ms: a positive integer");
    const path = (values.path as string | undefined) ?? "/healthz";
    if (path !== "/healthz" && path !== "/readyz") throw new UsageError("--path: /healthz or /readyz");
    const { host, port } = loadConfigFile(resolveConfigPath(values.config as string | undefined)).admin.listen;
    if (port === 0) throw new Error("admin.listen.port is 0 (ephemeral): there is no fixed address to probe");
    const target = probeHost(host);
    const result = await get(target, port, path, timeoutMs);
    const where = `http://${target.includes(":") ? `[${target}]` : target}:${port}${path}`;
    if (result.status === 200) {
      io.out(`${where}: 200 ${result.body.trim()}`);
      return EXIT_OK;
    }
    io.err(`${where}: ${result.status === undefined ? result.error : `${result.status} ${result.body.trim()}`}`);
    return EXIT_FAILURE;
  });
}

function probeHost(host: string): string {
  if (host === "0.0.0.0") return "127.0.0.1";
  if (host === "::" || host === "[::]") return "::1";
  return host.replace(/^\[(.*)\]$/, "$1");
}

function get(host: string, port: number, path: string, timeoutMs: number): Promise<{ status?: number; body: string; error?: string }> {
  return new Promise((resolve) => {
    const req = request({ host, port, path, method: "GET", timeout: timeoutMs }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => {
        if (body.length < 1024) body += c;
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: body.slice(0, 200) }));
      res.on("error", (err) => resolve({ body: "", error: err.message }));
    });
    req.on("timeout", () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on("error", (err) => resolve({ body: "", error: `${(err as NodeJS.ErrnoException).code ?? ""} ${err.message}`.trim() }));
    req.end();
  });
}
