// The reply phase: every response the proxy sends toward the sender of a request goes out here,
// through the request's server transaction (respond), or statelessly for requests that never got
// one (replyStateless). The final response closes the request's books: pending count, guard
// timer, a client transaction still running, the log phase, and the forwarding state is released.
import { buildResponse } from "../message/build.js";
import type { SipRequest } from "../parse/index.js";
import { InviteClientTransaction } from "../transaction/invite-client.js";
import { SendResult } from "../transaction/types.js";
import { peerNameOf, type Flow } from "../transport/flow.js";
import type { ProxyEnv } from "./env.js";
import { sendCancel } from "./hop-by-hop.js";
import { logFinal, logStateless } from "./log.js";
import type { ProxyTx } from "./proxy-tx.js";
import { reasonPhrase } from "./reasons.js";
import { ALLOW } from "./validate.js";

/** Send a response through the server transaction (which may refuse: a final was sent). */
export function respond(env: ProxyEnv, ptx: ProxyTx, status: number, bytes: Buffer): void {
  const stx = ptx.server;
  const sent = env.layer.sendResponse(stx, status, bytes);
  if (sent === SendResult.Refused) return;
  writeTo(env, ptx.inFlow, bytes);
  env.metrics.response(status, ptx.method, ptx.dir, ptx.trunkPeerName());
  if (status >= 200 && !ptx.finalSent) closeBooks(env, ptx, status);
  // After the bookkeeping: a transaction that ends now (Timer J = 0) finds its request answered.
  if (sent !== SendResult.Sent) env.layer.settle(stx, sent);
}

function closeBooks(env: ProxyEnv, ptx: ProxyTx, status: number): void {
  ptx.finalSent = true;
  ptx.finalStatus = status;
  env.pending--;
  if (env.drained !== undefined) queueMicrotask(() => env.checkDrained());
  env.timers.cancel(ptx.guard);
  ptx.guard = undefined;
  // Nothing further will be forwarded for this request: stop a client transaction still
  // running (e.g. a guard fired, or a refusal raced with an attempt).
  const c = ptx.client;
  if (c !== undefined && c.running && status >= 300 && c.finalStatus === 0) {
    if (c instanceof InviteClientTransaction && c.provisionalSeen && !ptx.cancelled) sendCancel(ptx);
    c.abandon();
  }
  logFinal(env, ptx, status, (env.timers.now() - ptx.startedAt) / 1000);
  ptx.releaseForwardingState(!env.o.timing.reliable);
}

export function writeTo(env: ProxyEnv, inFlow: Flow, bytes: Buffer): void {
  // §18.2.2: responses go back on the connection the request came in on. When it is gone they are
  // dropped and counted: never sent on another connection of the peer (that one runs other
  // transactions, issue 9 item 8), nor to the Via address (SIPp and NATed trunks put unreachable
  // addresses there); the sender's transaction times out or it retries on a new connection.
  if (!inFlow.send(bytes)) env.metrics.drop("no_connection");
}

/** A response of our own to `ptx`'s request (nothing when it was answered already). */
export function reply(env: ProxyEnv, ptx: ProxyTx, status: number, reason: string, headers?: [string, string][], toTag?: string): void {
  if (ptx.finalSent) return; // answered already (e.g. cancelled while a route decision was pending)
  let bytes: Buffer;
  try {
    bytes = buildResponse(ptx.req, status, reason, { headers, toTag });
  } catch {
    bytes = buildResponse(ptx.req, status, reasonPhrase(status), { toTag });
  }
  respond(env, ptx, status, bytes);
}

export function replyUnavailable(env: ProxyEnv, ptx: ProxyTx): void {
  reply(env, ptx, 503, "Service Unavailable", [["Retry-After", String(env.o.retryAfterSeconds)]]);
}

export function replyStateless(env: ProxyEnv, flow: Flow, req: SipRequest, status: number, reason: string, headers?: [string, string][]): void {
  const bytes = buildResponse(req, status, reason, headers ? { headers } : undefined);
  writeTo(env, flow, bytes);
  env.metrics.response(status, req.method, flow.side, peerNameOf(flow));
  logStateless(env, flow, req, status);
}

const OPTIONS_HEADERS: [string, string][] = [["Allow", ALLOW], ["Accept", "application/sdp"]];

/** OPTIONS addressed to trunkgate itself (or with Max-Forwards 0): we answer, §11. */
export function answerOptions(env: ProxyEnv, flow: Flow, req: SipRequest): void {
  replyStateless(env, flow, req, 200, "OK", OPTIONS_HEADERS);
}
