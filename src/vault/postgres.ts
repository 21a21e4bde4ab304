// The vault over PostgreSQL (`postgres://…`), shared by replicas. withLock holds a transaction-scoped
// advisory lock (a 64-bit hash of the account tuple) on a connection of its own while the caller's
// function runs, so a token refresh happens once across replicas; statements use a separate pool, so
// a function run under a lock can read and write the vault without waiting for a connection that
// locks hold. A replica that dies drops its connection and with it the lock. The schema is created
// or migrated on first contact and recorded in deputy_schema_version.
import { migrate } from '../pg/migrate.ts';
import { createHash } from 'node:crypto';
import pg from 'pg';
import { VaultError } from './crypto.ts';
import { clientFromColumns, FILTER_COLUMNS, metaFromColumns, rowFromColumns, type ClientKey, type ClientRow, type ListFilter, type Row, type RowMeta, type SealedValue, type VaultStore } from './store.ts';
import type { AccountKey } from './vault.ts';

const MIGRATIONS: string[] = [
  `CREATE TABLE IF NOT EXISTS vault_accounts (
     issuer TEXT NOT NULL, subject TEXT NOT NULL, upstream TEXT NOT NULL,
     key_id TEXT NOT NULL, sealed BYTEA NOT NULL, scope TEXT,
     version INTEGER NOT NULL, connected_at BIGINT NOT NULL, updated_at BIGINT NOT NULL, last_used_at BIGINT,
     PRIMARY KEY (issuer, subject, upstream));
   CREATE INDEX IF NOT EXISTS vault_accounts_subject ON vault_accounts (subject);
   CREATE TABLE IF NOT EXISTS vault_tickets (id TEXT PRIMARY KEY, expires_at BIGINT NOT NULL);
   CREATE INDEX IF NOT EXISTS vault_tickets_expiry ON vault_tickets (expires_at);`,
  // 2: Deputy's own client registrations (RFC 7591) at upstreams' authorization servers, shared by replicas.
  `CREATE TABLE IF NOT EXISTS vault_clients (
     upstream TEXT NOT NULL, issuer TEXT NOT NULL, key_id TEXT NOT NULL, sealed BYTEA NOT NULL, created_at BIGINT NOT NULL,
     PRIMARY KEY (upstream, issuer));`,
];
/** How long withLock waits for another replica's lock before failing with ERR_VAULT_LOCK_TIMEOUT. */
const LOCK_TIMEOUT_MS = 30_000;
/** Connections for locks: at most this many accounts locked at once by one process (more wait for one). */
const LOCK_CONNECTIONS = 16;

const WHERE_KEY = 'issuer = $1 AND subject = $2 AND upstream = $3';
const INSERT = `INSERT INTO vault_accounts (issuer, subject, upstream, key_id, sealed, scope, version, connected_at, updated_at)
  VALUES ($1, $2, $3, $4, $5, $6, 1, $7, $7)`;

export class PostgresVaultStore implements VaultStore {
  readonly #pool: pg.Pool;
  readonly #lockPool: pg.Pool;
  readonly #lockTimeoutMs: number;
  #migrated?: Promise<void>;

  constructor(url: string, opts: { lockTimeoutMs?: number } = {}) {
    const common = { connectionString: url, idleTimeoutMillis: 10_000 };
    this.#pool = new pg.Pool({ ...common, max: 4, connectionTimeoutMillis: 5000, query_timeout: 10_000 });
    // Waiting for a lock connection is waiting for the lock: as long as the lock timeout.
    const timeout = opts.lockTimeoutMs;
    this.#lockTimeoutMs = timeout !== undefined && timeout >= 1 ? Math.trunc(timeout) : LOCK_TIMEOUT_MS;
    this.#lockPool = new pg.Pool({ ...common, max: LOCK_CONNECTIONS, connectionTimeoutMillis: this.#lockTimeoutMs });
    // Idle clients dying with the server: the next query reports it.
    this.#pool.on('error', () => {});
    this.#lockPool.on('error', () => {});
  }

  /** Creates or migrates the schema once; a failure is retried by the next call. */
  ready(): Promise<void> {
    this.#migrated ??= this.#migrate().catch((error) => {
      this.#migrated = undefined;
      throw error;
    });
    return this.#migrated;
  }

  async #query(sql: string, params: unknown[]): Promise<pg.QueryResult> {
    await this.ready();
    return this.#pool.query(sql, params);
  }

  async get(key: AccountKey): Promise<Row | undefined> {
    const { rows } = await this.#query(`SELECT * FROM vault_accounts WHERE ${WHERE_KEY}`, tuple(key));
    return rows[0] ? rowFromColumns(rows[0]) : undefined;
  }

  async put(key: AccountKey, v: SealedValue, now: number): Promise<Row> {
    const { rows } = await this.#query(`${INSERT} ON CONFLICT (issuer, subject, upstream) DO UPDATE SET
        key_id = excluded.key_id, sealed = excluded.sealed, scope = excluded.scope,
        version = vault_accounts.version + 1, updated_at = excluded.updated_at
      RETURNING *`, [...tuple(key), v.keyId, v.sealed, v.scope, now]);
    return rowFromColumns(rows[0]);
  }

  async compareAndSwap(key: AccountKey, expectedVersion: number, v: SealedValue, now: number): Promise<Row | undefined> {
    const { rows } = expectedVersion === 0
      ? await this.#query(`${INSERT} ON CONFLICT DO NOTHING RETURNING *`, [...tuple(key), v.keyId, v.sealed, v.scope, now])
      : await this.#query(`UPDATE vault_accounts SET key_id = $4, sealed = $5, scope = $6, version = version + 1, updated_at = $7
          WHERE ${WHERE_KEY} AND version = $8 RETURNING *`, [...tuple(key), v.keyId, v.sealed, v.scope, now, expectedVersion]);
    return rows[0] ? rowFromColumns(rows[0]) : undefined;
  }

  async reseal(key: AccountKey, from: Row, v: SealedValue): Promise<boolean> {
    const { rowCount } = await this.#query(`UPDATE vault_accounts SET key_id = $4, sealed = $5 WHERE ${WHERE_KEY} AND version = $6 AND sealed = $7`,
      [...tuple(key), v.keyId, v.sealed, from.version, from.sealed]);
    return rowCount === 1;
  }

  async touch(key: AccountKey, now: number, notBefore: number): Promise<void> {
    await this.#query(`UPDATE vault_accounts SET last_used_at = $4 WHERE ${WHERE_KEY} AND (last_used_at IS NULL OR last_used_at <= $5)`, [...tuple(key), now, notBefore]);
  }

  async delete(key: AccountKey): Promise<boolean> {
    return (await this.#query(`DELETE FROM vault_accounts WHERE ${WHERE_KEY}`, tuple(key))).rowCount === 1;
  }

  async list(filter: ListFilter): Promise<RowMeta[]> {
    const columns = FILTER_COLUMNS.filter((c) => filter[c] !== undefined);
    const where = columns.length ? `WHERE ${columns.map((c, i) => `${c} = $${i + 1}`).join(' AND ')}` : '';
    const { rows } = await this.#query(`SELECT issuer, subject, upstream, scope, version, connected_at, updated_at, last_used_at
      FROM vault_accounts ${where} ORDER BY issuer, subject, upstream`, columns.map((c) => filter[c]));
    return rows.map(metaFromColumns);
  }

  async recordTicket(idHash: string, expiresAt: number): Promise<boolean> {
    return (await this.#query('INSERT INTO vault_tickets (id, expires_at) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING', [idHash, expiresAt])).rowCount === 1;
  }

  async pruneTickets(now: number): Promise<void> {
    await this.#query('DELETE FROM vault_tickets WHERE expires_at < $1', [now]);
  }

  async getClient(key: ClientKey): Promise<ClientRow | undefined> {
    const { rows } = await this.#query('SELECT key_id, sealed, created_at FROM vault_clients WHERE upstream = $1 AND issuer = $2', [key.upstream, key.issuer]);
    return rows[0] ? clientFromColumns(rows[0]) : undefined;
  }

  async putClient(key: ClientKey, v: { keyId: string; sealed: Buffer }, now: number): Promise<void> {
    await this.#query(`INSERT INTO vault_clients (upstream, issuer, key_id, sealed, created_at) VALUES ($1, $2, $3, $4, $5)
      ON CONFLICT (upstream, issuer) DO UPDATE SET key_id = excluded.key_id, sealed = excluded.sealed, created_at = excluded.created_at`, [key.upstream, key.issuer, v.keyId, v.sealed, now]);
  }

  async resealClient(key: ClientKey, from: Buffer, v: { keyId: string; sealed: Buffer }): Promise<boolean> {
    return (await this.#query('UPDATE vault_clients SET key_id = $3, sealed = $4 WHERE upstream = $1 AND issuer = $2 AND sealed = $5', [key.upstream, key.issuer, v.keyId, v.sealed, from])).rowCount === 1;
  }

  async deleteClient(key: ClientKey): Promise<boolean> {
    return (await this.#query('DELETE FROM vault_clients WHERE upstream = $1 AND issuer = $2', [key.upstream, key.issuer])).rowCount === 1;
  }

  async lock<T>(key: AccountKey, fn: () => Promise<T>): Promise<T> {
    await this.ready();
    const client = await this.#lockPool.connect();
    try {
      // One round trip; both numbers are computed here, not input.
      await client.query(`BEGIN; SET LOCAL lock_timeout = ${this.#lockTimeoutMs}; SELECT pg_advisory_xact_lock(${lockId(key)}::bigint)`);
    } catch (error) {
      client.release(true); // never hand back a connection that may be inside the transaction
      if ((error as { code?: string }).code === '55P03') throw new VaultError('ERR_VAULT_LOCK_TIMEOUT', `another replica held the lock for ${key.subject ? `account ${key.subject}` : 'the client registration'} at ${key.upstream} longer than ${this.#lockTimeoutMs} ms`);
      throw error;
    }
    try {
      return await fn();
    } finally {
      // Ending the transaction releases the lock; if that fails the connection is dropped, which releases it too.
      await client.query('COMMIT').then(() => client.release(), () => client.release(true));
    }
  }

  async close(): Promise<void> {
    await Promise.all([this.#pool.end(), this.#lockPool.end()]).catch(() => {});
  }

  async #migrate(): Promise<void> {
    await migrate(this.#pool, 'vault', MIGRATIONS);
  }
}

function tuple(key: AccountKey): [string, string, string] {
  return [key.issuer, key.subject, key.upstream];
}

/** A signed 64-bit advisory lock id for the account (namespaced, so it is unlikely to meet other locks). */
function lockId(key: AccountKey): string {
  return createHash('sha256').update('deputy vault lock\u0000').update(JSON.stringify(tuple(key))).digest().readBigInt64BE(0).toString();
}
