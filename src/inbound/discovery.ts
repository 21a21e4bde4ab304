// Authorization server metadata discovery (OpenID Connect Discovery, then RFC 8414), with the issuer
// identifier checked exactly so a metadata document cannot vouch for another issuer.
import { fetchJson } from '../client/fetch-json.ts';

export interface AuthorizationServerMetadata {
  issuer: string;
  jwks_uri?: string;
  token_endpoint?: string;
  introspection_endpoint?: string;
  [key: string]: unknown;
}

const cache = new Map<string, Promise<AuthorizationServerMetadata>>();

export function discover(issuer: string, timeoutMs = 5000): Promise<AuthorizationServerMetadata> {
  let p = cache.get(issuer);
  if (!p) {
    p = discoverUncached(issuer, timeoutMs);
    cache.set(issuer, p);
    p.catch(() => cache.delete(issuer)); // a failure is retried on next use
  }
  return p;
}

async function discoverUncached(issuer: string, timeoutMs: number): Promise<AuthorizationServerMetadata> {
  const u = new URL(issuer);
  const path = u.pathname.replace(/\/+$/, '');
  const candidates = [
    `${u.origin}${path}/.well-known/openid-configuration`,
    `${u.origin}/.well-known/oauth-authorization-server${path}`,
  ];
  const failures: string[] = [];
  for (const url of candidates) {
    try {
      const meta = (await fetchJson(url, { timeoutMs })) as AuthorizationServerMetadata;
      if (meta?.issuer !== issuer) {
        failures.push(`${url} names issuer ${JSON.stringify(meta?.issuer)}, expected ${issuer}`);
        continue;
      }
      return meta;
    } catch (error) {
      failures.push((error as Error).message);
    }
  }
  throw new Error(`metadata discovery for ${issuer} failed: ${failures.join('; ')}`);
}
