// `quotas:` (gateway-wide, per user and per OAuth client) and `upstreams[].quotas:` (per user on one
// upstream, with per-tool rules). A rate is "N/unit" (unit: s, min, h, day), optionally with a burst:
// { rate: 120/min, burst: 20 }. See docs/configuration.md#quotas.
import { TOOL_PATTERN, TOOL_PATTERN_HINT } from '../policy/config.ts';
import { globToRegExp, isGlob } from '../policy/glob.ts';
import type { Reader } from './reader.ts';

export interface RateSpec {
  /** Tokens added per millisecond. */
  perMs: number;
  /** Bucket size: how many requests may come at once after a quiet period. */
  burst: number;
  /** As written, for messages: "120/min". */
  text: string;
}

export type OnStoreFailure = 'open' | 'closed';

export interface QuotaConfig {
  perUser?: RateSpec;
  perClient?: RateSpec;
  /** Buckets in Redis (state.store), shared by replicas. */
  shared: boolean;
  onStoreFailure?: OnStoreFailure;
}

export interface UpstreamQuotaConfig {
  perUser?: RateSpec;
  tools: { pattern: string; match: RegExp; rate: RateSpec }[];
  onStoreFailure?: OnStoreFailure;
}

const UNITS: Record<string, number> = { s: 1000, sec: 1000, second: 1000, m: 60_000, min: 60_000, minute: 60_000, h: 3_600_000, hour: 3_600_000, d: 86_400_000, day: 86_400_000 };

/** "120/min" or { rate: "120/min", burst: 20 }; undefined (with an issue recorded) when invalid. */
export function parseRate(r: Reader, key: string): RateSpec | undefined {
  const raw = r.raw(key);
  if (raw === undefined || raw === null) return undefined;
  let text: unknown = raw;
  let burst: number | undefined;
  if (typeof raw === 'object' && !Array.isArray(raw)) {
    const o = r.object(key);
    text = o.raw('rate');
    if (o.has('burst')) burst = o.number('burst', 1, { min: 1, max: 1_000_000, integer: true });
    o.rejectUnknownKeys();
  }
  const m = typeof text === 'string' ? /^\s*(\d+(?:\.\d+)?)\s*\/\s*([a-z]+)\s*$/.exec(text) : null;
  if (!m || !UNITS[m[2]!] || Number(m[1]) <= 0) {
    r.fail('expected a rate such as "120/min" (units: s, min, h, day), or { rate: "120/min", burst: 20 }', key);
    return undefined;
  }
  const n = Number(m[1]);
  return { perMs: n / UNITS[m[2]!]!, burst: burst ?? Math.max(1, Math.ceil(n)), text: `${m[1]}/${m[2]}` };
}

export function parseQuotas(r: Reader): QuotaConfig {
  const cfg: QuotaConfig = {
    perUser: parseRate(r, 'per_user'),
    perClient: parseRate(r, 'per_client'),
    shared: r.has('shared') ? r.boolean('shared', false) : false,
    onStoreFailure: r.has('on_store_failure') ? r.oneOf('on_store_failure', ['open', 'closed'] as const) : undefined,
  };
  r.rejectUnknownKeys();
  return cfg;
}

export function parseUpstreamQuotas(r: Reader): UpstreamQuotaConfig {
  const tools: UpstreamQuotaConfig['tools'] = [];
  const tr = r.object('tools');
  if (tr.isObject()) {
    for (const pattern of Object.keys(tr.value as object)) {
      if (!TOOL_PATTERN.test(pattern)) tr.fail(TOOL_PATTERN_HINT, pattern);
      const rate = parseRate(tr, pattern);
      if (rate) tools.push({ pattern, match: globToRegExp(pattern), rate });
    }
  }
  // Exact names before patterns, so `delete_all` can be stricter than `delete_*`.
  tools.sort((a, b) => Number(isGlob(a.pattern)) - Number(isGlob(b.pattern)));
  const cfg: UpstreamQuotaConfig = {
    perUser: parseRate(r, 'per_user'),
    tools,
    onStoreFailure: r.has('on_store_failure') ? r.oneOf('on_store_failure', ['open', 'closed'] as const) : undefined,
  };
  r.rejectUnknownKeys();
  return cfg;
}
