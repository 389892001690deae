// `trunkgate keys …`: manage the store's keyring file (see src/store/README.md, "Key rotation").
import { createKeyFile, loadKeyring, STORE_KEY_ENV, writeKeyFile } from "../store/crypto/key-file.js";
import { absolute, loadCliConfig, openCliStore, parseFlags, runSubcommand, UsageError, type CliIo } from "./store-command.js";
import { openStore } from "../store/store.js";

const HELP = `usage:
  trunkgate keys init --out FILE [--force]     create a new keyring file (mode 0600); refuses to overwrite unless --force
  trunkgate keys rotate [--config FILE] [--batch-size N] [--prune]
                                               add a new active data key, re-encrypt every stored value under it;
                                               --prune then removes old keys no row uses (only if no other replica
                                               may still write with them: otherwise run "keys prune" after reloading them)
  trunkgate keys prune [--config FILE]         remove non-active keys that no stored value uses
  trunkgate keys status [--config FILE]        key ids, the active one, and how many stored values use each`;

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
    const usage = await store.keyUsage();
    const unused = next.keyIds().filter((k) => k !== next.active && !usage[k]);
    const used = next.keyIds().filter((k) => k !== next.active && usage[k]);
    if (used.length > 0) io.out(`still in use (a replica wrote with an old key meanwhile?): ${used.join(", ")}; run "keys rotate" again later`);
    if (values.prune && unused.length > 0) {
      writeKeyFile(path, next.without(unused));
      io.out(`removed unused key(s): ${unused.join(", ")}`);
    } else if (unused.length > 0) {
      io.out(`no longer used: ${unused.join(", ")}; reload all replicas, then run "keys prune"`);
    }
    return 0;
  } finally {
    await store.close();
  }
}

async function prune(argv: string[], io: CliIo): Promise<number> {
  const { values } = parseFlags(argv, { config: { type: "string" } });
  const { config, path, keyring } = keyFileOf(values.config as string | undefined);
  const store = await openStore({ url: config.store.url, keyring, baseDir: process.cwd() });
  try {
    const usage = await store.keyUsage();
    const unknown = Object.keys(usage).filter((k) => !keyring.keyIds().includes(k));
    if (unknown.length > 0) io.err(`warning: stored values use key id(s) not in this keyring: ${unknown.join(", ")}`);
    const unused = keyring.keyIds().filter((k) => k !== keyring.active && !usage[k]);
    if (unused.length === 0) {
      io.out("nothing to prune");
      return 0;
    }
    writeKeyFile(path, keyring.without(unused));
    io.out(`removed unused key(s): ${unused.join(", ")}`);
    return 0;
  } finally {
    await store.close();
  }
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
    return 0;
  } finally {
    await store.close();
  }
}
