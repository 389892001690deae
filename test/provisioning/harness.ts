// The provisioning API under test with everything real: a run-time test PKI, an ES256 key pair
// whose public half is written as a JWKS file, a real Store (SQLite in a temp dir, or PostgreSQL),
// the component on an ephemeral loopback port, and an HTTPS client presenting the test client cert.
// Not a test file itself.
import { mkdtempSync, rmSync, writeFileSync, renameSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Registry } from "prom-client";
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from "jose";
import type { Test } from "tap";
import type { Shared } from "../../src/app.js";
import { createLogger, type Logger } from "../../src/observability/logger.js";
import type { CustomerData } from "../../src/store/customer-data.js";
import { createMetrics, type EdgeMetrics } from "../../src/observability/metrics.js";
import { buildProvisioningComponent, type ProvisioningComponent } from "../../src/provisioning/component.js";
import { Keyring } from "../../src/store/crypto/keyring.js";
import { openStore, type Store } from "../../src/store/store.js";
import { TlsContextProvider } from "../../src/tls/context-provider.js";
import { createPeerIdentity } from "../../src/tls/peer-identity.js";
import type { Config } from "../../src/config/schema/index.js";
import { edgeConfig } from "../helpers/edge.js";
import { h1request, LogCapture, type NodeResponse } from "../helpers/http-harness.js";
import { makeTestPki, type CertFiles, type TestPki } from "../helpers/pki.js";
import { pgSkipped, startPostgres } from "../helpers/postgres.js";

export const ISSUER = "https://idp.test/";
export const AUDIENCE = "trunkgate-provisioning";
export const SERVICES = ["svc-a", "svc-b"];

export interface SigningKey {
  kid: string;
  privateKey: CryptoKey;
  jwk: JWK;
}

export async function signingKey(kid: string): Promise<SigningKey> {
  const { publicKey, privateKey } = await generateKeyPair("ES256", { extractable: true });
  const jwk = { ...(await exportJWK(publicKey)), kid, alg: "ES256", use: "sig" };
  return { kid, privateKey, jwk };
}

/** Atomic write (rename), so a reload never sees half a file. */
export function writeJwks(path: string, keys: { jwk: JWK }[]): void {
  const tmp = `${path}.${Math.random().toString(36).slice(2)}.tmp`;
  writeFileSync(tmp, JSON.stringify({ keys: keys.map((k) => k.jwk) }));
  renameSync(tmp, path);
}

export interface TokenOptions {
  roles?: unknown;
  sub?: string | null;
  iss?: string;
  aud?: string;
  /** Seconds from now (negative: already expired). Default 300. */
  exp?: number | null;
  key?: SigningKey;
}

export interface Harness {
  pki: TestPki;
  config: Config;
  store: Store;
  metrics: EdgeMetrics;
  logs: LogCapture;
  component: ProvisioningComponent;
  port: number;
  key: SigningKey;
  jwksPath: string;
  dir: string;
  token(o?: TokenOptions): Promise<string>;
  request(method: string, path: string, o?: RequestOpts): Promise<ApiResponse>;
}

export interface RequestOpts {
  token?: string;
  body?: unknown;
  /** Raw body bytes (sent as is). */
  raw?: Buffer | string;
  headers?: Record<string, string>;
  cert?: CertFiles;
}

export interface ApiResponse extends NodeResponse {
  // biome-ignore lint/suspicious/noExplicitAny: parsed YAML/JSON of any shape
  json: any;
}

export interface HarnessOptions {
  pki: TestPki;
  /** Merged into the provisioning section. */
  provisioning?: Record<string, unknown>;
  storeUrl?: string;
  now?: () => number;
  /** store.statistics.minGroupSize (default 5). */
  statisticsMinGroupSize?: number;
}

export async function startHarness(t: Test, o: HarnessOptions): Promise<Harness> {
  const dir = mkdtempSync(join(tmpdir(), "trunkgate-prov-"));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const key = await signingKey("k1");
  const jwksPath = join(dir, "jwks.json");
  writeJwks(jwksPath, [key]);
  const prov = o.provisioning ?? {};
  const config = edgeConfig(o.pki, {
    sip: { upstreams: SERVICES.map((name) => ({ name, targets: [{ host: "127.0.0.1", port: 5070 }] })) },
    provisioning: {
      enabled: true,
      listen: { host: "127.0.0.1", port: 0 },
      ...prov,
      auth: {
        ...((prov.auth as { jwksUrl?: string } | undefined)?.jwksUrl ? {} : { jwksFile: jwksPath }),
        issuer: ISSUER,
        audience: AUDIENCE,
        ...(prov.auth as Record<string, unknown> | undefined),
      },
    },
  });
  const store = await openStore({ url: o.storeUrl ?? `sqlite:${join(dir, "store.db")}`, keyring: Keyring.generate(), baseDir: dir, statisticsMinGroupSize: o.statisticsMinGroupSize });
  const logs = new LogCapture();
  const logger = createLogger({ level: "debug", destination: logs });
  const metrics = createMetrics("test", new Registry());
  const shared = sharedFor(config, logger, metrics, store);
  const component = await buildProvisioningComponent(shared, store, { now: o.now });
  await component.start();
  t.teardown(async () => {
    await component.close();
    await store.close();
  });
  const port = component.address()!.port;
  const h: Harness = {
    pki: o.pki,
    config,
    store,
    metrics,
    logs,
    component,
    port,
    key,
    jwksPath,
    dir,
    token: (opts = {}) => signToken(key, opts),
    async request(method, path, ro = {}) {
      const headers: Record<string, string> = { ...ro.headers };
      if (ro.token !== undefined) headers.authorization = `Bearer ${ro.token}`;
      let body: Buffer | undefined;
      if (ro.raw !== undefined) body = Buffer.from(ro.raw);
      else if (ro.body !== undefined) {
        body = Buffer.from(JSON.stringify(ro.body));
        headers["content-type"] ??= "application/json";
      }
      if (body && headers["transfer-encoding"] === undefined) headers["content-length"] ??= String(body.length);
      // h1request spreads its options last: pass cert only when set, or it would override the default.
      const r = await h1request(o.pki, port, { method, path, headers, body, ...(ro.cert ? { cert: ro.cert } : {}) } as Parameters<typeof h1request>[2]);
      const text = r.body.toString("utf8");
      let json: unknown;
      try {
        json = text.length ? JSON.parse(text) : undefined;
      } catch {
        json = { unparsable: text };
      }
      return { ...r, json };
    },
  };
  return h;
}

/** A harness whose store is a fresh database on a throwaway PostgreSQL cluster (stopped at teardown). */
export async function startPostgresHarness(t: Test, o: Omit<HarnessOptions, "pki" | "storeUrl"> & { database: string }): Promise<Harness> {
  const pki = await makeTestPki();
  t.teardown(() => pki.cleanup());
  const pg = await startPostgres();
  if (!pg) throw new Error("PostgreSQL server unavailable");
  t.teardown(() => pg.stop());
  return startHarness(t, { ...o, pki, storeUrl: await pg.createDatabase(o.database) });
}

/** The skip option of a PostgreSQL test. */
export const PG_SKIP = pgSkipped() ? "PostgreSQL tests skipped: TRUNKGATE_SKIP_PG=1" : false;

/**
 * The composition root's Shared, for building the component directly. The component is given its
 * store explicitly and reads nothing else of `data` (no number cache, writer or retention
 * scheduler here: a scheduler would purge the records a test seeds on its own clock).
 */
export function sharedFor(config: Config, logger: Logger, metrics: EdgeMetrics, store: Store | undefined): Shared {
  return {
    config,
    logger,
    metrics,
    tls: new TlsContextProvider(config.tls),
    identity: createPeerIdentity(config.peers),
    data: { store } as Partial<CustomerData> as CustomerData,
    now: () => new Date(),
  };
}

export async function signToken(key: SigningKey, o: TokenOptions = {}): Promise<string> {
  const payload: Record<string, unknown> = {};
  if (o.roles !== undefined) payload.roles = o.roles;
  const jwt = new SignJWT(payload).setProtectedHeader({ alg: "ES256", kid: key.kid, typ: "JWT" }).setIssuer(o.iss ?? ISSUER).setAudience(o.aud ?? AUDIENCE).setIssuedAt();
  if (o.sub !== null) jwt.setSubject(o.sub ?? "client-1");
  if (o.exp !== null) jwt.setExpirationTime(Math.floor(Date.now() / 1000) + (o.exp ?? 300));
  return jwt.sign(key.privateKey);
}
