// A 2xx whose SDP the media policy refuses: the far side already accepted the session, so the
// proxy ends it there (ACK for an INVITE, then BYE, built from the request and the 2xx) and the
// requester gets 488 instead of the 2xx.
import { buildRequest, newBranch } from "../message/build.js";
import { parseUri, type SipResponse } from "../parse/index.js";
import type { ProxyEnv } from "./env.js";
import type { ProxyIdentity } from "./identity.js";
import { viaPrefix } from "./forward.js";
import type { ProxyTx } from "./proxy-tx.js";
import { reply } from "./reply.js";

const SRTP_WARNING = '"SRTP with AES_CM_128_HMAC_SHA1_80 required"';

/** The Warning header of a media-policy refusal. */
export function srtpWarning(me: ProxyIdentity): [string, string][] {
  return [["Warning", `399 ${me.advertisedHost} ${SRTP_WARNING}`]];
}

export function refuseAnswer(env: ProxyEnv, ptx: ProxyTx, res: SipResponse): void {
  env.metrics.drop("srtp_policy");
  const flow = ptx.clientFlow;
  const req = ptx.req;
  if (flow !== undefined && res.to.tag !== undefined) {
    const contact = res.contacts()?.[0]?.uri ?? req.requestUri;
    const routes: string[] = [];
    for (const rr of res.recordRoutes() ?? []) {
      const u = parseUri(rr.uri);
      if (u !== undefined && env.me.isOurUri(u)) break;
      routes.unshift(rr.raw);
    }
    const headers: [string, string][] = routes.length > 0 ? [["Route", routes.join(", ")]] : [];
    const base = {
      requestUri: contact,
      from: req.from.raw,
      to: res.to.raw,
      callId: req.callId,
    };
    const via = viaPrefix(env, flow);
    try {
      if (req.method === "INVITE") {
        flow.send(buildRequest({ ...base, method: "ACK", via: via + newBranch(), cseq: req.cseq.seq, headers }));
      }
      flow.send(buildRequest({
        ...base, method: "BYE", via: via + newBranch(), cseq: req.cseq.seq + 1,
        headers: [...headers, ["Reason", 'SIP;cause=488;text="SRTP required"']],
      }));
    } catch (err) {
      env.logger.warn({ error: (err as Error).message }, "could not end a session refused by the media policy");
    }
  }
  reply(env, ptx, 488, "Not Acceptable Here", srtpWarning(env.me), res.to.tag);
}
