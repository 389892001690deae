// RFC 3261 §16.3 request validation beyond what the parser checks (syntax, mandatory headers,
// SIP version → 505, URI scheme → 416): Max-Forwards, loops, Proxy-Require. Pure: returns the
// refusal to send, or undefined when the request may be processed.
import type { SipRequest } from "../parse/index.js";
import { isOurBranch, loopPartOf } from "./branch.js";
import type { ProxyIdentity } from "./identity.js";

export interface Refusal {
  status: number;
  reason: string;
  headers?: [string, string][];
}

export type Validation =
  | undefined // go on
  | Refusal
  | "answer-options"; // Max-Forwards 0 on an OPTIONS: answer it ourselves (§16.3 step 3, §11)

const TOO_MANY_HOPS: Refusal = { status: 483, reason: "Too Many Hops" };
const LOOP: Refusal = { status: 482, reason: "Loop Detected" };

export function validateRequest(req: SipRequest, me: ProxyIdentity, loopPart: string): Validation {
  // Step 3: Max-Forwards.
  if (req.maxForwards === 0) return req.method === "OPTIONS" ? "answer-options" : TOO_MANY_HOPS;

  // Step 4 (optional loop detection): our own Via with the loop hash we would compute now.
  if (req.viaCount > 1) {
    const vias = req.viaList; // parsed here only: a request with one Via cannot have passed us
    for (let i = 0; i < vias.length; i++) {
      const v = vias[i]!;
      if (!isOurBranch(v.branch) || !me.isUs(v.host, v.port)) continue;
      if (loopPartOf(v.branch!) === loopPart) return LOOP;
    }
  }

  // Step 5: Proxy-Require: trunkgate supports no extension that a proxy must understand.
  for (const h of req.headers) {
    if (h.name === "proxy-require") {
      const tags = req.getHeaders("proxy-require") ?? [];
      const list = tags.map((t) => t.trim()).filter((t) => t.length > 0);
      if (list.length === 0) break;
      return { status: 420, reason: "Bad Extension", headers: [["Unsupported", list.join(", ")]] };
    }
  }
  return undefined;
}

/** OPTIONS addressed to trunkgate itself: Request-URI is us and has no user part. */
export function isOptionsForUs(req: SipRequest, me: ProxyIdentity): boolean {
  return req.method === "OPTIONS" && req.uri.user === undefined && me.isOurUri(req.uri);
}

export const ALLOW = "INVITE, ACK, BYE, CANCEL, OPTIONS, UPDATE, INFO, PRACK, SUBSCRIBE, NOTIFY, REFER, MESSAGE";
