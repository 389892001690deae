// The HTTPS reverse proxy as a Component of the composition root.
import type { AddressInfo } from "node:net";
import type { Shared } from "../app.js";
import { type Component, listenError } from "../component.js";
import { createHttpProxy } from "./server.js";

export function httpComponent(s: Shared): Component {
  const proxy = createHttpProxy(s);
  const { host, port } = s.config.http.listen;
  let bound: AddressInfo | undefined;
  return {
    name: "http",
    async start() {
      bound = await proxy.start().catch((err) => {
        throw listenError("http.listen", host, port, err);
      });
    },
    ready: () => bound !== undefined,
    address: () => bound,
    drain: (deadline) => proxy.drain(Math.max(0, deadline - Date.now())),
    async close() {
      await proxy.close();
      bound = undefined;
    },
  };
}
