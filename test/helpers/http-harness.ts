// An HTTP proxy under test with everything real: a run-time test PKI, a real upstream server
// (http, or https that verifies trunkgate's client certificate), the proxy on an ephemeral port,
// and clients (node https, node http2; curl in ./curl.ts) presenting test client certificates.
// No process is spawned here: tests using only this harness are unit tests (test/run-suite.mjs).
import { once } from "node:events";
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { request as httpsRequest, createServer as createHttpsServer, type RequestOptions } from "node:https";
import { connect as h2connect, type ClientHttp2Session, type IncomingHttpHeaders } from "node:http2";
import type { AddressInfo, Socket } from "node:net";
import { Writable } from "node:stream";
import { Registry } from "prom-client";
import { configSchema, type Config } from "../../src/config/schema/index.js";
import { createHttpProxy, type HttpProxy } from "../../src/http/server.js";
import { createLogger } from "../../src/observability/logger.js";
import { createMetrics, type EdgeMetrics } from "../../src/observability/metrics.js";
import { TlsContextProvider } from "../../src/tls/context-provider.js";
import { createPeerIdentity } from "../../src/tls/peer-identity.js";
import { makeTestPki, type CertFiles, type TestPki } from "./pki.js";
import { patience } from "./time.js";

export type UpstreamHandler = (req: IncomingMessage, res: ServerResponse) => void;

export interface SeenRequest {
  method: string;
  url: string;
  headers: IncomingMessage["headers"];
  rawHeaders: string[];
  /** Local id of the upstream-side socket (keep-alive reuse shows as the same id). */
  socketId: number;
}

export interface TestUpstream {
  server: Server;
  url: string;
  port: number;
  seen: SeenRequest[];
  handler: UpstreamHandler;
  close(): Promise<void>;
}

/** Default upstream answer: 200 with the request as JSON. */
export const echoHandler: UpstreamHandler = (req, res) => {
  req.resume();
  req.on("end", () => {
    const body = JSON.stringify({ method: req.method, url: req.url, headers: req.headers });
    res.writeHead(200, { "content-type": "application/json", "x-upstream": "yes" });
    res.end(body);
  });
};

/**
 * An upstream that never answers: each request's body is read and its response kept in `held`
 * (the test answers or destroys them), so requests stay in flight at the upstream.
 */
export function holdingHandler(held: ServerResponse[]): UpstreamHandler {
  return (req, res) => {
    req.resume();
    held.push(res);
  };
}

let socketIds = 0;

export async function startUpstream(
  opts: { https?: { pki: TestPki; cert?: CertFiles }; handler?: UpstreamHandler } = {},
): Promise<TestUpstream> {
  const seen: SeenRequest[] = [];
  const sockIds = new WeakMap<Socket, number>();
  const up: TestUpstream = { seen, handler: opts.handler ?? echoHandler } as TestUpstream;
  const onRequest = (req: IncomingMessage, res: ServerResponse) => {
    let id = sockIds.get(req.socket);
    if (id === undefined) sockIds.set(req.socket, (id = ++socketIds));
    seen.push({ method: req.method!, url: req.url!, headers: req.headers, rawHeaders: req.rawHeaders, socketId: id });
    up.handler(req, res);
  };
  const server = opts.https
    ? createHttpsServer(
        {
          cert: (opts.https.cert ?? opts.https.pki.serverEcdsa).cert,
          key: (opts.https.cert ?? opts.https.pki.serverEcdsa).key,
          ca: opts.https.pki.ca.cert,
          requestCert: true,
          rejectUnauthorized: true,
        },
        onRequest,
      )
    : createHttpServer(onRequest);
  server.keepAliveTimeout = 30_000;
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const port = (server.address() as AddressInfo).port;
  up.server = server;
  up.port = port;
  up.url = `${opts.https ? "https" : "http"}://127.0.0.1:${port}`;
  up.close = async () => {
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  };
  return up;
}

/** A log destination the test reads back, one parsed JSON object per line. */
export class LogCapture extends Writable {
  lines: Record<string, unknown>[] = [];
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: () => void): void {
    for (const l of chunk.toString("utf8").split("\n")) if (l.trim()) this.lines.push(JSON.parse(l) as Record<string, unknown>);
    cb();
  }
  access(): Record<string, unknown>[] {
    return this.lines.filter((l) => l.msg === "http request");
  }
  get text(): string {
    return this.lines.map((l) => JSON.stringify(l)).join("\n");
  }
}

export interface ProxyHarness {
  pki: TestPki;
  config: Config;
  tls: TlsContextProvider;
  metrics: EdgeMetrics;
  logs: LogCapture;
  proxy: HttpProxy;
  port: number;
  close(): Promise<void>;
}

export interface HarnessOptions {
  pki: TestPki;
  upstreamUrl: string;
  /** Merged into the `http` section. */
  http?: Record<string, unknown>;
  /** Overrides of the `tls` section. */
  tls?: Record<string, unknown>;
}

function engineFromEnv(): { engine?: string } {
  const engine = process.env.TRUNKGATE_TEST_HTTP_ENGINE;
  return engine ? { engine } : {};
}

/** TRUNKGATE_TEST_HTTP_CLIENT=lean|undici runs the HTTP tests against that upstream client. */
function clientFromEnv(): { client?: string } {
  const client = process.env.TRUNKGATE_TEST_HTTP_CLIENT;
  return client ? { client } : {};
}

export async function startProxy(o: HarnessOptions): Promise<ProxyHarness> {
  const { pki } = o;
  const http = (o.http ?? {}) as { upstream?: Record<string, unknown> };
  const config = configSchema.parse({
    tls: {
      certificates: [{ cert: pki.serverEcdsa.certPath, key: pki.serverEcdsa.keyPath }],
      clientCertificate: { cert: pki.upstreamClient.certPath, key: pki.upstreamClient.keyPath },
      trust: { bundledRoots: false, extraRoots: [pki.ca.certPath] },
      handshakeTimeoutMs: 5_000,
      watch: false,
      ...o.tls,
    },
    peers: [{ name: "dev-trunk", match: { dnsNames: ["dev-trunk.local"] } }],
    // TRUNKGATE_TEST_HTTP_ENGINE=lean|node runs the HTTP tests against that HTTP/1.1 engine.
    http: { ...engineFromEnv(), ...http, listen: { host: "127.0.0.1", port: 0 }, upstream: { ...clientFromEnv(), url: o.upstreamUrl, ...http.upstream } },
  });
  const tls = new TlsContextProvider(config.tls);
  const metrics = createMetrics("test", new Registry());
  const logs = new LogCapture();
  const logger = createLogger({ level: "debug", destination: logs });
  const proxy = createHttpProxy({ config, tls, identity: createPeerIdentity(config.peers), metrics, logger });
  const addr = await proxy.start();
  return { pki, config, tls, metrics, logs, proxy, port: addr.port, close: () => proxy.close() };
}

export { makeTestPki };

interface Teardown {
  teardown(fn: () => unknown): void;
}

/** The usual test bed of a file: the test PKI and an echo upstream, both torn down with `t`. */
export async function upstreamBed(t: Teardown): Promise<{ pki: TestPki; upstream: TestUpstream }> {
  const pki = await makeTestPki();
  t.teardown(() => pki.cleanup());
  const upstream = await startUpstream();
  t.teardown(() => upstream.close());
  return { pki, upstream };
}

/** The bed plus a proxy in front of the upstream (`http` merged into its `http` section). */
export async function proxyBed(
  t: Teardown,
  http?: Record<string, unknown>,
): Promise<{ pki: TestPki; upstream: TestUpstream; h: ProxyHarness }> {
  const bed = await upstreamBed(t);
  const h = await startProxy({ pki: bed.pki, upstreamUrl: bed.upstream.url, ...(http ? { http } : {}) });
  t.teardown(() => h.close());
  return { ...bed, h };
}

export interface NodeResponse {
  status: number;
  headers: IncomingMessage["headers"];
  body: Buffer;
}

/** HTTPS/1.1 request with the test client certificate; `body` may be a Buffer or a Readable. */
export function h1request(
  pki: TestPki,
  port: number,
  opts: RequestOptions & { body?: Buffer | NodeJS.ReadableStream; cert?: CertFiles },
): Promise<NodeResponse> {
  const cert = opts.cert ?? pki.client;
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      {
        host: "127.0.0.1",
        port,
        servername: "localhost",
        ca: pki.ca.cert,
        cert: cert.cert,
        key: cert.key,
        agent: false,
        timeout: 20_000,
        ...opts,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
        res.on("error", reject);
      },
    );
    req.on("timeout", () => req.destroy(new Error("client timeout")));
    req.on("error", reject);
    const b = opts.body;
    if (b === undefined) req.end();
    else if (Buffer.isBuffer(b)) req.end(b);
    else b.pipe(req);
  });
}

export function h2session(pki: TestPki, port: number, cert: CertFiles = pki.client): Promise<ClientHttp2Session> {
  return new Promise((resolve, reject) => {
    const s = h2connect(`https://localhost:${port}`, { ca: pki.ca.cert, cert: cert.cert, key: cert.key });
    s.once("connect", () => resolve(s));
    s.once("error", reject);
  });
}

export interface H2Response {
  headers: IncomingHttpHeaders;
  status: number;
  body: Buffer;
  rstCode?: number;
}

export function h2request(
  session: ClientHttp2Session,
  headers: Record<string, string | string[]>,
  body?: Buffer | NodeJS.ReadableStream,
): Promise<H2Response> {
  return new Promise((resolve, reject) => {
    const stream = session.request(headers, { endStream: body === undefined });
    let resHeaders: IncomingHttpHeaders = {};
    const chunks: Buffer[] = [];
    stream.on("response", (h) => (resHeaders = h));
    stream.on("data", (c: Buffer) => chunks.push(c));
    stream.on("close", () =>
      resolve({ headers: resHeaders, status: Number(resHeaders[":status"] ?? 0), body: Buffer.concat(chunks), rstCode: stream.rstCode }),
    );
    stream.on("error", (err) => (resHeaders[":status"] ? undefined : reject(err)));
    stream.setTimeout(20_000, () => stream.close());
    if (Buffer.isBuffer(body)) stream.end(body);
    else if (body) body.pipe(stream);
  });
}

/** Resolve when cond() holds, checking on an interval; reject after patience(timeoutMs). */
export async function waitFor(cond: () => boolean, timeoutMs = 5_000, what = "condition"): Promise<void> {
  const deadline = Date.now() + patience(timeoutMs);
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Bounded wait on a promise (patience(ms)). */
export function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  const limit = patience(ms);
  let timer: NodeJS.Timeout;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${limit} ms: ${what}`)), limit);
    }),
  ]);
}

export async function metricValue(metrics: EdgeMetrics, name: string, labels: Record<string, string> = {}): Promise<number> {
  const m = metrics.registry.getSingleMetric(name);
  if (!m) return NaN;
  const data = await m.get();
  let sum = 0;
  for (const v of data.values) {
    if (Object.entries(labels).every(([k, val]) => String((v.labels as Record<string, unknown>)[k]) === val)) {
      if (!("metricName" in v) || v.metricName === name || v.metricName === undefined) sum += v.value;
    }
  }
  return sum;
}
