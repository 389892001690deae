// Watches the directories of the TLS files, not the files: Kubernetes updates a mounted secret by
// swapping a `..data` symlink in the directory, which a watch on the old file inode never sees.
// Any event triggers a debounced check that compares file contents, so noise costs one read.
import { createHash } from "node:crypto";
import { readFileSync, watch, type FSWatcher } from "node:fs";
import { dirname, resolve } from "node:path";

export class FileChangeWatcher {
  #watchers: FSWatcher[] = [];
  #timer: NodeJS.Timeout | undefined;
  #digest = "";

  constructor(
    private files: () => string[],
    private onChange: () => void,
    private debounceMs = 250,
  ) {}

  start(): void {
    this.#digest = this.#currentDigest();
    const dirs = new Set(this.files().map((f) => dirname(resolve(f))));
    for (const d of dirs) {
      try {
        const w = watch(d, { persistent: false }, () => this.#schedule());
        w.on("error", () => undefined);
        this.#watchers.push(w);
      } catch {
        // A directory that cannot be watched still reloads on SIGHUP.
      }
    }
  }

  /** Re-arm with the current file list after a reload (files may have been added). */
  restart(): void {
    this.stop();
    this.start();
  }

  stop(): void {
    for (const w of this.#watchers) w.close();
    this.#watchers = [];
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #schedule(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      const d = this.#currentDigest();
      if (d !== this.#digest) {
        this.#digest = d;
        this.onChange();
      }
    }, this.debounceMs);
    this.#timer.unref();
  }

  #currentDigest(): string {
    const h = createHash("sha256");
    for (const f of this.files()) {
      try {
        h.update(f).update(readFileSync(f));
      } catch {
        h.update(f).update("<missing>");
      }
    }
    return h.digest("hex");
  }
}
