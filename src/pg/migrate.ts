// Schema migrations for Deputy's PostgreSQL tables (audit, vault), shared by every component that
// keeps state there: one version row per component in deputy_schema_version, applied in a transaction
// under one advisory lock, so replicas starting together never race, and a schema newer than this
// Deputy refuses to run instead of guessing.
import type pg from 'pg';

/** One lock for every component: they share deputy_schema_version. */
const MIGRATION_LOCK = 7_305_012_001;

export async function migrate(pool: pg.Pool, component: string, migrations: readonly string[]): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
    await client.query('CREATE TABLE IF NOT EXISTS deputy_schema_version (component TEXT PRIMARY KEY, version INTEGER NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())');
    const { rows } = await client.query('SELECT version FROM deputy_schema_version WHERE component = $1', [component]);
    const current: number = rows[0]?.version ?? 0;
    if (current > migrations.length) throw new Error(`the ${component} schema is version ${current}, newer than this Deputy understands (${migrations.length}); upgrade Deputy`);
    for (let v = current; v < migrations.length; v++) await client.query(migrations[v]!);
    if (current < migrations.length) {
      await client.query('INSERT INTO deputy_schema_version (component, version) VALUES ($1, $2) ON CONFLICT (component) DO UPDATE SET version = $2, applied_at = now()', [component, migrations.length]);
    }
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    throw error;
  } finally {
    client.release();
  }
}
