// The fixed parts of the branches trunkgate writes in its Via headers. Shared by the proxy (which
// builds and recognises forwarded branches, proxy/branch.ts) and the health checker (whose probe
// responses come back through the proxy's response path), without either importing the other.

/** RFC 3261 §8.1.1.7: every RFC 3261-compliant branch starts with it. */
export const MAGIC_COOKIE = "z9hG4bK";
/** Marks branches trunkgate generated (so the loop check skips foreign Vias cheaply). */
export const TG_MARK = "tg";
/** Health probes: our branch format, marked as a probe. */
export const PROBE_BRANCH_PREFIX = MAGIC_COOKIE + TG_MARK + "hc";
