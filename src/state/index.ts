// Shared state for replicas (`state.store: redis://…`): sessions, outbound tokens and introspection
// results in Redis, encrypted. Without `state`, everything stays in process memory as before.
import type { StateConfig } from '../config/schema.ts';
import { StateCipher } from './crypto.ts';
import { RedisIntrospectionStore } from './introspection.ts';
import { SharedState } from './redis.ts';
import { RedisSessionStore } from './sessions.ts';
import { RedisTokenStore } from './tokens.ts';

export { SharedState } from './redis.ts';

export interface SharedStores {
  state: SharedState;
  sessions: RedisSessionStore;
  tokens: RedisTokenStore;
  introspection: RedisIntrospectionStore;
}

/** Connects (waiting briefly for Redis; starting degraded when it is not there yet). */
export async function openSharedState(cfg: StateConfig): Promise<SharedStores | undefined> {
  if (cfg.store === 'memory' || !cfg.encryptionKey) return undefined;
  const state = new SharedState(cfg.store, new StateCipher(cfg.encryptionKey, cfg.previousKeys));
  await state.waitUntilReady();
  return { state, sessions: new RedisSessionStore(state), tokens: new RedisTokenStore(state), introspection: new RedisIntrospectionStore(state) };
}
