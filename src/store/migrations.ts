// Versioned schema migrations. Each migration runs in its own transaction together with the row
// that records it, under a cross-replica lock, so concurrent starts apply it exactly once and a
// failed migration leaves nothing behind. Never edit a released migration: append a new one.
import type { Dialect, SqlDriver } from "./db/driver.js";

export interface Migration {
  version: number;
  name: string;
  /** Statements for both dialects, unless a dialect-specific list is given. */
  up: readonly string[] | Readonly<Record<Dialect, readonly string[]>>;
}

const DURATIONS_TABLE = `CREATE TABLE daily_statistics_durations (
  stat_id TEXT NOT NULL,
  bucket_ms BIGINT NOT NULL,
  calls BIGINT NOT NULL,
  PRIMARY KEY (stat_id, bucket_ms)
)`;

// name_enc and custom_header_enc are customer data, encrypted like the number's columns (purpose
// accounts.<column>:<account_id>); the id is the operator's own opaque key, stored in clear.
const ACCOUNTS_TABLE = `CREATE TABLE accounts (
  account_id TEXT PRIMARY KEY,
  name_enc TEXT,
  service TEXT,
  custom_header_enc TEXT,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
)`;
/** GET /api/v1/numbers?account= walks one account's numbers in blind-index order. */
const NUMBERS_ACCOUNT_INDEX = `CREATE INDEX numbers_account ON numbers (account_id, number_index)`;

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: "numbers, call records, daily statistics",
    up: [
      `CREATE TABLE store_meta (name TEXT PRIMARY KEY, value TEXT NOT NULL)`,
      `CREATE TABLE store_counters (name TEXT PRIMARY KEY, value BIGINT NOT NULL)`,
      `INSERT INTO store_counters (name, value) VALUES ('numbers_version', 0)`,
      `CREATE TABLE numbers (
         number_index TEXT PRIMARY KEY,
         number_enc TEXT NOT NULL,
         service TEXT NOT NULL,
         custom_header_enc TEXT,
         created_at BIGINT NOT NULL,
         updated_at BIGINT NOT NULL
       )`,
      `CREATE TABLE call_records (
         id TEXT PRIMARY KEY,
         call_id_hash TEXT NOT NULL,
         started_at BIGINT NOT NULL,
         answered_at BIGINT,
         ended_at BIGINT,
         duration_ms BIGINT,
         final_status INTEGER,
         hangup_side TEXT NOT NULL,
         service TEXT,
         peer_enc TEXT,
         calling_enc TEXT,
         called_enc TEXT
       )`,
      `CREATE INDEX call_records_started_at ON call_records (started_at)`,
      `CREATE INDEX call_records_call_id_hash ON call_records (call_id_hash)`,
      `CREATE TABLE daily_statistics (
         id TEXT PRIMARY KEY,
         day TEXT NOT NULL,
         service TEXT NOT NULL,
         peer_index TEXT NOT NULL,
         peer_enc TEXT,
         calls BIGINT NOT NULL,
         answered BIGINT NOT NULL,
         duration_sum_ms BIGINT NOT NULL,
         duration_histogram TEXT NOT NULL,
         status_1xx BIGINT NOT NULL,
         status_2xx BIGINT NOT NULL,
         status_3xx BIGINT NOT NULL,
         status_4xx BIGINT NOT NULL,
         status_5xx BIGINT NOT NULL,
         status_6xx BIGINT NOT NULL,
         status_none BIGINT NOT NULL
       )`,
      `CREATE INDEX daily_statistics_day ON daily_statistics (day)`,
    ],
  },
  {
    // The JSON histogram could only be merged by read-modify-write, which loses counts when two
    // replicas roll up the same day row at once. One row per bucket is incremented atomically
    // (INSERT … ON CONFLICT … DO UPDATE SET calls = calls + excluded.calls).
    version: 2,
    name: "daily statistics duration histogram as one row per bucket",
    up: {
      sqlite: [
        DURATIONS_TABLE,
        `INSERT INTO daily_statistics_durations (stat_id, bucket_ms, calls)
           SELECT d.id, CAST(j.key AS INTEGER), CAST(j.value AS INTEGER) FROM daily_statistics d, json_each(d.duration_histogram) j`,
        `ALTER TABLE daily_statistics DROP COLUMN duration_histogram`,
      ],
      postgres: [
        DURATIONS_TABLE,
        `INSERT INTO daily_statistics_durations (stat_id, bucket_ms, calls)
           SELECT d.id, j.key::BIGINT, j.value::BIGINT FROM daily_statistics d, json_each_text(d.duration_histogram::json) j`,
        `ALTER TABLE daily_statistics DROP COLUMN duration_histogram`,
      ],
    },
  },
  {
    version: 3,
    name: "running instances and the data keys they write with",
    up: [
      `CREATE TABLE store_instances (
         id TEXT PRIMARY KEY,
         host TEXT NOT NULL,
         pid INTEGER NOT NULL,
         key_ids TEXT NOT NULL,
         started_at BIGINT NOT NULL,
         last_seen BIGINT NOT NULL,
         expires_at BIGINT NOT NULL
       )`,
    ],
  },
  {
    // Answered calls whose record is not written yet, one row per call, written in the call-record
    // batch that follows the answer and deleted in the batch that writes the call's record: after a
    // kill -9 the rows left behind are the calls that were up (call-journal.ts turns them into
    // records). `owner` is the store_instances id of the process that journaled the call.
    version: 4,
    name: "journal of answered calls not yet recorded",
    up: [
      `CREATE TABLE call_journal (
         id TEXT PRIMARY KEY,
         owner TEXT NOT NULL,
         call_id_hash TEXT NOT NULL,
         started_at BIGINT NOT NULL,
         answered_at BIGINT NOT NULL,
         final_status INTEGER NOT NULL,
         service TEXT,
         peer_enc TEXT,
         calling_enc TEXT,
         called_enc TEXT
       )`,
      `CREATE INDEX call_journal_owner ON call_journal (owner)`,
      // Kernel boot + pid namespace of the instance (instances.ts PROCESS_SCOPE): a pid that is not
      // running in the same scope is a dead instance, without waiting for its row to expire.
      `ALTER TABLE store_instances ADD COLUMN scope TEXT`,
    ],
  },
  {
    // The API lists numbers of one service (GET /api/v1/numbers?service=) in blind-index order:
    // this index serves that walk without scanning (or decrypting) the other services' rows.
    version: 5,
    name: "numbers by service",
    up: [`CREATE INDEX numbers_service ON numbers (service, number_index)`],
  },
  {
    // The audit trail (audit-trail.ts): one row per change to customer data, written in the change's
    // transaction. `id` starts with the zero-padded time in ms, so the primary key serves time
    // ranges, newest-first pagination and the retention purge; the two indexes serve the API's
    // subject and number (blind index) filters in the same order.
    version: 6,
    name: "audit trail of provisioning changes",
    up: [
      `CREATE TABLE audit_trail (
         id TEXT PRIMARY KEY,
         at BIGINT NOT NULL,
         kind TEXT NOT NULL,
         op TEXT NOT NULL,
         subject TEXT,
         peer TEXT,
         via TEXT NOT NULL,
         target TEXT,
         before_enc TEXT,
         after_enc TEXT
       )`,
      `CREATE INDEX audit_trail_subject ON audit_trail (subject, id)`,
      `CREATE INDEX audit_trail_target ON audit_trail (target, id)`,
    ],
  },
  {
    // Accounts (a customer of the operator) group numbers and give them defaults: a number's own
    // service becomes optional (NULL: the account's default, resolved when read, never copied).
    // SQLite cannot drop a NOT NULL constraint: the numbers table is rebuilt with every column
    // and index migrations 1-6 gave it (6 added none: the audit trail is a table of its own, which
    // this leaves untouched, with no reference to numbers to break), same rows. Numbered 7: 6 is
    // the audit trail's. test/store/accounts.test.ts migrates a version-5 store.
    version: 7,
    name: "accounts with default service and custom header; numbers by account",
    up: {
      sqlite: [
        ACCOUNTS_TABLE,
        `CREATE TABLE numbers_v7 (
           number_index TEXT PRIMARY KEY,
           number_enc TEXT NOT NULL,
           service TEXT,
           custom_header_enc TEXT,
           created_at BIGINT NOT NULL,
           updated_at BIGINT NOT NULL,
           account_id TEXT
         )`,
        `INSERT INTO numbers_v7 (number_index, number_enc, service, custom_header_enc, created_at, updated_at)
           SELECT number_index, number_enc, service, custom_header_enc, created_at, updated_at FROM numbers`,
        `DROP TABLE numbers`,
        `ALTER TABLE numbers_v7 RENAME TO numbers`,
        `CREATE INDEX numbers_service ON numbers (service, number_index)`,
        NUMBERS_ACCOUNT_INDEX,
      ],
      postgres: [
        ACCOUNTS_TABLE,
        `ALTER TABLE numbers ALTER COLUMN service DROP NOT NULL`,
        `ALTER TABLE numbers ADD COLUMN account_id TEXT`,
        NUMBERS_ACCOUNT_INDEX,
      ],
    },
  },
  {
    // A call's peer and numbers sealed in one AES-GCM value (call-fields.ts) instead of one value
    // per column: rows written from now on fill only fields_enc; older rows keep peer_enc,
    // calling_enc and called_enc and stay readable. And no index on call_records.call_id_hash: a
    // keyed hash is random, so each record's entry dirtied its own index page, written out at every
    // batch's COMMIT (~8 of ~30 CPU-µs per answered call); no trunkgate path looks a record up by
    // Call-ID (findByCallId, for tests and troubleshooting, scans the retained records instead).
    // Independent of migrations 6 and 7.
    version: 8,
    name: "call records and journal: sealed call fields; no call_id_hash index",
    up: [
      `ALTER TABLE call_records ADD COLUMN fields_enc TEXT`,
      `ALTER TABLE call_journal ADD COLUMN fields_enc TEXT`,
      `DROP INDEX IF EXISTS call_records_call_id_hash`,
    ],
  },
];

const CREATE_TABLE = `CREATE TABLE IF NOT EXISTS schema_migrations (
  version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)`;

export class MigrationError extends Error {
  override name = "MigrationError";
}

/** Applies pending migrations; returns the versions applied by this call (none when up to date). */
export async function migrate(db: SqlDriver, migrations: readonly Migration[] = MIGRATIONS, now: () => Date = () => new Date()): Promise<number[]> {
  const applied: number[] = [];
  const known = Math.max(0, ...migrations.map((m) => m.version));
  await db.transaction(async (tx) => {
    await tx.lock("migrations");
    await tx.run(CREATE_TABLE);
  });
  for (const m of [...migrations].sort((a, b) => a.version - b.version)) {
    await db.transaction(async (tx) => {
      await tx.lock("migrations");
      const rows = await tx.all<{ version: number }>("SELECT version FROM schema_migrations ORDER BY version DESC");
      const newest = rows[0]?.version ?? 0;
      if (newest > known) {
        throw new MigrationError(`database schema version ${newest} is newer than this trunkgate knows (${known}): upgrade trunkgate`);
      }
      if (rows.some((r) => Number(r.version) === m.version)) return;
      const statements = Array.isArray(m.up) ? m.up : (m.up as Record<Dialect, readonly string[]>)[db.dialect];
      for (const sql of statements) await tx.run(sql);
      await tx.run("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)", [m.version, m.name, now().getTime()]);
      applied.push(m.version);
    });
  }
  return applied;
}
