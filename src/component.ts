import type { AddressInfo } from "node:net";
import type { Config } from "./config/schema/index.js";

// What the composition root needs from each capability (SIP proxy, HTTP proxy, provisioning API):
// start listening, say whether it is ready, drain work in flight by a deadline, and close.
export interface Component {
  readonly name: string;
  start(): Promise<void>;
  ready(): boolean;
  /** Stop taking new work and finish what is in flight, by the deadline (ms since epoch). */
  drain(deadline: number): Promise<void>;
  close(): Promise<void>;
  /** The bound address once started (port 0 in tests resolves here). */
  address(): AddressInfo | undefined;
  /** SIGHUP with a valid new config: apply the keys this component takes live (src/config/live-reload.ts). */
  reloadConfig?(next: Config): void;
}

export class StartupError extends Error {
  constructor(readonly key: string, detail: string) {
    super(`${key}: ${detail}`);
    this.name = "StartupError";
  }
}

/** Turns a listen() failure into an error naming the config key (port in use, bad address). */
export function listenError(key: string, host: string, port: number, err: unknown): StartupError {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === "EADDRINUSE") return new StartupError(key, `port ${port} on ${host} is already in use`);
  if (code === "EACCES") return new StartupError(key, `not allowed to listen on ${host}:${port} (privileged port?)`);
  if (code === "EADDRNOTAVAIL" || code === "ENOTFOUND") return new StartupError(key, `address ${host} is not available here`);
  return new StartupError(key, `cannot listen on ${host}:${port}: ${(err as Error).message}`);
}
