// `trunkgate keys …`: manage the store's keyring file (see src/store/README.md, "Key rotation").
import { createKeyFile, loadKeyring, STORE_KEY_ENV, writeKeyFile } from "../store/crypto/key-file.js";
import { absolute, cliActor, loadCliConfig, openCliStore, parseFlags, runSubcommand, UsageError, type CliIo } from "./store-command.js";
import { openStore, type Store } from "../store/store.js";
import type { Keyring } from "../store/crypto/keyring.js";
import { planPrune, type PrunePlan } from "../store/rotation.js";

const HELP = `usage:
  trunkgate keys init --out FILE [--force]     create a new keyring file (mode 0600); refuses to overwrite unless --force
  trunkgate keys rotate [--config FILE] [--batch-size N] [--prune]
                                               add a new active data key, re-encrypt every stored value under it;
                                               --prune then removes the old keys nothing uses any more (as "keys prune")
  trunkgate keys prune [--config FILE]         remove non-active keys that no stored value and no running instance uses;
                                               a key still in use is kept and named with its users (exit 1)
  trunkgate keys status [--config FILE]        key ids, the active one, how many stored values use each, and the
                                               running instances with the keys they write with

Running instances re-read the key file within store.keyFileCheckMs (default 5 s) and record the keys
they write with every store.instanceHeartbeatMs (default 10 s): "keys prune" succeeds once every
instance has moved to the new key (see src/store/README.md, "Key rotation").
rotate and prune are recorded in the store's audit trail (subject cli:<local user>, key ids only).`;

export async function keysCommand(argv: string[], io: CliIo): Promise<number> {
  return runSubcommand(argv, io, HELP, { init, rotate, prune, status });
}

function init(argv: string[], io: CliIo): number {
  const { values } = parseFlags(argv, { out: { type: "string" }, force: { type: "boolean" } });
  if (!values.out) throw new UsageError("--out FILE is required");
  const path = absolute(values.out as string);
  const keyring = createKeyFile(path, { force: values.force === true });
  io.out(`created ${path} (active key ${keyring.active}); back it up: stored data cannot be read without it`);
  return 0;
}

function keyFileOf(configFlag: string | undefined) {
  if (process.env[STORE_KEY_ENV]) {
    throw new Error(`${STORE_KEY_ENV} is set: rotation edits the key file. Rotate with the file, then update the secret from it`);
  }
  const config = loadCliConfig(configFlag);
  const path = absolute(config.store.encryptionKeyFile);
  return { config, path, keyring: loadKeyring(path, process.env, { allowGroupReadable: config.store.allowGroupReadableKeyFile }).keyring };
}

async function rotate(argv: string[], io: CliIo): Promise<number> {
  const { values } = parseFlags(argv, { config: { type: "string" }, "batch-size": { type: "string" }, prune: { type: "boolean" } });
  const batchSize = values["batch-size"] === undefined ? 500 : Number(values["batch-size"]);
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 5000) throw new UsageError("--batch-size: an integer from 1 to 5000");
  const { config, path, keyring } = keyFileOf(values.config as string | undefined);
  const next = keyring.withNewActiveKey();
  // Write the new key before any row uses it: a crash mid-way leaves every row readable.
  writeKeyFile(path, next);
  io.out(`added key ${next.active} (now active) to ${path}`);
  const store = await openStore({ url: config.store.url, keyring: next, baseDir: process.cwd() });
  try {
    const result = await store.reencrypt({ batchSize });
    for (const [table, n] of Object.entries(result.rewritten)) io.out(`re-encrypted ${n} row(s) in ${table}`);
    const rewritten = Object.values(result.rewritten).reduce((a, b) => a + b, 0);
    await store.audit.recordAlone({
      kind: "keys",
      op: "rotate",
      actor: cliActor(values.prune ? "keys rotate --prune" : "keys rotate"),
      before: { active: keyring.active },
      after: { active: next.active, rowsReencrypted: rewritten },
    });
    const plan = await prunePlanOf(store, next);
    if (!values.prune) {
      if (plan.remove.length > 0) io.out(`no longer used: ${plan.remove.join(", ")}; run "keys prune" to remove them`);
      for (const k of plan.kept) io.out(`still in use: ${k.keyId}: ${k.reasons.join("; ")}`);
      return 0;
    }
    return await applyPrune(store, path, next, plan, io, "keys rotate --prune");
  } finally {
    await store.close();
  }
}

async function prune(argv: string[], io: CliIo): Promise<number> {
  const { values } = parseFlags(argv, { config: { type: "string" } });
  const { config, path, keyring } = keyFileOf(values.config as string | undefined);
  const store = await openStore({ url: config.store.url, keyring, baseDir: process.cwd() });
  try {
    const plan = await prunePlanOf(store, keyring, io);
    if (plan.remove.length === 0 && plan.kept.length === 0) {
      io.out("nothing to prune");
      return 0;
    }
    return await applyPrune(store, path, keyring, plan, io, "keys prune");
  } finally {
    await store.close();
  }
}

/**
 * Instances first, then stored values (see planPrune). In between, values an instance wrote under
 * an old key before it picked up the new one are re-encrypted (when `io` is given: keys prune), so
 * a prune after every instance moved on finishes the rotation instead of asking for another one.
 */
async function prunePlanOf(store: Store, keyring: Keyring, io?: CliIo): Promise<PrunePlan> {
  const instances = await store.liveInstances();
  if (io) {
    const result = await store.reencrypt();
    for (const [table, n] of Object.entries(result.rewritten)) if (n > 0) io.out(`re-encrypted ${n} row(s) in ${table} written under an old key`);
  }
  const usage = await store.keyUsage();
  return planPrune(keyring, usage, instances);
}

async function applyPrune(store: Store, path: string, keyring: Keyring, plan: PrunePlan, io: CliIo, command: string): Promise<number> {
  if (plan.remove.length > 0) {
    writeKeyFile(path, keyring.without(plan.remove));
    io.out(`removed unused key(s): ${plan.remove.join(", ")}`);
  }
  await store.audit.recordAlone({
    kind: "keys",
    op: "prune",
    actor: cliActor(command),
    before: { keys: keyring.keyIds().join(",") },
    after: { keys: keyring.without(plan.remove).keyIds().join(","), kept: plan.kept.map((k) => k.keyId).join(",") },
  });
  for (const k of plan.kept) io.err(`not removed: ${k.keyId}: in use by ${k.reasons.join("; ")}`);
  if (plan.kept.length > 0) io.err("run \"keys prune\" again once running instances use the new key (store.keyFileCheckMs) and no stored value uses the old one");
  return plan.kept.length > 0 ? 1 : 0;
}

async function status(argv: string[], io: CliIo): Promise<number> {
  const { values } = parseFlags(argv, { config: { type: "string" } });
  const config = loadCliConfig(values.config as string | undefined);
  const store = await openCliStore(config);
  try {
    const usage = await store.keyUsage();
    const k = store.keyring;
    for (const kid of new Set([...k.keyIds(), ...Object.keys(usage)])) {
      const tags = [kid === k.active ? "active" : "", k.keyIds().includes(kid) ? "" : "MISSING FROM KEYRING"].filter(Boolean).join(", ");
      io.out(`${kid}\t${usage[kid] ?? 0} value(s)${tags ? `\t(${tags})` : ""}`);
    }
    for (const i of await store.liveInstances()) io.out(`instance ${i.host} pid ${i.pid} (id ${i.id}) writes with ${i.keyIds.join(", ")}`);
    return 0;
  } finally {
    await store.close();
  }
}
