// The SQLite audit table: schema and migrations, the chained batch writer, and reading rows back. Used by
// the sink on the main thread (schema, reads) and by its writer thread (inserts).
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import { ChainHead } from './chain.ts';
import type { AuditEvent } from './event.ts';
import { COLUMNS, rowValues } from './row.ts';

const ROWS_PER_STATEMENT = 32;
/** Hash-chain columns (see chain.ts), added to databases created before the chain existed. */
const CHAIN_COLUMNS = [['replica_id', 'TEXT'], ['seq', 'INTEGER'], ['prev_hash', 'TEXT'], ['hash', 'TEXT']] as const;

/** A connection with Deputy's settings: WAL, so the writer thread and readers never block each other. */
export function connectAuditDatabase(path: string): DatabaseSync {
  const db = new DatabaseSync(path);
  db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 5000;');
  return db;
}

/** Opens the audit database, creating or migrating its schema. */
export function openAuditDatabase(path: string): DatabaseSync {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const db = connectAuditDatabase(path);
  db.exec(`CREATE TABLE IF NOT EXISTS audit_events (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      time TEXT NOT NULL, request_id TEXT NOT NULL, issuer TEXT, subject TEXT, client_id TEXT, upstream TEXT,
      route TEXT NOT NULL, http_method TEXT NOT NULL, rpc_method TEXT, target TEXT, credential_mode TEXT,
      outcome TEXT NOT NULL, status INTEGER NOT NULL, latency_ms REAL NOT NULL, detail TEXT);
    CREATE INDEX IF NOT EXISTS audit_events_time ON audit_events (time);`);
  const existing = new Set((db.prepare('PRAGMA table_info(audit_events)').all() as { name: string }[]).map((c) => c.name));
  for (const [name, type] of CHAIN_COLUMNS) if (!existing.has(name)) db.exec(`ALTER TABLE audit_events ADD COLUMN ${name} ${type}`);
  db.exec('CREATE UNIQUE INDEX IF NOT EXISTS audit_events_chain ON audit_events (replica_id, seq)');
  return db;
}

/** Appends events to one replica's chain, a transaction per batch and one statement per 32 rows. */
export class ChainedWriter {
  readonly #db: DatabaseSync;
  readonly #insert: StatementSync;
  readonly #insertMany: StatementSync;
  readonly #chain: ChainHead;

  constructor(db: DatabaseSync, replicaId: string) {
    this.#db = db;
    const row = `(${COLUMNS.map(() => '?').join(', ')})`;
    this.#insert = db.prepare(`INSERT INTO audit_events (${COLUMNS.join(', ')}) VALUES ${row}`);
    this.#insertMany = db.prepare(`INSERT INTO audit_events (${COLUMNS.join(', ')}) VALUES ${Array(ROWS_PER_STATEMENT).fill(row).join(', ')}`);
    // A replica id that outlives a restart (audit.replica_id) continues its chain rather than
    // colliding with its own earlier rows.
    const head = db.prepare('SELECT seq, hash FROM audit_events WHERE replica_id = ? ORDER BY seq DESC LIMIT 1').get(replicaId) as { seq: number; hash: string } | undefined;
    this.#chain = new ChainHead(replicaId, head ? Number(head.seq) : 0, head?.hash);
  }

  /** Writes the batch or nothing: the chain head only advances once it is committed. */
  write(batch: AuditEvent[]): void {
    const head = new ChainHead(this.#chain.replicaId, this.#chain.seq, this.#chain.hash);
    this.#db.exec('BEGIN');
    try {
      let i = 0;
      for (; i + ROWS_PER_STATEMENT <= batch.length; i += ROWS_PER_STATEMENT) {
        this.#insertMany.run(...batch.slice(i, i + ROWS_PER_STATEMENT).flatMap((event) => rowValues(head.link(event))));
      }
      for (; i < batch.length; i++) this.#insert.run(...rowValues(head.link(batch[i]!)));
      this.#db.exec('COMMIT');
    } catch (error) {
      try {
        this.#db.exec('ROLLBACK');
      } catch {}
      throw error;
    }
    this.#chain.seq = head.seq;
    this.#chain.hash = head.hash;
  }
}

export function fromRow(r: Record<string, string | number | null>): AuditEvent {
  const s = (k: string) => (r[k] === null ? undefined : String(r[k]));
  return {
    time: String(r.time), requestId: String(r.request_id), issuer: s('issuer'), subject: s('subject'), clientId: s('client_id'),
    upstream: s('upstream'), route: String(r.route), httpMethod: String(r.http_method), rpcMethod: s('rpc_method'), target: s('target'),
    credentialMode: s('credential_mode') as AuditEvent['credentialMode'], outcome: String(r.outcome) as AuditEvent['outcome'],
    status: Number(r.status), latencyMs: Number(r.latency_ms), detail: s('detail'),
  };
}
