// The stored form of an audit event, shared by the SQLite and PostgreSQL tables: column names and
// the values for one row, in one order.
import type { ChainedEvent } from './chain.ts';

export const COLUMNS = ['time', 'request_id', 'issuer', 'subject', 'client_id', 'upstream', 'route', 'http_method', 'rpc_method', 'target', 'credential_mode', 'outcome', 'status', 'latency_ms', 'detail', 'replica_id', 'seq', 'prev_hash', 'hash'] as const;

export type SqlValue = string | number | null;

/** One row's values, in COLUMNS order; absent fields as NULL. */
export function rowValues(e: ChainedEvent): SqlValue[] {
  return [e.time, e.requestId, e.issuer ?? null, e.subject ?? null, e.clientId ?? null, e.upstream ?? null, e.route, e.httpMethod, e.rpcMethod ?? null, e.target ?? null, e.credentialMode ?? null, e.outcome, e.status, e.latencyMs, e.detail ?? null, e.replicaId, e.seq, e.prevHash, e.hash];
}
