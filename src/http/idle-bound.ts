// The idle bound of a downstream connection, on progress rather than on bytes: a connection with
// no request in flight whose last request started or ended more than http.timeouts.keepAliveMs
// ago is closed, whatever it sends meanwhile. Node's own keep-alive timer (HTTP/1.1) and an
// HTTP/2 session timeout are reset by any byte, so a CRLF or a PING every few seconds held a
// peer's connection slot for ever. One timer per connection, re-armed when it fires (never per
// request: requests only write a timestamp).
import type { ServerHttp2Session } from "node:http2";
import type { TLSSocket } from "node:tls";
import type { ConnectionInfo } from "./connection-info.js";

/** An HTTP/2 session closed gracefully (GOAWAY) is destroyed after this if the client lingers. */
const GOAWAY_GRACE_MS = 2_000;

export interface IdleBoundOptions {
  keepAliveMs: number;
  /** Counts one connection closed by the bound. */
  onIdleClose(): void;
}

/** Whether the connection made no progress for keepAliveMs (pure, for the timer and tests). */
export function idleExpired(info: Pick<ConnectionInfo, "inFlight" | "lastProgress">, now: number, keepAliveMs: number): boolean {
  return info.inFlight === 0 && now - info.lastProgress >= keepAliveMs;
}

export function boundIdle(socket: TLSSocket, info: ConnectionInfo, o: IdleBoundOptions): void {
  let timer: NodeJS.Timeout | undefined;
  const check = () => {
    const now = performance.now();
    if (!idleExpired(info, now, o.keepAliveMs)) {
      const wait = info.inFlight > 0 ? o.keepAliveMs : o.keepAliveMs - (now - info.lastProgress);
      timer = setTimeout(check, Math.max(1, Math.ceil(wait)));
      timer.unref();
      return;
    }
    // Already being closed (an error answer lingering, a drain): not an idle close.
    if (socket.destroyed || !socket.writable) return;
    o.onIdleClose();
    closeIdle(socket, info.session);
  };
  timer = setTimeout(check, o.keepAliveMs);
  timer.unref();
  socket.once("close", () => clearTimeout(timer));
}

function closeIdle(socket: TLSSocket, session: ServerHttp2Session | undefined): void {
  if (session && !session.destroyed) {
    session.close();
    const t = setTimeout(() => session.destroy(), GOAWAY_GRACE_MS);
    t.unref();
    session.once("close", () => clearTimeout(t));
    return;
  }
  // HTTP/1.1 with nothing in flight: no response can be cut.
  socket.destroy();
}
