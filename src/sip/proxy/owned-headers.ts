// Headers trunkgate writes itself and that the next hop trusts because trunkgate wrote them: every
// `X-Trunkgate-*` header and the number-context header (sip.numberRouting.customHeaderName). A
// trunk's copy is removed from every request it sends, on every path (new requests, in-dialog
// requests, ACK), so a trunk can never inject a context trunkgate did not provision (issue 9
// item 3). Upstream services are trusted and keep theirs.
import { canonicalHeaderName } from "../parse/header-names.js";
import type { SipRequest } from "../parse/message.js";

const PREFIX = "x-trunkgate-";

export class OwnedHeaders {
  readonly #names: ReadonlySet<string>;

  constructor(extra: readonly string[] = []) {
    this.#names = new Set(extra.map(canonicalHeaderName));
  }

  /** The owned header names present in `req` (canonical), or undefined: no allocation when none. */
  presentIn(req: SipRequest): string[] | undefined {
    let out: string[] | undefined;
    for (const h of req.headers) {
      const n = h.name;
      if ((n.startsWith(PREFIX) || this.#names.has(n)) && (out === undefined || !out.includes(n))) (out ??= []).push(n);
    }
    return out;
  }
}
