// Reads the YAML file, applies environment overrides, validates against the schema and checks the
// relations between sections. Every problem is reported as `path.to.key: what is wrong`.
import { readFileSync } from "node:fs";
import { parseDocument } from "yaml";
import { configSchema, type Config } from "./schema/index.js";

export const DEFAULT_CONFIG_PATH = "config/default.yaml";
const ENV_PREFIX = "TRUNKGATE__";

export class ConfigError extends Error {
  constructor(readonly problems: string[], readonly source: string) {
    super(`invalid configuration (${source}):\n  ${problems.join("\n  ")}`);
    this.name = "ConfigError";
  }
}

/** The file to load: --config, else TRUNKGATE_CONFIG, else config/default.yaml. */
export function resolveConfigPath(cliPath: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  return cliPath ?? env.TRUNKGATE_CONFIG ?? DEFAULT_CONFIG_PATH;
}

export function loadConfigFile(path: string, env: NodeJS.ProcessEnv = process.env): Config {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    throw new ConfigError([`(file): cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`], path);
  }
  return parseConfig(text, path, env);
}

export function parseConfig(text: string, source = "(inline)", env: NodeJS.ProcessEnv = {}): Config {
  const doc = parseDocument(text, { uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(doc.errors.map((e) => `(yaml): ${e.message.split("\n")[0]}`), source);
  }
  const raw: unknown = doc.toJS() ?? {};
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    throw new ConfigError(["(root): expected a mapping of sections (tls, peers, sip, …)"], source);
  }
  const problems: string[] = [];
  const overrides = applyEnvOverrides(raw as Record<string, unknown>, env, problems);
  const result = configSchema.safeParse(raw);
  if (!result.success) {
    for (const issue of result.error.issues) problems.push(...formatIssue(issue.path, issue.message, issue));
    throw new ConfigError(problems.map((p) => attributeToOverride(p, overrides)), source);
  }
  problems.push(...crossCheck(result.data));
  if (problems.length > 0) throw new ConfigError(problems.map((p) => attributeToOverride(p, overrides)), source);
  return result.data;
}

function formatIssue(path: PropertyKey[], message: string, issue: { code: string; keys?: string[] }): string[] {
  const base = path.map(String).join(".");
  if (issue.code === "unrecognized_keys" && issue.keys) {
    return issue.keys.map((k) => `${base ? `${base}.` : ""}${k}: unknown key`);
  }
  return [`${base || "(root)"}: ${message}`];
}

/**
 * A problem at a key an environment variable set (or inside a value it set) names the variable:
 * the operator looks for the mistake in the container spec, not in the file.
 */
function attributeToOverride(problem: string, overrides: readonly EnvOverride[]): string {
  const key = problem.slice(0, problem.indexOf(": "));
  const o = overrides.find((x) => key === x.key || key.startsWith(`${x.key}.`));
  return o ? `${key} (from ${o.variable}): ${problem.slice(key.length + 2)}` : problem;
}

/** Relations the per-section schemas cannot see. */
function crossCheck(cfg: Config): string[] {
  const problems: string[] = [];
  const names = new Set<string>();
  cfg.sip.upstreams.forEach((u, i) => {
    if (names.has(u.name)) problems.push(`sip.upstreams.${i}.name: duplicate upstream name "${u.name}"`);
    names.add(u.name);
  });
  if (cfg.sip.defaultUpstream !== undefined && !names.has(cfg.sip.defaultUpstream)) {
    problems.push(`sip.defaultUpstream: no upstream named "${cfg.sip.defaultUpstream}" in sip.upstreams`);
  }
  return problems;
}

/**
 * TRUNKGATE__SIP__LISTEN__PORT=5070 sets sip.listen.port. Values are parsed as JSON when they parse
 * (numbers, booleans, arrays), else taken as strings. Meant for containers: secrets stay in files.
 */
export interface EnvOverride {
  /** The dotted config key it set, e.g. sip.listen.port. */
  key: string;
  variable: string;
}

export function applyEnvOverrides(raw: Record<string, unknown>, env: NodeJS.ProcessEnv, problems: string[]): EnvOverride[] {
  const applied: EnvOverride[] = [];
  for (const [name, value] of Object.entries(env)) {
    if (!name.startsWith(ENV_PREFIX) || value === undefined) continue;
    const path = name.slice(ENV_PREFIX.length).split("__").map(camelCase);
    if (path.some((p) => p === "")) {
      problems.push(`${name}: malformed override name`);
      continue;
    }
    let node: Record<string, unknown> = raw;
    for (const key of path.slice(0, -1)) {
      const next = node[key];
      if (next === undefined || next === null) node[key] = {};
      else if (typeof next !== "object" || Array.isArray(next)) {
        problems.push(`${path.join(".")} (from ${name}): crosses a value that is not a mapping`);
        node = {};
        break;
      }
      node = node[key] as Record<string, unknown>;
    }
    node[path[path.length - 1]!] = parseEnvValue(value);
    applied.push({ key: path.join("."), variable: name });
  }
  return applied;
}

function camelCase(s: string): string {
  return s.toLowerCase().replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

function parseEnvValue(v: string): unknown {
  try {
    return JSON.parse(v);
  } catch {
    return v;
  }
}
