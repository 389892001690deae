// Choosing the final response to send back when several targets were tried (RFC 3261 §16.7 step 6,
// restricted to what a failover proxy meets: we never fork, we retry the next target only after
// 408/503/504 or no response). Pure.

/** Lower is better. 6xx beats everything; then 2xx..5xx by class, with 503 last among 5xx. */
function rank(status: number): number {
  if (status >= 600) return 0;
  if (status >= 200 && status < 300) return 1;
  const cls = Math.floor(status / 100);
  // §16.7: prefer 401/407/415/420/484 (they let the UAC retry) among 4xx.
  if (cls === 4 && (status === 401 || status === 407 || status === 415 || status === 420 || status === 484)) return 3;
  if (status === 503) return 9;
  if (status === 408) return 8;
  return cls * 2;
}

/** Whether `candidate` should replace `current` as the best final response so far. */
export function isBetterFinal(candidate: number, current: number): boolean {
  if (current === 0) return true;
  return rank(candidate) < rank(current);
}

/**
 * RFC 3261 §16.7 step 6: a proxy SHOULD NOT forward a 503 upstream unless it can tell that any
 * request it proxied now would get a 503 too; otherwise it answers 500. We can tell exactly when
 * every target of the service was tried (and answered 503): then the 503 goes on, so the trunk
 * may fail over to another trunkgate.
 */
export function statusToForward(status: number, allTargetsTried: boolean): number {
  return status === 503 && !allTargetsTried ? 500 : status;
}
