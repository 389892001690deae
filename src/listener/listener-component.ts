// Wraps an mTLS listener and a protocol's connection handler as a Component.
import type { Shared } from "../app.js";
import { type Component, listenError } from "../component.js";
import type { AddressInfo } from "node:net";
import { MtlsListener } from "./mtls-listener.js";

/** A listener component: start = listen (errors name `<name>.listen`), drain = stop accepting. */
export function listenerComponent(
  name: string,
  s: Shared,
  listen: { host: string; port: number },
  onConnection: ConstructorParameters<typeof MtlsListener>[0]["onConnection"],
): { component: Component; listener: MtlsListener } {
  const listener = new MtlsListener({
    name,
    host: listen.host,
    port: listen.port,
    tls: s.tls,
    identity: s.identity,
    metrics: s.metrics,
    logger: s.logger,
    handshakeTimeoutMs: s.config.tls.handshakeTimeoutMs,
    requireClientAuthEku: s.config.tls.requireClientAuthEku,
    perPeerLimit: (p) => p.maxConnections,
    onConnection,
  });
  let up = false;
  let bound: AddressInfo | undefined;
  const component: Component = {
    name,
    async start() {
      bound = await listener.listen().catch((err) => {
        throw listenError(`${name}.listen`, listen.host, listen.port, err);
      });
      up = true;
    },
    ready: () => up,
    address: () => bound,
    async drain() {
      listener.stopAccepting();
    },
    async close() {
      listener.stopAccepting();
      listener.destroyAll();
      up = false;
    },
  };
  return { component, listener };
}
