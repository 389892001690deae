// Our Record-Route entries and how incoming Route headers are consumed (RFC 3261 §16.4, RFC 5658
// double Record-Route). Each entry names trunkgate and carries where the other side is, so
// in-dialog requests find their way back even when the far side's Contact is unreachable (SIPp
// and many trunks put a private or plain-TCP address there):
//   toward a trunk:    <sip:HOST:PORT;transport=tls;lr;tgp=PEER;tgc=CONNECTION-ID;tgm=MAC>
//   toward upstream:   <sip:HOST:PORT;transport=tls|tcp;lr;tgs=SERVICE;tgt=TARGET-INDEX;tgm=MAC>
// Peer and service names come from configuration (validated to [A-Za-z0-9_.-]).
//
// Those hints decide where an in-dialog request goes, so a trunk must not be able to write them
// itself (issue 9 item 3: a forged `tgs=` Route skipped the route decision). `tgm` is an HMAC over
// the hint and the dialog's Call-ID under trunkgate's route key (sip.routeKeyFile, else random per
// process); an entry that names trunkgate but whose MAC does not verify still addresses us (it is
// popped, RFC 3261 §16.4) but its hints are ignored.
import { createHmac, createSecretKey, randomBytes, timingSafeEqual, type KeyObject } from "node:crypto";
import { parseUri, type NameAddr, type SipRequest } from "../parse/index.js";
import type { ProxyIdentity } from "./identity.js";

/** Bytes of HMAC-SHA256 kept: 96 bits, 16 base64url characters per entry. */
const MAC_BYTES = 12;

/** Signs and checks the hints in our Record-Route entries. */
export class RouteSigner {
  /** A KeyObject, not the Buffer: createHmac re-imports a Buffer key on every call (~6 µs on Node 24). */
  readonly #key: KeyObject;

  /** `key`: at least 16 bytes shared by every instance that must accept the others' routes. */
  constructor(key: Buffer = randomBytes(32)) {
    if (key.length < 16) throw new RangeError("route key must be at least 16 bytes");
    this.#key = createSecretKey(key);
  }

  /** MAC of one hint: kind "s" (service, target index) or "p" (peer, connection id). */
  mac(kind: "s" | "p", name: string, index: number, callId: string): string {
    // Separators that cannot occur in the fields (names are tokens, Call-ID has no LF).
    return createHmac("sha256", this.#key).update(`${kind}\n${name}\n${index}\n${callId}`).digest().subarray(0, MAC_BYTES).toString("base64url");
  }

  verify(kind: "s" | "p", name: string, index: number, callId: string, mac: string | undefined): boolean {
    if (mac === undefined || mac.length !== 16) return false;
    const want = Buffer.from(this.mac(kind, name, index, callId), "latin1");
    const got = Buffer.from(mac, "latin1");
    return got.length === want.length && timingSafeEqual(got, want);
  }
}

export interface RouteHints {
  /** How many Route values at the top are ours (popped before forwarding). */
  popped: number;
  /** Remaining Route values after ours (raw), if any. */
  remaining: string[];
  service: string | undefined;
  targetIndex: number;
  peer: string | undefined;
  connectionId: number;
  /** Entries that named trunkgate with hints whose MAC did not verify (counted by the caller). */
  forged: number;
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
export function consumeOwnRoutes(req: SipRequest, me: ProxyIdentity, signer: RouteSigner): RouteHints | undefined | "malformed" {
  let any = false;
  for (const h of req.headers) if (h.name === "route") { any = true; break; }
  if (!any) return undefined;
  const routes = req.routes();
  if (routes === undefined) return "malformed";
  const hints: RouteHints = { popped: 0, remaining: [], service: undefined, targetIndex: -1, peer: undefined, connectionId: -1, forged: 0 };
  const callId = req.callId;
  let i = 0;
  for (; i < routes.length; i++) {
    const uri = parseUri(routes[i]!.uri);
    if (uri === undefined || !me.isOurUri(uri)) break;
    hints.popped++;
    const s = paramValue(uri.params, "tgs");
    if (s !== undefined) {
      const t = Number(paramValue(uri.params, "tgt"));
      const index = Number.isInteger(t) ? t : -1;
      if (signer.verify("s", s, index, callId, paramValue(uri.params, "tgm"))) {
        hints.service = s;
        hints.targetIndex = index;
      } else hints.forged++;
    }
    const p = paramValue(uri.params, "tgp");
    if (p !== undefined) {
      const c = Number(paramValue(uri.params, "tgc"));
      const id = Number.isInteger(c) ? c : -1;
      if (signer.verify("p", p, id, callId, paramValue(uri.params, "tgm"))) {
        hints.peer = p;
        hints.connectionId = id;
      } else hints.forged++;
    }
  }
  for (; i < routes.length; i++) hints.remaining.push((routes[i] as NameAddr).raw);
  return hints;
}

/** Where a dialog runs, as our two Record-Route entries carry it. */
export interface RecordRouteHints {
  callId: string;
  upstreamTransport: string;
  service: string;
  targetIndex: number;
  peer: string;
  connectionId: number;
  /** The address each leg's connection advertises (default: me.sentBy). */
  upstreamSentBy?: string;
  trunkSentBy?: string;
}

function upstreamEntry(me: ProxyIdentity, signer: RouteSigner, h: RecordRouteHints): string {
  const mac = signer.mac("s", h.service, h.targetIndex, h.callId);
  return `<sip:${h.upstreamSentBy ?? me.sentBy};transport=${h.upstreamTransport};lr;tgs=${h.service};tgt=${h.targetIndex};tgm=${mac}>`;
}

function trunkEntry(me: ProxyIdentity, signer: RouteSigner, h: RecordRouteHints): string {
  const mac = signer.mac("p", h.peer, h.connectionId, h.callId);
  return `<sip:${h.trunkSentBy ?? me.sentBy};transport=tls;lr;tgp=${h.peer};tgc=${h.connectionId};tgm=${mac}>`;
}

/** The Record-Route value for a dialog-creating request from a trunk going upstream (both entries). */
export function recordRouteTrunkToUpstream(me: ProxyIdentity, signer: RouteSigner, h: RecordRouteHints): string {
  return `${upstreamEntry(me, signer, h)}, ${trunkEntry(me, signer, h)}`;
}

/** The Record-Route value for a dialog-creating request from upstream going to a trunk. */
export function recordRouteUpstreamToTrunk(me: ProxyIdentity, signer: RouteSigner, h: RecordRouteHints): string {
  return `${trunkEntry(me, signer, h)}, ${upstreamEntry(me, signer, h)}`;
}

/** Methods whose requests (outside a dialog) can create one, so we Record-Route them. */
export function createsDialog(method: string): boolean {
  return method === "INVITE" || method === "SUBSCRIBE" || method === "REFER" || method === "NOTIFY";
}
