// Recognises the PostgreSQL store without importing it (and `pg` with it) where it is not configured.
import type { AuditSink } from './event.ts';
import type { PostgresAuditSink } from './postgres.ts';

export function isPostgresSink(sink: AuditSink): sink is PostgresAuditSink {
  // Only the PostgreSQL store reports connection status (up / spooling).
  return typeof (sink as { status?: unknown }).status === 'function';
}
