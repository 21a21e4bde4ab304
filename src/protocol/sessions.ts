// Mcp-Session-Id handling. Deputy issues its own session ids (never the upstream's) and binds each to
// the principal that created it: another principal presenting the id gets 404, exactly as if the
// session did not exist, so session ids cannot be used to ride someone else's upstream session.
import { randomBytes } from 'node:crypto';

export interface SessionRecord {
  id: string;
  principalKey: string;
  /** The route the session belongs to (`notes`, or `*` for the aggregated endpoint). */
  route: string;
  /** Upstream name → the upstream's own session id. */
  upstreamSessions: Record<string, string>;
  protocolVersion?: string;
  createdAt: number;
  lastSeenAt: number;
}

export interface SessionStore {
  get(id: string): Promise<SessionRecord | undefined>;
  set(record: SessionRecord): Promise<void>;
  delete(id: string): Promise<void>;
  close?(): void;
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

/** In-process store with idle expiry. */
export class MemorySessionStore implements SessionStore {
  readonly #sessions = new Map<string, SessionRecord>();
  readonly #idleMs: number;
  readonly #sweeper: NodeJS.Timeout;

  constructor(idleMs = 60 * 60_000) {
    this.#idleMs = idleMs;
    this.#sweeper = setInterval(() => this.#sweep(), Math.min(idleMs, 60_000)).unref();
  }

  async get(id: string): Promise<SessionRecord | undefined> {
    const s = this.#sessions.get(id);
    if (!s) return undefined;
    if (Date.now() - s.lastSeenAt > this.#idleMs) {
      this.#sessions.delete(id);
      return undefined;
    }
    s.lastSeenAt = Date.now();
    return s;
  }

  async set(record: SessionRecord): Promise<void> {
    this.#sessions.set(record.id, record);
  }

  async delete(id: string): Promise<void> {
    this.#sessions.delete(id);
  }

  get size(): number {
    return this.#sessions.size;
  }

  close(): void {
    clearInterval(this.#sweeper);
  }

  #sweep(): void {
    const cutoff = Date.now() - this.#idleMs;
    for (const [id, s] of this.#sessions) if (s.lastSeenAt < cutoff) this.#sessions.delete(id);
  }
}
