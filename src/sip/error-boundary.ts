// The SIP error boundary: an exception while handling one framed message (parsing, the proxy
// core, a route function) costs that message alone. It is logged without message content,
// counted in trunkgate_internal_errors_total{component="sip"}, and a request is answered 500
// when it still can be; every other message, connection and call goes on.
import type { Counter } from "prom-client";
import type { Logger } from "../observability/logger.js";
import { buildRawErrorResponse, isResponseStart } from "./proxy/raw-response.js";
import { peerNameOf, upstreamLabelOf, type Flow } from "./transport/flow.js";

/**
 * An error's class and message for logs. Messages are ours or the runtime's and should carry no
 * message content, but a route function's may quote a number: runs of 5+ digits are masked.
 */
export function errorText(err: unknown): string {
  if (!(err instanceof Error)) return typeof err;
  return `${err.name}: ${err.message.slice(0, 300).replace(/\d{5,}/g, "<digits>")}`;
}

export class SipErrorBoundary {
  constructor(
    private readonly counter: Counter<"component">,
    private readonly logger: Logger,
  ) {}

  /** Count an exception another layer caught and answered already (e.g. a route function's). */
  count(): void {
    this.counter.labels("sip").inc();
  }

  /** An exception escaped the handling of `message` (the raw bytes) received on `conn`. */
  messageFailed(conn: Flow, message: Buffer, err: unknown): void {
    this.count();
    const request = !isResponseStart(message);
    this.logger.error(
      { error: errorText(err), stack: err instanceof Error ? stackTop(err) : undefined, peer: peerNameOf(conn), upstream: upstreamLabelOf(conn), request },
      "SIP message handling failed",
    );
    if (!request || isAck(message)) return;
    try {
      const reply = buildRawErrorResponse(message, 500, "Server Internal Error");
      if (reply !== undefined) conn.send(reply);
    } catch {
      // nothing more can be done for this message
    }
  }

  /**
   * A route function that counts its exceptions and rejections here, then passes them on (as a
   * RouteFunctionError whose message is masked like the logs'): the proxy core answers those
   * requests 500 itself, and logs the error.
   */
  routeFn<A extends unknown[], R>(fn: (...args: A) => R | Promise<R>): (...args: A) => R | Promise<R> {
    const onError = (err: unknown): never => {
      this.count();
      throw new RouteFunctionError(errorText(err));
    };
    return (...args: A) => {
      let r: R | Promise<R>;
      try {
        r = fn(...args);
      } catch (err) {
        return onError(err);
      }
      if (r !== null && typeof (r as { then?: unknown }).then === "function") return (r as Promise<R>).then(undefined, onError);
      return r;
    };
  }
}

export class RouteFunctionError extends Error {
  override readonly name = "RouteFunctionError";
}

function isAck(b: Buffer): boolean {
  return b[0] === 65 && b[1] === 67 && b[2] === 75 && b[3] === 32;
}

/** Where it happened (file:line of the first frames): code locations, no data. */
function stackTop(err: Error): string | undefined {
  return err.stack?.split("\n").slice(1, 4).map((l) => l.trim()).join(" | ");
}
