// Step 4 of the request path: scopes required by the gateway and by the upstream. A principal missing
// any of them gets 403 insufficient_scope naming everything it needs, so a client can step up once.
import type { Principal } from '../inbound/principal.ts';
import { insufficientScope } from '../inbound/errors.ts';

export function requireScopes(principal: Principal, required: readonly string[]): void {
  if (required.length === 0) return;
  const have = new Set(principal.scopes);
  if (required.every((s) => have.has(s))) return;
  // RFC 6750 §3.1: the scope attribute lists the scopes needed to access the resource, not only the missing ones.
  throw insufficientScope(unique([...principal.scopes.filter((s) => required.includes(s)), ...required]));
}

const unique = (xs: string[]) => [...new Set(xs)];
