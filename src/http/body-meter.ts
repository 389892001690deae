// The request body on its way upstream: counted (access log), capped (413 even without or
// with a lying Content-Length) and watched for stalls (408). A Transform keeps streams' own
// backpressure: the upstream reading slowly slows the client down, nothing piles up here.
import { Transform, type TransformCallback } from "node:stream";

export class BodyTooLargeError extends Error {
  readonly code = "TRUNKGATE_BODY_TOO_LARGE";
  constructor() {
    super("request body exceeds http.limits.maxBodyBytes");
  }
}

export class BodyIdleTimeoutError extends Error {
  readonly code = "TRUNKGATE_BODY_IDLE_TIMEOUT";
  constructor() {
    super("request body stalled longer than http.timeouts.bodyIdleMs");
  }
}

export class BodyMeter extends Transform {
  bytes = 0;
  #timer: NodeJS.Timeout;

  /** maxBytes 0 = no cap. */
  constructor(private readonly maxBytes: number, idleMs: number) {
    super();
    this.#timer = setTimeout(() => this.#onIdle(), idleMs);
    this.#timer.unref();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.bytes += chunk.length;
    if (this.maxBytes > 0 && this.bytes > this.maxBytes) return cb(new BodyTooLargeError());
    this.#timer.refresh();
    cb(null, chunk);
  }

  /** A stall because the upstream is not reading is not the client's: keep waiting. */
  #onIdle(): void {
    if (this.readableLength >= this.readableHighWaterMark) this.#timer.refresh();
    else this.destroy(new BodyIdleTimeoutError());
  }

  override _flush(cb: TransformCallback): void {
    clearTimeout(this.#timer);
    cb();
  }

  override _destroy(err: Error | null, cb: (error?: Error | null) => void): void {
    clearTimeout(this.#timer);
    cb(err);
  }
}
