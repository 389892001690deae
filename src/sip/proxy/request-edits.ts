// One set of forwarding edits per forwarded request, that every phase adds to (our Route entries
// popped, trunkgate-owned headers stripped, the route decision's headers, the media filter's
// body). Edits compose: a later phase never replaces what an earlier one asked for (issue 10 item
// 2: the route decision's removeHeaders used to overwrite the Route removal of a double
// Record-Route, so our own entries were forwarded).
import type { RequestEdits } from "../message/edit.js";
import type { RouteHints } from "./route-set.js";

type HeaderList = ReadonlyArray<readonly [string, string]>;

/** Adds header names to drop (any case / compact form). */
export function removeHeaders(edits: RequestEdits, names: readonly string[] | undefined): void {
  if (names === undefined || names.length === 0) return;
  edits.removeHeaders = edits.removeHeaders === undefined ? names : [...edits.removeHeaders, ...names];
}

/** Appends headers at the end of the header section, after those already added. */
export function addHeaders(edits: RequestEdits, headers: HeaderList | undefined): void {
  if (headers === undefined || headers.length === 0) return;
  edits.addHeaders = edits.addHeaders === undefined ? headers : [...edits.addHeaders, ...headers];
}

/** Our Route entries at the top go; whatever followed them stays, in order (RFC 3261 §16.4). */
export function popOwnRoutes(edits: RequestEdits, hints: RouteHints): void {
  if (hints.popped === 1) edits.removeTopRoute = true;
  else if (hints.popped > 1) {
    // Double Record-Route (RFC 5658): both of our entries go. The Route lines are dropped whole and
    // the remaining values written back as one line.
    removeHeaders(edits, ["route"]);
    if (hints.remaining.length > 0) addHeaders(edits, [["Route", hints.remaining.join(", ")]]);
  }
}
