// The SQLite audit store's writer thread. Hashing the chain and running the inserts here keeps the
// event loop that serves requests free of them: a commit, and the occasional WAL checkpoint with its
// fsync, no longer stall every request in flight (the bench's p99 at a fixed rate showed them).
// Protocol, main → writer: { batch: JSON array of events } | { ack: id } | { close: id };
// writer → main: { written: n } | { failed: message } | { acked: id }.
import { parentPort, workerData } from 'node:worker_threads';
import type { AuditEvent } from './event.ts';
import { ChainedWriter, connectAuditDatabase } from './sqlite-table.ts';

const RETRY_MS = 1000;
const { path, replicaId } = workerData as { path: string; replicaId: string };
const db = connectAuditDatabase(path); // the sink created or migrated the schema before starting this thread
const writer = new ChainedWriter(db, replicaId);
/** Events not yet committed, oldest first; a failed batch stays here and is retried. */
let pending: AuditEvent[] = [];
let retry: NodeJS.Timeout | undefined;

function writePending(): void {
  clearTimeout(retry);
  retry = undefined;
  if (pending.length === 0) return;
  const batch = pending;
  pending = [];
  try {
    writer.write(batch);
    parentPort!.postMessage({ written: batch.length });
  } catch (error) {
    pending = batch.concat(pending);
    parentPort!.postMessage({ failed: (error as Error).message });
    retry = setTimeout(writePending, RETRY_MS);
  }
}

parentPort!.on('message', (m: { batch?: string; ack?: number; close?: number }) => {
  if (m.batch !== undefined) {
    pending.push(...(JSON.parse(m.batch) as AuditEvent[]));
    writePending();
  } else if (m.ack !== undefined) {
    writePending();
    parentPort!.postMessage({ acked: m.ack });
  } else if (m.close !== undefined) {
    writePending();
    clearTimeout(retry);
    db.close();
    parentPort!.postMessage({ acked: m.close });
    parentPort!.close();
  }
});
