// In-memory harness for the proxy core: fake flows that record what the core sends, a manual
// clock, real parser/editor, real transactions. No sockets: every RFC 3261 decision is testable
// deterministically, timers included.
import { Registry } from "prom-client";
import { parseConfig } from "../../../src/config/load.js";
import type { PeerConfig } from "../../../src/config/schema/index.js";
import { createLogger } from "../../../src/observability/logger.js";
import { DialogTable } from "../../../src/sip/dialog/dialogs.js";
import { INBOUND, OUTBOUND, SipMetrics } from "../../../src/sip/metrics.js";
import { parseMessage, type SipMessage, type SipRequest, type SipResponse } from "../../../src/sip/parse/index.js";
import { ProxyCore } from "../../../src/sip/proxy/core.js";
import { ProxyIdentity } from "../../../src/sip/proxy/identity.js";
import type { PeerRouteFn, RouteFn } from "../../../src/sip/route/decision.js";
import { defaultPeerRoute, defaultRoute } from "../../../src/sip/route/decision.js";
import { FifoTimers, ManualPlatform } from "../../../src/sip/timer/timers.js";
import { DEFAULT_TIMING } from "../../../src/sip/transaction/types.js";
import type { FlowProvider, TrunkFlow, UpstreamFlow } from "../../../src/sip/transport/flow.js";
import { UpstreamService, type UpstreamTarget } from "../../../src/sip/upstream/service.js";
import { LogLines } from "../e2e/harness.js";
import { stringify } from "yaml";

let ids = 1000;

/** What both fake flows share: they parse and keep every message the core sends on them. */
abstract class RecordingFlow {
  readonly id = ids++;
  open = true;
  readonly sent: SipMessage[] = [];
  readonly raw: Buffer[] = [];
  constructor(readonly transport: "TLS" | "TCP") {}
  send(data: Buffer): boolean {
    if (!this.open) return false;
    this.raw.push(data);
    const r = parseMessage(data);
    if (!r.ok) throw new Error(`core sent an unparsable message: ${r.reason}\n${data.toString()}`);
    this.sent.push(r.message);
    return true;
  }
  /** Messages sent and not yet taken. */
  take(): SipMessage[] {
    const out = this.sent.splice(0);
    this.raw.splice(0);
    return out;
  }
  takeOne(): SipMessage {
    const m = this.sent.shift();
    this.raw.shift();
    if (m === undefined) throw new Error("nothing was sent on this flow");
    return m;
  }
  requests(): SipRequest[] {
    return this.sent.filter((m): m is SipRequest => m.kind === "request");
  }
  responses(): SipResponse[] {
    return this.sent.filter((m): m is SipResponse => m.kind === "response");
  }
}

/** A connection with a trunk (downstream), as the core sees it. */
export class FakeTrunkFlow extends RecordingFlow implements TrunkFlow {
  readonly side = INBOUND;
  constructor(readonly peer: PeerConfig) {
    super("TLS");
  }
}

/** The connection to one upstream target, as the core sees it. */
export class FakeUpstreamFlow extends RecordingFlow implements UpstreamFlow {
  readonly side = OUTBOUND;
  constructor(
    readonly target: UpstreamTarget,
    transport: "TLS" | "TCP" = "TCP",
  ) {
    super(transport);
  }
}

export type FakeFlow = FakeTrunkFlow | FakeUpstreamFlow;

export interface CoreHarnessOptions {
  targets?: number;
  srtp?: boolean;
  route?: RouteFn;
  routeToPeer?: PeerRouteFn;
  peerTargets?: boolean;
  /** Header names trunkgate owns besides X-Trunkgate-* (sip.numberRouting.customHeaderName). */
  ownedHeaders?: string[];
  /** sip.limits.maxDialogs */
  maxDialogs?: number;
  /** sip.timeouts.failoverMs (off by default here: most tests model one slow target). */
  failoverMs?: number;
}

export function makeCore(o: CoreHarnessOptions = {}) {
  const n = o.targets ?? 2;
  const cfg = parseConfig(stringify({
    tls: { certificates: [{ cert: "x", key: "y" }], watch: false },
    peers: [{ name: "dev-trunk", match: { dnsNames: ["dev-trunk.local"] }, sip: { targets: o.peerTargets ? [{ host: "trunk.example.net" }] : [] } }],
    sip: {
      listen: { host: "127.0.0.1", port: 5061 },
      upstreams: [{ name: "svc", targets: Array.from({ length: n }, (_, i) => ({ host: "10.0.0." + (i + 1), port: 5060, transport: "tcp", priority: i })) }],
    },
  }), "core-test");
  const platform = new ManualPlatform();
  const timers = new FifoTimers(platform);
  const registry = new Registry();
  const metrics = new SipMetrics(registry, cfg.peers.map((p) => p.name));
  const logs = new LogLines();
  const logger = createLogger({ level: "info", destination: logs });
  const services = new Map<string, UpstreamService>();
  for (const u of cfg.sip.upstreams) services.set(u.name, new UpstreamService(u, () => 0));
  const service = services.get("svc")!;
  const peers = new Map(cfg.peers.map((p) => [p.name, p] as const));
  const trunk = new FakeTrunkFlow(peers.get("dev-trunk")!);
  const upFlows = new Map<UpstreamTarget, FakeUpstreamFlow>();
  /** Target indexes whose connections fail (every flow to them is closed). */
  const refused = new Set<number>();
  const peerFlows: FakeTrunkFlow[] = [trunk];
  const flows: FlowProvider = {
    toTarget(t) {
      let f = upFlows.get(t);
      if (f === undefined || !f.open) {
        f = new FakeUpstreamFlow(t, "TCP");
        if (refused.has(t.index)) f.open = false;
        upFlows.set(t, f);
      }
      return f;
    },
    toPeer(peer, preferred) {
      const open = peerFlows.filter((f) => f.open && f.peer.name === peer);
      return open.find((f) => f.id === preferred) ?? open[open.length - 1];
    },
    aliasOf(flow) {
      if (flow.side === INBOUND) return peerFlows.find((f) => f.open && f !== flow && f.peer.name === flow.peer.name);
      return undefined;
    },
  };
  const dialogs = new DialogTable(3600_000, (c) => metrics.activeCalls.set(c), o.maxDialogs, () => metrics.dialogsEvicted.inc());
  const identity = new ProxyIdentity("127.0.0.1", 5061, "127.0.0.1");
  const core = new ProxyCore({
    identity,
    timers,
    timing: DEFAULT_TIMING,
    flows,
    services,
    peers,
    route: o.route ?? defaultRoute("svc"),
    routeToPeer: o.routeToPeer ?? defaultPeerRoute(cfg.peers),
    dialogs,
    metrics,
    logger,
    srtpEnforce: o.srtp ?? true,
    retryAfterSeconds: 30,
    logTransactions: true,
    ...(o.ownedHeaders ? { ownedHeaders: o.ownedHeaders } : {}),
    ...(o.failoverMs !== undefined ? { failoverMs: o.failoverMs } : {}),
  });
  const up = (i: number) => flows.toTarget(service.targets[i]!) as FakeUpstreamFlow;
  const fromTrunk = (text: string, flow: FakeTrunkFlow = trunk) => {
    const r = parseMessage(Buffer.from(text, "latin1"));
    if (!r.ok) throw new Error(`test message does not parse: ${r.reason}`);
    if (r.message.kind === "request") core.onRequest(flow, r.message);
    else core.onResponse(flow, r.message);
  };
  const fromUpstream = (i: number, text: string) => {
    const r = parseMessage(Buffer.from(text, "latin1"));
    if (!r.ok) throw new Error(`test message does not parse: ${r.reason}`);
    if (r.message.kind === "request") core.onRequest(up(i), r.message);
    else core.onResponse(up(i), r.message);
  };
  return { refused, core, cfg, platform, timers, registry, metrics, logs, service, services, trunk, peerFlows, up, upFlows, fromTrunk, fromUpstream, dialogs, identity };
}

/** A response to `req` as a UAS would send it (all Vias echoed), as text. */
export function answer(req: SipRequest, status: number, reason: string, o: { toTag?: string; extra?: string[]; body?: string; contentType?: string } = {}): string {
  const lines = [`SIP/2.0 ${status} ${reason}`];
  for (const v of req.viaList) lines.push(`Via: ${v.raw}`);
  lines.push(`From: ${req.from.raw}`);
  lines.push(`To: ${req.to.raw}${req.to.tag === undefined && o.toTag ? `;tag=${o.toTag}` : ""}`);
  lines.push(`Call-ID: ${req.callId}`, `CSeq: ${req.cseq.seq} ${req.cseq.method}`);
  for (const rr of req.getHeaders("record-route") ?? []) lines.push(`Record-Route: ${rr}`);
  lines.push(...(o.extra ?? []));
  const body = o.body ?? "";
  if (body) lines.push(`Content-Type: ${o.contentType ?? "application/sdp"}`);
  lines.push(`Content-Length: ${Buffer.byteLength(body)}`, "", body);
  return lines.join("\r\n");
}
