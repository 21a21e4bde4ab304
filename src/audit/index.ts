import { isAbsolute, resolve } from 'node:path';
import type { AuditSink } from './event.ts';
import { SqliteAuditSink } from './sqlite.ts';
import { JsonLinesAuditSink, NullAuditSink } from './stream.ts';

export type { AuditEvent, AuditSink, Outcome } from './event.ts';

export interface AuditSinkOptions {
  /** Names this process's hash chain (default: hostname-pid-random). */
  replicaId?: string;
  /** PostgreSQL: where events are spooled while the database is unreachable (default: baseDir). */
  spoolDir?: string;
  /** Reading only (CLI): PostgreSQL gets no spool. */
  readOnly?: boolean;
  /** Told when events cannot be written (they are kept and retried where the store can). */
  onError?: (error: Error) => void;
}

/** Opens the store named by `audit.store` (`sqlite:PATH`, `postgres://…`, `stdout`, `none`); relative paths resolve against baseDir. */
export async function openAuditSink(store: string, baseDir = process.cwd(), opts: AuditSinkOptions = {}): Promise<AuditSink> {
  if (store === 'none') return new NullAuditSink();
  if (store === 'stdout') return new JsonLinesAuditSink();
  if (store.startsWith('sqlite:')) {
    const path = store.slice('sqlite:'.length);
    const sink = new SqliteAuditSink(path === ':memory:' || isAbsolute(path) ? path : resolve(baseDir, path), { replicaId: opts.replicaId });
    if (opts.onError) sink.onError = opts.onError;
    return sink;
  }
  if (/^postgres(ql)?:\/\//.test(store)) {
    const { PostgresAuditSink } = await import('./postgres.ts'); // only deployments that use it load `pg`
    const sink = new PostgresAuditSink(store, { spoolDir: resolve(baseDir, opts.spoolDir ?? '.'), replicaId: opts.replicaId, readOnly: opts.readOnly });
    if (opts.onError) sink.onError = opts.onError;
    await sink.start();
    return sink;
  }
  throw new Error(`audit store ${store} is not supported yet`);
}
