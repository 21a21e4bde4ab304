// The storage behind the vault: one interface with two implementations, SQLite (one replica) and
// PostgreSQL (replicas sharing a database). Stores only ever see sealed blobs and the plaintext
// metadata needed for listing; sealing, rotation and per-key serialisation in-process are Vault's.
import type { AccountKey } from './vault.ts';

/** What a write stores: the blob, the key id it was sealed under, and the scope (plaintext, for listing). */
export interface SealedValue {
  keyId: string;
  sealed: Buffer;
  scope: string | null;
}

export interface RowMeta extends AccountKey {
  scope: string | null;
  version: number;
  connectedAt: number;
  updatedAt: number;
  lastUsedAt: number | null;
}

export interface Row extends RowMeta, SealedValue {}

export type ListFilter = Partial<AccountKey>;

/** Which client registration: Deputy's client for one upstream at one authorization server. */
export interface ClientKey {
  upstream: string;
  issuer: string;
}

/** A stored client registration: the sealed blob and the key id it was sealed under. */
export interface ClientRow {
  keyId: string;
  sealed: Buffer;
  createdAt: number;
}

export interface VaultStore {
  get(key: AccountKey): Promise<Row | undefined>;
  /** Upsert: version 1 when new, else previous + 1; connected_at kept. */
  put(key: AccountKey, value: SealedValue, now: number): Promise<Row>;
  /** Writes only if the row's version is `expectedVersion` (0: only if there is no row). */
  compareAndSwap(key: AccountKey, expectedVersion: number, value: SealedValue, now: number): Promise<Row | undefined>;
  /** Replaces the blob of an unchanged row (same version and same blob) without touching version or times. */
  reseal(key: AccountKey, from: Row, value: SealedValue): Promise<boolean>;
  /** last_used_at = now, unless it is already later than `notBefore`. */
  touch(key: AccountKey, now: number, notBefore: number): Promise<void>;
  delete(key: AccountKey): Promise<boolean>;
  list(filter: ListFilter): Promise<RowMeta[]>;
  /** Records a ticket id (already hashed); false when it was recorded before. */
  recordTicket(idHash: string, expiresAt: number): Promise<boolean>;
  pruneTickets(now: number): Promise<void>;
  /** Deputy's own client registrations (RFC 7591), one per upstream and authorization server. */
  getClient(key: ClientKey): Promise<ClientRow | undefined>;
  /** Upsert (callers hold the registration's lock). */
  putClient(key: ClientKey, value: { keyId: string; sealed: Buffer }, now: number): Promise<void>;
  /** Replaces the blob only if it is still `from` (lazy re-sealing under the current key). */
  resealClient(key: ClientKey, from: Buffer, value: { keyId: string; sealed: Buffer }): Promise<boolean>;
  deleteClient(key: ClientKey): Promise<boolean>;
  /** Runs fn holding the store's cross-replica lock for the key (SQLite: none needed). */
  lock<T>(key: AccountKey, fn: () => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

export const FILTER_COLUMNS = ['issuer', 'subject', 'upstream'] as const;

export function metaFromColumns(r: Record<string, unknown>): RowMeta {
  return {
    issuer: String(r.issuer), subject: String(r.subject), upstream: String(r.upstream),
    scope: r.scope === null || r.scope === undefined ? null : String(r.scope),
    version: Number(r.version), connectedAt: Number(r.connected_at), updatedAt: Number(r.updated_at),
    lastUsedAt: r.last_used_at === null || r.last_used_at === undefined ? null : Number(r.last_used_at),
  };
}

/** A row as either driver returns it (SQLite: Uint8Array and numbers; pg: Buffer and BIGINT strings). */
export function clientFromColumns(r: Record<string, unknown>): ClientRow {
  const sealed = r.sealed as Uint8Array;
  return { keyId: String(r.key_id), sealed: Buffer.from(sealed.buffer, sealed.byteOffset, sealed.byteLength), createdAt: Number(r.created_at) };
}

export function rowFromColumns(r: Record<string, unknown>): Row {
  const sealed = r.sealed as Uint8Array;
  return { ...metaFromColumns(r), keyId: String(r.key_id), sealed: Buffer.from(sealed.buffer, sealed.byteOffset, sealed.byteLength) };
}
