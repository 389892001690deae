// Where a token carries its roles: `provisioning.auth.rolesClaim`. "roles" (Entra ID, the default)
// is a top-level claim; a dotted path reaches into an object, e.g. Keycloak's `realm_access.roles`.
// A claim whose own name contains dots (Auth0's namespaced "https://example.com/roles") is found
// by its exact name first, so both conventions work without an escape syntax.

/** The value at `claim` in a verified payload, or undefined when absent. */
export function claimAt(payload: Record<string, unknown>, claim: string): unknown {
  if (Object.hasOwn(payload, claim)) return payload[claim];
  let node: unknown = payload;
  for (const part of claim.split(".")) {
    if (typeof node !== "object" || node === null || Array.isArray(node) || !Object.hasOwn(node, part)) return undefined;
    node = (node as Record<string, unknown>)[part];
  }
  return node;
}

/** A payload fragment carrying `value` at `claim` (the inverse of claimAt, for issuing dev tokens). */
export function claimObject(claim: string, value: unknown): Record<string, unknown> {
  // A URL-like namespaced claim is one name, not a path.
  if (claim.includes("/")) return { [claim]: value };
  return claim
    .split(".")
    .reduceRight<Record<string, unknown>>((inner, part, i, parts) => (i === parts.length - 1 ? { [part]: value } : { [part]: inner }), {});
}
