// The Kubernetes manifests (deploy/kubernetes/): base and example overlay render (a kustomize
// equivalent, compared with `kubectl kustomize` where kubectl exists) into objects that validate
// against the Kubernetes API and Prometheus Operator schemas bundled in kubernetes-models (no network);
// and they agree with trunkgate: the ConfigMap passes `config check`, probes hit /readyz and
// /healthz on the admin port, the grace period covers preStop + drain, certificates come from whole
// Secret directories (the watcher sees the ..data swap), the PrometheusRule carries the rules file.
import t from "tap";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { parse, parseAllDocuments } from "yaml";
import { configCheckCommand } from "../../src/cli/config-check.js";
import { parseConfig } from "../../src/config/load.js";
import { runIn } from "../helpers/capture-io.js";
import { containersOf, renderKustomization, type K8sObject } from "../helpers/kustomize.js";

const BASE = "deploy/kubernetes/base";
const OVERLAY = "deploy/kubernetes/overlays/example";

async function validate(o: K8sObject): Promise<void> {
  const [group, version] = o.apiVersion.includes("/") ? o.apiVersion.split("/") : ["", o.apiVersion];
  const module =
    group === "monitoring.coreos.com"
      ? `@kubernetes-models/prometheus-operator/${group}/${version}/${o.kind}`
      : `kubernetes-models/${group ? `${group}/` : ""}${version}/${o.kind}`;
  const models = (await import(module)) as Record<string, new (data: unknown) => { validate(): void }>;
  new models[o.kind]!(o).validate();
}

const byKind = (objs: K8sObject[], kind: string, name?: string) => objs.filter((o) => o.kind === kind && (name === undefined || o.metadata.name === name));

for (const dir of [BASE, OVERLAY]) {
  t.test(`${dir}: every object validates against its API schema`, async (t) => {
    const objs = renderKustomization(dir);
    t.same(
      [...new Set(objs.map((o) => o.kind))].sort(),
      ["ConfigMap", "Deployment", "NetworkPolicy", "PodDisruptionBudget", "PrometheusRule", "Service", "ServiceAccount", "ServiceMonitor"],
    );
    for (const o of objs) {
      await t.resolves(validate(o), `${o.kind}/${o.metadata.name}`);
    }
  });
}

t.test("the validator catches a wrong manifest (it is not vacuous)", async (t) => {
  const [deployment] = byKind(renderKustomization(BASE), "Deployment");
  const bad = JSON.parse(JSON.stringify(deployment)) as K8sObject;
  containersOf(bad)[0]!.ports = [{ name: "sip", containerPort: "5061" }];
  await t.rejects(validate(bad), /containerPort must be integer/);
});

t.test("the overlay applies namespace, image, replicas and patches", async (t) => {
  const objs = renderKustomization(OVERLAY);
  t.ok(objs.every((o) => o.metadata.namespace === "voice-edge"));
  const [d] = byKind(objs, "Deployment");
  t.equal((d!.spec as { replicas: number }).replicas, 3);
  const c = containersOf(d!)[0]!;
  t.equal(c.image, "registry.example.com/voice/trunkgate:0.1.0");
  t.ok((c.env as { name: string }[]).some((e) => e.name === "TRUNKGATE__LIFECYCLE__WORKERS"));
  t.ok((c.env as { name: string }[]).some((e) => e.name === "TRUNKGATE__STORE__URL"), "base env kept");
  const [sip] = byKind(objs, "Service", "trunkgate-sip");
  t.equal((sip!.spec as { type: string }).type, "NodePort");
});

const kubectl = spawnSync("kubectl", ["version", "--client"], { encoding: "utf8" }).status === 0;
t.test("the renderer agrees with kubectl kustomize", { skip: !kubectl && "kubectl not installed" }, async (t) => {
  for (const dir of [BASE, OVERLAY]) {
    const r = spawnSync("kubectl", ["kustomize", dir], { encoding: "utf8", timeout: 120_000 });
    t.equal(r.status, 0, r.stderr);
    const key = (o: K8sObject) => `${o.kind}/${o.metadata.name}`;
    const real = parseAllDocuments(r.stdout).map((d) => d.toJS() as K8sObject).sort((a, b) => key(a).localeCompare(key(b)));
    const ours = renderKustomization(dir).sort((a, b) => key(a).localeCompare(key(b)));
    t.same(ours, real, dir);
  }
});

t.test("the Deployment runs trunkgate as it should be run", async (t) => {
  const objs = renderKustomization(BASE);
  const [d] = byKind(objs, "Deployment");
  // biome-ignore lint/suspicious/noExplicitAny: parsed YAML/JSON of any shape
  const pod = (d!.spec as { template: { spec: Record<string, any> } }).template.spec;
  const c = pod.containers[0];
  t.equal(pod.securityContext.runAsNonRoot, true);
  t.equal(pod.securityContext.runAsUser, 10001, "the image's uid");
  t.equal(c.securityContext.readOnlyRootFilesystem, true);
  t.equal(c.securityContext.allowPrivilegeEscalation, false);
  for (const k of ["cpu", "memory"]) {
    t.ok(c.resources.requests[k], `request ${k}`);
    t.ok(c.resources.limits[k], `limit ${k}`);
  }
  t.same(c.readinessProbe.httpGet, { path: "/readyz", port: "admin" });
  t.same(c.livenessProbe.httpGet, { path: "/healthz", port: "admin" });

  const cm = byKind(objs, "ConfigMap", "trunkgate-config")[0]!;
  const config = parseConfig((cm.data as Record<string, string>)["config.yaml"]!, "configmap");
  const ports = Object.fromEntries((c.ports as { name: string; containerPort: number }[]).map((p) => [p.name, p.containerPort]));
  t.same(ports, { sip: config.sip.listen.port, https: config.http.listen.port, provisioning: config.provisioning.listen.port, admin: config.admin.listen.port });
  t.equal(config.admin.listen.host, "0.0.0.0", "the kubelet and Prometheus reach the admin port");

  // Grace: preStop sleep + drain + the 10 s the cluster primary gives workers beyond the drain.
  const preStop = Number(c.lifecycle.preStop.exec.command[1]);
  t.ok(pod.terminationGracePeriodSeconds >= preStop + config.lifecycle.drainGraceSeconds + 10, "terminationGracePeriodSeconds covers preStop + drain + 10 s");

  // TLS files and the JWKS live in whole Secret directories (never subPath: no updates there).
  const mounts = c.volumeMounts as { name: string; mountPath: string; subPath?: string }[];
  t.ok(mounts.every((m) => m.subPath === undefined), "no subPath mounts");
  const secretMounts = new Set(mounts.filter((m) => pod.volumes.find((v: { name: string; secret?: unknown }) => v.name === m.name)?.secret).map((m) => m.mountPath));
  const files = [
    ...config.tls.certificates.flatMap((p) => [p.cert, p.key]),
    config.tls.clientCertificate.cert,
    config.tls.clientCertificate.key,
    ...config.tls.trust.extraRoots,
    config.provisioning.auth.jwksFile!,
  ];
  for (const f of files) t.ok(secretMounts.has(dirname(f)), `${f} is in a mounted Secret directory`);
  const env = Object.fromEntries((c.env as { name: string; value?: string }[]).map((e) => [e.name, e]));
  t.ok(env.TRUNKGATE__STORE__URL, "store URL from a Secret (replicas share PostgreSQL)");
  t.equal(env.TRUNKGATE_CONFIG!.value, `${mounts.find((m) => m.name === "config")!.mountPath}/config.yaml`);
});

t.test("the ConfigMap's configuration passes trunkgate config check", async (t) => {
  const cm = byKind(renderKustomization(BASE), "ConfigMap", "trunkgate-config")[0]!;
  const dir = mkdtempSync(join(tmpdir(), "trunkgate-k8s-"));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, "config.yaml");
  writeFileSync(path, (cm.data as Record<string, string>)["config.yaml"]!);
  const r = await runIn((io) => configCheckCommand(["--config", path, "--skip-files"], io));
  t.equal(r.code, 0, r.stderr);
});

t.test("Services, NetworkPolicy and ServiceMonitor name ports the pod has", async (t) => {
  const objs = renderKustomization(BASE);
  const portNames = new Set((containersOf(byKind(objs, "Deployment")[0]!)[0]!.ports as { name: string }[]).map((p) => p.name));
  for (const s of byKind(objs, "Service")) {
    for (const p of (s.spec as { ports: { targetPort: string }[] }).ports) t.ok(portNames.has(p.targetPort), `${s.metadata.name} → ${p.targetPort}`);
  }
  const [np] = byKind(objs, "NetworkPolicy");
  for (const rule of (np!.spec as { ingress: { ports: { port: string }[] }[] }).ingress) for (const p of rule.ports) t.ok(portNames.has(p.port), `NetworkPolicy admits ${p.port}`);
  const [sm] = byKind(objs, "ServiceMonitor");
  const smSpec = sm!.spec as { selector: { matchLabels: Record<string, string> }; endpoints: { port: string }[] };
  const scraped = byKind(objs, "Service").filter((s) => Object.entries(smSpec.selector.matchLabels).every(([k, v]) => (s.metadata.labels as Record<string, string>)[k] === v));
  t.same(scraped.map((s) => s.metadata.name), ["trunkgate-admin"], "the ServiceMonitor selects the admin Service only");
  t.same(smSpec.endpoints.map((e) => e.port), ((scraped[0]!.spec as { ports: { name: string }[] }).ports).map((p) => p.name));
  const [pdb] = byKind(objs, "PodDisruptionBudget");
  t.same((pdb!.spec as { selector: unknown }).selector, (byKind(objs, "Deployment")[0]!.spec as { selector: unknown }).selector);
});

t.test("the PrometheusRule carries exactly the groups of deploy/prometheus/trunkgate-rules.yaml", async (t) => {
  const [rule] = byKind(renderKustomization(BASE), "PrometheusRule");
  const file = parse(readFileSync("deploy/prometheus/trunkgate-rules.yaml", "utf8")) as { groups: unknown };
  t.same((rule!.spec as { groups: unknown }).groups, file.groups);
});
