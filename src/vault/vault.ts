// The token vault: per-user upstream OAuth tokens ("connected accounts"), each row sealed to its
// (issuer, subject, upstream) tuple (crypto.ts) and kept in SQLite or PostgreSQL (store.ts). Token
// values are never logged, never put in error messages and never stored unsealed; only the scope is
// kept in plaintext, for listing.
//
// A row that does not open (copied to another account, tampered with, sealed under a key no longer
// configured) makes get() throw a VaultError instead of returning undefined: "not connected" would
// hide tampering or a key misconfiguration, and reconnecting the account (put) replaces the row anyway.
import { createHash } from 'node:crypto';
import { isAbsolute, resolve } from 'node:path';
import { log, throttledWarning } from '../log.ts';
import { clientAad, sealedKeyId, VaultCipher, VaultError, type VaultKeyConfig } from './crypto.ts';
import { SqliteVaultStore } from './sqlite.ts';
import type { ClientKey, Row, RowMeta, SealedValue, VaultStore } from './store.ts';

export type { ClientKey } from './store.ts';

export { sealedKeyId, VaultError, type VaultErrorCode, type VaultKeyConfig } from './crypto.ts';

export interface AccountKey {
  issuer: string;
  subject: string;
  upstream: string;
}

export interface StoredTokens {
  accessToken: string;
  refreshToken?: string;
  /** Epoch milliseconds. */
  expiresAt?: number;
  scope?: string;
  tokenType?: string;
}

export interface VaultRecord extends StoredTokens {
  /** 1 when first stored, +1 on every put or successful compareAndSwap (not on re-sealing or touch). */
  version: number;
  connectedAt: number;
  updatedAt: number;
  lastUsedAt?: number;
}

/** An account without any token field, for listing. */
export interface AccountSummary extends AccountKey {
  scope?: string;
  version: number;
  connectedAt: number;
  updatedAt: number;
  lastUsedAt?: number;
}

/**
 * Deputy's own client at an upstream's authorization server, obtained by RFC 7591 dynamic client
 * registration; kept sealed (the secret and registration access token are credentials).
 */
export interface RegisteredClient {
  clientId: string;
  clientSecret?: string;
  /** How Deputy authenticates at the token endpoint with it. */
  authMethod: 'client_secret_basic' | 'client_secret_post' | 'none';
  /** Epoch milliseconds; absent when the secret does not expire. */
  secretExpiresAt?: number;
  /** The redirect URI it was registered with (a changed public_url needs a new registration). */
  redirectUri: string;
  /** RFC 7592, when the server issued them (kept, not used yet). */
  registrationAccessToken?: string;
  registrationClientUri?: string;
}

const CLIENT_AUTH_METHODS = new Set(['client_secret_basic', 'client_secret_post', 'none']);

export interface VaultConfig {
  /** `sqlite:PATH` (relative to baseDir; `sqlite::memory:` allowed) or `postgres://…` / `postgresql://…`. */
  store: string;
  /** The first key seals; all of them open. */
  keys: VaultKeyConfig[];
}

const TOUCH_INTERVAL_MS = 60_000;
const PRUNE_INTERVAL_MS = 60_000;
const TOUCH_MEMORY = 10_000;
const STRING_FIELDS = ['refreshToken', 'scope', 'tokenType'] as const;

const warnTouch = throttledWarning('vault: recording when an account was last used failed');

export class Vault {
  readonly #cipher: VaultCipher;
  readonly #store: VaultStore;
  readonly #mutex = new KeyedMutex();
  /** When this process last touched each account (touch is written at most once a minute per account). */
  readonly #touched = new Map<string, number>();
  #prunedAt = 0;

  private constructor(cipher: VaultCipher, store: VaultStore) {
    this.#cipher = cipher;
    this.#store = store;
  }

  /**
   * Opens (creating tables if missing) the store. PostgreSQL being unreachable is not fatal: it is
   * logged and the schema is created on first use; operations fail while it stays unreachable.
   */
  static async open(cfg: VaultConfig, opts: { baseDir?: string } = {}): Promise<Vault> {
    const cipher = new VaultCipher(cfg.keys);
    return new Vault(cipher, await openStore(cfg.store, opts.baseDir ?? process.cwd()));
  }

  /** The tokens, or undefined when the account is not connected; throws VaultError when the row does not open. */
  async get(key: AccountKey): Promise<VaultRecord | undefined> {
    checkKey(key);
    const row = await this.#store.get(key);
    if (!row) return undefined;
    const tokens = this.#open(row, key);
    if (sealedKeyId(row.sealed) !== this.#cipher.currentKeyId) await this.#reseal(key, row, tokens);
    return toRecord(tokens, row);
  }

  /** Stores the tokens (replacing any): version 1 when new, else previous + 1; connectedAt is kept. */
  async put(key: AccountKey, tokens: StoredTokens): Promise<VaultRecord> {
    checkKey(key);
    const clean = checkTokens(tokens);
    return toRecord(clean, await this.#store.put(key, this.#seal(key, clean), Date.now()));
  }

  /**
   * Stores the tokens only if the row is still at `expectedVersion` (0: only if there is no row);
   * undefined when someone else wrote in between.
   */
  async compareAndSwap(key: AccountKey, expectedVersion: number, tokens: StoredTokens): Promise<VaultRecord | undefined> {
    checkKey(key);
    if (!Number.isSafeInteger(expectedVersion) || expectedVersion < 0) throw new TypeError('vault: expectedVersion must be a non-negative integer');
    const clean = checkTokens(tokens);
    const row = await this.#store.compareAndSwap(key, expectedVersion, this.#seal(key, clean), Date.now());
    return row && toRecord(clean, row);
  }

  /**
   * Runs fn alone for this account: in this process (a per-account mutex) and, on PostgreSQL, across
   * replicas (an advisory lock held in a transaction while fn runs). Not reentrant: calling withLock
   * for the same account inside fn deadlocks.
   */
  withLock<T>(key: AccountKey, fn: () => Promise<T>): Promise<T> {
    checkKey(key);
    return this.#mutex.run(accountId(key), () => this.#store.lock(key, fn));
  }

  /** Records that the account was used now: best effort, written at most once a minute per account. */
  async touch(key: AccountKey): Promise<void> {
    checkKey(key);
    const id = accountId(key);
    const now = Date.now();
    if (now - (this.#touched.get(id) ?? -Infinity) < TOUCH_INTERVAL_MS) return;
    if (this.#touched.size >= TOUCH_MEMORY) for (const [k, at] of this.#touched) if (now - at >= TOUCH_INTERVAL_MS) this.#touched.delete(k);
    this.#touched.set(id, now);
    try {
      await this.#store.touch(key, now, now - TOUCH_INTERVAL_MS);
    } catch (error) {
      warnTouch('touch', { reason: (error as Error).message });
    }
  }

  /** True when a row was removed. */
  async delete(key: AccountKey): Promise<boolean> {
    checkKey(key);
    this.#touched.delete(accountId(key));
    return this.#store.delete(key);
  }

  /** Connected accounts (no token fields), ordered by issuer, subject, upstream. */
  async list(filter: { subject?: string; upstream?: string; issuer?: string } = {}): Promise<AccountSummary[]> {
    const rows = await this.#store.list({ issuer: filter.issuer, subject: filter.subject, upstream: filter.upstream });
    return rows.map(toSummary);
  }

  /**
   * Single-use connect links: true the first time `id` is used, false on every later use (a replay)
   * and for a ticket already expired. The id is recorded (hashed) until `expiresAt`; expired entries
   * are pruned at most once a minute.
   */
  async useTicket(id: string, expiresAt: number): Promise<boolean> {
    if (typeof id !== 'string' || !id) throw new TypeError('vault: a ticket id must be a non-empty string');
    const now = Date.now();
    if (!(expiresAt > now)) return false;
    if (now - this.#prunedAt >= PRUNE_INTERVAL_MS) {
      this.#prunedAt = now;
      await this.#store.pruneTickets(now);
    }
    return this.#store.recordTicket(createHash('sha256').update(id).digest('hex'), expiresAt);
  }

  /** Deputy's registered client for this upstream at this authorization server; throws VaultError when the row does not open. */
  async getClient(key: ClientKey): Promise<RegisteredClient | undefined> {
    checkClientKey(key);
    const row = await this.#store.getClient(key);
    if (!row) return undefined;
    let value: unknown;
    try {
      value = JSON.parse(this.#cipher.open(row.sealed, clientAad(key)));
    } catch (error) {
      if (error instanceof VaultError) throw new VaultError(error.code, `the client registration for ${key.upstream} at ${key.issuer} does not open (${error.code === 'ERR_VAULT_UNKNOWN_KEY' ? `vault key ${row.keyId} is not configured` : 'moved, tampered with, or the key\'s secret changed'})`);
      value = undefined; // JSON.parse's message quotes the text: never let it out
    }
    const c = value as RegisteredClient | undefined;
    if (typeof c?.clientId !== 'string' || !c.clientId || typeof c.redirectUri !== 'string' || !CLIENT_AUTH_METHODS.has(c.authMethod)) {
      throw new VaultError('ERR_VAULT_MALFORMED', `the client registration for ${key.upstream} at ${key.issuer} is malformed`);
    }
    if (sealedKeyId(row.sealed) !== this.#cipher.currentKeyId) {
      await this.#store.resealClient(key, row.sealed, { keyId: this.#cipher.currentKeyId, sealed: this.#cipher.seal(JSON.stringify(c), clientAad(key)) })
        .catch((error: Error) => log.warn('vault: re-sealing a client registration under the current key failed; the next read retries', { upstream: key.upstream, keyId: row.keyId, reason: error.message }));
    }
    return c;
  }

  /** Stores (replacing any) the registered client; call under withClientLock. */
  async putClient(key: ClientKey, client: RegisteredClient): Promise<void> {
    checkClientKey(key);
    await this.#store.putClient(key, { keyId: this.#cipher.currentKeyId, sealed: this.#cipher.seal(JSON.stringify(client), clientAad(key)) }, Date.now());
  }

  async deleteClient(key: ClientKey): Promise<boolean> {
    checkClientKey(key);
    return this.#store.deleteClient(key);
  }

  /** Runs fn alone for this client registration: in this process and, on PostgreSQL, across replicas. */
  withClientLock<T>(key: ClientKey, fn: () => Promise<T>): Promise<T> {
    checkClientKey(key);
    // The store's lock is keyed by an account tuple; an empty subject never names an account.
    return this.#mutex.run(JSON.stringify({ client: [key.upstream, key.issuer] }), () => this.#store.lock({ issuer: key.issuer, subject: '', upstream: key.upstream }, fn));
  }

  async close(): Promise<void> {
    await this.#store.close();
  }

  #seal(key: AccountKey, tokens: StoredTokens): SealedValue {
    return { keyId: this.#cipher.currentKeyId, sealed: this.#cipher.seal(JSON.stringify(tokens), key), scope: tokens.scope ?? null };
  }

  #open(row: Row, key: AccountKey): StoredTokens {
    const plaintext = this.#cipher.open(row.sealed, key);
    let value: unknown;
    try {
      value = JSON.parse(plaintext);
    } catch {
      value = undefined; // JSON.parse's message quotes the text: never let it out
    }
    const problem = tokenProblem(value);
    if (problem) throw new VaultError('ERR_VAULT_MALFORMED', `sealed tokens for account ${key.subject} at ${key.upstream} are malformed (${problem})`);
    return pick(value as StoredTokens);
  }

  /** Lazy rotation: the same tokens under the current key, only if the row has not changed since it was read. */
  async #reseal(key: AccountKey, row: Row, tokens: StoredTokens): Promise<void> {
    try {
      await this.#store.reseal(key, row, this.#seal(key, tokens));
    } catch (error) {
      log.warn('vault: re-sealing a row under the current key failed; the next read retries', { upstream: key.upstream, keyId: sealedKeyId(row.sealed), reason: (error as Error).message });
    }
  }
}

async function openStore(store: string, baseDir: string): Promise<VaultStore> {
  if (store.startsWith('sqlite:') && store.length > 'sqlite:'.length) {
    const path = store.slice('sqlite:'.length);
    return new SqliteVaultStore(path === ':memory:' || isAbsolute(path) ? path : resolve(baseDir, path));
  }
  if (/^postgres(ql)?:\/\/./.test(store)) {
    const { PostgresVaultStore } = await import('./postgres.ts'); // only deployments that use it load `pg`
    const pgStore = new PostgresVaultStore(store);
    await pgStore.ready().catch((error: Error) => log.warn('vault: PostgreSQL is unreachable; the schema is created on first use', { reason: error.message }));
    return pgStore;
  }
  // Not echoed: a PostgreSQL URL can carry a password.
  throw new VaultError('ERR_VAULT_CONFIG', 'the vault store must be sqlite:PATH or postgres://…');
}

function accountId(key: AccountKey): string {
  return JSON.stringify([key.issuer, key.subject, key.upstream]);
}

function checkKey(key: AccountKey): void {
  for (const f of ['issuer', 'subject', 'upstream'] as const) {
    if (typeof key?.[f] !== 'string' || !key[f]) throw new TypeError(`vault: the account's ${f} must be a non-empty string`);
  }
}

function checkClientKey(key: ClientKey): void {
  for (const f of ['upstream', 'issuer'] as const) {
    if (typeof key?.[f] !== 'string' || !key[f]) throw new TypeError(`vault: the client registration's ${f} must be a non-empty string`);
  }
}

/** What is wrong with a tokens value, naming the field only (never its value). */
function tokenProblem(t: unknown): string | undefined {
  if (typeof t !== 'object' || t === null) return 'not an object';
  const o = t as Record<string, unknown>;
  if (typeof o.accessToken !== 'string' || !o.accessToken) return 'accessToken must be a non-empty string';
  for (const f of STRING_FIELDS) if (o[f] !== undefined && typeof o[f] !== 'string') return `${f} must be a string`;
  if (o.expiresAt !== undefined && !Number.isFinite(o.expiresAt)) return 'expiresAt must be a number (epoch ms)';
  return undefined;
}

function checkTokens(tokens: StoredTokens): StoredTokens {
  const problem = tokenProblem(tokens);
  if (problem) throw new TypeError(`vault: ${problem}`);
  return pick(tokens);
}

/** Only the known fields, and no undefined ones. */
function pick(t: StoredTokens): StoredTokens {
  const out: StoredTokens = { accessToken: t.accessToken };
  for (const f of STRING_FIELDS) if (t[f] !== undefined) out[f] = t[f];
  if (t.expiresAt !== undefined) out.expiresAt = t.expiresAt;
  return out;
}

function toRecord(tokens: StoredTokens, r: RowMeta): VaultRecord {
  return { ...tokens, version: r.version, connectedAt: r.connectedAt, updatedAt: r.updatedAt, ...(r.lastUsedAt === null ? {} : { lastUsedAt: r.lastUsedAt }) };
}

function toSummary(r: RowMeta): AccountSummary {
  return {
    issuer: r.issuer, subject: r.subject, upstream: r.upstream, ...(r.scope === null ? {} : { scope: r.scope }),
    version: r.version, connectedAt: r.connectedAt, updatedAt: r.updatedAt, ...(r.lastUsedAt === null ? {} : { lastUsedAt: r.lastUsedAt }),
  };
}

/** A per-key FIFO mutex inside this process. */
class KeyedMutex {
  readonly #tails = new Map<string, Promise<void>>();

  async run<T>(id: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.#tails.get(id);
    let release!: () => void;
    const mine = new Promise<void>((r) => (release = r));
    const tail = previous ? previous.then(() => mine) : mine;
    this.#tails.set(id, tail);
    try {
      await previous;
      return await fn();
    } finally {
      release();
      if (this.#tails.get(id) === tail) this.#tails.delete(id);
    }
  }
}
