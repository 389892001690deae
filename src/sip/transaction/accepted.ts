// What an answered INVITE leaves behind over TLS/TCP for the 64·T1 of RFC 6026's Accepted state,
// instead of the whole ProxyTx, both transactions and their timers (~1 KB per call, kept 32 s:
// at 1000 calls/s the bulk of what every young-generation GC had to copy).
//
// Over a reliable transport nothing is ever retransmitted from Accepted (RFC 6026 §7.1: the UAS
// retransmits its own 2xx; timers G/A do not run), so what is left to do is matching:
//   - server side (key = the INVITE's server key): a retransmitted INVITE is absorbed, an ACK with
//     the INVITE's branch is forwarded end to end, a CANCEL gets 200 and nothing else. All that
//     needs is which side the INVITE came from: the map value is that Direction (a small integer,
//     no object at all);
//   - client side (key = the branch we sent): a 2xx retransmission from the UAS is passed back to
//     the caller's connection and refreshes the dialog (looked up by the 2xx's Call-ID and tags:
//     holding the Dialog here kept it and its strings alive 32 s after the BYE); a late answer to
//     our CANCEL is absorbed. That needs the caller's flow, the direction and, for the `peer`
//     metric label, the trunk's peer name (the configured name's string, shared: nothing per
//     call; for a call from an upstream it is not the caller's flow's): this object.
// Both expire through Timers.expireLater (a ring of keys, no timer entry per record).
import type { Direction } from "../direction.js";
import type { Flow } from "../transport/flow.js";

export class AcceptedInviteClient {
  constructor(
    /** The connection the INVITE came in on: 2xx retransmissions go back there (or to an alias). */
    readonly inFlow: Flow,
    readonly dir: Direction,
    /** The peer of the trunk side (the sender's or the one forwarded to), as ProxyTx.trunkPeerName(). */
    readonly trunkPeerName: string | undefined,
  ) {}
}
