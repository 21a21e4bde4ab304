// Step 4 of the request path, per tool: may this principal see and call this tool of this upstream?
// One decision function serves tools/list (hide what cannot be called) and tools/call (refuse it),
// on the aggregated /mcp and on /mcp/<upstream>, so the two can never disagree.
import type { Principal } from '../inbound/principal.ts';
import type { ClaimConditions, UpstreamPolicy } from './config.ts';
import { globToRegExp, isGlob } from './glob.ts';

export type Decision =
  | { allowed: true }
  /** `scopes` is set when obtaining those scopes would make the call allowed (step-up is possible). */
  | { allowed: false; reason: string; scopes?: string[] };

const ALLOWED: Decision = { allowed: true };

/** The compiled policy of one upstream. `upstreamScopes` are the upstream's `required_scopes`. */
export class ToolPolicy {
  readonly upstream: string;
  readonly #upstreamScopes: string[];
  readonly #claims: ClaimConditions;
  readonly #allow: { pattern: string; re: RegExp }[];
  readonly #deny: { pattern: string; re: RegExp }[];
  readonly #exact = new Map<string, { scopes: string[]; claims: ClaimConditions }>();
  readonly #globs: { re: RegExp; scopes: string[]; claims: ClaimConditions }[] = [];
  /** True when the policy can hide or refuse individual tools (the proxy then inspects tools/list). */
  readonly perTool: boolean;

  constructor(upstream: string, policy: UpstreamPolicy | undefined, upstreamScopes: readonly string[] = []) {
    this.upstream = upstream;
    this.#upstreamScopes = [...new Set([...upstreamScopes, ...(policy?.scopes ?? [])])];
    this.#claims = policy?.claims ?? {};
    this.#allow = (policy?.allow ?? []).map((p) => ({ pattern: p, re: globToRegExp(p) }));
    this.#deny = (policy?.deny ?? []).map((p) => ({ pattern: p, re: globToRegExp(p) }));
    for (const rule of policy?.tools ?? []) {
      if (isGlob(rule.pattern)) this.#globs.push({ re: globToRegExp(rule.pattern), scopes: rule.scopes, claims: rule.claims });
      else this.#exact.set(rule.pattern, { scopes: rule.scopes, claims: rule.claims });
    }
    this.perTool = this.#allow.length > 0 || this.#deny.length > 0 || (policy?.tools.length ?? 0) > 0;
  }

  /** Upstream-wide conditions: anything on this upstream (prompts, resources, listing at all). */
  upstreamAccess(principal: Principal): Decision {
    const claim = unmetClaim(principal, this.#claims);
    if (claim) return { allowed: false, reason: `upstream '${this.upstream}' requires the token claim ${claim}` };
    return scopeDecision(principal, this.#upstreamScopes, `upstream '${this.upstream}'`);
  }

  tool(principal: Principal, name: string): Decision {
    const denied = this.#deny.find((d) => d.re.test(name));
    if (denied) return { allowed: false, reason: `tool '${name}' of upstream '${this.upstream}' is not allowed (denied by pattern '${denied.pattern}')` };
    if (this.#allow.length > 0 && !this.#allow.some((a) => a.re.test(name))) {
      return { allowed: false, reason: `tool '${name}' of upstream '${this.upstream}' is not allowed (not in the allow list)` };
    }
    const rules = [this.#exact.get(name), ...this.#globs.filter((g) => g.re.test(name))].filter((r) => r !== undefined);
    const claimsNeeded: ClaimConditions = { ...this.#claims };
    for (const r of rules) Object.assign(claimsNeeded, r.claims);
    const claim = unmetClaim(principal, claimsNeeded);
    if (claim) return { allowed: false, reason: `tool '${name}' of upstream '${this.upstream}' is not allowed: it requires the token claim ${claim}` };
    const scopes = [...this.#upstreamScopes, ...rules.flatMap((r) => r.scopes)];
    return scopeDecision(principal, scopes, `tool '${name}' of upstream '${this.upstream}'`);
  }
}

function scopeDecision(principal: Principal, required: string[], what: string): Decision {
  if (required.length === 0) return ALLOWED;
  const have = new Set(principal.scopes);
  const missing = required.filter((s) => !have.has(s));
  if (missing.length === 0) return ALLOWED;
  return { allowed: false, reason: `${what} needs the scope${missing.length > 1 ? 's' : ''} ${missing.join(' ')}`, scopes: [...new Set(required)] };
}

/** The first unmet condition, described as `name=value` (never the principal's actual claim value). */
function unmetClaim(principal: Principal, conditions: ClaimConditions): string | undefined {
  for (const [name, accepted] of Object.entries(conditions)) {
    if (!claimMatches(principal.claims[name], accepted)) return `${name}=${accepted.join('|')}`;
  }
  return undefined;
}

/** Arrays must contain one of the values; strings must equal one (or, space-separated like `scope`, contain one). */
export function claimMatches(value: unknown, accepted: readonly string[]): boolean {
  if (Array.isArray(value)) return value.some((v) => (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') && accepted.includes(String(v)));
  if (typeof value === 'string') return accepted.includes(value) || value.split(' ').some((part) => accepted.includes(part));
  if (typeof value === 'number' || typeof value === 'boolean') return accepted.includes(String(value));
  return false;
}
