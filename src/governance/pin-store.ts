// Where pins live: in the audit store's database (its own table), so replicas sharing a PostgreSQL
// audit store agree and pins survive restarts; in memory when the audit store keeps nothing (stdout,
// none, sqlite::memory:). The first pin of a definition wins a race; approval moves the pending
// definition into the pin.
import { mkdirSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import type { PinKind } from './pins.ts';

export interface PinRow {
  upstream: string;
  kind: PinKind;
  name: string;
  hash: string;
  definition: string;
  pinnedAt: number;
  pendingHash?: string;
  pendingDefinition?: string;
  changedAt?: number;
}

export interface PinStore {
  list(): Promise<PinRow[]>;
  /** Records a first-seen definition; an existing pin is kept. */
  pin(row: PinRow): Promise<void>;
  setPending(upstream: string, kind: PinKind, name: string, hash: string, definition: string, at: number): Promise<void>;
  /** The pending definition becomes the pin; false when nothing was pending. */
  approve(upstream: string, kind: PinKind, name: string): Promise<boolean>;
  close(): Promise<void>;
}

/** The pin store beside an audit store (`sqlite:PATH`, `postgres://…`), else in memory. */
export async function openPinStore(auditStore: string, baseDir = process.cwd()): Promise<PinStore> {
  if (auditStore.startsWith('sqlite:') && auditStore !== 'sqlite::memory:') {
    const path = auditStore.slice('sqlite:'.length);
    return new SqlitePinStore(isAbsolute(path) ? path : resolve(baseDir, path));
  }
  if (/^postgres(ql)?:\/\//.test(auditStore)) {
    const { PostgresPinStore } = await import('./pin-store-postgres.ts');
    return PostgresPinStore.open(auditStore);
  }
  return new MemoryPinStore();
}

export class MemoryPinStore implements PinStore {
  readonly #rows = new Map<string, PinRow>();
  async list(): Promise<PinRow[]> {
    return [...this.#rows.values()].map((r) => ({ ...r }));
  }
  async pin(row: PinRow): Promise<void> {
    const k = `${row.upstream}\u0000${row.kind}\u0000${row.name}`;
    if (!this.#rows.has(k)) this.#rows.set(k, { ...row });
  }
  async setPending(upstream: string, kind: PinKind, name: string, hash: string, definition: string, at: number): Promise<void> {
    const r = this.#rows.get(`${upstream}\u0000${kind}\u0000${name}`);
    if (r) Object.assign(r, { pendingHash: hash, pendingDefinition: definition, changedAt: at });
  }
  async approve(upstream: string, kind: PinKind, name: string): Promise<boolean> {
    const r = this.#rows.get(`${upstream}\u0000${kind}\u0000${name}`);
    if (!r?.pendingHash) return false;
    Object.assign(r, { hash: r.pendingHash, definition: r.pendingDefinition, pinnedAt: Date.now(), pendingHash: undefined, pendingDefinition: undefined, changedAt: undefined });
    return true;
  }
  async close(): Promise<void> {}
}

interface SqliteRow {
  upstream: string;
  kind: PinKind;
  name: string;
  hash: string;
  definition: string;
  pinned_at: number;
  pending_hash: string | null;
  pending_definition: string | null;
  changed_at: number | null;
}

export function rowOf(r: SqliteRow): PinRow {
  return {
    upstream: r.upstream, kind: r.kind, name: r.name, hash: r.hash, definition: r.definition, pinnedAt: Number(r.pinned_at),
    ...(r.pending_hash ? { pendingHash: r.pending_hash, pendingDefinition: r.pending_definition ?? '', changedAt: Number(r.changed_at) } : {}),
  };
}

export const PIN_TABLE = `CREATE TABLE IF NOT EXISTS deputy_pins (
  upstream TEXT NOT NULL, kind TEXT NOT NULL, name TEXT NOT NULL,
  hash TEXT NOT NULL, definition TEXT NOT NULL, pinned_at BIGINT NOT NULL,
  pending_hash TEXT, pending_definition TEXT, changed_at BIGINT,
  PRIMARY KEY (upstream, kind, name))`;

class SqlitePinStore implements PinStore {
  readonly #db: DatabaseSync;
  constructor(path: string) {
    mkdirSync(dirname(path), { recursive: true });
    this.#db = new DatabaseSync(path);
    this.#db.exec('PRAGMA journal_mode = WAL; PRAGMA busy_timeout = 5000;');
    this.#db.exec(PIN_TABLE);
  }
  async list(): Promise<PinRow[]> {
    return (this.#db.prepare('SELECT * FROM deputy_pins').all() as unknown as SqliteRow[]).map(rowOf);
  }
  async pin(r: PinRow): Promise<void> {
    this.#db.prepare('INSERT INTO deputy_pins (upstream, kind, name, hash, definition, pinned_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING').run(r.upstream, r.kind, r.name, r.hash, r.definition, r.pinnedAt);
  }
  async setPending(upstream: string, kind: PinKind, name: string, hash: string, definition: string, at: number): Promise<void> {
    this.#db.prepare('UPDATE deputy_pins SET pending_hash = ?, pending_definition = ?, changed_at = ? WHERE upstream = ? AND kind = ? AND name = ?').run(hash, definition, at, upstream, kind, name);
  }
  async approve(upstream: string, kind: PinKind, name: string): Promise<boolean> {
    const r = this.#db.prepare('UPDATE deputy_pins SET hash = pending_hash, definition = pending_definition, pinned_at = ?, pending_hash = NULL, pending_definition = NULL, changed_at = NULL WHERE upstream = ? AND kind = ? AND name = ? AND pending_hash IS NOT NULL').run(Date.now(), upstream, kind, name);
    return Number(r.changes) > 0;
  }
  async close(): Promise<void> {
    this.#db.close();
  }
}
