// The admin listener: plain HTTP, loopback by default, for Prometheus and the orchestrator.
// /healthz: the process is alive and its event loop answers. /readyz: every listener is up and
// trunkgate is not draining (a load balancer should stop sending new work).
// Where the metrics and readiness come from is the caller's business: one process's registry and
// components (App), or every cluster worker asked over IPC (src/cluster/primary.ts).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface AdminServerOptions {
  host: string;
  port: number;
  /** The Prometheus exposition text. */
  metrics: () => Promise<string>;
  contentType: string;
  /** What is not ready (empty = ready); each entry is named in the 503 body. */
  notReady: () => string[] | Promise<string[]>;
}

export class AdminServer {
  readonly server: Server;

  constructor(private opts: AdminServerOptions) {
    this.server = createServer((req, res) => void this.#handle(req, res));
    this.server.keepAliveTimeout = 5000;
    this.server.headersTimeout = 10_000;
    this.server.requestTimeout = 15_000;
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? "/").split("?", 1)[0];
    if (req.method !== "GET" && req.method !== "HEAD") return send(res, 405, "method not allowed\n", { Allow: "GET, HEAD" });
    switch (path) {
      case "/metrics": {
        try {
          const body = await this.opts.metrics();
          return send(res, 200, body, { "Content-Type": this.opts.contentType });
        } catch (err) {
          return send(res, 500, `metrics collection failed: ${(err as Error).message}\n`);
        }
      }
      case "/healthz":
        return send(res, 200, "ok\n");
      case "/readyz": {
        let failing: string[];
        try {
          failing = await this.opts.notReady();
        } catch (err) {
          failing = [`readiness check failed: ${(err as Error).message}`];
        }
        return failing.length === 0 ? send(res, 200, "ready\n") : send(res, 503, `not ready: ${failing.join(", ")}\n`);
      }
      default:
        return send(res, 404, "not found\n");
    }
  }

  listen(): Promise<AddressInfo> {
    return new Promise((resolve, reject) => {
      this.server.once("error", reject);
      this.server.listen(this.opts.port, this.opts.host, () => {
        this.server.off("error", reject);
        resolve(this.server.address() as AddressInfo);
      });
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }
}

function send(res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { "Content-Type": "text/plain; charset=utf-8", "Content-Length": Buffer.byteLength(body), ...headers });
  res.end(res.req.method === "HEAD" ? undefined : body);
}
