// Starts a real trunkgate App on ephemeral loopback ports with a test PKI, for end-to-end tests.
import { stringify } from "yaml";
import { App, type ComponentBuilder } from "../../src/app.js";
import { parseConfig } from "../../src/config/load.js";
import type { Config } from "../../src/config/schema/index.js";
import { createLogger } from "../../src/observability/logger.js";
import { PassThrough } from "node:stream";
import { randomUUID } from "node:crypto";
import { join } from "node:path";
import { makeTestPki, type TestPki } from "./pki.js";
import { patience } from "./time.js";

export interface EdgeOptions {
  /** Extra/overriding config, merged over the test defaults (deep for plain objects). */
  config?: Record<string, unknown>;
  builders?: ComponentBuilder[];
  now?: () => Date;
}

type TestPkiPaths = Pick<TestPki, "ca" | "serverEcdsa" | "serverRsa" | "upstreamClient" | "dir">;

export interface RunningEdge {
  app: App;
  config: Config;
  port(component: string): number;
  adminUrl: string;
  logs: string[];
  metrics(): Promise<string>;
  stop(): Promise<void>;
}

function merge(a: Record<string, unknown>, b: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...a };
  for (const [k, v] of Object.entries(b)) {
    const av = out[k];
    out[k] =
      v && typeof v === "object" && !Array.isArray(v) && av && typeof av === "object" && !Array.isArray(av)
        ? merge(av as Record<string, unknown>, v as Record<string, unknown>)
        : v;
  }
  return out;
}

export function edgeConfig(pki: TestPkiPaths & { dir: string }, extra: Record<string, unknown> = {}): Config {
  const base = {
    tls: {
      certificates: [
        { cert: pki.serverEcdsa.certPath, key: pki.serverEcdsa.keyPath },
        { cert: pki.serverRsa.certPath, key: pki.serverRsa.keyPath },
      ],
      clientCertificate: { cert: pki.upstreamClient.certPath, key: pki.upstreamClient.keyPath },
      trust: { bundledRoots: true, extraRoots: [pki.ca.certPath], crls: [] },
      watch: false,
    },
    peers: [{ name: "dev-trunk", match: { dnsNames: ["dev-trunk.local"], commonNames: ["dev-trunk"] } }],
    sip: { listen: { host: "127.0.0.1", port: 0 } },
    http: { enabled: false, listen: { host: "127.0.0.1", port: 0 } },
    provisioning: { listen: { host: "127.0.0.1", port: 0 } },
    store: { url: `sqlite:${join(pki.dir, `store-${randomUUID()}.db`)}`, encryptionKeyFile: join(pki.dir, "store.key") },
    admin: { listen: { host: "127.0.0.1", port: 0 } },
    logging: { level: "debug" },
    lifecycle: { drainGraceSeconds: 2 },
  };
  return parseConfig(stringify(merge(base, extra)), "test");
}

export async function startEdge(pki: TestPkiPaths, opts: EdgeOptions = {}): Promise<RunningEdge> {
  const config = edgeConfig(pki, opts.config);
  const logs: string[] = [];
  const sink = new PassThrough();
  sink.on("data", (d: Buffer) => logs.push(...d.toString().split("\n").filter(Boolean)));
  const app = new App(config, createLogger({ level: config.logging.level, destination: sink }), opts.builders, opts.now);
  await app.start();
  const adminPort = (app.admin.server.address() as { port: number }).port;
  const adminUrl = `http://127.0.0.1:${adminPort}`;
  return {
    app,
    config,
    logs,
    adminUrl,
    port(name) {
      const c = app.components.find((x) => x.name === name);
      const a = c?.address();
      if (!a) throw new Error(`component ${name} is not listening`);
      return a.port;
    },
    async metrics() {
      const r = await fetch(`${adminUrl}/metrics`, { signal: AbortSignal.timeout(patience(5000)) });
      return r.text();
    },
    stop: () => app.stop(2000),
  };
}

/** The value of one sample line, e.g. metric(text, 'trunkgate_tls_handshake_failures_total{listener="sip",reason="expired"}'). */
export function metricValue(text: string, sample: string): number {
  for (const line of text.split("\n")) if (line.startsWith(`${sample} `)) return Number(line.slice(sample.length + 1));
  return Number.NaN;
}

/**
 * The sum of every sample of `name` whose labels include `labels` (other labels, such as `peer`,
 * summed over), e.g. metricTotal(text, "trunkgate_tls_handshake_failures_total", { reason: "expired" }).
 */
export function metricTotal(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of text.split("\n")) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    const close = line.lastIndexOf("} ");
    const labelText = close > 0 ? line.slice(name.length + 1, close) : "";
    if (Object.entries(labels).every(([k, v]) => labelText.includes(`${k}="${v}"`))) sum += Number(line.slice(close > 0 ? close + 2 : name.length + 1));
  }
  return sum;
}

/**
 * A fresh test PKI and an edge whose trust includes the PKI's CRL (so revoked certificates are
 * refused as such), both stopped with `t`.
 */
export async function edgeWithCrl(t: { teardown(fn: () => unknown): void }): Promise<{ pki: TestPki; edge: RunningEdge }> {
  const pki = await makeTestPki();
  let edge: RunningEdge | undefined;
  t.teardown(async () => {
    await edge?.stop(); // the edge first, then the files it was started from
    await pki.cleanup();
  });
  edge = await startEdge(pki, { config: { tls: { trust: { crls: [pki.crl.path] } } } });
  return { pki, edge };
}
