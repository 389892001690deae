// Runs `openssl s_client` (a real, independent TLS peer) against a listener, bounded in time.
import { spawn } from "node:child_process";
import { patience } from "./time.js";

export interface SClientResult {
  code: number | null;
  out: string;
  /** "Protocol version: TLSv1.3" and "Ciphersuite: ..." from -brief output, when the handshake completed. */
  protocol?: string;
  cipher?: string;
}

/**
 * holdOpen keeps s_client's stdin open until the server closes the connection (to see a refusal
 * that comes after the handshake, as TLS 1.3 client-certificate checks do); else stdin ends at once.
 */
export function sClient(
  port: number,
  args: string[],
  opts: { input?: string; timeoutMs?: number; holdOpen?: boolean } = {},
): Promise<SClientResult> {
  return new Promise((resolve, reject) => {
    const child = spawn("openssl", ["s_client", "-connect", `127.0.0.1:${port}`, "-brief", ...args], {
      stdio: ["pipe", "pipe", "pipe"],
    });
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (out += d.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), patience(opts.timeoutMs ?? 10_000));
    child.on("error", (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      const protocol = /Protocol version: (\S+)/.exec(out)?.[1];
      const cipher = /Ciphersuite: (\S+)/.exec(out)?.[1];
      resolve({ code, out, ...(protocol ? { protocol } : {}), ...(cipher ? { cipher } : {}) });
    });
    if (opts.holdOpen) child.stdin.write(opts.input ?? "");
    else child.stdin.end(opts.input ?? "");
  });
}

/** Polls a condition until true or the deadline; for effects seen only through another process. */
export async function waitFor(cond: () => boolean | Promise<boolean>, timeoutMs = 5000, what = "condition"): Promise<void> {
  const limit = patience(timeoutMs);
  const deadline = Date.now() + limit;
  for (;;) {
    if (await cond()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${limit} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
