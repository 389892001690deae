// ACK and CANCEL, hop by hop (RFC 3261 §16.10, §16.11, §17.2.3 via the transaction layer's
// matching). An ACK for a 2xx (or for an INVITE in Accepted) is forwarded statelessly along the
// dialog, after the media filter; a CANCEL is answered 200 at once and cancels the INVITE's
// forwarding (our own CANCEL goes out once the next hop sent a provisional, §9.1).
import { INBOUND, type Direction } from "../direction.js";
import { forwardRequest, type RequestEdits } from "../message/edit.js";
import { filterMedia } from "../media/filter.js";
import type { SipRequest } from "../parse/index.js";
import { InviteClientTransaction } from "../transaction/invite-client.js";
import { serverKey } from "../transaction/server-key.js";
import type { Flow } from "../transport/flow.js";
import type { ProxyEnv } from "./env.js";
import { viaPrefix } from "./forward.js";
import { sendCancel } from "./hop-by-hop.js";
import type { ProxyTx } from "./proxy-tx.js";
import { reasonPhrase } from "./reasons.js";
import { reply, replyStateless } from "./reply.js";
import { ownRoutes } from "./request-filter.js";
import { popOwnRoutes, removeHeaders } from "./request-edits.js";
import { inDialogPeer, inDialogTarget } from "./route.js";

/** ACK for a 2xx: a transaction of its own that gets no response; forwarded statelessly (§16.11). */
export function forwardAck(env: ProxyEnv, side: Direction, req: SipRequest): void {
  if (req.maxForwards === 0) return env.metrics.drop("loop");
  const media = filterMedia(env.o.srtpEnforce, "ACK", req);
  // An answer in an ACK cannot be refused: not forwarding it makes the UAS end the call
  // (no ACK for its 2xx → BYE after 64·T1, RFC 3261 §13.3.1.4).
  if (media.kind === "refuse") return env.metrics.drop("srtp_policy");
  const hints = ownRoutes(env, req);
  if (hints === "malformed") return env.metrics.drop("malformed_response");
  let out: Flow | undefined;
  if (side === INBOUND) {
    const target = inDialogTarget(env, req, hints);
    if (target !== undefined) out = env.o.flows.toTarget(target);
  } else {
    const dest = inDialogPeer(env, req, hints);
    if (dest !== undefined) out = env.o.flows.toPeer(dest.peer, dest.connectionId);
  }
  if (out === undefined) return env.metrics.drop("no_connection");
  const via = req.topVia;
  const branch = env.branches.branch(env.branches.transactionPart(serverKey(req), via.host, via.port ?? 0), "ack", 0);
  const edits: RequestEdits = { prependVia: viaPrefix(env, out) + branch, maxForwards: "decrement" };
  if (hints !== undefined) popOwnRoutes(edits, hints);
  if (side === INBOUND) removeHeaders(edits, env.owned.presentIn(req));
  if (media.kind === "rewrite") edits.body = { bytes: media.body };
  if (!out.send(forwardRequest(req, edits))) env.metrics.drop("write_failed");
}

export function onCancel(env: ProxyEnv, flow: Flow, req: SipRequest): void {
  const stx = env.layer.inviteFor(req);
  if (stx === undefined) {
    // §16.10 would forward it statelessly; with no INVITE transaction here there is nothing it
    // could cancel downstream of us, so the trunk gets a definite answer instead.
    return replyStateless(env, flow, req, 481, "Call/Transaction Does Not Exist");
  }
  replyStateless(env, flow, req, 200, "OK");
  if (typeof stx === "number") return; // answered already (compact Accepted record)
  const ptx = stx.ctx;
  if (ptx.finalSent || ptx.cancelled) return;
  ptx.cancelled = true;
  const c = ptx.client;
  if (c !== undefined && c.running && c instanceof InviteClientTransaction) {
    // §9.1: a CANCEL may only follow a provisional response; until then it waits.
    if (c.provisionalSeen) sendCancel(ptx);
    else ptx.cancelPending = true;
    ptx.guardStatus = 487;
    ptx.guard = env.timers.start(ptx, 0, 64 * env.o.timing.t1);
  } else {
    reply(env, ptx, 487, "Request Terminated");
  }
}

/** The guard after a CANCEL or Timer C: no final came back in 64·T1, answer ourselves. */
export function onGuardTimer(env: ProxyEnv, ptx: ProxyTx): void {
  if (ptx.finalSent) return;
  ptx.client?.abandon();
  reply(env, ptx, ptx.guardStatus, reasonPhrase(ptx.guardStatus));
}
