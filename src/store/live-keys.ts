// Key changes on a live system. A running instance
// - follows its key file (KeyFileWatcher): a rotation's new active key is used for every write
//   within `store.keyFileCheckMs`, by the main thread and by the call-record worker (which gets the
//   new keyring between two batches and confirms it);
// - records in the store (store_instances, InstanceRegistry) the data keys it may write with: its
//   active key, the key the worker has confirmed, and for one heartbeat after a switch the previous
//   key too (a write encrypted just before the switch may still be committing). `keys prune` refuses
//   any key a live instance lists. A clean stop removes the row; a dead instance's row expires.
// With TRUNKGATE_STORE_KEY the keys cannot change under a running instance: a rotation needs a
// restart, and until then prune sees the old key in use.
import type { Logger } from "pino";
import type { Keyring } from "./crypto/keyring.js";
import type { KeyFileRules } from "./crypto/key-file.js";
import { STORE_KEY_ENV } from "./crypto/key-file.js";
import { KeyFileWatcher } from "./key-watch.js";
import type { Store } from "./store.js";
import type { InstanceRegistry } from "./instances.js";

/** What the instance needs from a call-record writer that writes with its own copy of the keys. */
export interface KeyedWriter {
  useKeyring(k: Keyring): void;
  readonly writerKeyId: string;
  onWorkerKey(listener: (active: string) => void): void;
}

export interface LiveKeysOptions {
  store: Store;
  /** Absolute path of store.encryptionKeyFile. */
  keyFile: string;
  env: NodeJS.ProcessEnv;
  rules: KeyFileRules;
  keyFileCheckMs: number;
  heartbeatMs: number;
  writer?: KeyedWriter;
  /** This instance's row (default: a new one); the call journal is kept under its id. */
  registry?: InstanceRegistry;
  logger?: Logger;
}

export interface LiveKeys {
  /** Checks the key file now (tests, SIGHUP). */
  checkKeyFile(): void;
  stop(): Promise<void>;
}

export async function startLiveKeys(o: LiveKeysOptions): Promise<LiveKeys> {
  const { store, logger } = o;
  const registry = o.registry ?? store.instanceRegistry(o.heartbeatMs);
  let active = store.keyring.active;
  let previous: { kid: string; until: number } | null = null;
  let recorded = "";
  const keyIds = (): string[] => {
    const ids = [store.keyring.active, o.writer?.writerKeyId ?? store.keyring.active];
    if (previous && Date.now() < previous.until) ids.push(previous.kid);
    else previous = null;
    return [...new Set(ids)].sort();
  };
  let beating: Promise<void> = Promise.resolve();
  const beat = (): Promise<void> => {
    // One heartbeat at a time, in order: a slow one must not overwrite a newer key list.
    beating = beating.then(async () => {
      const ids = keyIds();
      try {
        await registry.heartbeat(ids);
        const text = ids.join(",");
        if (text !== recorded) logger?.info({ instance: registry.id, keyIds: ids }, "store instance keys recorded");
        recorded = text;
      } catch (err) {
        logger?.warn({ err: (err as Error).message }, "store instance heartbeat failed; retrying on the next one");
      }
    });
    return beating;
  };

  store.onKeyringChange((k) => {
    if (k.active !== active) {
      previous = { kid: active, until: Date.now() + o.heartbeatMs };
      active = k.active;
      logger?.info({ active: k.active, keyIds: k.keyIds() }, "store data key changed");
    }
    o.writer?.useKeyring(k);
    void beat();
  });
  o.writer?.onWorkerKey(() => void beat());
  await registry.heartbeat(keyIds());
  recorded = keyIds().join(",");

  const fromEnv = (o.env[STORE_KEY_ENV] ?? "") !== "";
  const watcher = fromEnv
    ? null
    : new KeyFileWatcher({
        file: o.keyFile,
        env: o.env,
        rules: o.rules,
        intervalMs: o.keyFileCheckMs,
        logger,
        onKeyring: (k) => {
          try {
            store.useKeyring(k);
          } catch (err) {
            logger?.error({ file: o.keyFile, err: (err as Error).message }, "store key file changed but cannot be used; keeping the keys in force");
          }
        },
      });
  const timer = setInterval(() => void beat(), o.heartbeatMs);
  timer.unref();
  return {
    checkKeyFile: () => watcher?.check(),
    async stop() {
      clearInterval(timer);
      watcher?.stop();
      await beating;
      await registry.remove().catch((err: Error) => logger?.warn({ err: err.message }, "could not remove this instance from store_instances; it expires on its own"));
    },
  };
}
