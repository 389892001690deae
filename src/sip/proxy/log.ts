// The log phase: what is told about a request once its final response went out (or a stateless
// answer was sent): the transaction log line (sip.logTransactions) and the call observer (call
// records). Call-IDs are hashed, numbers never logged.
import { hashId } from "../../observability/hash.js";
import { INBOUND } from "../direction.js";
import type { SipRequest } from "../parse/index.js";
import { peerNameOf, targetOf, type Flow } from "../transport/flow.js";
import type { CallObserver } from "./call-observer.js";
import type { ProxyEnv } from "./env.js";
import type { ProxyTx } from "./proxy-tx.js";

/** A final response went out for `ptx` after `seconds`: metrics, log line, call observer. */
export function logFinal(env: ProxyEnv, ptx: ProxyTx, status: number, seconds: number): void {
  env.metrics.duration(ptx.method, ptx.dir, seconds);
  if (env.logInfo) logTransaction(env, ptx, status, seconds);
  const calls = env.o.calls;
  if (calls !== undefined) {
    if (ptx.isInvite && ptx.outOfDialog) reportInvite(calls, ptx, status, seconds);
    else if (ptx.method === "BYE") calls.byeCompleted(ptx.callId, ptx.dir);
  }
}

function reportInvite(calls: CallObserver, ptx: ProxyTx, status: number, seconds: number): void {
  const inFlow = ptx.inFlow;
  calls.inviteCompleted({
    req: ptx.req,
    direction: ptx.dir,
    status,
    elapsedMs: seconds * 1000,
    peer: ptx.trunkPeerName() ?? null,
    // From a trunk: the target tried, else the service routed to; from an upstream: the service
    // the call belongs to (chosen by the calling number), else the one it came from.
    service: (inFlow.side === INBOUND ? ptx.target?.service ?? ptx.upstreamService?.name : ptx.accountedService ?? inFlow.target.service) ?? null,
  });
}

/**
 * Every key a transaction line may carry. None names customer data (Call-IDs are hashed, peers and
 * services are configuration names), so the lines go out through env.txLogger, unredacted: adding
 * a key means adding it here, and a test checks this list against the redacted names.
 */
export const TRANSACTION_LOG_KEYS = [
  "event", "method", "callId", "status", "durationMs", "firstResponseMs", "direction", "peer", "upstreamService", "upstream", "attempts",
] as const;

function logTransaction(env: ProxyEnv, ptx: ProxyTx, status: number, seconds: number): void {
  const target = ptx.upstreamTarget();
  env.txLogger.info({
    event: "sip_transaction",
    method: ptx.method,
    callId: hashId(ptx.callId),
    status,
    durationMs: Math.round(seconds * 1e4) / 10,
    firstResponseMs: ptx.firstResponseAt > 0 ? Math.round((ptx.firstResponseAt - ptx.startedAt) * 10) / 10 : undefined,
    direction: ptx.dir === INBOUND ? "inbound" : "outbound",
    peer: ptx.trunkPeerName(),
    upstreamService: target?.service,
    upstream: target?.label,
    attempts: ptx.attempt,
  }, "sip transaction");
}

/** A final answered statelessly (no transaction: validation refusals, OPTIONS to us, CANCEL). */
export function logStateless(env: ProxyEnv, flow: Flow, req: SipRequest, status: number): void {
  if (!env.logInfo || status < 200 || req.method === "CANCEL") return;
  env.txLogger.info({
    event: "sip_transaction", method: req.method, callId: hashId(req.callId), status, durationMs: 0,
    direction: flow.side === INBOUND ? "inbound" : "outbound", peer: peerNameOf(flow), upstreamService: targetOf(flow)?.service,
  }, "sip transaction");
}
