// Number-based routing (the customer-data issue), plugged into the SIP route decision point.
// From a trunk: the called number chooses the service. Toward a trunk: the calling number chooses
// the service the call is accounted to. Either way the number's custom header value is added under
// one configured name, and any copy of that header the sender put in is removed first, so nobody
// can inject a context trunkgate did not provision. Lookups are synchronous Map reads; a number of
// an account comes with its account's defaults already resolved into its entry (number-cache.ts).
import type { SipConfig } from "../../config/schema/index.js";
import type { NumberRoute } from "../../store/number-cache.js";
import { calledNumber, callingNumber } from "./call-numbers.js";
import type { PeerRouteFn, RejectRequest, RouteFn } from "./decision.js";

export interface NumberLookup {
  lookup(e164: string): NumberRoute | undefined;
}

type Options = SipConfig["numberRouting"];

export function numberRoute(numbers: NumberLookup, fallback: RouteFn, opts: Options): RouteFn {
  const strip = [opts.customHeaderName];
  const notFound: RejectRequest = { reject: 404, reason: "Not Found" };
  return (req, peer) => {
    const number = calledNumber(req, opts.assumeInternational);
    const hit = number !== undefined ? numbers.lookup(number) : undefined;
    if (hit !== undefined) {
      return {
        service: hit.service,
        removeHeaders: strip,
        ...(hit.customHeader !== null ? { extraHeaders: [[opts.customHeaderName, hit.customHeader]] as const } : {}),
      };
    }
    if (opts.unknownNumber === "reject" && req.method === "INVITE") return notFound;
    const d = fallback(req, peer);
    if (d instanceof Promise) return d.then((x) => ("service" in x ? { ...x, removeHeaders: strip } : x));
    return "service" in d ? { ...d, removeHeaders: strip } : d;
  };
}

export function numberPeerRoute(numbers: NumberLookup, fallback: PeerRouteFn, opts: Options): PeerRouteFn {
  const strip = [opts.customHeaderName];
  return (req, service) => {
    const fb = fallback(req, service);
    const number = callingNumber(req, opts.assumeInternational);
    const hit = number !== undefined ? numbers.lookup(number) : undefined;
    const decorate = (d: Awaited<typeof fb>) => {
      if (!("peer" in d)) return d;
      if (hit === undefined) return { ...d, removeHeaders: strip };
      return {
        ...d,
        service: hit.service,
        removeHeaders: strip,
        ...(hit.customHeader !== null ? { extraHeaders: [[opts.customHeaderName, hit.customHeader]] as const } : {}),
      };
    };
    return fb instanceof Promise ? fb.then(decorate) : decorate(fb);
  };
}
