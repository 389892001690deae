// Data-key rotation: re-encrypt every encrypted column under the active key, in batches, one
// transaction per batch (rows are locked — FOR UPDATE on PostgreSQL, the write lock on SQLite — so
// a concurrent update is never overwritten with stale plaintext). Blind indexes use the separate
// index key and are untouched. keyUsage() tells which key ids rows still use, so old keys are
// removed from the keyring only when nothing needs them.
import type { StoreContext } from "./context.js";
import type { Keyring } from "./crypto/keyring.js";
import type { InstanceInfo } from "./instances.js";

export const ENCRYPTED_COLUMNS = [
  { table: "numbers", key: "number_index", columns: ["number_enc", "custom_header_enc"] },
  { table: "accounts", key: "account_id", columns: ["name_enc", "custom_header_enc"] },
  // fields_enc: the sealed fields of rows written since migration 8 (call-fields.ts); the three
  // per-field columns: rows written before it. Each value is re-encrypted as it is, whatever it holds.
  { table: "call_records", key: "id", columns: ["peer_enc", "calling_enc", "called_enc", "fields_enc"] },
  { table: "daily_statistics", key: "id", columns: ["peer_enc"] },
  { table: "call_journal", key: "id", columns: ["peer_enc", "calling_enc", "called_enc", "fields_enc"] },
  { table: "audit_trail", key: "id", columns: ["before_enc", "after_enc"] },
] as const;

export interface ReencryptResult {
  /** Rows rewritten per table. */
  rewritten: Record<string, number>;
  activeKey: string;
}

export async function reencryptAll(ctx: StoreContext, opts: { batchSize?: number } = {}): Promise<ReencryptResult> {
  const batchSize = Math.max(1, Math.min(opts.batchSize ?? 500, 5000));
  const forUpdate = ctx.db.dialect === "postgres" ? " FOR UPDATE" : "";
  const rewritten: Record<string, number> = {};
  for (const spec of ENCRYPTED_COLUMNS) {
    const cols = spec.columns.join(", ");
    let after = "";
    let count = 0;
    for (;;) {
      const result = await ctx.db.transaction(async (tx) => {
        const rows = await tx.all<Record<string, string | null>>(
          `SELECT ${spec.key}, ${cols} FROM ${spec.table} WHERE ${spec.key} > ? ORDER BY ${spec.key} LIMIT ?${forUpdate}`,
          [after, batchSize],
        );
        let changed = 0;
        for (const row of rows) {
          const key = row[spec.key]!;
          const stale = spec.columns.filter((c) => row[c] !== null && !row[c]!.startsWith(ctx.keys.activePrefix));
          if (stale.length === 0) continue;
          // An unreadable row is reported and left as it is (its key id then still counts as used).
          const values = ctx.readable(spec.table, key, () => stale.map((c) => ctx.encrypt(ctx.decrypt(row[c]!, spec.table, c, key), spec.table, c, key)));
          if (!values) continue;
          await tx.run(`UPDATE ${spec.table} SET ${stale.map((c) => `${c} = ?`).join(", ")} WHERE ${spec.key} = ?`, [...values, key]);
          changed++;
        }
        return { last: rows.length > 0 ? rows[rows.length - 1]![spec.key]! : null, n: rows.length, changed };
      });
      count += result.changed;
      if (result.last === null || result.n < batchSize) break;
      after = result.last;
    }
    rewritten[spec.table] = count;
  }
  return { rewritten, activeKey: ctx.keys.active };
}

/** Number of stored values per key id (across all encrypted columns). */
export async function keyUsage(ctx: StoreContext): Promise<Record<string, number>> {
  const usage: Record<string, number> = {};
  for (const spec of ENCRYPTED_COLUMNS) {
    for (const c of spec.columns) {
      // Ciphertexts are `v1.<kid>.<iv>.<ct>`: group by the second field without decrypting.
      const kidExpr = ctx.db.dialect === "postgres" ? `split_part(${c}, '.', 2)` : `substr(${c}, 4, instr(substr(${c}, 4), '.') - 1)`;
      const rows = await ctx.db.all<{ kid: string; n: number | string }>(
        `SELECT ${kidExpr} AS kid, COUNT(*) AS n FROM ${spec.table} WHERE ${c} IS NOT NULL GROUP BY ${kidExpr}`,
      );
      for (const r of rows) usage[r.kid] = (usage[r.kid] ?? 0) + Number(r.n);
    }
  }
  return usage;
}

export interface PrunePlan {
  /** Non-active keys nothing uses: safe to remove. */
  remove: string[];
  /** Non-active keys kept, with why (stored values, running instances). */
  kept: { keyId: string; reasons: string[] }[];
}

/**
 * Which old keys may go. `instances` must be read BEFORE `usage`: an instance that switched keys
 * after the instance read has, by then, committed its last old-key writes, which the usage scan
 * sees; read the other way round, a write committed between the two reads would be missed.
 */
export function planPrune(keyring: Keyring, usage: Record<string, number>, instances: readonly InstanceInfo[], now = Date.now()): PrunePlan {
  const plan: PrunePlan = { remove: [], kept: [] };
  for (const kid of keyring.keyIds()) {
    if (kid === keyring.active) continue;
    const reasons: string[] = [];
    if (usage[kid]) reasons.push(`${usage[kid]} stored value(s)`);
    for (const i of instances) {
      if (i.keyIds.includes(kid)) reasons.push(`running instance ${i.host} pid ${i.pid} (id ${i.id}, seen ${Math.max(0, Math.round((now - i.lastSeen) / 1000))} s ago)`);
    }
    if (reasons.length === 0) plan.remove.push(kid);
    else plan.kept.push({ keyId: kid, reasons });
  }
  return plan;
}
