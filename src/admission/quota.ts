// Quotas: token buckets that keep one agent from using up an upstream for everyone. Buckets are keyed
// on the *verified* identity (issuer, subject) or client id, never on a session: re-initialising must
// not reset a bucket. Local to the replica by default; `quotas.shared: true` keeps them in Redis with
// one atomic script per decision, so replicas enforce one limit together. Policy runs first: a request
// the policy refuses never spends quota.
import { DeputyError } from '../errors.ts';
import type { Principal } from '../inbound/principal.ts';
import type { SharedState } from '../state/redis.ts';
import type { QuotaConfig, RateSpec, UpstreamQuotaConfig } from '../config/quotas.ts';

/** A quota was spent: 429 with Retry-After (or an in-band JSON-RPC error inside a /mcp exchange). */
export class QuotaExceededError extends DeputyError {
  readonly retryAfterMs: number;
  readonly scope: string;
  /** The store was unreachable and the quota fails closed (503 rather than 429). */
  readonly storeDown: boolean;
  constructor(scope: string, message: string, retryAfterMs: number, storeDown = false) {
    super(storeDown ? 'ERR_QUOTA_STORE_DOWN' : 'ERR_QUOTA_EXCEEDED', message, { data: { retryAfterMs, scope }, headers: { 'retry-after': String(retrySeconds(retryAfterMs)) } });
    this.scope = scope;
    this.retryAfterMs = retryAfterMs;
    this.storeDown = storeDown;
  }
}

/** Whole seconds for Retry-After and messages, at least 1. */
function retrySeconds(ms: number): number {
  return Math.max(1, Math.ceil(ms / 1000));
}

export interface BucketStore {
  /** Takes one token; undefined when the store cannot answer (Redis down). */
  take(key: string, rate: RateSpec): Promise<{ allowed: boolean; retryAfterMs: number } | undefined>;
  close?(): void;
}

/** In-process buckets; buckets that have refilled completely are dropped by a periodic sweep. */
export class LocalBucketStore implements BucketStore {
  readonly #buckets = new Map<string, { tokens: number; at: number; rate: RateSpec }>();
  readonly #sweeper = setInterval(() => this.#sweep(), 60_000).unref();

  async take(key: string, rate: RateSpec): Promise<{ allowed: boolean; retryAfterMs: number }> {
    const now = Date.now();
    let b = this.#buckets.get(key);
    if (!b) this.#buckets.set(key, (b = { tokens: rate.burst, at: now, rate }));
    b.tokens = Math.min(rate.burst, b.tokens + (now - b.at) * rate.perMs);
    b.at = now;
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return { allowed: true, retryAfterMs: 0 };
    }
    return { allowed: false, retryAfterMs: Math.ceil((1 - b.tokens) / rate.perMs) };
  }

  close(): void {
    clearInterval(this.#sweeper);
  }

  #sweep(): void {
    const now = Date.now();
    for (const [k, b] of this.#buckets) if (b.tokens + (now - b.at) * b.rate.perMs >= b.rate.burst) this.#buckets.delete(k);
  }
}

// KEYS[1] bucket; ARGV: burst, tokens per ms. Redis's own clock, so replicas agree on time.
const TAKE = `
local t = redis.call('TIME')
local now = t[1] * 1000 + math.floor(t[2] / 1000)
local burst = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local b = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(b[1]) or burst
local at = tonumber(b[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - at) * rate)
local allowed = 0
local retry = 0
if tokens >= 1 then
  tokens = tokens - 1
  allowed = 1
else
  retry = math.ceil((1 - tokens) / rate)
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil(burst / rate) + 1000)
return { allowed, retry }`;

/** Buckets in Redis, updated atomically by one script per decision. */
export class RedisBucketStore implements BucketStore {
  readonly #state: SharedState;
  constructor(state: SharedState) {
    this.#state = state;
  }
  async take(key: string, rate: RateSpec): Promise<{ allowed: boolean; retryAfterMs: number } | undefined> {
    const k = this.#state.key('quota', key);
    const r = await this.#state.run((redis) => redis.eval(TAKE, 1, k, String(rate.burst), String(rate.perMs)) as Promise<[number, number]>);
    return r === undefined ? undefined : { allowed: r[0] === 1, retryAfterMs: Number(r[1]) };
  }
}

/** What the caller knows of a tool (from its annotations): decides the default on_store_failure. */
export interface ToolHints {
  readOnlyHint?: boolean;
  destructiveHint?: boolean;
}

export type QuotaResult = 'allowed' | 'throttled' | 'store_down_open' | 'store_down_closed';

export class Quotas {
  readonly #cfg: QuotaConfig;
  readonly #upstreams: Map<string, UpstreamQuotaConfig>;
  readonly #store: BucketStore;
  /** Decisions by scope and result (for metrics). */
  readonly decisions = new Map<string, number>();

  constructor(cfg: QuotaConfig, upstreams: Map<string, UpstreamQuotaConfig>, store: BucketStore) {
    this.#cfg = cfg;
    this.#upstreams = upstreams;
    this.#store = store;
  }

  /** Whether any quota is configured at all (the request path skips the checks otherwise). */
  get active(): boolean {
    return Boolean(this.#cfg.perUser || this.#cfg.perClient || this.#upstreams.size);
  }

  /** Whether the upstream has quotas (callers skip gathering tool hints otherwise). */
  covers(upstream: string): boolean {
    return this.#upstreams.has(upstream);
  }

  /** Gateway-wide quotas: every MCP request of the user (and of its OAuth client). */
  async checkRequest(p: Principal): Promise<void> {
    if (this.#cfg.perUser) await this.#take('user', userKey(p), this.#cfg.perUser, `quotas.per_user`, this.#cfg.onStoreFailure ?? 'open');
    if (this.#cfg.perClient && p.clientId) await this.#take('client', `client\u0000${p.clientId}`, this.#cfg.perClient, `quotas.per_client`, this.#cfg.onStoreFailure ?? 'open');
  }

  /**
   * The upstream's quotas for one call: the tool's own rule when one matches (it overrides the
   * upstream's per_user for that tool), else the upstream's per_user.
   */
  async checkUpstream(p: Principal, upstream: string, tool?: string, hints?: ToolHints): Promise<void> {
    const q = this.#upstreams.get(upstream);
    if (!q) return;
    // Fail closed by default for tools that may be destructive (MCP: destructiveHint defaults to true
    // unless the tool is read-only), open for everything else.
    const risky = tool !== undefined && !(hints?.readOnlyHint === true || hints?.destructiveHint === false);
    const onFailure = q.onStoreFailure ?? this.#cfg.onStoreFailure ?? (risky ? 'closed' : 'open');
    const rule = tool === undefined ? undefined : q.tools.find((t) => t.match.test(tool));
    if (rule) return this.#take('tool', `tool\u0000${upstream}\u0000${rule.pattern}\u0000${userKey(p)}`, rule.rate, `upstreams.${upstream}.quotas.tools.${rule.pattern}`, onFailure);
    if (q.perUser) await this.#take('upstream', `upstream\u0000${upstream}\u0000${userKey(p)}`, q.perUser, `upstreams.${upstream}.quotas.per_user`, onFailure);
  }

  close(): void {
    this.#store.close?.();
  }

  async #take(scope: string, key: string, rate: RateSpec, name: string, onFailure: 'open' | 'closed'): Promise<void> {
    const r = await this.#store.take(key, rate);
    const result: QuotaResult = r === undefined ? (onFailure === 'open' ? 'store_down_open' : 'store_down_closed') : r.allowed ? 'allowed' : 'throttled';
    this.#count(scope, result);
    if (result === 'store_down_closed') throw new QuotaExceededError(scope, `${name} cannot be checked (the quota store is unreachable) and fails closed; retry shortly`, 5000, true);
    if (result === 'throttled') {
      const retry = r!.retryAfterMs;
      throw new QuotaExceededError(scope, `quota ${name} (${rate.text}) is used up; retry in ${retrySeconds(retry)} s`, retry);
    }
  }

  #count(scope: string, result: QuotaResult): void {
    const k = `${scope}\u0000${result}`;
    this.decisions.set(k, (this.decisions.get(k) ?? 0) + 1);
  }
}

function userKey(p: Principal): string {
  return `user\u0000${p.issuer}\u0000${p.subject}`;
}
