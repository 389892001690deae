// A running instance follows its key file: every `store.keyFileCheckMs` it compares the file's
// stat (inode, size, mtime, mode — of the target when the path is a symlink, as Kubernetes mounts
// Secrets) with the last one loaded, and re-reads the file when it changed. A file that cannot be
// read or parsed right now (being replaced, a bad edit) keeps the keys in force and is retried on the
// next check; the failure is logged once per version of the file.
import { statSync } from "node:fs";
import type { Logger } from "pino";
import type { Keyring } from "./crypto/keyring.js";
import { loadKeyring, type KeyFileRules } from "./crypto/key-file.js";

export interface KeyFileWatcherOptions {
  file: string;
  env: NodeJS.ProcessEnv;
  rules: KeyFileRules;
  intervalMs: number;
  onKeyring: (k: Keyring) => void;
  logger?: Logger;
}

export class KeyFileWatcher {
  #loaded: string;
  #failed = "";
  readonly #timer: NodeJS.Timeout;

  constructor(private readonly o: KeyFileWatcherOptions) {
    this.#loaded = this.#signature();
    this.#timer = setInterval(() => this.check(), o.intervalMs);
    this.#timer.unref();
  }

  /** Re-reads the key file if it changed since the last load. */
  check(): void {
    const sig = this.#signature();
    if (sig === this.#loaded) return;
    try {
      const k = loadKeyring(this.o.file, this.o.env, this.o.rules).keyring;
      this.#loaded = sig;
      this.#failed = "";
      this.o.onKeyring(k);
    } catch (err) {
      if (sig !== this.#failed) this.o.logger?.error({ file: this.o.file, err: (err as Error).message }, "store key file changed but cannot be used; keeping the keys in force");
      this.#failed = sig;
    }
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  #signature(): string {
    try {
      const s = statSync(this.o.file);
      return `${s.dev}:${s.ino}:${s.size}:${s.mtimeMs}:${s.mode}`;
    } catch (err) {
      return `missing:${(err as NodeJS.ErrnoException).code ?? ""}`;
    }
  }
}
