// What the proxy core tells the outside about calls, for call records. Called once per initial
// INVITE (when its final response goes out) and once per BYE; never per retransmission.
import type { SipRequest } from "../parse/index.js";
import type { Direction } from "../direction.js";

export interface InviteCompletion {
  /** The INVITE as received (numbers are read from it; valid only during the call). */
  req: SipRequest;
  /** INBOUND (0): from a trunk toward a service; OUTBOUND (1): from a service toward a trunk. */
  direction: Direction;
  /** Final status sent to the caller. */
  status: number;
  /** From the INVITE's arrival to its final response. */
  elapsedMs: number;
  peer: string | null;
  service: string | null;
}

export interface CallObserver {
  inviteCompleted(c: InviteCompletion): void;
  /** A BYE got its final response: the dialog is over; `direction` says who hung up. */
  byeCompleted(callId: string, direction: Direction): void;
}
