// Audit store in PostgreSQL (`audit.store: postgres://…`), for replicas that share one audit trail.
// The request path only pushes onto an array; a single pump links events into this replica's hash
// chain and inserts them in batches. When the database is unreachable the pump appends to an on-disk
// spool instead and drains it, in order, once the database answers again: no event is lost and none
// is written twice (inserts are idempotent on (replica_id, seq)). The schema is created or migrated
// at start-up (or on first contact), recorded in deputy_schema_version.
import { migrate } from '../pg/migrate.ts';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { log } from '../log.ts';
import { ChainHead, defaultReplicaId, type ChainedEvent, type ChainRow } from './chain.ts';
import type { AuditEvent, AuditQuery, AuditSink } from './event.ts';
import { COLUMNS, rowValues } from './row.ts';
import { Spool } from './spool.ts';

const MIGRATIONS: string[] = [
  `CREATE TABLE IF NOT EXISTS audit_events (
     id BIGSERIAL PRIMARY KEY,
     time TIMESTAMPTZ NOT NULL, request_id TEXT NOT NULL, issuer TEXT, subject TEXT, client_id TEXT, upstream TEXT,
     route TEXT NOT NULL, http_method TEXT NOT NULL, rpc_method TEXT, target TEXT, credential_mode TEXT,
     outcome TEXT NOT NULL, status INTEGER NOT NULL, latency_ms DOUBLE PRECISION NOT NULL, detail TEXT,
     replica_id TEXT NOT NULL, seq BIGINT NOT NULL, prev_hash TEXT NOT NULL, hash TEXT NOT NULL,
     UNIQUE (replica_id, seq));
   CREATE INDEX IF NOT EXISTS audit_events_time ON audit_events (time);`,
];
/** Rows per INSERT statement (19 parameters each; PostgreSQL allows 65535). */
const CHUNK = 1000;
/** Arbitrary constant: serialises concurrent migrations of replicas starting together. */

export interface PostgresAuditOptions {
  /** Directory of the spool file. */
  spoolDir: string;
  replicaId?: string;
  /** Reading only (`deputy audit`): no spool, nothing adopted. */
  readOnly?: boolean;
}

export interface AuditStoreStatus {
  store: 'postgres';
  status: 'up' | 'spooling';
  spooled: number;
  queued: number;
  lastError?: string;
}

export class PostgresAuditSink implements AuditSink {
  readonly #pool: pg.Pool;
  readonly #spool?: Spool;
  #chain: ChainHead;
  /** Whether #chain continues what the database holds for this replica id (a configured id outlives restarts). */
  #headKnown: boolean;
  #queue: AuditEvent[] = [];
  #pumping?: Promise<void>;
  #down = false;
  #migrated = false;
  #retry?: NodeJS.Timeout;
  #backoffMs = 250;
  #lastError?: string;
  #closed = false;
  onError: (error: Error) => void = () => {};

  constructor(url: string, opts: PostgresAuditOptions) {
    this.#pool = new pg.Pool({ connectionString: url, max: 2, connectionTimeoutMillis: 2000, idleTimeoutMillis: 10_000, query_timeout: 10_000 });
    this.#pool.on('error', () => {}); // idle clients dying with the server: the next query reports it
    this.#chain = new ChainHead(opts.replicaId ?? defaultReplicaId());
    this.#headKnown = opts.replicaId === undefined; // a fresh default id has no earlier rows
    if (!opts.readOnly) this.#spool = new Spool(opts.spoolDir, this.#chain.replicaId);
  }

  /** Creates or migrates the schema; when the database is unreachable, starts spooling instead (warns once). */
  async start(): Promise<void> {
    try {
      await this.#migrate();
      // Events a crashed predecessor spooled go in before ours.
      if (this.#spool && this.#spool.files().length) await this.#drainSpool();
      await this.#loadHead();
    } catch (error) {
      this.#markDown(error as Error);
    }
  }

  /** Continues this replica's chain from its last stored event (after any spool of a predecessor went in). */
  async #loadHead(): Promise<void> {
    if (this.#headKnown) return;
    const { rows } = await this.#pool.query('SELECT seq, hash FROM audit_events WHERE replica_id = $1 ORDER BY seq DESC LIMIT 1', [this.#chain.replicaId]);
    if (rows[0]) this.#chain = new ChainHead(this.#chain.replicaId, Number(rows[0].seq), rows[0].hash);
    this.#headKnown = true;
  }

  /**
   * Events must be linked now but the database, which knows where this replica's chain ended, is
   * unreachable: start a new chain under a derived name instead of guessing (a guessed seq would
   * collide with stored rows, and the idempotent insert would then drop the new events).
   */
  #forkChain(): void {
    const from = this.#chain.replicaId;
    this.#chain = new ChainHead(`${from}.${randomBytes(3).toString('hex')}`);
    this.#headKnown = true;
    log.warn('audit: where this replica\'s hash chain ended is unknown while the database is down; this process starts a new chain', { replicaId: from, newChain: this.#chain.replicaId });
  }

  get replicaId(): string {
    return this.#chain.replicaId;
  }

  write(event: AuditEvent): void {
    this.#queue.push(event);
    if (!this.#pumping) this.#kick(true);
  }

  /** Starts the pump unless it runs; `batch` waits one event-loop turn so a burst goes in one INSERT. */
  #kick(batch = false): Promise<void> {
    this.#pumping ??= (async () => {
      // Always yield first: `#pumping` must be assigned before the pump can finish and clear it.
      await new Promise<void>((r) => (batch ? setImmediate(r) : queueMicrotask(r)));
      try {
        await this.#pump();
      } finally {
        this.#pumping = undefined;
      }
    })();
    return this.#pumping;
  }

  /** Waits until every event written so far is in the database, or in the spool while it is down. */
  async flush(): Promise<void> {
    if (this.#down && this.#spool?.size) await this.#tryRecover();
    while (this.#pumping || this.#queue.length) await (this.#pumping ?? this.#kick());
  }

  async query(q: AuditQuery): Promise<AuditEvent[]> {
    await this.flush();
    const { rows } = await this.#pool.query(
      'SELECT * FROM (SELECT * FROM audit_events WHERE time >= $1 ORDER BY id DESC LIMIT $2) t ORDER BY id ASC',
      [q.since ?? new Date(0), q.limit ?? 100],
    );
    return rows.map(fromRow);
  }

  /** This replica's chained rows after `seq`, in chain order (what the exporters send). */
  async chainAfter(seq: number, limit: number): Promise<ChainRow[]> {
    const { rows } = await this.#pool.query('SELECT * FROM audit_events WHERE replica_id = $1 AND seq > $2 ORDER BY seq LIMIT $3', [this.#chain.replicaId, seq, limit]);
    return rows.map((r) => ({ ...fromRow(r), id: String(r.id), replicaId: r.replica_id, seq: Number(r.seq), prevHash: r.prev_hash, hash: r.hash }));
  }

  /** The last seq of this replica's chain in the database (0 before the first event). */
  async chainHead(): Promise<number> {
    const { rows } = await this.#pool.query('SELECT max(seq) AS seq FROM audit_events WHERE replica_id = $1', [this.#chain.replicaId]);
    return Number(rows[0]?.seq ?? 0);
  }

  /** The last seq an exporter has sent (0 before the first), and moving it on. */
  async exportCursor(sink: string): Promise<number> {
    await this.#pool.query('CREATE TABLE IF NOT EXISTS deputy_export_cursors (sink TEXT NOT NULL, replica_id TEXT NOT NULL, seq BIGINT NOT NULL, PRIMARY KEY (sink, replica_id))');
    const { rows } = await this.#pool.query('SELECT seq FROM deputy_export_cursors WHERE sink = $1 AND replica_id = $2', [sink, this.#chain.replicaId]);
    return Number(rows[0]?.seq ?? 0);
  }

  async setExportCursor(sink: string, seq: number): Promise<void> {
    await this.#pool.query('INSERT INTO deputy_export_cursors (sink, replica_id, seq) VALUES ($1, $2, $3) ON CONFLICT (sink, replica_id) DO UPDATE SET seq = EXCLUDED.seq', [sink, this.#chain.replicaId, seq]);
  }

  /** Chained rows in (replica, seq) order, for `deputy audit verify`, read in pages. */
  async *chainRows(): AsyncIterable<ChainRow> {
    await this.flush();
    let after: [string, number] = ['', 0];
    for (;;) {
      const { rows } = await this.#pool.query('SELECT * FROM audit_events WHERE (replica_id, seq) > ($1, $2) ORDER BY replica_id, seq LIMIT 5000', after);
      for (const r of rows) yield { ...fromRow(r), id: String(r.id), replicaId: r.replica_id, seq: Number(r.seq), prevHash: r.prev_hash, hash: r.hash };
      if (rows.length < 5000) return;
      const last = rows.at(-1)!;
      after = [last.replica_id, Number(last.seq)];
    }
  }

  status(): AuditStoreStatus {
    return { store: 'postgres', status: this.#down ? 'spooling' : 'up', spooled: this.#spool?.size ?? 0, queued: this.#queue.length, lastError: this.#down ? this.#lastError : undefined };
  }

  get queueDepth(): number {
    return this.#queue.length + (this.#spool?.size ?? 0);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    await this.flush();
    this.#closed = true;
    clearTimeout(this.#retry);
    if (this.#down && this.#spool?.size) log.warn('audit: PostgreSQL still unreachable at shutdown; events stay in the spool and are inserted by the next start', { spool: this.#spool.path, events: this.#spool.size });
    this.#spool?.close();
    await this.#pool.end().catch(() => {});
  }

  /** Drains the queue: chain-links each batch, then inserts it (spool first) or spools it. */
  async #pump(): Promise<void> {
    try {
      while (this.#queue.length) {
        if (!this.#headKnown && !this.#down) await this.#loadHead().catch((error) => this.#markDown(error as Error));
        if (!this.#headKnown) this.#forkChain();
        const batch = this.#queue.splice(0, CHUNK).map((e) => this.#chain.link({ ...e, time: new Date(e.time).toISOString() }));
        if (!this.#down) {
          try {
            if (this.#spool?.size) await this.#drainSpool();
            await this.#insert(batch);
            continue;
          } catch (error) {
            this.#markDown(error as Error);
          }
        }
        if (!this.#spool) throw new Error('the audit database is unreachable');
        this.#spool.append(batch);
      }
    } catch (error) {
      this.onError(error as Error);
    }
  }

  async #insert(events: ChainedEvent[]): Promise<void> {
    if (!this.#migrated) await this.#migrate();
    for (let i = 0; i < events.length; i += CHUNK) {
      const chunk = events.slice(i, i + CHUNK);
      const values: unknown[] = [];
      const tuples = chunk.map((e, j) => {
        values.push(...rowValues(e));
        return `(${COLUMNS.map((_, k) => `$${j * COLUMNS.length + k + 1}`).join(', ')})`;
      });
      // Idempotent: a batch whose commit was acknowledged too late (and so was spooled too) is not doubled.
      await this.#pool.query(`INSERT INTO audit_events (${COLUMNS.join(', ')}) VALUES ${tuples.join(', ')} ON CONFLICT (replica_id, seq) DO NOTHING`, values);
    }
  }

  async #drainSpool(): Promise<void> {
    const spool = this.#spool!;
    for (const path of spool.files()) {
      const { events, torn } = Spool.read(path);
      if (torn) log.warn('audit: spool file has unreadable lines (torn write at a crash?); they are skipped', { spool: path, lines: torn });
      await this.#insert(events);
      spool.remove(path);
    }
  }

  async #migrate(): Promise<void> {
    await migrate(this.#pool, 'audit', MIGRATIONS);
    this.#migrated = true;
  }

  #markDown(error: Error): void {
    this.#lastError = error.message || String(error);
    if (!this.#down) {
      this.#down = true;
      log.warn('audit: PostgreSQL is unreachable; spooling events to disk until it returns', { spool: this.#spool?.path, reason: this.#lastError });
    }
    this.#scheduleRetry();
  }

  #scheduleRetry(): void {
    if (this.#retry || this.#closed) return;
    this.#retry = setTimeout(() => {
      this.#retry = undefined;
      void this.#tryRecover();
    }, this.#backoffMs);
    this.#retry.unref();
    this.#backoffMs = Math.min(this.#backoffMs * 2, 5000);
  }

  /** While down: try the database; on success drain the spool and switch back to direct inserts. */
  async #tryRecover(): Promise<void> {
    if (!this.#down) return;
    // Serialised with the pump so spooled events are inserted before anything newer.
    while (this.#pumping) await this.#pumping;
    this.#pumping = (async () => {
      try {
        await this.#migrate();
        const spooled = this.#spool?.size ?? 0;
        if (this.#spool) await this.#drainSpool();
        this.#down = false;
        this.#backoffMs = 250;
        log.info('audit: PostgreSQL is reachable again; spooled events inserted', { events: spooled });
      } catch (error) {
        this.#lastError = (error as Error).message;
        this.#scheduleRetry();
      } finally {
        this.#pumping = undefined;
      }
    })();
    await this.#pumping;
    if (this.#queue.length) void this.#kick();
  }
}

function fromRow(r: Record<string, unknown>): AuditEvent {
  const s = (k: string) => (r[k] === null || r[k] === undefined ? undefined : String(r[k]));
  return {
    time: (r.time as Date).toISOString(), requestId: String(r.request_id), issuer: s('issuer'), subject: s('subject'), clientId: s('client_id'),
    upstream: s('upstream'), route: String(r.route), httpMethod: String(r.http_method), rpcMethod: s('rpc_method'), target: s('target'),
    credentialMode: s('credential_mode') as AuditEvent['credentialMode'], outcome: String(r.outcome) as AuditEvent['outcome'],
    status: Number(r.status), latencyMs: Number(r.latency_ms), detail: s('detail'),
  };
}
