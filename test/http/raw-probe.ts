// A raw HTTP/1.1 client over mutual TLS that reports what a proxy did with a hand-written request:
// the status of its first answer and whether the connection stayed usable afterwards. "Usable" is
// decided by an event, never by a sleep: once the first answer is complete a probe request is
// written; either its answer arrives on the same connection (kept) or the connection closes.
import { within } from "../helpers/http-harness.js";
import { connectTestClient } from "../helpers/raw-tls.js";
import type { TestPki } from "../helpers/pki.js";

export interface ProbeOutcome {
  /** Status of the first answer (0: none before the close). */
  status: number;
  /** Whether the connection closed instead of answering the probe. */
  closed: boolean;
  /** Status of the probe's answer on the same connection (0: none). */
  probeStatus: number;
  /** Everything the server sent (latin1). */
  raw: string;
}

const PROBE = "GET /probe HTTP/1.1\r\nHost: probe.example\r\n\r\n";

/** One complete HTTP/1.1 response at the start of `s` (Content-Length or chunked), or undefined. */
export function firstResponse(s: string): { status: number; length: number } | undefined {
  const end = s.indexOf("\r\n\r\n");
  if (end < 0) return undefined;
  const head = s.slice(0, end);
  const m = /^HTTP\/1\.[01] (\d{3})/.exec(head);
  if (!m) return undefined;
  if (/\r\ntransfer-encoding: *chunked/i.test(head)) {
    // Good enough for the echo upstream's JSON bodies: the last chunk ends the response. Searched
    // from the head's final CRLF so an empty chunked body ("0\r\n\r\n" right after the head, as
    // Node's own 400 for a missing Host is sent) is seen too.
    const last = s.indexOf("\r\n0\r\n\r\n", end + 2);
    return last < 0 ? undefined : { status: Number(m[1]), length: last + 7 };
  }
  const cl = /\r\ncontent-length: *(\d+)/i.exec(head);
  const length = end + 4 + (cl ? Number(cl[1]) : 0);
  if (s.length < length) return undefined;
  return { status: Number(m[1]), length };
}

export function rawProbe(pki: TestPki, port: number, request: string | Buffer, timeoutMs = 15_000): Promise<ProbeOutcome> {
  return within(
    new Promise<ProbeOutcome>((resolve) => {
      const s = connectTestClient(pki, port);
      let got = "";
      let first: { status: number; length: number } | undefined;
      let probeStatus = 0;
      const finish = (closed: boolean) => {
        s.destroy();
        resolve({ status: first?.status ?? 0, closed, probeStatus, raw: got });
      };
      s.on("secureConnect", () => s.write(request));
      s.on("data", (d: Buffer) => {
        got += d.toString("latin1");
        if (!first) {
          first = firstResponse(got);
          if (first && !first.status.toString().startsWith("1")) s.write(PROBE, () => undefined);
          else if (first) {
            // An interim 100 Continue: the final answer follows.
            got = got.slice(first.length);
            first = undefined;
          }
        }
        if (first && !probeStatus) {
          const second = firstResponse(got.slice(first.length));
          if (second) {
            probeStatus = second.status;
            finish(false);
          }
        }
      });
      s.on("close", () => finish(true));
      s.on("error", () => undefined); // a reset after the answer is a close
    }),
    timeoutMs,
    "raw probe",
  );
}
