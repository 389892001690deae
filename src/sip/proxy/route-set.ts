// Our Record-Route entries and how incoming Route headers are consumed (RFC 3261 §16.4, RFC 5658
// double Record-Route). Each entry names trunkgate and carries where the other side is, so
// in-dialog requests find their way back even when the far side's Contact is unreachable (SIPp
// and many trunks put a private or plain-TCP address there):
//   toward a trunk:    <sip:HOST:PORT;transport=tls;lr;tgp=PEER;tgc=CONNECTION-ID>
//   toward upstream:   <sip:HOST:PORT;transport=tls|tcp;lr;tgs=SERVICE;tgt=TARGET-INDEX>
// Peer and service names come from configuration (validated to [A-Za-z0-9_.-]).
import { parseUri, type NameAddr, type SipRequest } from "../parse/index.js";
import type { ProxyIdentity } from "./identity.js";

export interface RouteHints {
  /** How many Route values at the top are ours (popped before forwarding). */
  popped: number;
  /** Remaining Route values after ours (raw), if any. */
  remaining: string[];
  service: string | undefined;
  targetIndex: number;
  peer: string | undefined;
  connectionId: number;
}

function paramValue(params: string, name: string): string | undefined {
  // params = ";a=b;c" (raw); names are ours and lower-case.
  let i = 0;
  for (;;) {
    i = params.indexOf(";" + name + "=", i);
    if (i < 0) return undefined;
    const start = i + name.length + 2;
    let end = params.indexOf(";", start);
    if (end < 0) end = params.length;
    return params.slice(start, end);
  }
}

/** Our Route entries at the top of the request, and the hints they carry; undefined if no Route. */
export function consumeOwnRoutes(req: SipRequest, me: ProxyIdentity): RouteHints | undefined | "malformed" {
  let any = false;
  for (const h of req.headers) if (h.name === "route") { any = true; break; }
  if (!any) return undefined;
  const routes = req.routes();
  if (routes === undefined) return "malformed";
  const hints: RouteHints = { popped: 0, remaining: [], service: undefined, targetIndex: -1, peer: undefined, connectionId: -1 };
  let i = 0;
  for (; i < routes.length; i++) {
    const uri = parseUri(routes[i]!.uri);
    if (uri === undefined || !me.isOurUri(uri)) break;
    hints.popped++;
    const s = paramValue(uri.params, "tgs");
    if (s !== undefined) {
      hints.service = s;
      const t = Number(paramValue(uri.params, "tgt"));
      hints.targetIndex = Number.isInteger(t) ? t : -1;
    }
    const p = paramValue(uri.params, "tgp");
    if (p !== undefined) {
      hints.peer = p;
      const c = Number(paramValue(uri.params, "tgc"));
      hints.connectionId = Number.isInteger(c) ? c : -1;
    }
  }
  for (; i < routes.length; i++) hints.remaining.push((routes[i] as NameAddr).raw);
  return hints;
}

/**
 * The Record-Route value for a dialog-creating request from a trunk going upstream (both entries).
 * `upstreamSentBy` / `trunkSentBy`: the address each leg's connection advertises (default: me).
 */
export function recordRouteTrunkToUpstream(
  me: ProxyIdentity, upstreamTransport: string, service: string, targetIndex: number, peer: string, connectionId: number,
  upstreamSentBy = me.sentBy, trunkSentBy = me.sentBy,
): string {
  return `<sip:${upstreamSentBy};transport=${upstreamTransport};lr;tgs=${service};tgt=${targetIndex}>, ` +
    `<sip:${trunkSentBy};transport=tls;lr;tgp=${peer};tgc=${connectionId}>`;
}

/** The Record-Route value for a dialog-creating request from upstream going to a trunk. */
export function recordRouteUpstreamToTrunk(
  me: ProxyIdentity, upstreamTransport: string, service: string, targetIndex: number, peer: string, connectionId: number,
  upstreamSentBy = me.sentBy, trunkSentBy = me.sentBy,
): string {
  return `<sip:${trunkSentBy};transport=tls;lr;tgp=${peer};tgc=${connectionId}>, ` +
    `<sip:${upstreamSentBy};transport=${upstreamTransport};lr;tgs=${service};tgt=${targetIndex}>`;
}

/** Methods whose requests (outside a dialog) can create one, so we Record-Route them. */
export function createsDialog(method: string): boolean {
  return method === "INVITE" || method === "SUBSCRIBE" || method === "REFER" || method === "NOTIFY";
}
