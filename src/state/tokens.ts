// Outbound tokens (client credentials, exchanged tokens) in Redis, encrypted, so one token-endpoint
// round trip serves every replica. A replica-local MemoryTokenStore is the first level (no Redis
// round trip for a token this replica already holds) and the fallback while Redis is down.
// `fetchOnce` extends single-flight across replicas: the first replica to miss takes a short lock
// (SET NX PX); the others wait for its result in Redis instead of calling the token endpoint too.
import { randomBytes } from 'node:crypto';
import { MemoryTokenStore, type CachedToken, type TokenStore } from '../outbound/token-cache.ts';
import type { SharedState } from './redis.ts';

const LOCK_TTL_MS = 10_000;
const POLL_MS = 25;
/** Compare-and-delete: only the lock's owner releases it. */
const RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end";

export class RedisTokenStore implements TokenStore {
  readonly #state: SharedState;
  readonly #local: MemoryTokenStore;
  readonly #now: () => number;
  /** Tokens obtained from another replica's fetch (for tests and metrics). */
  sharedHits = 0;
  /** Token-endpoint round trips this replica made (the others were served by Redis). */
  fetches = 0;

  constructor(state: SharedState, opts: { maxEntries?: number; now?: () => number } = {}) {
    this.#state = state;
    this.#now = opts.now ?? Date.now;
    this.#local = new MemoryTokenStore(opts);
  }

  async get(key: string): Promise<CachedToken | undefined> {
    const local = await this.#local.get(key);
    if (local) return local;
    const shared = await this.#readShared(key);
    if (shared) {
      this.sharedHits++;
      await this.#local.set(key, shared);
    }
    return shared;
  }

  async set(key: string, token: CachedToken): Promise<void> {
    await this.#local.set(key, token);
    await this.#state.setJson(this.#state.key('token', key), token, token.freshUntil - this.#now());
  }

  async delete(key: string): Promise<void> {
    await this.#local.delete(key);
    const k = this.#state.key('token', key);
    await this.#state.run((r) => r.del(k));
  }

  get size(): number {
    return this.#local.size;
  }

  clear(): void {
    this.#local.clear();
  }

  /**
   * Runs `fetch` unless another replica is already fetching the same key, in which case its result is
   * awaited in Redis. Falls back to fetching here when Redis is down, the lock holder fails, or its
   * lock expires without a result.
   */
  async fetchOnce(key: string, fetch: () => Promise<CachedToken>): Promise<CachedToken> {
    const lockKey = this.#state.key('token-lock', key);
    const owner = randomBytes(12).toString('base64url');
    const deadline = this.#now() + LOCK_TTL_MS;
    for (;;) {
      const acquired = await this.#state.run((r) => r.set(lockKey, owner, 'PX', LOCK_TTL_MS, 'NX'));
      if (acquired !== null) {
        // Acquired, or Redis unavailable (undefined): fetch here.
        try {
          // Another replica may have finished between our miss and the lock.
          const done = acquired === 'OK' ? await this.#readShared(key) : undefined;
          if (done) {
            this.sharedHits++;
            return done;
          }
          this.fetches++;
          const token = await fetch();
          await this.set(key, token);
          return token;
        } finally {
          if (acquired === 'OK') await this.#state.run((r) => r.eval(RELEASE, 1, lockKey, owner));
        }
      }
      // Someone else holds the lock: wait for their token, or for the lock to go away.
      while (this.#now() < deadline) {
        await new Promise((r) => setTimeout(r, POLL_MS));
        const shared = await this.#readShared(key);
        if (shared) {
          this.sharedHits++;
          await this.#local.set(key, shared);
          return shared;
        }
        const held = await this.#state.run((r) => r.exists(lockKey));
        if (held !== 1) break; // released without a result (their fetch failed) or Redis went away: try ourselves
      }
      if (this.#now() >= deadline) {
        this.fetches++;
        return fetch();
      }
    }
  }

  async #readShared(key: string): Promise<CachedToken | undefined> {
    const t = await this.#state.getJson<CachedToken>(this.#state.key('token', key));
    return t && t.freshUntil > this.#now() ? t : undefined;
  }
}
