// The alert rules pass `promtool check rules` and their unit tests (`promtool test rules`); a live
// trunkgate (a cluster primary with two workers, every capability on) serves a scrape that passes
// `promtool check metrics` and names every metric the rules and the Grafana dashboard use.
// promtool comes from Debian's `prometheus` package (.ci/run installs it): under CI a missing
// promtool fails, elsewhere those checks are skipped.
import t from "tap";
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { exportJWK, generateKeyPair } from "jose";
import { makeTestPki } from "../helpers/pki.js";
import { adminGet, clusterConfig, startCli, writeConfig } from "../cluster/harness.js";

// A cluster primary and two workers start here: on a 2-core machine shared with other suites that
// alone can take minutes, so this file gets more than the default per-file bound.
t.setTimeout(360_000);

const RULES = "deploy/prometheus/trunkgate-rules.yaml";
const RULE_TESTS = "deploy/prometheus/trunkgate-rules.test.yaml";
const DASHBOARD = "deploy/grafana/trunkgate-dashboard.json";

const promtoolFound = spawnSync("promtool", ["--version"], { encoding: "utf8" }).status === 0;
const ci = process.env.CI === "true";
const noPromtool = !promtoolFound && !ci ? "promtool not installed (apt-get install prometheus)" : false;

function promtool(args: string[], input?: string) {
  return spawnSync("promtool", args, { encoding: "utf8", input, timeout: 120_000 });
}

t.test("promtool is installed under CI", { skip: !ci && "not CI" }, async (t) => {
  t.ok(promtoolFound, "promtool must be on PATH in CI (.ci/run installs Debian's prometheus package)");
});

t.test("promtool check rules and promtool test rules pass", { skip: noPromtool }, async (t) => {
  const check = promtool(["check", "rules", RULES]);
  t.equal(check.status, 0, check.stdout + check.stderr);
  const unit = promtool(["test", "rules", RULE_TESTS]);
  t.equal(unit.status, 0, unit.stdout + unit.stderr);
  t.match(unit.stdout + unit.stderr, /SUCCESS/);
});

/** The metric names a PromQL expression uses (trunkgate's, prom-client's process_ and nodejs_). */
export function metricNames(expr: string): string[] {
  return [...new Set(expr.match(/\b(?:trunkgate|process|nodejs)_[a-z0-9_]+\b/g) ?? [])];
}

function ruleExpressions(): { name: string; expr: string }[] {
  const doc = parse(readFileSync(RULES, "utf8")) as { groups: { rules: { alert: string; expr: string }[] }[] };
  return doc.groups.flatMap((g) => g.rules.map((r) => ({ name: r.alert, expr: r.expr })));
}

function dashboardExpressions(): { name: string; expr: string }[] {
  const doc = JSON.parse(readFileSync(DASHBOARD, "utf8")) as { panels: { title: string; targets?: { expr: string }[] }[] };
  return doc.panels.flatMap((p) => (p.targets ?? []).map((q) => ({ name: p.title, expr: q.expr })));
}

t.test("a live scrape passes promtool check metrics and has every metric the rules and the dashboard use", async (t) => {
  const pki = await makeTestPki();
  t.teardown(() => pki.cleanup());
  const { publicKey } = await generateKeyPair("ES256", { extractable: true });
  const jwks = join(pki.dir, "jwks.json");
  writeFileSync(jwks, JSON.stringify({ keys: [{ ...(await exportJWK(publicKey)), kid: "k1", alg: "ES256" }] }));
  const config = clusterConfig(pki, {
    sip: {
      listen: { host: "127.0.0.1", port: 0 },
      upstreams: [{ name: "svc", targets: [{ host: "127.0.0.1", port: 9, transport: "tcp" }], healthCheck: { intervalMs: 200, timeoutMs: 200 } }],
    },
    http: { listen: { host: "127.0.0.1", port: 0 }, upstream: { url: "http://127.0.0.1:9" } },
    provisioning: { enabled: true, listen: { host: "127.0.0.1", port: 0 }, auth: { jwksFile: jwks, issuer: "https://idp.test/", audience: "a" } },
  });
  const cli = startCli(await writeConfig(pki, "scrape.yaml", config));
  t.teardown(async () => {
    cli.child.kill("SIGTERM");
    await cli.exit(60_000).catch(() => cli.child.kill("SIGKILL"));
  });
  const started = await cli.waitFor((l) => l.msg === "trunkgate started" && l.role === "primary", "primary started", 120_000);
  const port = Number(String(started.admin).split(":").pop());
  // The primary logs "started" once every worker is up; /metrics merges each worker's registry.
  const r = await adminGet(port, "/metrics");
  t.equal(r.status, 200);
  const scrape = r.body;
  const exposed = new Set([...scrape.matchAll(/^# TYPE (\S+) (\S+)$/gm)].flatMap(([, name, type]) =>
    type === "histogram" ? [name!, `${name}_bucket`, `${name}_sum`, `${name}_count`] : [name!],
  ));
  t.ok(exposed.has("trunkgate_cluster_worker_restarts_total"), "cluster metrics present");
  for (const { name, expr } of [...ruleExpressions(), ...dashboardExpressions()]) {
    for (const metric of metricNames(expr)) t.ok(exposed.has(metric), `${name}: ${metric} is exposed`);
  }
  if (noPromtool) return;
  const check = promtool(["check", "metrics"], scrape);
  t.equal(check.status, 0, `promtool check metrics: ${check.stdout}${check.stderr}`);
});

t.test("the metric-name extraction finds names and skips functions", async (t) => {
  t.same(metricNames('histogram_quantile(0.99, sum by (le) (rate(trunkgate_x_seconds_bucket[5m]))) / process_cpu_seconds_total'), ["trunkgate_x_seconds_bucket", "process_cpu_seconds_total"]);
});
