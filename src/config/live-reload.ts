// What a SIGHUP may change in a running process. Only the admission limits (sip.admission and each
// peer's admission overrides) are applied live; every other key keeps its start-up value until a
// restart, and a reload that changed one says which, so nobody believes it took effect.
import type { Config } from "./schema/index.js";

/** Dotted config paths applied on reload (see README, "Admission control"). */
export function isLiveKey(path: string): boolean {
  return path === "sip.admission" || path.startsWith("sip.admission.") || /^peers\.\d+\.admission(\.|$)/.test(path);
}

const MAX_REPORTED = 50;

/** Dotted paths (`peers.1.match.dnsNames.0`) where `next` differs from `running`, live keys left out. */
export function restartOnlyChanges(running: unknown, next: unknown): string[] {
  const out: string[] = [];
  walk(running, next, "", out);
  return out;
}

function walk(a: unknown, b: unknown, path: string, out: string[]): void {
  if (out.length >= MAX_REPORTED || (path !== "" && isLiveKey(path))) return;
  if (Object.is(a, b)) return;
  const aObj = typeof a === "object" && a !== null;
  const bObj = typeof b === "object" && b !== null;
  if (!aObj || !bObj || Array.isArray(a) !== Array.isArray(b)) {
    out.push(path || "(root)");
    return;
  }
  const ra = a as Record<string, unknown>;
  const rb = b as Record<string, unknown>;
  const keys = new Set([...Object.keys(ra), ...Object.keys(rb)]);
  for (const k of keys) walk(ra[k], rb[k], path === "" ? k : `${path}.${k}`, out);
}

/**
 * `running` with the live keys of `next`: what a process restarted later (a replaced cluster
 * worker) must run, so that it keeps the reloaded limits and nothing else that changed.
 */
export function withLiveKeys(running: Config, next: Config): Config {
  const byName = new Map(next.peers.map((p) => [p.name, p]));
  return {
    ...running,
    sip: { ...running.sip, admission: next.sip.admission },
    peers: running.peers.map((p) => {
      const admission = byName.get(p.name)?.admission;
      const { admission: _old, ...rest } = p;
      return admission === undefined ? rest : { ...rest, admission };
    }),
  };
}
