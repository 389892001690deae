// Which side a message or flow belongs to. A module of its own (not in metrics.ts, where it used to
// live) so that transport, proxy and call records can name a direction without importing the
// metrics module: that import tied every src/sip folder into one cycle (issue 10).

// The constants keep their literal types (`as const`: not widened to number even in an object
// literal) so that `flow.side === INBOUND` narrows a Flow (transport/flow.ts) to its trunk or
// upstream member.

/** A trunk (the downstream side, a peer's connection) sent it, or the flow is a trunk's. */
export const INBOUND = 0 as const;
/** An upstream service sent it, or the flow goes to one of its targets. */
export const OUTBOUND = 1 as const;
/** INBOUND (0) or OUTBOUND (1). */
export type Direction = typeof INBOUND | typeof OUTBOUND;
