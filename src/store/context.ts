// What the repositories share: the SQL driver, the keyring in force (replaceable after a rotation)
// and the clock. `purpose` strings name table, column and row for AES-GCM associated data.
import type { SqlDriver } from "./db/driver.js";
import { DecryptError, type Keyring } from "./crypto/keyring.js";

/** A stored row that could not be decrypted (tampered, or under a key the keyring lacks). */
export interface UnreadableRow {
  table: string;
  /** The row's key: a blind index or a random id, never a value in clear. */
  rowKey: string;
  keyId: string | undefined;
  reason: string;
}

export class StoreContext {
  readonly #keyringListeners: ((k: Keyring) => void)[] = [];
  readonly #unreadableListeners: ((u: UnreadableRow) => void)[] = [];

  constructor(
    readonly db: SqlDriver,
    private keyring: Keyring,
    readonly now: () => Date,
    /** Re-reads the key source (file) — used once when a ciphertext names a key we do not know. */
    private readonly reloadKeyring?: () => Keyring,
  ) {}

  get keys(): Keyring {
    return this.keyring;
  }

  setKeyring(k: Keyring): void {
    if (k === this.keyring) return;
    this.keyring = k;
    // Whoever writes with a copy of the keys (the call-record worker) and the instance registry
    // must follow every change, including the on-demand reload in decrypt().
    for (const l of this.#keyringListeners) l(k);
  }

  onKeyringChange(listener: (k: Keyring) => void): void {
    this.#keyringListeners.push(listener);
  }

  encrypt(value: string, table: string, column: string, rowKey: string): string {
    return this.keyring.encrypt(value, purposeOf(table, column, rowKey));
  }

  decrypt(token: string, table: string, column: string, rowKey: string): string {
    const purpose = purposeOf(table, column, rowKey);
    try {
      return this.keyring.decrypt(token, purpose);
    } catch (err) {
      // Another process may have rotated keys since we loaded the keyring: reload once.
      if (err instanceof DecryptError && err.keyId && !this.keyring.keyIds().includes(err.keyId) && this.reloadKeyring) {
        const reloaded = this.reloadKeyring();
        if (reloaded.fingerprint() === this.keyring.fingerprint()) this.setKeyring(reloaded);
        return this.keyring.decrypt(token, purpose);
      }
      throw err;
    }
  }

  /**
   * Decodes one row of a scan; a row that fails authentication is reported (metric, log, the
   * export's list) and skipped, so one bad row never stops a start-up or an export. Other errors
   * propagate.
   */
  readable<T>(table: string, rowKey: string, decode: () => T): T | undefined {
    try {
      return decode();
    } catch (err) {
      if (!(err instanceof DecryptError)) throw err;
      const u: UnreadableRow = { table, rowKey, keyId: err.keyId, reason: err.message };
      for (const l of this.#unreadableListeners) l(u);
      return undefined;
    }
  }

  onUnreadable(listener: (u: UnreadableRow) => void): void {
    this.#unreadableListeners.push(listener);
  }

  encryptOpt(value: string | null | undefined, table: string, column: string, rowKey: string): string | null {
    return value === null || value === undefined ? null : this.encrypt(value, table, column, rowKey);
  }

  decryptOpt(token: string | null | undefined, table: string, column: string, rowKey: string): string | null {
    return token === null || token === undefined ? null : this.decrypt(token, table, column, rowKey);
  }
}

export function purposeOf(table: string, column: string, rowKey: string): string {
  return `${table}.${column}:${rowKey}`;
}
