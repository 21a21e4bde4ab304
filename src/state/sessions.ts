// Sessions in Redis, so a session created through one replica continues through any other. Each
// replica also keeps the records it has seen in its local store: when Redis is down, sessions this
// replica knows keep working and new sessions are created locally (they become visible to other
// replicas once written to Redis again, i.e. on their next use after Redis returns). The local store
// enforces the session limits; a session it evicts is deleted from Redis too (one that merely idles
// out locally is left to Redis's own idle expiry: another replica may be using it).
import { MemorySessionStore, type SessionEndReason, type SessionLimits, type SessionRecord, type SessionStats, type SessionStore } from '../protocol/sessions.ts';
import type { SharedState } from './redis.ts';

export class RedisSessionStore implements SessionStore {
  readonly #state: SharedState;
  readonly #local: MemorySessionStore;
  readonly #idleMs: number;
  /** Sessions created or changed while Redis was down: written back when it returns. */
  readonly #unsynced = new Set<string>();

  constructor(state: SharedState, limits: Partial<SessionLimits> = {}) {
    this.#state = state;
    this.#idleMs = limits.idleMs ?? 30 * 60_000;
    this.#local = new MemorySessionStore(limits);
    this.#local.onEnd((rec, reason) => {
      this.#unsynced.delete(rec.id);
      // Idle here is not idle everywhere: the session may be in use through another replica, and
      // Redis expires it by itself (every use refreshes its TTL). An eviction is final.
      if (reason !== 'evicted') return;
      const key = this.#state.key('session', rec.id);
      void this.#state.run((r) => r.del(key));
    });
  }

  onEnd(listener: (record: SessionRecord, reason: SessionEndReason) => void): () => void {
    return this.#local.onEnd(listener);
  }

  stats(): SessionStats {
    return this.#local.stats();
  }

  async get(id: string): Promise<SessionRecord | undefined> {
    const key = this.#state.key('session', id);
    if (this.#state.up) {
      // GETEX refreshes the idle expiry on every use, like the local store does.
      const raw = await this.#state.run((r) => r.getex(key, 'PX', this.#idleMs));
      if (raw !== undefined) {
        const plain = raw === null ? undefined : this.#state.cipher.decrypt(raw, key);
        if (plain === undefined) {
          // Not in Redis: written here during an outage (push it back now), else ended or expired
          // elsewhere (forget the local copy too, so a deleted session stays deleted).
          const local = await this.#local.get(id);
          if (local && this.#unsynced.has(id)) {
            if (await this.#state.setJson(key, local, this.#idleMs)) this.#unsynced.delete(id);
            return local;
          }
          await this.#local.delete(id);
          return undefined;
        }
        const rec = JSON.parse(plain) as SessionRecord;
        rec.lastSeenAt = Date.now();
        await this.#local.set(rec).catch(() => {}); // a full local table only means no local copy
        return rec;
      }
    }
    return this.#local.get(id);
  }

  async set(record: SessionRecord): Promise<void> {
    await this.#local.set(record);
    if (await this.#state.setJson(this.#state.key('session', record.id), record, this.#idleMs)) this.#unsynced.delete(record.id);
    else this.#unsynced.add(record.id);
  }

  async delete(id: string): Promise<void> {
    await this.#local.delete(id);
    this.#unsynced.delete(id);
    const key = this.#state.key('session', id);
    await this.#state.run((r) => r.del(key));
  }

  close(): void {
    this.#local.close();
  }
}
