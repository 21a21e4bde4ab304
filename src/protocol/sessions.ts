// Mcp-Session-Id handling. Deputy issues its own session ids (never the upstream's) and binds each to
// the principal that created it: another principal presenting the id gets 404, exactly as if the
// session did not exist, so session ids cannot be used to ride someone else's upstream session.
import { randomBytes } from 'node:crypto';
import { OverloadedError } from '../admission/concurrency.ts';

export interface SessionRecord {
  id: string;
  principalKey: string;
  /** The route the session belongs to (`notes`, or `*` for the aggregated endpoint). */
  route: string;
  /** Upstream name → the upstream's own session id. */
  upstreamSessions: Record<string, string>;
  protocolVersion?: string;
  /** The client declared URL-mode elicitation (it can send the person to a connect link). */
  urlElicitation?: boolean;
  createdAt: number;
  lastSeenAt: number;
}

export type SessionEndReason = 'expired' | 'evicted';

export interface SessionStore {
  get(id: string): Promise<SessionRecord | undefined>;
  /** Stores a new or changed session; throws SessionLimitError when the table is full. */
  set(record: SessionRecord): Promise<void>;
  delete(id: string): Promise<void>;
  /**
   * Called when a session ends without a DELETE: idle expiry, or evicted because its principal
   * opened more than its share. Returns an unsubscribe function.
   */
  onEnd(listener: (record: SessionRecord, reason: SessionEndReason) => void): () => void;
  stats(): SessionStats;
  close?(): void;
}

export interface SessionStats {
  sessions: number;
  principals: number;
  expired: number;
  evicted: number;
  refused: number;
}

export interface SessionLimits {
  idleMs: number;
  maxPerPrincipal: number;
  maxTotal: number;
}

/** The session table is full: initialize gets 503 with Retry-After until sessions end or expire. */
export class SessionLimitError extends OverloadedError {
  constructor(message: string) {
    super('sessions', message, 5);
    this.name = 'SessionLimitError';
  }
}

/** JSON-RPC code the SDKs use for an unknown session (answered with HTTP 404). */
export const SESSION_NOT_FOUND = -32001;

/**
 * The session `id` names, only if it belongs to this principal and route: any other session is
 * reported exactly like a missing one, so ids cannot be used to ride someone else's session.
 */
export async function findOwnSession(store: SessionStore, id: string, principalKey: string, route: string): Promise<SessionRecord | undefined> {
  const rec = await store.get(id);
  return rec && rec.principalKey === principalKey && rec.route === route ? rec : undefined;
}

export function newSessionId(): string {
  return randomBytes(24).toString('base64url');
}

/**
 * In-process store, bounded: sessions expire after `idleMs` unused; a principal holding
 * `maxPerPrincipal` sessions that opens another loses its least recently used one (only that
 * principal is affected, and a client that re-initialises gets a fresh session); with `maxTotal`
 * sessions in the table, new ones are refused (existing users keep theirs).
 */
export class MemorySessionStore implements SessionStore {
  readonly #sessions = new Map<string, SessionRecord>();
  /** principalKey → its session ids. */
  readonly #byPrincipal = new Map<string, Set<string>>();
  readonly #limits: SessionLimits;
  readonly #sweeper: NodeJS.Timeout;
  readonly #listeners = new Set<(record: SessionRecord, reason: SessionEndReason) => void>();
  #expired = 0;
  #evicted = 0;
  #refused = 0;

  constructor(limits: Partial<SessionLimits> = {}) {
    this.#limits = { idleMs: 30 * 60_000, maxPerPrincipal: 64, maxTotal: 100_000, ...limits };
    this.#sweeper = setInterval(() => this.#sweep(), Math.min(this.#limits.idleMs, 60_000)).unref();
  }

  async get(id: string): Promise<SessionRecord | undefined> {
    const s = this.#sessions.get(id);
    if (!s) return undefined;
    if (Date.now() - s.lastSeenAt > this.#limits.idleMs) {
      this.#end(s, 'expired');
      return undefined;
    }
    s.lastSeenAt = Date.now();
    return s;
  }

  async set(record: SessionRecord): Promise<void> {
    const existing = this.#sessions.get(record.id);
    if (existing) {
      if (existing.principalKey !== record.principalKey) this.#unindex(existing);
      this.#sessions.set(record.id, record);
      this.#index(record);
      return;
    }
    const own = this.#byPrincipal.get(record.principalKey);
    if (own && own.size >= this.#limits.maxPerPrincipal) {
      let oldest: SessionRecord | undefined;
      for (const id of own) {
        const s = this.#sessions.get(id)!;
        if (!oldest || s.lastSeenAt < oldest.lastSeenAt) oldest = s;
      }
      this.#end(oldest!, 'evicted');
    }
    if (this.#sessions.size >= this.#limits.maxTotal) {
      this.#sweep();
      if (this.#sessions.size >= this.#limits.maxTotal) {
        this.#refused++;
        throw new SessionLimitError(`the session table is full (${this.#limits.maxTotal} sessions, limits.max_sessions); retry shortly`);
      }
    }
    this.#sessions.set(record.id, record);
    this.#index(record);
  }

  async delete(id: string): Promise<void> {
    const s = this.#sessions.get(id);
    if (!s) return;
    this.#sessions.delete(id);
    this.#unindex(s);
  }

  onEnd(listener: (record: SessionRecord, reason: SessionEndReason) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  stats(): SessionStats {
    return { sessions: this.#sessions.size, principals: this.#byPrincipal.size, expired: this.#expired, evicted: this.#evicted, refused: this.#refused };
  }

  get size(): number {
    return this.#sessions.size;
  }

  close(): void {
    clearInterval(this.#sweeper);
  }

  #index(s: SessionRecord): void {
    let own = this.#byPrincipal.get(s.principalKey);
    if (!own) this.#byPrincipal.set(s.principalKey, (own = new Set()));
    own.add(s.id);
  }

  #unindex(s: SessionRecord): void {
    const own = this.#byPrincipal.get(s.principalKey);
    own?.delete(s.id);
    if (own?.size === 0) this.#byPrincipal.delete(s.principalKey);
  }

  #end(s: SessionRecord, reason: SessionEndReason): void {
    this.#sessions.delete(s.id);
    this.#unindex(s);
    if (reason === 'expired') this.#expired++;
    else this.#evicted++;
    for (const l of this.#listeners) {
      try {
        l(s, reason);
      } catch {
        // a listener's failure must not stop the others or the sweep
      }
    }
  }

  #sweep(): void {
    const cutoff = Date.now() - this.#limits.idleMs;
    for (const s of this.#sessions.values()) if (s.lastSeenAt < cutoff) this.#end(s, 'expired');
  }
}
