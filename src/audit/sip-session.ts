// SIP over one TLS connection, for the audit: send a request, wait (bounded) for the responses
// of its transaction. Framing and parsing are the proxy's own (one reading of the wire format);
// the connection's end, with the TLS alert that ended it, is reported as data.
import type { TLSSocket } from "node:tls";
import { parseMessage, type SipResponse } from "../sip/parse/message.js";
import { SipStreamFramer } from "../sip/transport/framing.js";
import { describeTlsError } from "./tls-probe.js";

/** How long a closing session waits for its last writes to drain before it drops the connection. */
const CLOSE_GRACE_MS = 5_000;

export type WaitOutcome =
  | { kind: "response"; response: SipResponse }
  | { kind: "closed"; reason: string }
  | { kind: "timeout" };

export class SipSession {
  readonly #socket: TLSSocket;
  readonly #framer = new SipStreamFramer();
  readonly #responses: SipResponse[] = [];
  #closed: string | undefined;
  #wake: (() => void) | undefined;

  constructor(socket: TLSSocket) {
    this.#socket = socket;
    socket.on("data", (chunk: Buffer) => {
      for (const ev of this.#framer.push(chunk)) {
        if (ev.type === "ping") socket.write("\r\n");
        else if (ev.type === "message") {
          const r = parseMessage(ev.message);
          // Requests toward the auditor (e.g. an OPTIONS keepalive) are not ours to answer.
          if (r.ok && r.message.kind === "response") this.#responses.push(r.message);
        } else if (ev.error.fatal) this.#end(`unframeable data (${ev.error.code})`);
      }
      this.#wake?.();
    });
    socket.on("error", (err: NodeJS.ErrnoException) => this.#end(describeTlsError(err)));
    socket.on("close", () => this.#end("connection closed"));
  }

  get localAddress(): string {
    return this.#socket.localAddress ?? "127.0.0.1";
  }

  get localPort(): number {
    return this.#socket.localPort ?? 0;
  }

  #end(reason: string): void {
    this.#closed ??= reason;
    this.#wake?.();
  }

  send(message: Buffer): void {
    if (this.#closed === undefined) this.#socket.write(message);
  }

  /** The next response for (Call-ID, CSeq method) that `accept` takes, within timeoutMs. */
  async next(callId: string, method: string, timeoutMs: number, accept: (r: SipResponse) => boolean = () => true): Promise<WaitOutcome> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const i = this.#responses.findIndex((r) => r.callId === callId && r.cseq.method === method && accept(r));
      if (i >= 0) return { kind: "response", response: this.#responses.splice(i, 1)[0]! };
      if (this.#closed !== undefined) return { kind: "closed", reason: this.#closed };
      const left = deadline - Date.now();
      if (left <= 0) return { kind: "timeout" };
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#wake = () => {
          clearTimeout(timer);
          this.#wake = undefined;
          resolve();
        };
      });
    }
  }

  /**
   * Hangs up after everything sent so far: the last message is often the ACK for the test INVITE's
   * final answer, and destroy() right after end() dropped writes still queued (a loaded machine, a
   * carrier slow to read: the carrier never saw its ACK). A peer that stops reading cannot hold
   * the audit open: the socket is destroyed after CLOSE_GRACE_MS regardless.
   */
  close(): void {
    const socket = this.#socket;
    if (socket.destroyed) return;
    socket.end();
    const timer = setTimeout(() => socket.destroy(), CLOSE_GRACE_MS);
    timer.unref();
    socket.once("close", () => clearTimeout(timer));
  }
}
