// Runs the real openssl CLI (the reference these tests compare against), bounded by a timeout.
import { execFile } from "node:child_process";

export interface OpensslResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function openssl(args: string[], input?: Buffer | string): Promise<OpensslResult> {
  return new Promise((resolve, reject) => {
    const child = execFile("openssl", args, { timeout: 15_000, encoding: "buffer" }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === "number" ? err.code : -1) : 0;
      if (err && code === -1) return reject(err);
      resolve({ code, stdout: stdout.toString("latin1"), stderr: stderr.toString("utf8") });
    });
    if (input !== undefined) child.stdin?.end(input);
  });
}

/** Raw bytes of stdout (for binary output such as a digest). */
export function opensslBinary(args: string[], input: Buffer | string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = execFile("openssl", args, { timeout: 15_000, encoding: "buffer" }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`openssl ${args.join(" ")}: ${stderr.toString()}`));
      resolve(stdout);
    });
    child.stdin?.end(input);
  });
}

/** `openssl verify`, returning whether it said OK and its full output for assertions. */
export async function opensslVerify(certPath: string, extra: string[]): Promise<{ ok: boolean; output: string }> {
  const r = await openssl(["verify", ...extra, certPath]);
  return { ok: r.code === 0 && /: OK\s*$/.test(r.stdout), output: r.stdout + r.stderr };
}
