// The lean engine's request and response objects: the few members of Node's IncomingMessage and
// ServerResponse that the Exchange uses, without the streams, header maps and per-request
// listeners behind them. The response frames its body itself (the upstream's Content-Length, else
// chunked on HTTP/1.1, else close-delimited) and coalesces head and first bytes with cork().
import { EventEmitter } from "node:events";
import { STATUS_CODES } from "node:http";
import type { TLSSocket } from "node:tls";
import type { BodyMeter } from "./body-meter.js";

/** What the connection does for its current request's body and response. */
export interface MessageOwner {
  bodyTo(meter: BodyMeter): void;
  discardBody(): void;
  responseEnded(res: LeanResponse): void;
}

/** Shared and never written to: requests without an X-Request-Id allocate no header object. */
const NO_HEADERS: Readonly<Record<string, string>> = Object.freeze({});

export class LeanRequest {
  readonly httpVersionMajor: number;
  readonly httpVersion: string;
  readonly headers: Readonly<Record<string, string>>;
  /** The whole body was received (always true without one). */
  complete: boolean;

  constructor(
    private readonly owner: MessageOwner,
    readonly socket: TLSSocket,
    readonly method: string,
    readonly url: string,
    major: number,
    minor: number,
    readonly rawHeaders: string[],
    requestId: string | undefined,
    hasBody: boolean,
  ) {
    this.httpVersionMajor = major;
    this.httpVersion = major === 1 && minor === 1 ? "1.1" : `${major}.${minor}`;
    this.headers = requestId === undefined ? NO_HEADERS : { "x-request-id": requestId };
    this.complete = !hasBody;
  }

  /** The body goes into the meter as it arrives, with the meter's backpressure. */
  bodyTo(meter: BodyMeter): void {
    this.owner.bodyTo(meter);
  }

  /** Whatever is left of the body is read and dropped (the answer did not need it). */
  resume(): void {
    this.owner.discardBody();
  }
}

/** Date header, made once a second (as Node does). */
let dateAt = 0;
let dateValue = "";
function httpDate(): string {
  const now = Date.now();
  if (now - dateAt >= 1_000) {
    dateAt = now - (now % 1_000);
    dateValue = new Date(dateAt).toUTCString();
  }
  return dateValue;
}

/** A CR, LF or NUL in a header would split or cut the response head. */
const UNSAFE_HEADER_TEXT = /[\r\n\0]/;

function headerLine(name: string, value: string): string {
  if (UNSAFE_HEADER_TEXT.test(value) || UNSAFE_HEADER_TEXT.test(name)) throw new Error("invalid response header");
  return `${name}: ${value}\r\n`;
}

const LAST_CHUNK = "0\r\n\r\n";

export class LeanResponse extends EventEmitter {
  statusCode = 200;
  headersSent = false;
  writableEnded = false;
  writableFinished = false;
  /** The connection closes after this response (client asked, HTTP/1.0, error, drain, close-delimited). */
  closeAfter: boolean;
  #chunked = false;
  #noBody: boolean;

  constructor(
    private readonly owner: MessageOwner,
    private readonly socket: TLSSocket,
    private readonly versionMinor: number,
    keepAlive: boolean,
    isHead: boolean,
  ) {
    super();
    this.closeAfter = !keepAlive;
    this.#noBody = isHead;
  }

  get destroyed(): boolean {
    return this.socket.destroyed;
  }

  writeHead(status: number, headers: Readonly<Record<string, string | number | string[]>>): this {
    if (this.headersSent) throw new Error("response head already sent");
    let head = `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? "Unknown"}\r\n`;
    let hasLength = false;
    let hasDate = false;
    for (const name in headers) {
      const v = headers[name]!;
      if (name === "connection") {
        if (v === "close") this.closeAfter = true;
        continue;
      }
      if (name === "content-length") hasLength = true;
      else if (name === "date") hasDate = true;
      if (Array.isArray(v)) for (const x of v) head += headerLine(name, x);
      else head += headerLine(name, typeof v === "number" ? String(v) : v);
    }
    if (status < 200 || status === 204 || status === 304) this.#noBody = true;
    if (!this.#noBody && !hasLength) {
      if (this.versionMinor >= 1) {
        this.#chunked = true;
        head += "transfer-encoding: chunked\r\n";
      } else this.closeAfter = true; // HTTP/1.0: the close ends the body
    }
    if (!hasDate) head += `date: ${httpDate()}\r\n`;
    if (this.closeAfter) head += "connection: close\r\n";
    else if (this.versionMinor === 0) head += "connection: keep-alive\r\n";
    head += "\r\n";
    this.statusCode = status;
    this.headersSent = true;
    // Head and first body bytes leave in one TLS record when they come in the same tick.
    this.socket.cork();
    this.socket.write(head, "latin1");
    process.nextTick(uncork, this.socket);
    return this;
  }

  write(chunk: Buffer): boolean {
    if (this.#noBody || chunk.length === 0) return true;
    const s = this.socket;
    if (!this.#chunked) return s.write(chunk);
    s.cork();
    s.write(`${chunk.length.toString(16)}\r\n`, "latin1");
    s.write(chunk);
    const ok = s.write("\r\n", "latin1");
    s.uncork();
    return ok;
  }

  end(data?: string | Buffer): this {
    if (this.writableEnded) return this;
    if (!this.headersSent) this.writeHead(this.statusCode, {});
    if (data !== undefined) this.write(typeof data === "string" ? Buffer.from(data) : data);
    if (this.#chunked && !this.#noBody) this.socket.write(LAST_CHUNK, "latin1");
    this.writableEnded = true;
    this.writableFinished = !this.socket.destroyed;
    this.owner.responseEnded(this);
    return this;
  }

  /** A cut response on HTTP/1.1 can only be signalled by closing the connection. */
  destroy(): void {
    this.socket.destroy();
  }
}

function uncork(socket: TLSSocket): void {
  socket.uncork();
}
