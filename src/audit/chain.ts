// Tamper evidence for the audit trail: the events of each replica form a hash chain. Every event
// carries replica_id, seq (1, 2, 3… per replica), prev_hash (the previous event's hash, or 64 zeros)
// and hash = SHA-256(prev_hash + "\n" + canonical(event)). Editing a row breaks its hash; deleting
// one leaves a seq gap and a prev_hash that matches nothing. Shared by the SQLite and PostgreSQL stores.
import { hash, randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { AuditEvent } from './event.ts';

export const GENESIS_HASH = '0'.repeat(64);

export interface ChainLink {
  replicaId: string;
  seq: number;
  prevHash: string;
  hash: string;
}

export type ChainedEvent = AuditEvent & ChainLink;

/**
 * The canonical form hashed: a JSON array of the stored fields in a fixed order, absent values as
 * null. Only stored columns take part, so the hash can be recomputed from a row alone.
 */
export function canonical(e: AuditEvent, replicaId: string, seq: number): string {
  return JSON.stringify([
    replicaId, seq, e.time, e.requestId, e.issuer ?? null, e.subject ?? null, e.clientId ?? null, e.upstream ?? null, e.route,
    e.httpMethod, e.rpcMethod ?? null, e.target ?? null, e.credentialMode ?? null, e.outcome, e.status, e.latencyMs, e.detail ?? null,
  ]);
}

export function chainHash(prevHash: string, e: AuditEvent, replicaId: string, seq: number): string {
  // One-shot hash(): the same bytes as a streamed createHash(), without a Hash object per event.
  return hash('sha256', `${prevHash}\n${canonical(e, replicaId, seq)}`, 'hex');
}

/** A new replica id per process by default: replicas never share a chain, and restarts never need the old head. */
export function defaultReplicaId(): string {
  return `${hostname().slice(0, 40)}-${process.pid}-${randomBytes(3).toString('hex')}`;
}

/** The head of one replica's chain; `link` advances it. */
export class ChainHead {
  readonly replicaId: string;
  seq: number;
  hash: string;

  constructor(replicaId: string, seq = 0, hash = GENESIS_HASH) {
    this.replicaId = replicaId;
    this.seq = seq;
    this.hash = hash;
  }

  link(e: AuditEvent): ChainedEvent {
    const seq = this.seq + 1;
    const prevHash = this.hash;
    const hash = chainHash(prevHash, e, this.replicaId, seq);
    this.seq = seq;
    this.hash = hash;
    return { ...e, replicaId: this.replicaId, seq, prevHash, hash };
  }
}

export interface ChainRow extends ChainedEvent {
  /** The store's row id, to name a broken row. */
  id: string | number;
}

export interface ChainBreak {
  replicaId: string;
  id: string | number;
  seq: number;
  problem: string;
}

export interface ChainReport {
  ok: boolean;
  replicas: { replicaId: string; events: number; firstTime?: string; lastTime?: string }[];
  events: number;
  /** Rows written before the chain existed (migrated stores): not covered. */
  unchained: number;
  /** The first break found in each broken replica chain. */
  breaks: ChainBreak[];
}

/** Checks rows ordered by (replica_id, seq). Stops following a replica at its first break. */
export async function verifyChain(rows: AsyncIterable<ChainRow> | Iterable<ChainRow>, unchained = 0): Promise<ChainReport> {
  const replicas = new Map<string, { events: number; firstTime?: string; lastTime?: string; seq: number; hash: string; broken: boolean }>();
  const breaks: ChainBreak[] = [];
  let events = 0;
  for await (const row of rows) {
    events++;
    let r = replicas.get(row.replicaId);
    if (!r) replicas.set(row.replicaId, (r = { events: 0, firstTime: row.time, seq: 0, hash: GENESIS_HASH, broken: false }));
    r.events++;
    r.lastTime = row.time;
    if (r.broken) continue;
    const fail = (problem: string) => {
      r.broken = true;
      breaks.push({ replicaId: row.replicaId, id: row.id, seq: row.seq, problem });
    };
    if (row.seq === r.seq) fail(`duplicate seq ${row.seq}`);
    else if (row.seq !== r.seq + 1) fail(r.seq === 0 ? `the chain starts at seq ${row.seq}, not 1: earlier events are missing` : `seq ${r.seq + 1}${row.seq - r.seq > 2 ? `–${row.seq - 1}` : ''} missing before this row: events were deleted`);
    else if (row.prevHash !== r.hash) fail('prev_hash does not match the previous event: the chain was altered');
    else if (chainHash(row.prevHash, row, row.replicaId, row.seq) !== row.hash) fail('hash does not match the row: the row was edited');
    r.seq = row.seq;
    r.hash = row.hash;
  }
  return {
    ok: breaks.length === 0,
    replicas: [...replicas].map(([replicaId, r]) => ({ replicaId, events: r.events, firstTime: r.firstTime, lastTime: r.lastTime })),
    events,
    unchained,
    breaks,
  };
}
