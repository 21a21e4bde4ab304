import { isAbsolute, resolve } from 'node:path';
import type { AuditSink } from './event.ts';
import { SqliteAuditSink } from './sqlite.ts';
import { JsonLinesAuditSink, NullAuditSink } from './stream.ts';

export type { AuditEvent, AuditSink, Outcome } from './event.ts';

/** Opens the store named by `audit.store` (`sqlite:PATH`, `stdout`, `none`); relative paths resolve against baseDir. */
export async function openAuditSink(store: string, baseDir = process.cwd()): Promise<AuditSink> {
  if (store === 'none') return new NullAuditSink();
  if (store === 'stdout') return new JsonLinesAuditSink();
  if (store.startsWith('sqlite:')) {
    const path = store.slice('sqlite:'.length);
    return new SqliteAuditSink(path === ':memory:' || isAbsolute(path) ? path : resolve(baseDir, path));
  }
  throw new Error(`audit store ${store} is not supported yet`);
}
