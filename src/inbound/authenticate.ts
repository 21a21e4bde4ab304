// Step 2 of the request path: bearer from the Authorization header → verified principal whose
// audience includes the resource being called (RFC 8707 audience binding).
import type { IncomingMessage } from 'node:http';
import { extractBearer } from './bearer.ts';
import { invalidToken } from './errors.ts';
import { BearerToken, type Principal } from './principal.ts';
import type { TokenVerifier } from './verifier.ts';

export interface Authenticated {
  principal: Principal;
  bearer: BearerToken;
}

export async function authenticate(verifier: TokenVerifier, req: Pick<IncomingMessage, 'headers' | 'rawHeaders' | 'url'>, acceptedAudiences: ReadonlySet<string>): Promise<Authenticated> {
  const token = extractBearer(req.headers, req.url ?? '/', req.rawHeaders);
  const principal = await verifier.verify(token);
  if (!principal.audience.some((aud) => acceptedAudiences.has(stripSlash(aud)))) {
    throw invalidToken(`the access token was not issued for this resource (its audience must include ${[...acceptedAudiences][0]})`);
  }
  return { principal, bearer: new BearerToken(token) };
}

export const stripSlash = (s: string) => (s.endsWith('/') ? s.slice(0, -1) : s);
