// curl as a real outside HTTP client (HTTP/1.1 and h2 with ALPN, 100-continue, its own TLS stack),
// presenting a test client certificate. Spawns a process: a test importing this is an integration
// test (test/run-suite.mjs).
import { execFile } from "node:child_process";
import type { CertFiles, TestPki } from "./pki.js";
import { patience } from "./time.js";

export interface CurlResult {
  code: number | null;
  status: number;
  httpVersion: string;
  headers: Record<string, string>;
  body: string;
  stderr: string;
}

/** curl with the test client certificate (unless `cert: null`); bounded by --max-time. */
export function curl(pki: TestPki, url: string, args: string[] = [], cert: CertFiles | null = pki.client): Promise<CurlResult> {
  const certArgs = cert ? ["--cert", cert.certPath, "--key", cert.keyPath] : [];
  // --max-time bounds the transfer, the process timeout only a curl that hangs regardless.
  const all = ["-sS", "--max-time", String(Math.ceil(patience(20_000) / 1000)), "--cacert", pki.ca.certPath, ...certArgs, "-D", "-", ...args, url];
  return new Promise((resolve) => {
    execFile("curl", all, { maxBuffer: 64 * 1024 * 1024, timeout: patience(30_000) + 5_000 }, (err, stdout, stderr) => {
      const code = err ? ((err as { code?: number }).code ?? 1) : 0;
      // Headers (possibly after a 100 Continue block), blank line, body.
      let rest = stdout;
      let head = "";
      for (;;) {
        const i = rest.indexOf("\r\n\r\n");
        if (i < 0) break;
        head = rest.slice(0, i);
        rest = rest.slice(i + 4);
        if (!/^HTTP\/\S+ 1\d\d/.test(head)) break;
      }
      const lines = head.split("\r\n");
      const m = /^HTTP\/(\S+) (\d{3})/.exec(lines[0] ?? "");
      const headers: Record<string, string> = {};
      for (const l of lines.slice(1)) {
        const c = l.indexOf(":");
        if (c > 0) headers[l.slice(0, c).toLowerCase()] = l.slice(c + 1).trim();
      }
      resolve({ code: code as number, status: m ? Number(m[2]) : 0, httpVersion: m?.[1] ?? "", headers, body: rest, stderr });
    });
  });
}
