import { EventEmitter } from 'node:events';
import type * as NodeSqlite from 'node:sqlite';
import { ConfigError } from '@flowgate/core';
import type { StoredData } from 'keyv';
import type { CacheStore, StoreUsage } from '../types.js';
import { createKeyv, KeyvCacheStore } from './keyv-store.js';
import { positiveInteger } from './memory.js';

export interface SqliteStoreOptions {
  /** Database file (created if missing), or `':memory:'`. */
  path: string;
  /** Table name (default `flowgate_cache`); created if missing. */
  table?: string;
  /** Lets several caches share one table (default `default`). */
  namespace?: string;
  /** How long a write waits for another process's lock before failing, ms (default 50). */
  busyTimeoutMs?: number;
  /** How often expired rows are deleted, ms (default 60,000). */
  purgeIntervalMs?: number;
}

interface Row {
  value: string;
  expires: number | null;
}

/**
 * A keyv store adapter over `node:sqlite` (`DatabaseSync`, built into Node): no native module to
 * compile at install. One row per entry; expired rows are skipped on read and purged on a timer.
 * The API is synchronous: an indexed lookup blocks the event loop for microseconds, the price of a
 * persistent cache without a server.
 */
export class SqliteAdapter extends EventEmitter {
  readonly opts: { dialect: 'node:sqlite'; path: string; table: string };
  /** Set by keyv; rows are scoped by the store's own namespace column instead. */
  namespace: string | undefined;
  readonly db: NodeSqlite.DatabaseSync;
  private readonly ns: string;
  private readonly stmt: {
    get: NodeSqlite.StatementSync;
    set: NodeSqlite.StatementSync;
    del: NodeSqlite.StatementSync;
    clear: NodeSqlite.StatementSync;
    glob: NodeSqlite.StatementSync;
    purge: NodeSqlite.StatementSync;
    count: NodeSqlite.StatementSync;
  };
  private closed = false;

  constructor(path: string, table: string, ns: string, busyTimeoutMs: number) {
    super();
    this.opts = { dialect: 'node:sqlite', path, table };
    this.ns = ns;
    // Loaded on first use: importing the package must not load SQLite for users of other stores.
    const { DatabaseSync } = process.getBuiltinModule('node:sqlite');
    this.db = new DatabaseSync(path, { timeout: busyTimeoutMs });
    this.db.exec(`
      PRAGMA journal_mode = WAL;
      PRAGMA synchronous = NORMAL;
      CREATE TABLE IF NOT EXISTS "${table}" (
        ns TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, expires INTEGER,
        PRIMARY KEY (ns, key)
      ) WITHOUT ROWID;
      CREATE INDEX IF NOT EXISTS "${table}_expires" ON "${table}" (expires) WHERE expires IS NOT NULL;
    `);
    this.stmt = {
      get: this.db.prepare(`SELECT value, expires FROM "${table}" WHERE ns = ? AND key = ?`),
      set: this.db.prepare(
        `INSERT INTO "${table}" (ns, key, value, expires) VALUES (?, ?, ?, ?)
         ON CONFLICT (ns, key) DO UPDATE SET value = excluded.value, expires = excluded.expires`,
      ),
      del: this.db.prepare(`DELETE FROM "${table}" WHERE ns = ? AND key = ?`),
      clear: this.db.prepare(`DELETE FROM "${table}" WHERE ns = ?`),
      glob: this.db.prepare(`DELETE FROM "${table}" WHERE ns = ? AND key GLOB ?`),
      purge: this.db.prepare(`DELETE FROM "${table}" WHERE expires IS NOT NULL AND expires <= ?`),
      count: this.db.prepare(`SELECT count(*) AS n FROM "${table}" WHERE ns = ?`),
    };
  }

  async get<Value>(key: string): Promise<StoredData<Value> | undefined> {
    const row = this.stmt.get.get(this.ns, key) as Row | undefined;
    if (row === undefined) return undefined;
    if (row.expires !== null && row.expires <= Date.now()) {
      this.stmt.del.run(this.ns, key);
      return undefined;
    }
    return row.value as StoredData<Value>;
  }

  async set(key: string, value: unknown, ttl?: number): Promise<boolean> {
    const text = typeof value === 'string' ? value : JSON.stringify(value);
    const expires = ttl !== undefined && ttl > 0 ? Date.now() + ttl : null;
    this.stmt.set.run(this.ns, key, text, expires);
    return true;
  }

  async delete(key: string): Promise<boolean> {
    return Number(this.stmt.del.run(this.ns, key).changes) > 0;
  }

  async deleteMany(keys: string[]): Promise<boolean> {
    let any = false;
    for (const key of keys) if (Number(this.stmt.del.run(this.ns, key).changes) > 0) any = true;
    return any;
  }

  async has(key: string): Promise<boolean> {
    return (await this.get(key)) !== undefined;
  }

  async clear(): Promise<void> {
    this.stmt.clear.run(this.ns);
  }

  /** SQLite GLOB: `*` and `?` mean what they mean in the plugin's patterns. */
  deleteMatching(pattern: string): number {
    return Number(this.stmt.glob.run(this.ns, pattern).changes);
  }

  purgeExpired(): number {
    if (this.closed) return 0;
    return Number(this.stmt.purge.run(Date.now()).changes);
  }

  usage(): StoreUsage {
    const { n } = this.stmt.count.get(this.ns) as { n: number };
    const pages = this.db.prepare('PRAGMA page_count').get() as { page_count: number };
    const size = this.db.prepare('PRAGMA page_size').get() as { page_size: number };
    // Bytes of the whole database file (shared by every namespace in it): cheap to read, unlike a sum.
    return { entries: Number(n), bytes: Number(pages.page_count) * Number(size.page_size), evictions: 0 };
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.db.close();
  }
}

/** A persistent store on one machine: a keyv instance over `node:sqlite`. */
export function sqliteStore(options: SqliteStoreOptions): CacheStore {
  if (!options || typeof options.path !== 'string' || options.path.length === 0) {
    throw new ConfigError("sqliteStore needs a `path` (a database file, or ':memory:')");
  }
  const table = options.table ?? 'flowgate_cache';
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(table)) {
    throw new ConfigError(`sqliteStore table must be a plain identifier ([A-Za-z_][A-Za-z0-9_]*), got "${table}"`);
  }
  const namespace = options.namespace ?? 'default';
  const busyTimeoutMs = options.busyTimeoutMs ?? 50;
  if (typeof busyTimeoutMs !== 'number' || !(busyTimeoutMs >= 0)) {
    throw new ConfigError(`sqliteStore busyTimeoutMs must be a number >= 0, got ${String(busyTimeoutMs)}`);
  }
  const purgeIntervalMs = positiveInteger(options.purgeIntervalMs ?? 60_000, 'sqliteStore purgeIntervalMs');
  const adapter = new SqliteAdapter(options.path, table, namespace, busyTimeoutMs);
  const purge = setInterval(() => {
    try {
      adapter.purgeExpired();
    } catch {
      // Busy or closed: the next round retries; reads skip expired rows anyway.
    }
  }, purgeIntervalMs);
  purge.unref();
  const store = new KeyvCacheStore(createKeyv(adapter, undefined), {
    name: 'sqlite',
    local: true,
    deleteMatching: async (pattern) => adapter.deleteMatching(pattern),
    clear: () => adapter.clear(),
    usage: () => adapter.usage(),
    close: async () => {
      clearInterval(purge);
      adapter.close();
    },
  });
  return store;
}
