// Shared state for replicas (`state.store: redis://…`): sessions, outbound tokens and introspection
// results in Redis, encrypted, and events every replica hears (pub/sub). Without `state`, everything stays in process memory as before.
import type { StateConfig } from '../config/schema.ts';
import type { SessionLimits } from '../protocol/sessions.ts';
import type { RedisIntrospectionStore } from './introspection.ts';
import type { Broadcast } from './broadcast.ts';
import type { SharedState } from './redis.ts';
import type { RedisSessionStore } from './sessions.ts';
import type { RedisTokenStore } from './tokens.ts';

export type { SharedState } from './redis.ts';

export interface SharedStores {
  state: SharedState;
  sessions: RedisSessionStore;
  tokens: RedisTokenStore;
  introspection: RedisIntrospectionStore;
  /** Events for every replica (pub/sub). */
  broadcast: Broadcast;
}

/** Connects (waiting briefly for Redis; starting degraded when it is not there yet). */
export async function openSharedState(cfg: StateConfig, sessionLimits: Partial<SessionLimits> = {}): Promise<SharedStores | undefined> {
  if (cfg.store === 'memory' || !cfg.encryptionKey) return undefined;
  // Loaded only when configured: a memory-only deployment never pays for the Redis client.
  const [{ StateCipher }, { SharedState }, { RedisSessionStore }, { RedisTokenStore }, { RedisIntrospectionStore }, { Broadcast }] = await Promise.all([
    import('./crypto.ts'), import('./redis.ts'), import('./sessions.ts'), import('./tokens.ts'), import('./introspection.ts'), import('./broadcast.ts'),
  ]);
  const state = new SharedState(cfg.store, new StateCipher(cfg.encryptionKey, cfg.previousKeys));
  await state.waitUntilReady();
  return { state, sessions: new RedisSessionStore(state, sessionLimits), tokens: new RedisTokenStore(state), introspection: new RedisIntrospectionStore(state), broadcast: new Broadcast(state) };
}
