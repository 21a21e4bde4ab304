// A JWKS cache that keeps serving: keys are refreshed in the background when stale, refetched once
// (rate-limited) when a token names an unknown `kid` (key rotation), and the last good key set stays
// in use when the JWKS endpoint is unreachable. jose's remote set would fail closed on a stale
// refresh error; a gateway must not reject every user because the IdP blipped. After a failed fetch,
// no other is made for `failureCooldownMs`: tokens arriving meanwhile get 503 at once instead of each
// starting a fetch of their own (a fetch storm against an IdP that is already struggling).
import { createLocalJWKSet, errors, type JSONWebKeySet, type JWTVerifyGetKey } from 'jose';
import { fetchJson } from '../client/fetch-json.ts';

export interface JwksOptions {
  /** Background refresh after this age. */
  maxAgeMs?: number;
  /** Minimum interval between refetches triggered by unknown `kid`s. */
  cooldownMs?: number;
  timeoutMs?: number;
  /** After a failed fetch, no new fetch for this long. */
  failureCooldownMs?: number;
}

export class JwksUnavailableError extends Error {
  override name = 'JwksUnavailableError';
}

export class JwksCache {
  readonly #resolveUri: () => Promise<string>;
  readonly #maxAgeMs: number;
  readonly #cooldownMs: number;
  readonly #timeoutMs: number;
  readonly #failureCooldownMs: number;
  #failedAt = 0;
  #lastError = '';
  #keys?: ReturnType<typeof createLocalJWKSet>;
  #fetchedAt = 0;
  #lastMissRefetch = 0;
  #inflight?: Promise<void>;
  /** Number of JWKS fetches made (for tests and metrics). */
  fetches = 0;

  constructor(resolveUri: () => Promise<string>, opts: JwksOptions = {}) {
    this.#resolveUri = resolveUri;
    this.#maxAgeMs = opts.maxAgeMs ?? 10 * 60_000;
    this.#cooldownMs = opts.cooldownMs ?? 30_000;
    this.#timeoutMs = opts.timeoutMs ?? 5000;
    this.#failureCooldownMs = opts.failureCooldownMs ?? 2000;
  }

  /** A jose key resolver. */
  readonly getKey: JWTVerifyGetKey = async (header, token) => {
    if (!this.#keys) await this.#reload(true);
    else if (Date.now() - this.#fetchedAt > this.#maxAgeMs) this.#reload(false).catch(() => {}); // stale-while-revalidate
    const keys = this.#keys!;
    try {
      return await keys(header, token);
    } catch (error) {
      if (!(error instanceof errors.JWKSNoMatchingKey)) throw error;
      // Key rotation: every token with the new kid waits for the one refetch already under way (or
      // uses the key set it brought) instead of failing inside the cooldown.
      if (this.#inflight) await this.#inflight.catch(() => {});
      if (this.#keys !== keys) return this.#keys!(header, token);
      if (Date.now() - this.#lastMissRefetch < this.#cooldownMs) throw error;
      this.#lastMissRefetch = Date.now();
      await this.#reload(false).catch(() => {});
      return this.#keys!(header, token);
    }
  };

  /** Fetch now (used at start-up to warm the cache); resolves false instead of throwing. */
  async warm(): Promise<boolean> {
    try {
      await this.#reload(true);
      return true;
    } catch {
      return false;
    }
  }

  #reload(mustSucceed: boolean): Promise<void> {
    if (!this.#inflight && Date.now() - this.#failedAt < this.#failureCooldownMs) {
      return mustSucceed && !this.#keys ? Promise.reject(new JwksUnavailableError(this.#lastError)) : Promise.resolve();
    }
    this.#inflight ??= (async () => {
      this.fetches++;
      try {
        const uri = await this.#resolveUri();
        const body = (await fetchJson(uri, { timeoutMs: this.#timeoutMs, maxBytes: 512 * 1024 })) as JSONWebKeySet;
        if (!body || !Array.isArray(body.keys)) throw new Error(`${uri} is not a JWK Set (no "keys" array)`);
        this.#keys = createLocalJWKSet(body);
        this.#fetchedAt = Date.now();
        this.#failedAt = 0;
      } catch (error) {
        this.#failedAt = Date.now();
        this.#lastError = (error as Error).message;
        throw error;
      } finally {
        this.#inflight = undefined;
      }
    })();
    return this.#inflight.catch((error) => {
      if (mustSucceed && !this.#keys) throw new JwksUnavailableError((error as Error).message);
    });
  }
}
