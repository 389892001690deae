// The route decision point: which upstream service a new request from a trunk goes to (and,
// optionally, a new Request-URI and extra headers), or a refusal. The data layer (numbers →
// service) plugs in here later by passing its own function to createSipProxy({ route }).
//
// In-dialog requests (To tag present) are not routed here: they follow Route headers, or the
// dialog table, like every proxy on the path. The decision may be synchronous (cheap, the common
// case) or return a promise (a database lookup); the proxy only awaits when it gets a promise.
import type { PeerConfig } from "../../config/schema/index.js";
import type { SipRequest } from "../parse/index.js";

export interface ForwardToService {
  /** Name of a `sip.upstreams` entry. */
  service: string;
  /** Replace the Request-URI (e.g. a normalised number); must be a valid SIP URI. */
  requestUri?: string;
  /** Extra headers appended to the forwarded request ([name, value], values not logged). */
  extraHeaders?: readonly (readonly [string, string])[];
  /** Headers dropped from the forwarded request (e.g. a copy of a header trunkgate sets itself). */
  removeHeaders?: readonly string[];
}

export interface RejectRequest {
  /** A 4xx-6xx status sent back to the trunk. */
  reject: number;
  /** Reason phrase; the standard phrase when absent. ASCII, no CR/LF. */
  reason?: string;
  retryAfterSeconds?: number;
}

export type RouteDecision = ForwardToService | RejectRequest;

/** Picks the service for a new (out-of-dialog) request that came from `peer`. */
export type RouteFn = (req: SipRequest, peer: PeerConfig) => RouteDecision | Promise<RouteDecision>;

export interface ForwardToPeer {
  /** Name of a `peers` entry: sent over its open connection, else to its sip.targets. */
  peer: string;
  requestUri?: string;
  extraHeaders?: readonly (readonly [string, string])[];
  removeHeaders?: readonly string[];
  /** The upstream service the call is accounted to (call records); default: the sending service. */
  service?: string;
}

export type PeerRouteDecision = ForwardToPeer | RejectRequest;

/** Picks the trunk for a new (out-of-dialog) request that came from upstream service `service`. */
export type PeerRouteFn = (req: SipRequest, service: string) => PeerRouteDecision | Promise<PeerRouteDecision>;

export function isReject(d: RouteDecision | PeerRouteDecision): d is RejectRequest {
  return (d as RejectRequest).reject !== undefined;
}

/** Default: everything goes to `defaultService` (sip.defaultUpstream, else the first upstream). */
export function defaultRoute(defaultService: string | undefined): RouteFn {
  const decision: RouteDecision = defaultService
    ? { service: defaultService }
    : { reject: 404, reason: "No Route To Destination" };
  return () => decision;
}

/**
 * Default for requests from upstream: the peer whose name, or one of whose sip.targets host names,
 * equals the Request-URI host (e.g. INVITE sip:+4930123@trunk-a.example.net). Else 404.
 */
export function defaultPeerRoute(peers: readonly PeerConfig[]): PeerRouteFn {
  const byHost = new Map<string, ForwardToPeer>();
  for (const p of peers) {
    byHost.set(p.name.toLowerCase(), { peer: p.name });
    for (const t of p.sip.targets) if (!byHost.has(t.host.toLowerCase())) byHost.set(t.host.toLowerCase(), { peer: p.name });
  }
  const notFound: RejectRequest = { reject: 404, reason: "No Route To Destination" };
  return (req) => byHost.get(req.uri.host.toLowerCase()) ?? notFound;
}
