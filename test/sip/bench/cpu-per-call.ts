// CPU cost per call of the SIP proxy (this process only: SIPp and stunnel run elsewhere), with
// SIPp's built-in uac over one persistent TLS connection (stunnel) and the uas over TCP. Not a test
// (tap ignores it): `node --import=…/@tapjs/typescript/dist/esm/import.mjs test/sip/bench/cpu-per-call.ts [calls] [rate]`.
// Per-transaction logging is at info; this runs at warn, as a benchmark build would.
import { stringify } from "yaml";
import { parseConfig } from "../../../src/config/load.js";
import { MtlsListener } from "../../../src/listener/mtls-listener.js";
import { createLogger } from "../../../src/observability/logger.js";
import { createMetrics } from "../../../src/observability/metrics.js";
import { createSipProxy } from "../../../src/sip/server.js";
import { TlsContextProvider } from "../../../src/tls/context-provider.js";
import { createPeerIdentity } from "../../../src/tls/peer-identity.js";
import { makeTestPki, testTlsSection } from "../../helpers/pki.js";
import { freeTcpPort, runSipp, startSipp, startStunnel } from "../../helpers/sipp.js";

const calls = Number(process.argv[2] ?? 10000);
const rate = Number(process.argv[3] ?? 1000);
const pki = await makeTestPki();
const uas = await startSipp({ scenario: "uas", timeoutSeconds: 300 });
const config = parseConfig(stringify({
  tls: testTlsSection(pki),
  peers: [{ name: "dev-trunk", match: { dnsNames: ["dev-trunk.local"] } }],
  sip: {
    listen: { host: "127.0.0.1", port: 0 },
    upstreams: [{ name: "svc", targets: [{ host: "127.0.0.1", port: uas.port, transport: "tcp" }], healthCheck: { enabled: false } }],
    media: { srtpPolicy: "off" },
  },
}), "bench");
const logger = createLogger({ level: process.env.LOG_LEVEL ?? "warn" });
const metrics = createMetrics("bench");
const tls = new TlsContextProvider(config.tls);
const proxy = createSipProxy({ config: config.sip, peers: config.peers, tls, logger, registry: metrics.registry });
const listener = new MtlsListener({
  name: "sip", host: "127.0.0.1", port: 0, tls, identity: createPeerIdentity(config.peers), metrics, logger,
  handshakeTimeoutMs: 10000, requireClientAuthEku: true, onConnection: ({ socket, peer }) => proxy.handleConnection(socket, peer),
});
const addr = await listener.listen();
proxy.start(addr.port);
const st = await startStunnel({ mode: "client", acceptPort: await freeTcpPort(), connectPort: addr.port, certPath: pki.client.certPath, keyPath: pki.client.keyPath, caPath: pki.ca.certPath });
// warm-up
await runSipp({ scenario: "uac", target: `127.0.0.1:${addr.port}`, via: `127.0.0.1:${st.port}`, calls: 2000, rate, limit: 5000, timeoutSeconds: 60 });
const c0 = process.cpuUsage();
const t0 = process.hrtime.bigint();
const res = await runSipp({ scenario: "uac", target: `127.0.0.1:${addr.port}`, via: `127.0.0.1:${st.port}`, calls, rate, limit: 5000, timeoutSeconds: 300 });
const cpu = process.cpuUsage(c0);
const wall = Number(process.hrtime.bigint() - t0) / 1e9;
const us = (cpu.user + cpu.system) / res.stats.successful;
console.log(JSON.stringify({ calls, rate, ok: res.stats.successful, failed: res.stats.failed, wallS: wall.toFixed(2), cpuPct: ((cpu.user + cpu.system) / 1e4 / wall).toFixed(1), usPerCall: us.toFixed(1), userUs: cpu.user, sysUs: cpu.system, heapMB: Math.round(process.memoryUsage().heapUsed / 1e6), rssMB: Math.round(process.memoryUsage().rss / 1e6) }));
await st.stop();
proxy.close();
listener.stopAccepting();
listener.destroyAll();
await uas.stop();
await pki.cleanup();
process.exit(0);
