// Sends HEP packets over UDP to one collector. Fire and forget: a lost or refused datagram costs a
// trace line, never a SIP message; failures are counted, and never thrown at the SIP path.
import { createSocket, type Socket } from "node:dgram";
import { isIPv6 } from "node:net";

export type HepSendResult = "sent" | "send_error";

export class HepExporter {
  readonly #socket: Socket;
  #closed = false;

  constructor(
    private readonly host: string,
    private readonly port: number,
    private readonly onResult: (result: HepSendResult) => void,
  ) {
    this.#socket = createSocket(isIPv6(host) ? "udp6" : "udp4");
    this.#socket.on("error", () => this.onResult("send_error"));
    // Tracing must not keep a draining process alive.
    this.#socket.unref();
  }

  send(packet: Buffer): void {
    if (this.#closed) return;
    this.#socket.send(packet, this.port, this.host, (err) => this.onResult(err ? "send_error" : "sent"));
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#socket.close();
  }
}
