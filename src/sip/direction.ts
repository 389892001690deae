// Which side a message or flow belongs to. A module of its own (not in metrics.ts, where it used to
// live) so that transport, proxy and call records can name a direction without importing the
// metrics module: that import tied every src/sip folder into one cycle (issue 10).

/** INBOUND (0): a trunk (downstream peer) sent it; OUTBOUND (1): an upstream service sent it. */
export type Direction = 0 | 1;
export const INBOUND: Direction = 0;
export const OUTBOUND: Direction = 1;
