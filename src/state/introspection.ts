// Introspection results in Redis: an opaque token introspected by one replica is accepted by the
// others without another round trip to the authorization server. Keyed by a hash of the token (the
// token itself never reaches Redis) and encrypted (the principal's claims are personal data).
import type { Principal } from '../inbound/principal.ts';
import type { IntrospectionStore } from '../inbound/verifier.ts';
import type { SharedState } from './redis.ts';

export class RedisIntrospectionStore implements IntrospectionStore {
  readonly #state: SharedState;

  constructor(state: SharedState) {
    this.#state = state;
  }

  async get(token: string): Promise<{ principal: Principal; until: number } | undefined> {
    return this.#state.getJson(this.#state.key('introspection', token));
  }

  async set(token: string, entry: { principal: Principal; until: number }): Promise<void> {
    await this.#state.setJson(this.#state.key('introspection', token), entry, entry.until - Date.now());
  }
}
