// End-to-end harness: the real TLS context provider, peer identity, mTLS listener and SIP proxy on
// ephemeral loopback ports with a run-time test PKI; plus a raw TLS "trunk" client for precise
// protocol tests and a stunnel client for SIPp.
import { rmSync } from "node:fs";
import { Writable } from "node:stream";
import { connect as tlsConnect, type TLSSocket } from "node:tls";
import { stringify } from "yaml";
import { parseConfig } from "../../../src/config/load.js";
import type { Config } from "../../../src/config/schema/index.js";
import { MtlsListener } from "../../../src/listener/mtls-listener.js";
import { createLogger } from "../../../src/observability/logger.js";
import { createMetrics } from "../../../src/observability/metrics.js";
import { SipStreamFramer } from "../../../src/sip/transport/framing.js";
import { parseMessage, type SipMessage } from "../../../src/sip/parse/index.js";
import type { RouteFn } from "../../../src/sip/route/decision.js";
import { createSipProxy, type SipProxy } from "../../../src/sip/server.js";
import { TlsContextProvider } from "../../../src/tls/context-provider.js";
import { createPeerIdentity } from "../../../src/tls/peer-identity.js";
import { makeTestPki, type CertFiles, type TestPki } from "../../helpers/pki.js";
import { freeTcpPort, startStunnel, type Stunnel } from "../../helpers/sipp.js";
import { patience } from "../../helpers/time.js";

export class LogLines extends Writable {
  readonly lines: Record<string, unknown>[] = [];
  /** The lines as written (JSON.parse keeps only the last of duplicate keys). */
  readonly raw: string[] = [];
  override _write(chunk: Buffer, _enc: string, cb: () => void): void {
    for (const l of chunk.toString().split("\n")) {
      if (!l.trim()) continue;
      this.raw.push(l);
      this.lines.push(JSON.parse(l) as Record<string, unknown>);
    }
    cb();
  }
  get text(): string {
    return this.lines.map((l) => JSON.stringify(l)).join("\n");
  }
}

export interface UpstreamSpec {
  name: string;
  targets: { port: number; transport?: "tls" | "tcp"; host?: string; serverName?: string; priority?: number; weight?: number }[];
  healthCheck?: Record<string, unknown>;
}

export interface GatewayOptions {
  upstreams: UpstreamSpec[];
  sip?: Record<string, unknown>;
  peers?: unknown[];
  /** Route decision for requests from trunks (default: the proxy's own). */
  route?: RouteFn;
  /** Address the SIP listener binds (default 127.0.0.1). */
  listenHost?: string;
}

export interface Gateway {
  pki: TestPki;
  config: Config;
  proxy: SipProxy;
  port: number;
  logs: LogLines;
  metrics(): Promise<string>;
  /** A stunnel client in front of trunkgate with the dev-trunk certificate (for SIPp). */
  stunnelClient(): Promise<Stunnel>;
  stop(): Promise<void>;
}

let sharedPki: TestPki | undefined;
/** One run-time test PKI per test process, removed when the process exits. */
export async function testPki(): Promise<TestPki> {
  if (sharedPki === undefined) {
    sharedPki = await makeTestPki();
    const dir = sharedPki.dir;
    process.once("exit", () => rmSync(dir, { recursive: true, force: true }));
  }
  return sharedPki;
}

export async function startGateway(o: GatewayOptions): Promise<Gateway> {
  const pki = await testPki();
  const raw = {
    tls: {
      certificates: [{ cert: pki.serverEcdsa.certPath, key: pki.serverEcdsa.keyPath }],
      clientCertificate: { cert: pki.upstreamClient.certPath, key: pki.upstreamClient.keyPath },
      trust: { bundledRoots: false, extraRoots: [pki.ca.certPath], crls: [] },
      watch: false,
    },
    peers: o.peers ?? [{ name: "dev-trunk", match: { dnsNames: ["dev-trunk.local"] } }],
    sip: {
      listen: { host: o.listenHost ?? "127.0.0.1", port: 0 },
      upstreams: o.upstreams.map((u) => ({
        name: u.name,
        targets: u.targets.map((t) => ({ host: t.host ?? "127.0.0.1", port: t.port, transport: t.transport ?? "tcp", ...(t.serverName ? { serverName: t.serverName } : {}), priority: t.priority ?? 0, weight: t.weight ?? 1 })),
        healthCheck: u.healthCheck ?? { enabled: false },
      })),
      ...(o.sip ?? {}),
    },
    logging: { level: "info" },
  };
  const config = parseConfig(stringify(raw), "e2e");
  const logs = new LogLines();
  const logger = createLogger({ level: "info", destination: logs });
  const metrics = createMetrics("test");
  const tls = new TlsContextProvider(config.tls);
  const identity = createPeerIdentity(config.peers);
  const proxy = createSipProxy({ config: config.sip, peers: config.peers, tls, logger, registry: metrics.registry, ...(o.route ? { route: o.route } : {}) });
  const listener = new MtlsListener({
    name: "sip",
    host: o.listenHost ?? "127.0.0.1",
    port: 0,
    tls,
    identity,
    metrics,
    logger,
    handshakeTimeoutMs: config.tls.handshakeTimeoutMs,
    requireClientAuthEku: config.tls.requireClientAuthEku,
    onConnection: ({ socket, peer }) => proxy.handleConnection(socket, peer),
  });
  const addr = await listener.listen();
  proxy.start(addr.port);
  const stunnels: Stunnel[] = [];
  return {
    pki,
    config,
    proxy,
    port: addr.port,
    logs,
    metrics: () => metrics.registry.metrics(),
    async stunnelClient() {
      const s = await startStunnel({
        mode: "client",
        acceptPort: await freeTcpPort(),
        connectPort: addr.port,
        certPath: pki.client.certPath,
        keyPath: pki.client.keyPath,
        caPath: pki.ca.certPath,
      });
      stunnels.push(s);
      return s;
    },
    async stop() {
      for (const s of stunnels) await s.stop();
      listener.stopAccepting();
      proxy.close();
      listener.destroyAll();
    },
  };
}

/** What a trunk client reads: a parsed message, a pong, or a message its parser refuses. */
export type Received = SipMessage | "pong" | { kind: "unparsed"; buf: Buffer };

/** A trunk speaking SIP over its own TLS connection (client cert), reading framed messages. */
export class TrunkClient {
  readonly socket: TLSSocket;
  #framer = new SipStreamFramer();
  #queue: Received[] = [];
  #waiters: (() => void)[] = [];
  closed = false;

  private constructor(socket: TLSSocket) {
    this.socket = socket;
    socket.on("data", (c: Buffer) => {
      // trunkgate's pong is a lone CRLF (RFC 5626 §4.4.1), which a framer skips: spot it here.
      if (c.length === 2 && c[0] === 13 && c[1] === 10) this.#queue.push("pong");
      for (const ev of this.#framer.push(c)) {
        if (ev.type === "message") {
          const r = parseMessage(ev.message);
          this.#queue.push(r.ok ? r.message : { kind: "unparsed", buf: ev.message });
        } else if (ev.type === "ping") this.#queue.push("pong");
      }
      this.#wake();
    });
    socket.on("close", () => {
      this.closed = true;
      this.#wake();
    });
    socket.on("error", () => undefined);
  }

  #wake(): void {
    const w = this.#waiters;
    this.#waiters = [];
    for (const f of w) f();
  }

  static async connect(port: number, cert: CertFiles, pki: TestPki, host = "127.0.0.1"): Promise<TrunkClient> {
    // Another loopback address is not in the server certificate: check it as "localhost" then.
    const socket = tlsConnect({ host, port, cert: cert.cert, key: cert.key, ca: pki.ca.cert, ...(host !== "127.0.0.1" ? { servername: "localhost" } : {}) });
    await new Promise<void>((resolve, reject) => {
      socket.once("secureConnect", () => resolve());
      socket.once("error", reject);
    });
    return new TrunkClient(socket);
  }

  send(text: string | Buffer): void {
    this.socket.write(typeof text === "string" ? Buffer.from(text, "latin1") : text);
  }

  /** The next message (or "pong"), within timeoutMs. */
  async next(timeoutMs = 3000): Promise<Received> {
    const end = Date.now() + patience(timeoutMs);
    for (;;) {
      const m = this.#queue.shift();
      if (m !== undefined) return m;
      if (this.closed) throw new Error("connection closed while waiting for a message");
      const left = end - Date.now();
      if (left <= 0) throw new Error(`no message within ${patience(timeoutMs)} ms`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.#waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** Waits for the connection to close (bounded). */
  async waitClosed(timeoutMs = 3000): Promise<void> {
    const end = Date.now() + patience(timeoutMs);
    while (!this.closed) {
      const left = end - Date.now();
      if (left <= 0) throw new Error("connection still open");
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.#waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  close(): void {
    this.socket.destroy();
  }
}

let counter = 0;
/** A complete SIP request text from a trunk (Content-Length computed). */
export function sipRequest(o: {
  method: string;
  uri: string;
  branch?: string;
  callId?: string;
  cseq?: number;
  toTag?: string;
  fromTag?: string;
  extra?: string[];
  body?: string;
  contentType?: string;
  maxForwards?: number | null;
}): string {
  const n = ++counter;
  const body = o.body ?? "";
  const lines = [
    `${o.method} ${o.uri} SIP/2.0`,
    `Via: SIP/2.0/TLS 127.0.0.1:5999;branch=${o.branch ?? `z9hG4bK-test-${n}-${Date.now()}`}`,
    ...(o.maxForwards === null ? [] : [`Max-Forwards: ${o.maxForwards ?? 70}`]),
    `From: <sip:caller@dev-trunk.local>;tag=${o.fromTag ?? `f${n}`}`,
    `To: <sip:callee@127.0.0.1>${o.toTag ? `;tag=${o.toTag}` : ""}`,
    `Call-ID: ${o.callId ?? `call-${n}-${Date.now()}@test`}`,
    `CSeq: ${o.cseq ?? 1} ${o.method}`,
    `Contact: <sip:caller@127.0.0.1:5999;transport=tls>`,
    ...(o.extra ?? []),
    ...(body ? [`Content-Type: ${o.contentType ?? "application/sdp"}`] : []),
    `Content-Length: ${Buffer.byteLength(body)}`,
    "",
    body,
  ];
  return lines.join("\r\n");
}

export const SRTP_SDP = [
  "v=0", "o=- 1 1 IN IP4 127.0.0.1", "s=-", "c=IN IP4 127.0.0.1", "t=0 0",
  "m=audio 6000 RTP/SAVP 0 8",
  "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz|2^20|1:4",
  "a=crypto:2 AES_CM_128_HMAC_SHA1_32 inline:NzB4d1BINUAvLEw6UzF3WSJ+PSdFcGdUJShpX1Zj|2^20|1:4",
  "a=rtpmap:0 PCMU/8000", "",
].join("\r\n");

export const RTP_SDP = [
  "v=0", "o=- 1 1 IN IP4 127.0.0.1", "s=-", "c=IN IP4 127.0.0.1", "t=0 0",
  "m=audio 6000 RTP/AVP 0", "a=rtpmap:0 PCMU/8000", "",
].join("\r\n");
