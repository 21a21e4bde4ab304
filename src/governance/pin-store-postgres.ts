// Pins in PostgreSQL, beside the audit tables: every replica reads and writes the same rows, so an
// approval on one is honoured by all (each re-reads within seconds).
import pg from 'pg';
import { migrate } from '../pg/migrate.ts';
import type { PinKind } from './pins.ts';
import { PIN_TABLE, rowOf, type PinRow, type PinStore } from './pin-store.ts';

export class PostgresPinStore implements PinStore {
  readonly #pool: pg.Pool;

  private constructor(url: string) {
    this.#pool = new pg.Pool({ connectionString: url, max: 2 });
    this.#pool.on('error', () => {}); // an idle client dropped by the server: the next query reconnects
  }

  /** Opens without waiting for the database: the schema is created on first use (PostgreSQL may be down at start-up). */
  static async open(url: string): Promise<PostgresPinStore> {
    const store = new PostgresPinStore(url);
    await store.#ready().catch(() => {});
    return store;
  }

  #migrated?: Promise<void>;

  #ready(): Promise<void> {
    this.#migrated ??= migrate(this.#pool, 'pins', [PIN_TABLE]).catch((error: unknown) => {
      this.#migrated = undefined;
      throw error;
    });
    return this.#migrated;
  }

  async list(): Promise<PinRow[]> {
    await this.#ready();
    return (await this.#pool.query('SELECT * FROM deputy_pins')).rows.map(rowOf);
  }

  async pin(r: PinRow): Promise<void> {
    await this.#ready();
    await this.#pool.query('INSERT INTO deputy_pins (upstream, kind, name, hash, definition, pinned_at) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING', [r.upstream, r.kind, r.name, r.hash, r.definition, r.pinnedAt]);
  }

  async setPending(upstream: string, kind: PinKind, name: string, hash: string, definition: string, at: number): Promise<void> {
    await this.#ready();
    await this.#pool.query('UPDATE deputy_pins SET pending_hash = $1, pending_definition = $2, changed_at = $3 WHERE upstream = $4 AND kind = $5 AND name = $6', [hash, definition, at, upstream, kind, name]);
  }

  async approve(upstream: string, kind: PinKind, name: string): Promise<boolean> {
    await this.#ready();
    const r = await this.#pool.query('UPDATE deputy_pins SET hash = pending_hash, definition = pending_definition, pinned_at = $1, pending_hash = NULL, pending_definition = NULL, changed_at = NULL WHERE upstream = $2 AND kind = $3 AND name = $4 AND pending_hash IS NOT NULL', [Date.now(), upstream, kind, name]);
    return (r.rowCount ?? 0) > 0;
  }

  async close(): Promise<void> {
    await this.#pool.end().catch(() => {});
  }
}
