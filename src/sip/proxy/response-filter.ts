// The response filter: what comes back from the next hop for a forwarded request. Provisionals and
// 2xx pass through the media filter and go to the sender (reply phase); a 2xx confirms the dialog
// (a BYE's final ends it); a non-2xx final, a timeout or a lost connection fails over to the next
// target when allowed (§16.7 step 6, restricted to 408/503/504), else the best final response so
// far is sent. Also the two ways a 2xx arrives with no transaction any more: a retransmission in
// the compact Accepted state, and a stray 2xx forwarded along its dialog (§16.7).
import { dialogKey, type Dialog } from "../dialog/dialogs.js";
import { INBOUND, OUTBOUND } from "../direction.js";
import { forwardResponse } from "../message/edit.js";
import { filterMedia, type MediaVerdict } from "../media/filter.js";
import type { SipResponse } from "../parse/index.js";
import type { AcceptedInviteClient } from "../transaction/accepted.js";
import { InviteClientTransaction } from "../transaction/invite-client.js";
import type { ClientFailure } from "../transaction/types.js";
import type { Flow } from "../transport/flow.js";
import { isFailoverStatus } from "../upstream/service.js";
import { isBetterFinal, statusToForward } from "./best-response.js";
import type { ProxyEnv } from "./env.js";
import { attemptNext } from "./forward.js";
import { sendCancel } from "./hop-by-hop.js";
import type { ClientTx, ProxyTx } from "./proxy-tx.js";
import { reasonPhrase } from "./reasons.js";
import { refuseAnswer } from "./refuse-answer.js";
import { reply, replyUnavailable, respond, writeTo } from "./reply.js";

/** The media filter for responses (`method`: the request's), and the bytes to forward when not refused. */
function forwardable(env: ProxyEnv, method: string, res: SipResponse): Buffer | undefined {
  const v: MediaVerdict = filterMedia(env.o.srtpEnforce, method, res);
  if (v.kind === "refuse") return undefined;
  return forwardResponse(res, v.kind === "rewrite" ? { body: { bytes: v.body } } : undefined);
}

export function onClientResponse(env: ProxyEnv, tx: ClientTx, res: SipResponse, status: number): void {
  const ptx = tx.ctx;
  if (tx !== ptx.client) return; // a superseded attempt
  if (ptx.firstResponseAt === 0) ptx.firstResponseAt = env.timers.now();
  if (status < 200) {
    if (ptx.cancelPending) sendCancel(ptx);
    if (status === 100) return; // hop by hop (§16.7 step 5)
    forwardProvisionalOr2xx(env, ptx, res, status);
    return;
  }
  const method = ptx.method;
  if (status < 300) {
    // A 2xx after our 2xx went out (not after a 487 that crossed the answer: that 2xx confirms).
    const retransmitted = ptx.finalSent && ptx.finalStatus >= 200 && ptx.finalStatus < 300;
    if (!forwardProvisionalOr2xx(env, ptx, res, status)) return;
    if (method === "INVITE" && ptx.outOfDialog) {
      // A 2xx retransmission only refreshes the dialog (refresh2xxDialog): a BYE may have ended it.
      if (retransmitted) refresh2xxDialog(env, res);
      else confirmDialog(env, ptx, res);
    } else if (method === "BYE") endDialog(env, ptx);
    return;
  }
  if (method === "BYE") endDialog(env, ptx);
  finalFailure(env, ptx, status, res);
}

export function onClientFailed(env: ProxyEnv, tx: ClientTx, why: ClientFailure): void {
  const ptx = tx.ctx;
  if (tx !== ptx.client) return;
  finalFailure(env, ptx, why === "transport" ? 503 : 408, undefined);
}

export function onClientTimerC(env: ProxyEnv, tx: ClientTx): void {
  const ptx = tx.ctx;
  if (tx !== ptx.client || ptx.finalSent) return;
  if (tx instanceof InviteClientTransaction && tx.provisionalSeen) {
    // §16.8: Timer C with a provisional → CANCEL; the 487 comes back through. Guard → 408.
    ptx.cancelled = true;
    sendCancel(ptx);
    ptx.guardStatus = 408;
    env.timers.cancel(ptx.guard);
    ptx.guard = env.timers.start(ptx, 0, 64 * env.o.timing.t1);
  } else {
    tx.abandon();
    finalFailure(env, ptx, 408, undefined);
  }
}

/** Forward a 1xx or 2xx to the server side (media policy applied); false when not forwarded. */
function forwardProvisionalOr2xx(env: ProxyEnv, ptx: ProxyTx, res: SipResponse, status: number): boolean {
  const bytes = forwardable(env, ptx.method, res);
  if (bytes === undefined) {
    // A refused provisional, or a retransmitted 2xx after we already answered: dropped.
    if (status < 200 || ptx.finalSent) env.metrics.drop("srtp_policy");
    else refuseAnswer(env, ptx, res);
    return false;
  }
  respond(env, ptx, status, bytes);
  return true;
}

function endDialog(env: ProxyEnv, bye: ProxyTx): void {
  env.o.dialogs.end(dialogKey(bye.callId, bye.fromTag, bye.toTag));
  if (env.drained !== undefined) env.checkDrained();
}

/**
 * A retransmitted 2xx to an initial INVITE: the dialog it confirmed is refreshed if it is still in
 * the table, never put back: after the BYE (a retransmission that crossed the ACK) or an eviction,
 * it would count a call that is over until the idle sweep.
 */
function refresh2xxDialog(env: ProxyEnv, res: SipResponse): void {
  env.o.dialogs.get(dialogKey(res.callId, res.from.tag, res.to.tag), env.timers.now());
}

function confirmDialog(env: ProxyEnv, ptx: ProxyTx, res: SipResponse): Dialog {
  const inFlow = ptx.inFlow;
  const fromTrunk = inFlow.side === INBOUND;
  const target = ptx.upstreamTarget();
  const d: Dialog = {
    key: dialogKey(ptx.callId, ptx.fromTag, res.to.tag),
    callId: ptx.callId,
    service: target?.service ?? "",
    targetIndex: target?.index ?? -1,
    peer: ptx.trunkPeerName() ?? "",
    connectionId: fromTrunk ? inFlow.id : ptx.peerConnectionId,
    initiator: fromTrunk ? INBOUND : OUTBOUND,
    lastUsed: env.timers.now(),
  };
  env.o.dialogs.confirm(d);
  return d;
}

/**
 * A 2xx retransmission for an answered INVITE whose Accepted state is a compact record: what the
 * transactions did with it (forward to the caller, media policy first; refresh the dialog).
 */
export function onAccepted2xx(env: ProxyEnv, rec: AcceptedInviteClient, res: SipResponse): void {
  const bytes = forwardable(env, "INVITE", res);
  // Refused in a retransmitted 2xx after we already answered: dropped (as forwardProvisionalOr2xx).
  if (bytes === undefined) return env.metrics.drop("srtp_policy");
  writeTo(env, rec.inFlow, bytes);
  // Labelled as respond() labels the 2xx itself: the trunk's peer, whichever side sent the INVITE.
  env.metrics.response(res.status, "INVITE", rec.dir, rec.trunkPeerName);
  refresh2xxDialog(env, res);
}

/**
 * A 2xx for an INVITE whose transaction is gone (a UAS retransmitting its 2xx because the ACK was
 * slow): RFC 3261 §16.7 forwards it statelessly. Not by Via (that address may be unreachable,
 * e.g. SIPp's plain-TCP side) but along the dialog, to the connection the dialog came from.
 */
export function forwardStray2xx(env: ProxyEnv, flow: Flow, res: SipResponse): boolean {
  if (res.viaCount < 2) return false;
  const d = env.o.dialogs.get(dialogKey(res.callId, res.from.tag, res.to.tag), env.timers.now());
  if (d === undefined) return false;
  let out: Flow | undefined;
  if (flow.side === OUTBOUND && d.initiator === INBOUND) out = env.o.flows.toPeer(d.peer, d.connectionId);
  else if (flow.side === INBOUND && d.initiator === OUTBOUND) {
    const t = env.o.services.get(d.service)?.targets[d.targetIndex];
    if (t !== undefined) out = env.o.flows.toTarget(t);
  }
  if (out === undefined) return false;
  const bytes = forwardable(env, "INVITE", res);
  if (bytes === undefined) return false;
  out.send(bytes);
  return true;
}

/** A final non-2xx (or no response): fail over when allowed, else send the best response. */
export function finalFailure(env: ProxyEnv, ptx: ProxyTx, status: number, res: SipResponse | undefined): void {
  if (ptx.finalSent) return;
  if (isBetterFinal(status, ptx.bestStatus)) {
    ptx.bestStatus = status;
    ptx.bestResponse = res;
  }
  if (isFailoverStatus(status) && !ptx.cancelled && attemptNext(env, ptx)) return;
  sendBest(env, ptx);
}

function sendBest(env: ProxyEnv, ptx: ProxyTx): void {
  const status = ptx.bestStatus;
  const res = ptx.bestResponse;
  const allTried = ptx.upstreamService === undefined || ptx.fixed || ptx.upstreamService.pick(ptx.tried) === undefined;
  if (res === undefined) {
    // Nothing heard: Timer B/F (408), or every connection failed (503, we are unavailable).
    if (status === 503) return replyUnavailable(env, ptx);
    return reply(env, ptx, status, reasonPhrase(status));
  }
  const out = statusToForward(status, allTried);
  if (out !== status) return reply(env, ptx, out, reasonPhrase(out), undefined, res.to.tag);
  respond(env, ptx, status, forwardResponse(res));
}
