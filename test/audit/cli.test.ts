// The `trunkgate audit` command: usage errors exit 2 naming the problem (in-process: the same
// command function main.ts dispatches to), and, as operators run it (a spawned `trunkgate`), a
// failing endpoint exits 1 with a machine-readable --json report.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import t from "tap";
import type { AuditReport } from "../../src/audit/findings.js";
import { auditCommand } from "../../src/cli/audit.js";
import { runCli } from "../helpers/cli.js";
import { TIMEOUT_MS, auditorConfig, sServer } from "./harness.js";

const slow = { timeoutMs: 100_000 }; // a loaded machine starts a Node process slowly

async function run(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = "";
  let stderr = "";
  const code = await auditCommand(argv, { out: (s) => (stdout += s + "\n"), err: (s) => (stderr += s + "\n") });
  return { code, stdout, stderr };
}

t.test("usage errors exit 2", async (t) => {
  const { pki, yaml } = await auditorConfig();
  const cfgPath = join(pki.dir, "audit-cli.yaml");
  writeFileSync(cfgPath, yaml);
  const bad = await run(["not a target", "--config", cfgPath]);
  t.equal(bad.code, 2);
  t.match(bad.stderr, /is not HOST\[:PORT\]/);
  const noPeer = await run(["--peer", "nobody", "--config", cfgPath]);
  t.equal(noPeer.code, 2);
  t.match(noPeer.stderr, /no peer named "nobody"/);
  const timeout = await run(["127.0.0.1", "--timeout", "abc", "--config", cfgPath]);
  t.equal(timeout.code, 2);
  t.match(timeout.stderr, /--timeout must be/);
  const help = await run(["--help"]);
  t.equal(help.code, 0);
  t.match(help.stdout, /--invite NUMBER/);
});

t.test("a failing endpoint exits 1, with a JSON report", async (t) => {
  const { pki, yaml } = await auditorConfig();
  const cfgPath = join(pki.dir, "audit-cli-json.yaml");
  writeFileSync(cfgPath, yaml);
  const port = await sServer(t, ["-tls1_1", "-cipher", "DEFAULT:@SECLEVEL=0"]);
  const run = await runCli(["audit", `127.0.0.1:${port}`, "--config", cfgPath, "--json", "--timeout", String(TIMEOUT_MS)], slow);
  t.equal(run.code, 1);
  const report = JSON.parse(run.stdout) as AuditReport;
  t.equal(report.ready, false);
  t.ok(report.findings.some((f) => f.id === "tls.version.tls1_1" && f.level === "fail"));
});
