// URI validation for configuration and provisioning input, using sip.js's RFC 3261 grammar as the
// reference. Slow (PEG parser): never call it per message — the hot path uses ./uri.ts.
import { Grammar } from "sip.js";

/** True when `s` is a syntactically valid SIP or SIPS URI (no surrounding whitespace). */
export function validateSipUri(s: string): boolean {
  if (typeof s !== "string" || s.length === 0 || s.length > 4096) return false;
  if (s.trim() !== s) return false;
  try {
    return Grammar.parse(s, "SIP_URI") !== -1;
  } catch {
    return false;
  }
}
