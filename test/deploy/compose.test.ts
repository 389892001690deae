// What can be checked of docker-compose.yaml and the image's files without a Docker engine: the
// YAML parses, every file it mounts from the repository exists, trunkgate's config passes
// `trunkgate config check` (schema; the mounted certificates exist only in the running stack),
// Prometheus's config loads the alert rules, and .dockerignore keeps secrets and local data out of
// the build context while keeping what the Dockerfile copies.
import t from "tap";
import { existsSync, readFileSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse } from "yaml";
import { configCheckCommand } from "../../src/cli/config-check.js";
import { runIn } from "../helpers/capture-io.js";

interface Service {
  image?: string;
  build?: string;
  volumes?: string[];
  environment?: Record<string, string>;
  read_only?: boolean;
  depends_on?: Record<string, { condition: string }> | string[];
}
const compose = parse(readFileSync("docker-compose.yaml", "utf8")) as { services: Record<string, Service>; volumes: Record<string, unknown> };

t.test("docker-compose.yaml: trunkgate, PostgreSQL and Prometheus; every mounted repository file exists", async (t) => {
  t.same(Object.keys(compose.services).sort(), ["pki", "postgres", "prometheus", "trunkgate"]);
  const tg = compose.services.trunkgate!;
  t.equal(tg.read_only, true, "read-only root filesystem, as in production");
  t.match(tg.environment?.TRUNKGATE__STORE__URL, /^postgres:\/\/.*@postgres:5432\//);
  for (const [name, svc] of Object.entries(compose.services)) {
    for (const v of svc.volumes ?? []) {
      const [src] = v.split(":");
      if (src!.startsWith("./")) t.ok(existsSync(src!), `${name}: ${src} exists`);
      else t.ok(src! in compose.volumes, `${name}: named volume ${src} is declared`);
    }
  }
});

t.test("the compose trunkgate config passes config check (store URL from the environment)", async (t) => {
  const env = compose.services.trunkgate!.environment!;
  const saved = process.env.TRUNKGATE__STORE__URL;
  process.env.TRUNKGATE__STORE__URL = env.TRUNKGATE__STORE__URL;
  t.teardown(() => (saved === undefined ? delete process.env.TRUNKGATE__STORE__URL : (process.env.TRUNKGATE__STORE__URL = saved)));
  const r = await runIn((io) => configCheckCommand(["--config", "deploy/compose/trunkgate.yaml", "--skip-files"], io));
  t.equal(r.code, 0, r.stderr);
  t.match(r.stdout, /store: postgres:\/\/\*\*\*@postgres:5432\/trunkgate/, "the password is not printed");
  t.match(r.stdout, /admin: 0\.0\.0\.0:9090/);
});

t.test("Prometheus's compose config loads and names the rules file trunkgate ships", { skip: spawnSync("promtool", ["--version"]).status !== 0 && process.env.CI !== "true" && "promtool not installed" }, async (t) => {
  const prom = parse(readFileSync("deploy/compose/prometheus.yml", "utf8")) as { rule_files: string[]; scrape_configs: { static_configs: { targets: string[] }[] }[] };
  t.same(prom.scrape_configs[0]!.static_configs[0]!.targets, ["trunkgate:9090"]);
  // The mount maps deploy/prometheus/trunkgate-rules.yaml to the rule path: check with the local file.
  const mount = compose.services.prometheus!.volumes!.find((v) => v.includes("trunkgate-rules.yaml"))!;
  const [local, inContainer] = mount.split(":");
  t.same(prom.rule_files, [inContainer]);
  const dir = mkdtempSync(join(tmpdir(), "trunkgate-prom-"));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const cfg = join(dir, "prometheus.yml");
  writeFileSync(cfg, readFileSync("deploy/compose/prometheus.yml", "utf8").replace(inContainer!, join(process.cwd(), local!)));
  const r = spawnSync("promtool", ["check", "config", cfg], { encoding: "utf8" });
  t.equal(r.status, 0, r.stdout + r.stderr);
});

t.test(".dockerignore keeps keys, local data and dev certificates out, and what the Dockerfile copies in", async (t) => {
  const ignored = readFileSync(".dockerignore", "utf8").split("\n").map((l) => l.trim()).filter((l) => l && !l.startsWith("#"));
  for (const p of ["node_modules", "dist", "data", "certs/dev", "*.key", ".git"]) t.ok(ignored.includes(p), `ignores ${p}`);
  const copied = [...readFileSync("Dockerfile", "utf8").matchAll(/^COPY (?!--from)(.+) \S+$/gm)].flatMap((m) => m[1]!.split(/\s+/));
  t.ok(copied.length >= 5);
  for (const c of copied) {
    t.ok(existsSync(c), `Dockerfile copies ${c}, which exists`);
    t.notOk(ignored.some((p) => c === p || c.startsWith(`${p}/`)), `${c} is not ignored`);
  }
});
