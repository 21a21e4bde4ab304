// The outbound token cache shared by client_credentials and token_exchange: one token-endpoint round
// trip per (user, upstream) per token lifetime. Two layers, so storage can change without touching
// the rules: a TokenStore keeps entries (in memory now; a Redis store shared by replicas can implement
// the same interface later), and TokenCache adds freshness, single-flight and hit/miss counters.
// Failures are never cached: the next request simply tries again.

/** A token as Deputy keeps it. Times are milliseconds since the epoch. */
export interface CachedToken {
  accessToken: string;
  /** When the token itself stops being valid (its `exp`, or issue time + `expires_in`). */
  expiresAt: number;
  /** When the cache stops handing it out: a little before `expiresAt`, possibly earlier (e.g. the user's own token expires). */
  freshUntil: number;
}

/** Where entries live. Implementations must drop entries once `freshUntil` has passed. */
export interface TokenStore {
  get(key: string): Promise<CachedToken | undefined>;
  set(key: string, token: CachedToken): Promise<void>;
  delete(key: string): Promise<void>;
  readonly size: number;
  clear(): void;
  /** Optional cross-process single-flight (the Redis store): runs `fetch` unless another replica already is, then returns that result. */
  fetchOnce?(key: string, fetch: () => Promise<CachedToken>): Promise<CachedToken>;
}

export interface TokenCacheStats {
  hits: number;
  misses: number;
  /** Token-endpoint calls that failed (each failure is retried on the next request). */
  failures: number;
  /** Entries currently stored. */
  size: number;
  /** Callers that joined a token request already in flight instead of making their own. */
  coalesced: number;
}

/** Refresh margin: 30 s before expiry, but never more than 20% of the lifetime (a 2-minute token is
 * reused for ~96 s, a 1-hour token for 59.5 min). A flat 30 s would mean never caching short tokens. */
export function freshUntilFor(obtainedAt: number, expiresAt: number): number {
  const lifetime = Math.max(0, expiresAt - obtainedAt);
  return expiresAt - Math.min(30_000, lifetime * 0.2);
}

/**
 * The cache entry for a token from a token endpoint, never fresh beyond `notAfterMs` (a per-user token must not
 * outlive the user's own token: once that expires the user must re-authenticate anyway).
 */
export function cachedFrom(issued: { accessToken: string; expiresAt: number; obtainedAt: number }, notAfterMs = Infinity): CachedToken {
  return { accessToken: issued.accessToken, expiresAt: issued.expiresAt, freshUntil: Math.min(freshUntilFor(issued.obtainedAt, issued.expiresAt), notAfterMs) };
}

/** The cache key of a token obtained for one user (issuer, subject) and upstream by one credential mode. */
export function userTokenKey(mode: string, upstream: string, user: { issuer: string; subject: string }, scope: string | undefined): string {
  return [mode, upstream, user.issuer, user.subject, scope ?? ''].join('\u0000');
}

/** In-process store: bounded size, oldest entry evicted first, expired entries dropped on access. */
export class MemoryTokenStore implements TokenStore {
  readonly #entries = new Map<string, CachedToken>();
  readonly #maxEntries: number;
  readonly #now: () => number;

  constructor(opts: { maxEntries?: number; now?: () => number } = {}) {
    this.#maxEntries = opts.maxEntries ?? 10_000;
    this.#now = opts.now ?? Date.now;
  }

  async get(key: string): Promise<CachedToken | undefined> {
    const t = this.#entries.get(key);
    if (t && t.freshUntil <= this.#now()) {
      this.#entries.delete(key);
      return undefined;
    }
    return t;
  }

  async set(key: string, token: CachedToken): Promise<void> {
    if (token.freshUntil <= this.#now()) return;
    this.#entries.delete(key); // re-insert so Map order tracks recency of writes
    this.#entries.set(key, token);
    if (this.#entries.size > this.#maxEntries) this.#evict();
  }

  async delete(key: string): Promise<void> {
    this.#entries.delete(key);
  }

  get size(): number {
    return this.#entries.size;
  }

  clear(): void {
    this.#entries.clear();
  }

  #evict(): void {
    const now = this.#now();
    for (const [k, t] of this.#entries) if (t.freshUntil <= now) this.#entries.delete(k);
    // Still over the bound: drop the oldest writes (Map iterates in insertion order).
    for (const k of this.#entries.keys()) {
      if (this.#entries.size <= this.#maxEntries) break;
      this.#entries.delete(k);
    }
  }
}

export class TokenCache {
  readonly #store: TokenStore;
  readonly #inflight = new Map<string, Promise<CachedToken>>();
  #hits = 0;
  #misses = 0;
  #failures = 0;
  #coalesced = 0;

  constructor(store: TokenStore = new MemoryTokenStore()) {
    this.#store = store;
  }

  /**
   * A fresh token for `key`: from the store, or from `fetch` — called once however many callers ask
   * concurrently. A rejected fetch rejects every waiting caller and leaves nothing behind.
   */
  async get(key: string, fetch: () => Promise<CachedToken>): Promise<CachedToken> {
    let pending = this.#inflight.get(key);
    if (!pending) {
      const cached = await this.#store.get(key);
      if (cached) {
        this.#hits++;
        return cached;
      }
      // Checked again: another caller may have started a request while the store lookup was pending.
      pending = this.#inflight.get(key);
    }
    if (pending) {
      this.#coalesced++;
      this.#hits++;
      return pending;
    }
    this.#misses++;
    const p = (async () => {
      try {
        const token = this.#store.fetchOnce ? await this.#store.fetchOnce(key, fetch) : await fetch();
        await this.#store.set(key, token);
        return token;
      } catch (error) {
        this.#failures++;
        throw error;
      } finally {
        this.#inflight.delete(key);
      }
    })();
    this.#inflight.set(key, p);
    return p;
  }

  stats(): TokenCacheStats {
    return { hits: this.#hits, misses: this.#misses, failures: this.#failures, size: this.#store.size, coalesced: this.#coalesced };
  }

  clear(): void {
    this.#store.clear();
  }
}
