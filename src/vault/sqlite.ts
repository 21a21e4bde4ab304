// The vault over SQLite (`sqlite:PATH`): a single replica, so withLock needs no database lock (Vault's
// in-process mutex is the lock), and every write is one statement, so compare-and-swap is atomic.
// WAL, as the audit database; a new file is created readable by its owner only.
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import { clientFromColumns, FILTER_COLUMNS, metaFromColumns, rowFromColumns, type ClientKey, type ClientRow, type ListFilter, type Row, type RowMeta, type SealedValue, type VaultStore } from './store.ts';
import type { AccountKey } from './vault.ts';

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS vault_accounts (
    issuer TEXT NOT NULL, subject TEXT NOT NULL, upstream TEXT NOT NULL,
    key_id TEXT NOT NULL, sealed BLOB NOT NULL, scope TEXT,
    version INTEGER NOT NULL, connected_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, last_used_at INTEGER,
    PRIMARY KEY (issuer, subject, upstream));
  CREATE INDEX IF NOT EXISTS vault_accounts_subject ON vault_accounts (subject);
  CREATE TABLE IF NOT EXISTS vault_tickets (id TEXT PRIMARY KEY, expires_at INTEGER NOT NULL);
  CREATE INDEX IF NOT EXISTS vault_tickets_expiry ON vault_tickets (expires_at);
  CREATE TABLE IF NOT EXISTS vault_clients (
    upstream TEXT NOT NULL, issuer TEXT NOT NULL, key_id TEXT NOT NULL, sealed BLOB NOT NULL, created_at INTEGER NOT NULL,
    PRIMARY KEY (upstream, issuer));`;

const WHERE_KEY = 'issuer = ? AND subject = ? AND upstream = ?';
const INSERT = `INSERT INTO vault_accounts (issuer, subject, upstream, key_id, sealed, scope, version, connected_at, updated_at)
  VALUES (?, ?, ?, ?, ?, ?, 1, ?, ?)`;

export class SqliteVaultStore implements VaultStore {
  readonly #db: DatabaseSync;
  readonly #statements = new Map<string, StatementSync>();

  constructor(path: string) {
    if (path !== ':memory:') {
      mkdirSync(dirname(path), { recursive: true });
      try {
        closeSync(openSync(path, 'wx', 0o600));
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
    }
    this.#db = new DatabaseSync(path);
    this.#db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 5000;');
    this.#db.exec(SCHEMA);
  }

  async get(key: AccountKey): Promise<Row | undefined> {
    const r = this.#stmt(`SELECT * FROM vault_accounts WHERE ${WHERE_KEY}`).get(...tuple(key));
    return r ? rowFromColumns(r) : undefined;
  }

  async put(key: AccountKey, v: SealedValue, now: number): Promise<Row> {
    const r = this.#stmt(`${INSERT} ON CONFLICT (issuer, subject, upstream) DO UPDATE SET
        key_id = excluded.key_id, sealed = excluded.sealed, scope = excluded.scope,
        version = vault_accounts.version + 1, updated_at = excluded.updated_at
      RETURNING *`).get(...tuple(key), v.keyId, v.sealed, v.scope, now, now);
    return rowFromColumns(r!);
  }

  async compareAndSwap(key: AccountKey, expectedVersion: number, v: SealedValue, now: number): Promise<Row | undefined> {
    const r = expectedVersion === 0
      ? this.#stmt(`${INSERT} ON CONFLICT DO NOTHING RETURNING *`).get(...tuple(key), v.keyId, v.sealed, v.scope, now, now)
      : this.#stmt(`UPDATE vault_accounts SET key_id = ?, sealed = ?, scope = ?, version = version + 1, updated_at = ?
          WHERE ${WHERE_KEY} AND version = ? RETURNING *`).get(v.keyId, v.sealed, v.scope, now, ...tuple(key), expectedVersion);
    return r ? rowFromColumns(r) : undefined;
  }

  async reseal(key: AccountKey, from: Row, v: SealedValue): Promise<boolean> {
    const { changes } = this.#stmt(`UPDATE vault_accounts SET key_id = ?, sealed = ? WHERE ${WHERE_KEY} AND version = ? AND sealed = ?`)
      .run(v.keyId, v.sealed, ...tuple(key), from.version, from.sealed);
    return changes === 1;
  }

  async touch(key: AccountKey, now: number, notBefore: number): Promise<void> {
    this.#stmt(`UPDATE vault_accounts SET last_used_at = ? WHERE ${WHERE_KEY} AND (last_used_at IS NULL OR last_used_at <= ?)`).run(now, ...tuple(key), notBefore);
  }

  async delete(key: AccountKey): Promise<boolean> {
    return this.#stmt(`DELETE FROM vault_accounts WHERE ${WHERE_KEY}`).run(...tuple(key)).changes === 1;
  }

  async list(filter: ListFilter): Promise<RowMeta[]> {
    const columns = FILTER_COLUMNS.filter((c) => filter[c] !== undefined);
    const where = columns.length ? `WHERE ${columns.map((c) => `${c} = ?`).join(' AND ')}` : '';
    return this.#stmt(`SELECT issuer, subject, upstream, scope, version, connected_at, updated_at, last_used_at
      FROM vault_accounts ${where} ORDER BY issuer, subject, upstream`).all(...columns.map((c) => filter[c]!)).map(metaFromColumns);
  }

  async recordTicket(idHash: string, expiresAt: number): Promise<boolean> {
    return this.#stmt('INSERT INTO vault_tickets (id, expires_at) VALUES (?, ?) ON CONFLICT (id) DO NOTHING').run(idHash, expiresAt).changes === 1;
  }

  async pruneTickets(now: number): Promise<void> {
    this.#stmt('DELETE FROM vault_tickets WHERE expires_at < ?').run(now);
  }

  async getClient(key: ClientKey): Promise<ClientRow | undefined> {
    const r = this.#stmt('SELECT key_id, sealed, created_at FROM vault_clients WHERE upstream = ? AND issuer = ?').get(key.upstream, key.issuer);
    return r ? clientFromColumns(r) : undefined;
  }

  async putClient(key: ClientKey, v: { keyId: string; sealed: Buffer }, now: number): Promise<void> {
    this.#stmt(`INSERT INTO vault_clients (upstream, issuer, key_id, sealed, created_at) VALUES (?, ?, ?, ?, ?)
      ON CONFLICT (upstream, issuer) DO UPDATE SET key_id = excluded.key_id, sealed = excluded.sealed, created_at = excluded.created_at`).run(key.upstream, key.issuer, v.keyId, v.sealed, now);
  }

  async resealClient(key: ClientKey, from: Buffer, v: { keyId: string; sealed: Buffer }): Promise<boolean> {
    return this.#stmt('UPDATE vault_clients SET key_id = ?, sealed = ? WHERE upstream = ? AND issuer = ? AND sealed = ?').run(v.keyId, v.sealed, key.upstream, key.issuer, from).changes === 1;
  }

  async deleteClient(key: ClientKey): Promise<boolean> {
    return this.#stmt('DELETE FROM vault_clients WHERE upstream = ? AND issuer = ?').run(key.upstream, key.issuer).changes === 1;
  }

  #stmt(sql: string): StatementSync {
    let s = this.#statements.get(sql);
    if (!s) this.#statements.set(sql, (s = this.#db.prepare(sql)));
    return s;
  }

  lock<T>(_key: AccountKey, fn: () => Promise<T>): Promise<T> {
    return fn();
  }

  async close(): Promise<void> {
    this.#statements.clear();
    if (this.#db.isOpen) this.#db.close();
  }
}

function tuple(key: AccountKey): [string, string, string] {
  return [key.issuer, key.subject, key.upstream];
}
