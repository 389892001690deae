// A real `trunkgate start` process (the built CLI) with the provisioning API, the SIP listener and
// the store, for the store's crash and live-operation tests: numbers go in and out through the API,
// call records are made by a SIP INVITE over mutual TLS (to an upstream that refuses, so the call
// fails at once and is recorded), metrics come from the admin listener. Not a test file itself.
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { stringify } from "yaml";
import { adminGet, metricSum, startCli, type RunningCli } from "../cluster/harness.js";
import { h1request } from "../helpers/http-harness.js";
import type { TestPki } from "../helpers/pki.js";
import { AUDIENCE, ISSUER, signingKey, signToken, writeJwks, type SigningKey } from "../provisioning/harness.js";
import { SRTP_SDP, TrunkClient, sipRequest } from "../sip/e2e/harness.js";

export interface LiveSetup {
  pki: TestPki;
  dir: string;
  storeUrl: string;
  keyFile: string;
  jwksPath: string;
  key: SigningKey;
}

export async function liveSetup(pki: TestPki, dir: string, storeUrl: string, keyFile = join(dir, "store.key")): Promise<LiveSetup> {
  const key = await signingKey("api-1");
  const jwksPath = join(dir, "jwks.json");
  writeJwks(jwksPath, [key]);
  return { pki, dir, storeUrl, keyFile, jwksPath, key };
}

export async function writeLiveConfig(s: LiveSetup, name: string, store: Record<string, unknown> = {}): Promise<string> {
  const cfg = {
    tls: {
      certificates: [{ cert: s.pki.serverEcdsa.certPath, key: s.pki.serverEcdsa.keyPath }],
      clientCertificate: { cert: s.pki.upstreamClient.certPath, key: s.pki.upstreamClient.keyPath },
      trust: { bundledRoots: false, extraRoots: [s.pki.ca.certPath] },
      watch: false,
    },
    peers: [{ name: "dev-trunk", match: { dnsNames: ["dev-trunk.local"] } }],
    sip: {
      listen: { host: "127.0.0.1", port: 0 },
      defaultUpstream: "svc-a",
      // Port 9 (discard) refuses on loopback: every INVITE fails at once and leaves a call record.
      upstreams: [{ name: "svc-a", targets: [{ host: "127.0.0.1", port: 9, transport: "tcp" }], healthCheck: { enabled: false } }],
    },
    http: { enabled: false },
    admin: { listen: { host: "127.0.0.1", port: 0 } },
    provisioning: {
      enabled: true,
      listen: { host: "127.0.0.1", port: 0 },
      auth: { jwksFile: s.jwksPath, issuer: ISSUER, audience: AUDIENCE },
    },
    store: { url: s.storeUrl, encryptionKeyFile: s.keyFile, ...store, callRecordWriter: { flushIntervalMs: 50, ...(store.callRecordWriter as object) } },
    logging: { level: "info" },
    lifecycle: { workers: 1, drainGraceSeconds: 1 },
  };
  const p = join(s.dir, name);
  await writeFile(p, stringify(cfg));
  return p;
}

export interface LiveInstance {
  cli: RunningCli;
  apiPort: number;
  sipPort: number;
  adminPort: number;
  // biome-ignore lint/suspicious/noExplicitAny: parsed YAML/JSON of any shape
  api(method: string, path: string, body?: unknown): Promise<{ status: number; json: any }>;
  metrics(): Promise<string>;
  /** Sum of a metric's samples (NaN when absent). */
  metric(name: string, ...labels: string[]): Promise<number>;
  /** One INVITE that fails at once (refused upstream): one call record. Resolves with the final status. */
  call(): Promise<number>;
  /** Waits (bounded) until the metric's sum reaches at least `atLeast`. */
  waitMetric(name: string, atLeast: number, timeoutMs?: number): Promise<number>;
  kill9(): Promise<void>;
  stop(): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export async function startLive(s: LiveSetup, configPath: string, env: NodeJS.ProcessEnv = {}): Promise<LiveInstance> {
  const cli = startCli(configPath, env);
  const started = await cli.waitFor((l) => l.msg === "trunkgate started", "trunkgate started", 60_000);
  const listeners = started.listeners as Record<string, number>;
  const adminPort = Number(String(started.admin).split(":").pop());
  const token = await signToken(s.key, { roles: ["Provisioning.Read", "Provisioning.Write", "Provisioning.Delete"] });
  const inst: LiveInstance = {
    cli,
    apiPort: listeners.provisioning!,
    sipPort: listeners.sip!,
    adminPort,
    async api(method, path, body) {
      const data = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
      const headers: Record<string, string> = { authorization: `Bearer ${token}` };
      if (data) Object.assign(headers, { "content-type": "application/json", "content-length": String(data.length) });
      const r = await h1request(s.pki, inst.apiPort, { method, path, headers, ...(data ? { body: data } : {}) });
      const text = r.body.toString("utf8");
      let json: unknown;
      try {
        json = text ? JSON.parse(text) : undefined;
      } catch {
        json = { unparsable: text };
      }
      return { status: r.status, json };
    },
    async metrics() {
      return (await adminGet(adminPort, "/metrics")).body;
    },
    async metric(name, ...labels) {
      return metricSum(await inst.metrics(), name, ...labels);
    },
    async call() {
      const c = await TrunkClient.connect(inst.sipPort, s.pki.client, s.pki);
      try {
        c.send(sipRequest({ method: "INVITE", uri: `sip:+4930123456@127.0.0.1:${inst.sipPort}`, body: SRTP_SDP }));
        for (;;) {
          const m = await c.next(20_000);
          if (m === "pong" || m.kind !== "response") continue;
          if (m.status >= 200) return m.status;
        }
      } finally {
        c.close();
      }
    },
    async waitMetric(name, atLeast, timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      let last = Number.NaN;
      // Polling the admin endpoint is the only view into another process; bounded by the deadline.
      while (Date.now() < deadline) {
        last = await inst.metric(name);
        if (last >= atLeast) return last;
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error(`${name} stayed at ${last} (< ${atLeast}) for ${timeoutMs} ms; stderr: ${cli.stderr}`);
    },
    async kill9() {
      cli.child.kill("SIGKILL");
      await cli.exit(20_000);
    },
    async stop() {
      cli.child.kill("SIGTERM");
      return cli.exit(30_000);
    },
  };
  return inst;
}
