// Per-peer admission control (src/sip/admission): `sip.admission` holds the defaults every peer
// gets, `peers[].admission` overrides them for one peer. 0 switches a limit off. Live: SIGHUP
// re-reads these keys (and only these) without a restart.
import { z } from "zod";

const count = z.number().int().min(0).max(10_000_000);
const rate = z.number().min(0).max(1_000_000);
/** Bucket size: how many may come at once after a quiet period; at least 1. */
const burst = z.number().int().min(1).max(10_000_000);
const retryAfter = z.number().int().min(0).max(86_400);

/** The limits one peer runs under; every key optional in a peer's override. */
const limitShape = {
  /** Calls from this peer at once: from its INVITE to the call's end (final non-2xx, BYE, expiry). */
  maxConcurrentCalls: count,
  /** New calls (initial INVITEs) per second, a token bucket of `newCallsBurst` tokens. */
  newCallsPerSecond: rate,
  newCallsBurst: burst,
  /** Requests of any method per second (ACK, BYE and CANCEL are counted, never refused). */
  requestsPerSecond: rate,
  requestsBurst: burst,
  /** Retry-After (seconds) on the 503 sent when a request is refused. */
  retryAfterSeconds: retryAfter,
};

export const sipAdmissionSchema = z
  .strictObject({
    maxConcurrentCalls: limitShape.maxConcurrentCalls.default(0),
    newCallsPerSecond: limitShape.newCallsPerSecond.default(0),
    /** Default: newCallsPerSecond rounded up. */
    newCallsBurst: limitShape.newCallsBurst.optional(),
    requestsPerSecond: limitShape.requestsPerSecond.default(0),
    /** Default: requestsPerSecond rounded up. */
    requestsBurst: limitShape.requestsBurst.optional(),
    retryAfterSeconds: limitShape.retryAfterSeconds.default(5),
    /**
     * Overload: while the event loop runs this many ms late (sampled every `lagSampleMs`), new
     * INVITEs from every peer get 503. 0: off.
     */
    eventLoopLagMs: z.number().int().min(0).max(60_000).default(0),
    lagSampleMs: z.number().int().min(10).max(10_000).default(100),
  })
  .prefault({});
export type SipAdmissionConfig = z.infer<typeof sipAdmissionSchema>;

export const peerAdmissionSchema = z.strictObject(limitShape).partial().optional();
export type PeerAdmissionConfig = z.infer<typeof peerAdmissionSchema>;
