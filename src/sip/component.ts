// The SIP capability as a Component for the composition root: the mTLS listener (handshake,
// identity, total connection cap) feeding the SIP proxy (which enforces the per-peer caps). In src/components.ts:
//   const sip: ComponentBuilder = async (s) => (s.config.sip.enabled ? sipComponent(s).component : undefined);
// A number-based route (the data layer) plugs in through `opts.route`.
import { readFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { ConfigError } from "../config/load.js";
import { derivedKey } from "../observability/hash.js";
import type { Shared } from "../app.js";
import { type Component, listenError } from "../component.js";
import { MtlsListener } from "../listener/mtls-listener.js";
import type { PeerRouteFn, RouteFn } from "./route/decision.js";
import { createSipProxy, type SipProxy } from "./server.js";
import type { CallObserver } from "./proxy/call-observer.js";
import { warmUpSipPath } from "./warm-up.js";

export interface SipComponentOptions {
  route?: RouteFn;
  routeToPeer?: PeerRouteFn;
  calls?: CallObserver;
}

export function sipComponent(
  s: Pick<Shared, "config" | "logger" | "metrics" | "tls" | "identity">,
  opts: SipComponentOptions = {},
): { component: Component; proxy: SipProxy; listener: MtlsListener } {
  const cfg = s.config.sip;
  // Every worker of an instance must accept the others' Record-Route hints (a trunk that reconnects
  // lands on any worker): by default the key derives from the log hash key, which they share.
  const routeKey = cfg.routeKeyFile !== undefined ? readRouteKey(cfg.routeKeyFile) : derivedKey("trunkgate sip route key");
  const proxy = createSipProxy({
    config: cfg,
    peers: s.config.peers,
    tls: s.tls,
    logger: s.logger,
    registry: s.metrics.registry,
    ...(opts.route ? { route: opts.route } : {}),
    ...(opts.routeToPeer ? { routeToPeer: opts.routeToPeer } : {}),
    ...(opts.calls ? { calls: opts.calls } : {}),
    routeKey,
  });
  const listener = new MtlsListener({
    name: "sip",
    host: cfg.listen.host,
    port: cfg.listen.port,
    tls: s.tls,
    identity: s.identity,
    metrics: s.metrics,
    logger: s.logger,
    handshakeTimeoutMs: s.config.tls.handshakeTimeoutMs,
    requireClientAuthEku: s.config.tls.requireClientAuthEku,
    maxConnections: cfg.limits.maxConnectionsTotal,
    // No per-peer limit here: the SIP proxy enforces peers[].maxConnections itself, making room
    // for a peer's new connection by closing a silent or idle one of the same peer.
    onConnection: ({ socket, peer }) => proxy.handleConnection(socket, peer),
  });
  let bound: AddressInfo | undefined;
  const component: Component = {
    name: "sip",
    async start() {
      // Before the port opens: no call waits behind the warm-up (its cost shows as start-up time).
      if (cfg.warmUpCalls > 0) {
        const cpu = process.cpuUsage();
        const warm = warmUpSipPath(cfg.warmUpCalls);
        const used = process.cpuUsage(cpu);
        const fields = { calls: cfg.warmUpCalls, ...warm, cpuMs: Math.round((used.user + used.system) / 1000) };
        if (warm.failures > 0) s.logger.warn(fields, "SIP warm-up: some synthetic messages failed (start goes on)");
        else s.logger.info(fields, "SIP path warmed up");
      }
      bound = await listener.listen().catch((err) => {
        throw listenError("sip.listen", cfg.listen.host, cfg.listen.port, err);
      });
      proxy.start(bound.port);
    },
    ready: () => proxy.ready(),
    address: () => bound,
    async drain(deadline: number) {
      listener.stopAccepting();
      await proxy.drain(deadline);
    },
    async close() {
      listener.stopAccepting();
      proxy.close();
      listener.destroyAll();
    },
    reloadConfig(next) {
      proxy.admission.reconfigure(next.sip.admission, next.peers);
      s.logger.info({ admission: next.sip.admission }, "admission limits applied (sip.admission, peers[].admission)");
    },
  };
  return { component, proxy, listener };
}

/** sip.routeKeyFile's bytes (surrounding whitespace dropped); a config error naming the key otherwise. */
function readRouteKey(path: string): Buffer {
  let key: Buffer;
  try {
    key = Buffer.from(readFileSync(path, "latin1").trim(), "latin1");
  } catch (err) {
    throw new ConfigError([`sip.routeKeyFile: cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`], path);
  }
  if (key.length < 16) throw new ConfigError([`sip.routeKeyFile: ${path} holds ${key.length} bytes, at least 16 are needed`], path);
  return key;
}
