// The Redis connection behind shared state. Redis is an accelerator, not a dependency: every command
// has a short timeout and is never queued while disconnected, and a failed command reports
// `undefined` so callers fall back to their replica-local copy. An outage is logged once when it
// starts and once when it ends, not per request; ioredis reconnects in the background.
import { Redis } from 'ioredis';
import { log } from '../log.ts';
import { hashKey, type StateCipher } from './crypto.ts';

export interface SharedStateOptions {
  /** Per-command timeout; a slow Redis must not stall requests. */
  commandTimeoutMs?: number;
  keyPrefix?: string;
}

export interface StateStatus {
  store: 'redis';
  status: 'up' | 'degraded';
  /** When the current outage began (ISO-8601). */
  downSince?: string;
  lastError?: string;
  keyId: string;
}

export class SharedState {
  readonly redis: Redis;
  readonly cipher: StateCipher;
  readonly #prefix: string;
  readonly #display: string;
  #downSince?: Date;
  #lastError?: string;
  #closed = false;

  constructor(url: string, cipher: StateCipher, opts: SharedStateOptions = {}) {
    this.cipher = cipher;
    this.#prefix = opts.keyPrefix ?? 'deputy:';
    this.#display = redactUrl(url);
    this.redis = new Redis(url, {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      commandTimeout: opts.commandTimeoutMs ?? 500,
      connectTimeout: 2000,
      // Keep trying forever, backing off to 2 s: Redis coming back must be noticed without a restart.
      retryStrategy: (times) => Math.min(100 * times, 2000),
      lazyConnect: false,
    });
    this.redis.on('error', (error: Error) => this.#down(error.message));
    this.redis.on('close', () => this.#down('connection closed'));
    this.redis.on('ready', () => {
      if (this.#downSince) log.info('shared state: Redis is reachable again; using shared state', { redis: this.#display, outage_ms: Date.now() - this.#downSince.getTime() });
      this.#downSince = undefined;
      this.#lastError = undefined;
    });
  }

  /** Waits (bounded) for the first connection so a replica starts with shared state when Redis is there. */
  async waitUntilReady(timeoutMs = 2000): Promise<boolean> {
    if (this.up) return true;
    return new Promise((resolve) => {
      const done = (ok: boolean) => {
        clearTimeout(timer);
        this.redis.off('ready', onReady);
        resolve(ok);
      };
      const onReady = () => done(true);
      const timer = setTimeout(() => {
        this.#down(this.#lastError ?? 'not reachable at start-up');
        done(false);
      }, timeoutMs);
      this.redis.once('ready', onReady);
    });
  }

  get up(): boolean {
    return this.redis.status === 'ready';
  }

  /** Runs a command; undefined (and a degraded state) when Redis is down or the command fails. */
  async run<T>(fn: (r: Redis) => Promise<T>): Promise<T | undefined> {
    if (!this.up) return undefined;
    try {
      return await fn(this.redis);
    } catch (error) {
      this.#down((error as Error).message);
      return undefined;
    }
  }

  /** Storage key for a logical key (hashed: logical keys may contain tokens or session ids). */
  key(kind: string, logical: string): string {
    return `${this.#prefix}${kind}:${hashKey(logical)}`;
  }

  async getJson<T>(key: string): Promise<T | undefined> {
    const raw = await this.run((r) => r.get(key));
    if (raw === undefined || raw === null) return undefined;
    const plain = this.cipher.decrypt(raw, key);
    if (plain === undefined) return undefined; // written with a retired key or altered: treat as absent
    try {
      return JSON.parse(plain) as T;
    } catch {
      return undefined;
    }
  }

  async setJson(key: string, value: unknown, ttlMs: number): Promise<boolean> {
    const ms = Math.floor(ttlMs);
    if (ms <= 0) return false;
    const stored = this.cipher.encrypt(JSON.stringify(value), key);
    return (await this.run((r) => r.set(key, stored, 'PX', ms))) === 'OK';
  }

  status(): StateStatus {
    return { store: 'redis', status: this.up ? 'up' : 'degraded', downSince: this.#downSince?.toISOString(), lastError: this.up ? undefined : this.#lastError, keyId: this.cipher.keyId };
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.redis.disconnect();
  }

  #down(reason: string): void {
    this.#lastError = reason;
    // A single failed command on a live connection (e.g. a timeout) is not an outage.
    if (this.#closed || this.#downSince || this.up) return;
    this.#downSince = new Date();
    log.warn('shared state: Redis is unavailable; each replica falls back to its local cache until it returns', { redis: this.#display, reason });
  }
}

function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'redis';
  }
}
