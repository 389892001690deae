// trunkgate's own pooled HTTP/1.1 client for http.upstream.url (http.upstream.client: lean): up to
// http.upstream.maxConnections keep-alive connections (upstream-connection.ts), the most recently
// used idle one first (it is the least likely to have timed out), requests queued in order beyond
// that. For https the TLS context is built once per client from trunkgate's client certificate, the
// trust store and the TLS policy, and the last TLS session is offered again (resumption).
import { isIP } from "node:net";
import { createSecureContext } from "node:tls";
import type { HttpConfig } from "../config/schema/index.js";
import type { TlsContextProvider } from "../tls/context-provider.js";
import { type ConnectionOwner, UpstreamConnection } from "./upstream-connection.js";
import type { ConnectionOptions } from "./upstream-socket.js";
import { PendingRequest, type RequestCarrier } from "./upstream-request.js";
import { type UpstreamClient, UpstreamError, type UpstreamHandler, type UpstreamRequest } from "./upstream-types.js";

export class LeanUpstreamClient implements UpstreamClient, ConnectionOwner, RequestCarrier {
  readonly options: ConnectionOptions;
  tlsSession: Buffer | undefined;
  readonly #max: number;
  readonly #all = new Set<UpstreamConnection>();
  /** Idle connections, most recently used last. */
  readonly #idle: UpstreamConnection[] = [];
  /**
   * Connections that just finished a response: they read what the upstream may still have sent
   * (stray bytes, a FIN, a reset) for one event-loop turn before carrying another request, as
   * undici does since GHSA-35p6-xmwp-9g52 (a response body or a close already on its way must not
   * be taken for the next request's answer).
   */
  #settling = 0;
  readonly #queue: PendingRequest[] = [];
  /** Connections still connecting (each opened for a queued request). */
  readonly #connecting = new Set<UpstreamConnection>();
  #closing = false;
  #destroyed = false;
  #onDrained: (() => void) | undefined;

  constructor(url: URL, cfg: HttpConfig, tls: TlsContextProvider) {
    const host = url.hostname.startsWith("[") ? url.hostname.slice(1, -1) : url.hostname;
    const https = url.protocol === "https:";
    const t = cfg.timeouts;
    this.#max = cfg.upstream.maxConnections;
    this.options = {
      host,
      port: Number(url.port) || (https ? 443 : 80),
      // rejectUnauthorized is set per connection; the policy (versions, ciphers, groups) is in here.
      secureContext: https ? createSecureContext(tls.clientOptions()) : undefined,
      servername: https && isIP(host) === 0 ? host : undefined,
      connectMs: t.upstreamConnectMs,
      responseMs: t.upstreamResponseMs,
      bodyIdleMs: t.upstreamBodyIdleMs,
      keepAliveMs: cfg.upstream.keepAliveTimeoutMs,
      limits: { maxHeaderBytes: cfg.limits.maxHeaderBytes, maxHeaders: cfg.limits.maxHeaders },
    };
  }

  dispatch(req: UpstreamRequest, handler: UpstreamHandler): void {
    const p = new PendingRequest(req, handler);
    p.carrier = this;
    handler.onRequestStart(p, undefined);
    if (p.aborted) return;
    if (this.#closing || this.#destroyed) return p.fail(new UpstreamError("TRUNKGATE_UPSTREAM_CLOSED", "upstream client closed"));
    if (p.head === undefined) return p.fail(new UpstreamError("TRUNKGATE_UPSTREAM_INVALID_REQUEST", "request not writable as HTTP/1.1"));
    this.#queue.push(p);
    this.#pump();
  }

  /** Hands queued requests to idle connections, opening new ones up to the cap. */
  #pump(): void {
    const q = this.#queue;
    while (q.length > 0 && !this.#destroyed) {
      const c = this.#idle.pop();
      if (c !== undefined) {
        const p = q.shift()!;
        if (p.aborted) this.#idle.push(c); // (aborted requests leave the queue at once; defensive)
        else if (c.usable) c.start(p);
        else q.unshift(p);
        continue;
      }
      if (this.#connecting.size + this.#settling < q.length && this.#all.size < this.#max) {
        const c = new UpstreamConnection(this);
        this.#connecting.add(c);
        this.#all.add(c);
        continue;
      }
      break;
    }
  }

  // --- ConnectionOwner -------------------------------------------------------------------------

  connected(c: UpstreamConnection): void {
    this.#connecting.delete(c);
    this.released(c, false);
  }

  connectFailed(c: UpstreamConnection, err: Error): void {
    this.#connecting.delete(c);
    this.#all.delete(c);
    // The request that waits longest gets the failure; the others keep their turn (and may open
    // a connection of their own).
    this.#queue.shift()?.fail(err);
    this.#pump();
    this.#checkDrained();
  }

  released(c: UpstreamConnection, settle: boolean): void {
    if (this.#closing && this.#queue.length === 0) return c.destroy();
    c.idle();
    if (!settle) return this.#settled(c);
    this.#settling++;
    setImmediate(() => {
      this.#settling--;
      this.#settled(c);
    });
  }

  #settled(c: UpstreamConnection): void {
    if (!c.usable) return; // it closed meanwhile (closed() has run)
    if (this.#destroyed || (this.#closing && this.#queue.length === 0)) return c.destroy();
    this.#idle.push(c);
    this.#pump();
  }

  closed(c: UpstreamConnection): void {
    this.#connecting.delete(c);
    this.#all.delete(c);
    const i = this.#idle.indexOf(c);
    if (i >= 0) this.#idle.splice(i, 1);
    this.#pump();
    this.#checkDrained();
  }

  retry(p: PendingRequest): void {
    if (this.#destroyed) return p.fail(new UpstreamError("TRUNKGATE_UPSTREAM_CLOSED", "upstream client closed"));
    p.carrier = this;
    this.#queue.unshift(p);
    this.#pump();
  }

  // --- RequestCarrier: a request still waiting in the queue ---------------------------------------

  abortRequest(p: PendingRequest): void {
    const i = this.#queue.indexOf(p);
    if (i >= 0) this.#queue.splice(i, 1);
    this.#checkDrained();
  }

  pauseReading(): void {}

  resumeReading(): void {}

  // --- lifecycle ---------------------------------------------------------------------------------

  close(): Promise<void> {
    this.#closing = true;
    for (const c of this.#idle.splice(0)) c.destroy();
    return new Promise((resolve) => {
      this.#onDrained = resolve;
      this.#checkDrained();
    });
  }

  destroy(): Promise<void> {
    this.#destroyed = true;
    const err = new UpstreamError("TRUNKGATE_UPSTREAM_CLOSED", "upstream client destroyed");
    for (const p of this.#queue.splice(0)) p.fail(err);
    for (const c of [...this.#all]) c.destroy();
    this.#idle.length = 0;
    return new Promise((resolve) => {
      this.#onDrained = resolve;
      this.#checkDrained();
    });
  }

  #checkDrained(): void {
    if (!this.#onDrained || this.#all.size > 0 || this.#queue.length > 0) return;
    const done = this.#onDrained;
    this.#onDrained = undefined;
    done();
  }
}
