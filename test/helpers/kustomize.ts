// A small `kustomize build` for the manifests under deploy/kubernetes/, for machines without
// kustomize: resources (files and directories), patches (strategic merge by kind + name; lists of
// named items merge by name), replicas, images and namespace. A kustomization using anything else
// is refused, so the test never silently renders something kustomize would render differently
// (test/deploy/kubernetes.test.ts also compares with `kubectl kustomize` where that exists).
import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { parse, parseAllDocuments } from "yaml";

export type K8sObject = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string; [k: string]: unknown }; [k: string]: unknown };

interface Kustomization {
  resources?: string[];
  namespace?: string;
  images?: { name: string; newName?: string; newTag?: string; digest?: string }[];
  replicas?: { name: string; count: number }[];
  patches?: { path: string }[];
}

const SUPPORTED = new Set(["apiVersion", "kind", "resources", "namespace", "images", "replicas", "patches"]);
const CLUSTER_SCOPED = new Set(["Namespace", "ClusterRole", "ClusterRoleBinding", "CustomResourceDefinition", "PersistentVolume", "StorageClass"]);

export function renderKustomization(dir: string): K8sObject[] {
  const k = parse(readFileSync(join(dir, "kustomization.yaml"), "utf8")) as Kustomization;
  const unsupported = Object.keys(k).filter((key) => !SUPPORTED.has(key));
  if (unsupported.length > 0) throw new Error(`${dir}/kustomization.yaml: the test renderer does not support ${unsupported.join(", ")}`);
  const objects: K8sObject[] = [];
  for (const r of k.resources ?? []) {
    const path = join(dir, r);
    if (statSync(path).isDirectory()) objects.push(...renderKustomization(path));
    else objects.push(...readObjects(path));
  }
  for (const p of k.patches ?? []) {
    for (const patch of readObjects(join(dir, p.path))) {
      const target = objects.find((o) => o.kind === patch.kind && o.metadata.name === patch.metadata.name);
      if (!target) throw new Error(`${p.path}: no ${patch.kind} named ${patch.metadata.name} to patch`);
      merge(target, patch);
    }
  }
  for (const r of k.replicas ?? []) {
    const target = objects.find((o) => ["Deployment", "StatefulSet"].includes(o.kind) && o.metadata.name === r.name);
    if (!target) throw new Error(`replicas: no workload named ${r.name}`);
    (target.spec as { replicas: number }).replicas = r.count;
  }
  for (const image of k.images ?? []) {
    for (const o of objects) for (const c of containersOf(o)) c.image = retag(c.image, image);
  }
  if (k.namespace) for (const o of objects) if (!CLUSTER_SCOPED.has(o.kind)) o.metadata.namespace = k.namespace;
  return objects;
}

export function readObjects(path: string): K8sObject[] {
  return parseAllDocuments(readFileSync(path, "utf8"))
    .map((d) => {
      if (d.errors.length > 0) throw new Error(`${path}: ${d.errors[0]!.message}`);
      return d.toJS() as K8sObject | null;
    })
    .filter((o): o is K8sObject => o !== null);
}

export function containersOf(o: K8sObject): { name: string; image: string; [k: string]: unknown }[] {
  const pod = (o.spec as { template?: { spec?: { containers?: unknown[]; initContainers?: unknown[] } } } | undefined)?.template?.spec;
  return [...(pod?.containers ?? []), ...(pod?.initContainers ?? [])] as { name: string; image: string }[];
}

function retag(current: string, image: NonNullable<Kustomization["images"]>[number]): string {
  const m = /^([^@:]+(?::\d+\/[^@:]+)?)(?::([^@]+))?(?:@(.+))?$/.exec(current);
  if (!m || m[1] !== image.name) return current;
  const name = image.newName ?? image.name;
  if (image.digest) return `${name}@${image.digest}`;
  const tag = image.newTag ?? m[2];
  return tag ? `${name}:${tag}` : name;
}

/** Strategic merge, the subset these manifests use: maps merge, lists of named items merge by name. */
function merge(target: Record<string, unknown>, patch: Record<string, unknown>): void {
  for (const [key, value] of Object.entries(patch)) {
    const current = target[key];
    if (isMap(value) && isMap(current)) merge(current, value);
    else if (Array.isArray(value) && Array.isArray(current) && value.every((v) => isMap(v) && typeof v.name === "string")) {
      // As kustomize does: named items merge into theirs; new ones go first, in patch order.
      const added: unknown[] = [];
      for (const item of value as Record<string, unknown>[]) {
        const existing = (current as Record<string, unknown>[]).find((c) => isMap(c) && c.name === item.name);
        if (existing) merge(existing, item);
        else added.push(item);
      }
      current.unshift(...added);
    } else target[key] = value;
  }
}

function isMap(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
