// `trunkgate tokens dev`: a throwaway signing key, its public JWKS and one signed token, so the
// provisioning API can be tried without an identity provider. The private key is never written:
// every run makes a new key, so tokens from an earlier run stop verifying once the JWKS file is
// replaced. Issuer, audience, algorithm and roles claim follow the configuration when one loads.
import { randomBytes } from "node:crypto";
import { existsSync, renameSync, writeFileSync } from "node:fs";
import { exportJWK, generateKeyPair, SignJWT } from "jose";
import { DEFAULT_CONFIG_PATH, loadConfigFile, resolveConfigPath } from "../config/load.js";
import { JWT_ALGORITHMS } from "../config/schema/provisioning.js";
import type { ProvisioningConfig } from "../config/schema/index.js";
import { claimObject } from "../provisioning/auth/roles-claim.js";
import { ALL_ROLES, ROLES } from "../provisioning/roles.js";
import { absolute, parseFlags, runSubcommand, UsageError, type CliIo } from "./store-command.js";

const HELP = `usage:
  trunkgate tokens dev [--config FILE] [--jwks-out FILE] [--roles R1,R2] [--subject S] [--ttl-seconds N]
                       [--issuer I] [--audience A]
      FOR DEVELOPMENT ONLY. Generates a new signing key, and prints its public JWKS and a token signed
      with it. With --jwks-out the JWKS is written to FILE (point provisioning.auth.jwksFile at it) and
      stdout carries only the token. Issuer, audience, algorithm and roles claim come from the
      configuration's provisioning.auth when it loads, else from the flags (defaults: issuer
      https://trunkgate.invalid/dev, audience trunkgate-provisioning). Roles default to
      ${ROLES.admin}; known roles: ${ALL_ROLES.join(", ")}. --ttl-seconds defaults to 3600.`;

const DEFAULT_ISSUER = "https://trunkgate.invalid/dev";
const DEFAULT_AUDIENCE = "trunkgate-provisioning";

export function tokensCommand(argv: string[], io: CliIo): Promise<number> {
  return runSubcommand(argv, io, HELP, { dev });
}

async function dev(argv: string[], io: CliIo): Promise<number> {
  const { values } = parseFlags(argv, {
    config: { type: "string" },
    "jwks-out": { type: "string" },
    roles: { type: "string" },
    subject: { type: "string" },
    "ttl-seconds": { type: "string" },
    issuer: { type: "string" },
    audience: { type: "string" },
  });
  const ttl = values["ttl-seconds"] === undefined ? 3600 : Number(values["ttl-seconds"]);
  if (!Number.isInteger(ttl) || ttl < 1 || ttl > 30 * 86_400) throw new UsageError("--ttl-seconds: an integer from 1 to 2592000");
  const roles = values.roles === undefined ? [ROLES.admin] : (values.roles as string).split(",").map((r) => r.trim()).filter(Boolean);
  if (roles.length === 0) throw new UsageError("--roles: at least one role");
  const auth = configuredAuth(values.config as string | undefined, io);
  const alg = auth?.algorithms[0] ?? JWT_ALGORITHMS[0];
  const issuer = (values.issuer as string | undefined) ?? auth?.issuer ?? DEFAULT_ISSUER;
  const audience = (values.audience as string | undefined) ?? auth?.audience ?? DEFAULT_AUDIENCE;
  const rolesClaim = auth?.rolesClaim ?? "roles";

  const kid = `dev-${randomBytes(6).toString("hex")}`;
  const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true, ...(alg === "RS256" ? { modulusLength: 2048 } : {}) });
  const jwks = { keys: [{ ...(await exportJWK(publicKey)), kid, alg, use: "sig" }] };
  const token = await new SignJWT(claimObject(rolesClaim, roles))
    .setProtectedHeader({ alg, kid, typ: "JWT" })
    .setIssuer(issuer)
    .setAudience(audience)
    .setSubject((values.subject as string | undefined) ?? "dev")
    .setIssuedAt()
    .setExpirationTime(`${ttl}s`)
    .sign(privateKey);

  const summary = `${rolesClaim}=${roles.join(",")}, iss ${issuer}, aud ${audience}, ${alg}, valid ${ttl} s`;
  const out = values["jwks-out"] as string | undefined;
  if (out !== undefined) {
    const path = absolute(out);
    // Atomic replace: the API re-reads the file when it changes and must never see half of it.
    const tmp = `${path}.${randomBytes(4).toString("hex")}.tmp`;
    writeFileSync(tmp, `${JSON.stringify(jwks, null, 2)}\n`, { mode: 0o644 });
    renameSync(tmp, path);
    io.err(`wrote the development JWKS to ${path} (provisioning.auth.jwksFile); token: ${summary}`);
    io.out(token);
  } else {
    io.out(`# development JWKS (public key only): save as the file provisioning.auth.jwksFile names\n${JSON.stringify(jwks)}`);
    io.out(`# token (${summary}):\n${token}`);
  }
  return 0;
}

/** provisioning.auth of the named configuration (or of config/default.yaml when it exists). */
function configuredAuth(flag: string | undefined, io: CliIo): ProvisioningConfig["auth"] | undefined {
  const path = resolveConfigPath(flag);
  if (path === DEFAULT_CONFIG_PATH && !existsSync(path)) return undefined;
  try {
    return loadConfigFile(path).provisioning.auth;
  } catch (err) {
    if (flag !== undefined) throw err;
    io.err(`note: ${path} not used (${(err as Error).message.split("\n")[0]})`);
    return undefined;
  }
}
