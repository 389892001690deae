// Roles carried in the token's `roles` claim. Admin implies every other role; a route needs exactly
// one role (or none beyond a valid token, for the OpenAPI document).
export const ROLES = {
  read: "Provisioning.Read",
  write: "Provisioning.Write",
  delete: "Provisioning.Delete",
  admin: "Provisioning.Admin",
} as const;

export type Role = (typeof ROLES)[keyof typeof ROLES];
export const ALL_ROLES: readonly Role[] = [ROLES.read, ROLES.write, ROLES.delete, ROLES.admin];

/** Whether a token's roles grant `needed` (undefined = any valid token). */
export function grants(roles: readonly string[], needed: Role | undefined): boolean {
  if (needed === undefined) return true;
  for (const r of roles) if (r === needed || r === ROLES.admin) return true;
  return false;
}
