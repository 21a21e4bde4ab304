// Default audit store: SQLite via node:sqlite (no native addon), WAL mode, inserts batched in one
// transaction per event-loop turn so the request path only pushes onto an array.
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import { ChainHead, defaultReplicaId, type ChainedEvent, type ChainRow } from './chain.ts';
import type { AuditEvent, AuditQuery, AuditSink } from './event.ts';

const COLUMNS = ['time', 'request_id', 'issuer', 'subject', 'client_id', 'upstream', 'route', 'http_method', 'rpc_method', 'target', 'credential_mode', 'outcome', 'status', 'latency_ms', 'detail', 'replica_id', 'seq', 'prev_hash', 'hash'] as const;
const ROWS_PER_STATEMENT = 32;
const FLUSH_MS = 50;
const MAX_BATCH = 2048;
/** Hash-chain columns (see chain.ts), added to databases created before the chain existed. */
const CHAIN_COLUMNS = [['replica_id', 'TEXT'], ['seq', 'INTEGER'], ['prev_hash', 'TEXT'], ['hash', 'TEXT']] as const;

export class SqliteAuditSink implements AuditSink {
  readonly #db: DatabaseSync;
  readonly #insert: StatementSync;
  /** Multi-row insert for full chunks: one native call per ROWS_PER_STATEMENT events instead of one each. */
  readonly #insertMany: StatementSync;
  #queue: AuditEvent[] = [];
  #scheduled = false;
  readonly #chain: ChainHead;
  onError: (error: Error) => void = () => {};

  constructor(path: string, opts: { replicaId?: string } = {}) {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    this.#db = new DatabaseSync(path);
    this.#db.exec(`PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 5000;
      CREATE TABLE IF NOT EXISTS audit_events (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        time TEXT NOT NULL, request_id TEXT NOT NULL, issuer TEXT, subject TEXT, client_id TEXT, upstream TEXT,
        route TEXT NOT NULL, http_method TEXT NOT NULL, rpc_method TEXT, target TEXT, credential_mode TEXT,
        outcome TEXT NOT NULL, status INTEGER NOT NULL, latency_ms REAL NOT NULL, detail TEXT);
      CREATE INDEX IF NOT EXISTS audit_events_time ON audit_events (time);`);
    const existing = new Set((this.#db.prepare('PRAGMA table_info(audit_events)').all() as { name: string }[]).map((c) => c.name));
    for (const [name, type] of CHAIN_COLUMNS) if (!existing.has(name)) this.#db.exec(`ALTER TABLE audit_events ADD COLUMN ${name} ${type}`);
    this.#db.exec('CREATE UNIQUE INDEX IF NOT EXISTS audit_events_chain ON audit_events (replica_id, seq)');
    this.#chain = new ChainHead(opts.replicaId ?? defaultReplicaId());
    const row = `(${COLUMNS.map(() => '?').join(', ')})`;
    this.#insert = this.#db.prepare(`INSERT INTO audit_events (${COLUMNS.join(', ')}) VALUES ${row}`);
    this.#insertMany = this.#db.prepare(`INSERT INTO audit_events (${COLUMNS.join(', ')}) VALUES ${Array(ROWS_PER_STATEMENT).fill(row).join(', ')}`);
  }

  write(event: AuditEvent): void {
    this.#queue.push(event);
    if (this.#queue.length >= MAX_BATCH) this.#drain();
    else if (!this.#scheduled) {
      this.#scheduled = true;
      // One transaction per FLUSH_MS rather than per event-loop turn: commits, not rows, dominated
      // the audit cost under load. Events are in memory for at most FLUSH_MS (flushed on close).
      setTimeout(() => this.#drain(), FLUSH_MS).unref();
    }
  }

  async flush(): Promise<void> {
    this.#drain();
  }

  async query(q: AuditQuery): Promise<AuditEvent[]> {
    this.#drain();
    const rows = this.#db
      .prepare(`SELECT * FROM (SELECT * FROM audit_events WHERE time >= ? ORDER BY id DESC LIMIT ?) ORDER BY id ASC`)
      .all(q.since?.toISOString() ?? '', q.limit ?? 100) as Record<string, string | number | null>[];
    return rows.map(fromRow);
  }

  async close(): Promise<void> {
    this.#drain();
    this.#db.close();
  }

  /** Events waiting to be written (for metrics). */
  get queueDepth(): number {
    return this.#queue.length;
  }

  /** Chained rows in (replica, seq) order, for `deputy audit verify`; plus the count of rows from before the chain. */
  chainRows(): { rows: Iterable<ChainRow>; unchained: number } {
    this.#drain();
    const unchained = Number((this.#db.prepare('SELECT count(*) AS n FROM audit_events WHERE hash IS NULL').get() as { n: number }).n);
    const iter = this.#db.prepare('SELECT * FROM audit_events WHERE hash IS NOT NULL ORDER BY replica_id, seq').iterate() as Iterable<Record<string, string | number | null>>;
    function* rows(): Iterable<ChainRow> {
      for (const r of iter) yield { ...fromRow(r), id: Number(r.id), replicaId: String(r.replica_id), seq: Number(r.seq), prevHash: String(r.prev_hash), hash: String(r.hash) };
    }
    return { rows: rows(), unchained };
  }

  #drain(): void {
    this.#scheduled = false;
    if (this.#queue.length === 0) return;
    const batch = this.#queue;
    this.#queue = [];
    // Linked here (off the request path); the head only advances once the batch is committed.
    const head = new ChainHead(this.#chain.replicaId, this.#chain.seq, this.#chain.hash);
    try {
      this.#db.exec('BEGIN');
      let i = 0;
      for (; i + ROWS_PER_STATEMENT <= batch.length; i += ROWS_PER_STATEMENT) {
        this.#insertMany.run(...batch.slice(i, i + ROWS_PER_STATEMENT).flatMap((event) => rowValues(head.link(event))));
      }
      for (; i < batch.length; i++) this.#insert.run(...rowValues(head.link(batch[i]!)));
      this.#db.exec('COMMIT');
      this.#chain.seq = head.seq;
      this.#chain.hash = head.hash;
    } catch (error) {
      try {
        this.#db.exec('ROLLBACK');
      } catch {}
      this.#queue.unshift(...batch); // keep the events; retried on the next write or flush
      this.onError(error as Error);
    }
  }
}

type SqlValue = string | number | null;

function rowValues(e: ChainedEvent): SqlValue[] {
  return [e.time, e.requestId, e.issuer ?? null, e.subject ?? null, e.clientId ?? null, e.upstream ?? null, e.route, e.httpMethod, e.rpcMethod ?? null, e.target ?? null, e.credentialMode ?? null, e.outcome, e.status, e.latencyMs, e.detail ?? null, e.replicaId, e.seq, e.prevHash, e.hash];
}

function fromRow(r: Record<string, string | number | null>): AuditEvent {
  const s = (k: string) => (r[k] === null ? undefined : String(r[k]));
  return {
    time: String(r.time), requestId: String(r.request_id), issuer: s('issuer'), subject: s('subject'), clientId: s('client_id'),
    upstream: s('upstream'), route: String(r.route), httpMethod: String(r.http_method), rpcMethod: s('rpc_method'), target: s('target'),
    credentialMode: s('credential_mode') as AuditEvent['credentialMode'], outcome: String(r.outcome) as AuditEvent['outcome'],
    status: Number(r.status), latencyMs: Number(r.latency_ms), detail: s('detail'),
  };
}
