// The HTTPS reverse proxy (src/http/). Defaults follow what nginx and Envoy do for the same job;
// docs/http-proxy.md has the table with the reasoning for each.
import { z } from "zod";
import { listen } from "./common.js";

const ms = (def: number) => z.number().int().positive().default(def);

/** host or host:port, as a Host header may carry it (no userinfo, path, spaces or control chars). */
const HOST_LITERAL = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(:[0-9]{1,5})?$/;

export const httpSchema = z
  .strictObject({
    enabled: z.boolean().default(true),
    /**
     * HTTP/1.1 downstream engine: "lean" (trunkgate's own parser and response writer, fewer
     * objects per request) or "node" (Node's HTTP server). HTTP/2 is Node's either way.
     */
    engine: z.enum(["lean", "node"]).default("lean"),
    listen: listen("0.0.0.0", 8443),
    upstream: z
      .strictObject({
        /** http:// or https://; a path (e.g. /api) is prefixed to every request path. */
        url: z
          .url({ protocol: /^https?$/ })
          .refine((u) => !u.includes("?") && !u.includes("#"), { message: "no query or fragment allowed" })
          .refine((u) => !/^https?:\/\/[^/]*@/.test(u), { message: "no user:password@ allowed" })
          .default("http://127.0.0.1:8080"),
        /**
         * Host header toward the upstream: "upstream" (host[:port] of url, nginx's default),
         * "preserve" (the client's, Envoy's default), or a literal host[:port].
         */
        host: z
          .union([z.enum(["preserve", "upstream"]), z.string().regex(HOST_LITERAL, "preserve, upstream or host[:port]")])
          .default("upstream"),
        /**
         * HTTP/1.1 client toward the upstream: "lean" (trunkgate's own, fewer objects per request)
         * or "undici". WebSocket upgrades go through undici either way.
         */
        client: z.enum(["lean", "undici"]).default("lean"),
        /** Pooled keep-alive connections to the upstream (beyond it requests queue). */
        maxConnections: z.number().int().positive().max(65535).default(256),
        /** Idle upstream connection kept this long unless the upstream's Keep-Alive says shorter. */
        keepAliveTimeoutMs: ms(4_000),
      })
      .prefault({}),
    /**
     * X-Forwarded-For / Forwarded from the client: "append" our view of the client address to the
     * chain the (authenticated) peer sent, as nginx's $proxy_add_x_forwarded_for; "replace" drops
     * what the peer sent.
     */
    forwardedChain: z.enum(["append", "replace"]).default("append"),
    limits: z
      .strictObject({
        /** Request line + header section (HTTP/1.1), or the HPACK-decoded header list (HTTP/2). */
        maxHeaderBytes: z.number().int().min(1024).max(1024 * 1024).default(16_384),
        maxHeaders: z.number().int().min(8).max(1000).default(100),
        /** Request body cap (413), counted while streaming; 0 = no cap. */
        maxBodyBytes: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).default(10 * 1024 * 1024),
        maxConnections: z.number().int().positive().default(10_000),
        /** HTTP/2 SETTINGS_MAX_CONCURRENT_STREAMS per connection. */
        maxConcurrentStreams: z.number().int().positive().max(1000).default(100),
      })
      .prefault({}),
    timeouts: z
      .strictObject({
        /** Whole request header section must arrive within this (slowloris): 408. */
        headersMs: ms(30_000),
        /** Longest pause between two chunks of a request body: 408. */
        bodyIdleMs: ms(60_000),
        /** Idle client connection (HTTP/1.1 keep-alive between requests, HTTP/2 session). */
        keepAliveMs: ms(75_000),
        upstreamConnectMs: ms(5_000),
        /** From the request sent to the upstream's response headers: 504. */
        upstreamResponseMs: ms(60_000),
        /** Longest pause between two chunks of the upstream's response body (then reset). */
        upstreamBodyIdleMs: ms(60_000),
      })
      .prefault({}),
  })
  .prefault({});
export type HttpConfig = z.infer<typeof httpSchema>;
