// Pushes "the numbers changed" to every replica sharing one PostgreSQL store, so routing caches
// apply a change within milliseconds of its commit instead of at the next poll. Every numbers
// write runs pg_notify(NUMBERS_CHANNEL) in its transaction (PostgreSQL delivers it at commit, and
// not at all on rollback); each replica LISTENs on a dedicated connection (a pooled one could not
// keep the LISTEN). Notifications sent while the connection is down are lost, so after every
// (re)connect the listener is told to check once; the cache's version poll stays as the fallback.
import pg from "pg";
import type { Logger } from "pino";

export const NUMBERS_CHANNEL = "trunkgate_numbers";

export interface ChangeFeed {
  /** Starts listening; resolves once listening (or once the first attempt failed: it retries). */
  start(onChange: () => void): Promise<void>;
  close(): Promise<void>;
}

const MIN_BACKOFF_MS = 100;
const MAX_BACKOFF_MS = 5_000;

export class PgNumberChangeFeed implements ChangeFeed {
  private client: pg.Client | undefined;
  private closed = false;
  private backoffMs = MIN_BACKOFF_MS;
  private retry: NodeJS.Timeout | undefined;
  private onChange: () => void = () => {};

  constructor(
    private readonly url: string,
    private readonly logger?: Logger,
  ) {}

  async start(onChange: () => void): Promise<void> {
    this.onChange = onChange;
    await this.connect();
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retry);
    const c = this.client;
    this.client = undefined;
    await c?.end().catch(() => {});
  }

  private async connect(): Promise<void> {
    if (this.closed) return;
    const client = new pg.Client({ connectionString: this.url });
    // Without an 'error' listener a dropped connection would crash the process.
    client.on("error", () => this.lost(client));
    client.on("end", () => this.lost(client));
    client.on("notification", (n) => {
      if (n.channel === NUMBERS_CHANNEL) this.onChange();
    });
    this.client = client;
    try {
      await client.connect();
      await client.query(`LISTEN ${NUMBERS_CHANNEL}`);
    } catch (err) {
      this.logger?.warn({ err: (err as Error).message }, "numbers change feed: cannot listen; polling only until it reconnects");
      this.lost(client);
      return;
    }
    if (this.closed) {
      await client.end().catch(() => {});
      return;
    }
    this.backoffMs = MIN_BACKOFF_MS;
    // Anything committed while we were not listening was not delivered: check once.
    this.onChange();
  }

  private lost(client: pg.Client): void {
    if (this.client !== client || this.closed) return;
    this.client = undefined;
    client.end().catch(() => {});
    const delay = this.backoffMs;
    this.backoffMs = Math.min(MAX_BACKOFF_MS, this.backoffMs * 2);
    this.retry = setTimeout(() => void this.connect(), delay);
    this.retry.unref();
  }
}
