// `client_credentials`: Deputy's own service-account token for the upstream (RFC 6749 §4.4), one per
// upstream, cached until shortly before it expires. The upstream sees Deputy, not the user; when
// `identity_assertion` is set it additionally gets a short-lived JWT signed by Deputy naming the user.
import type { CredentialsConfig, UpstreamConfig } from '../config/schema.ts';
import type { IdentityAsserter } from './identity-assertion.ts';
import type { CredentialProvider } from './provider.ts';
import { cachedFrom, type TokenCache } from './token-cache.ts';
import { TokenEndpoint } from './token-endpoint.ts';

type ClientCredentialsConfig = Extract<CredentialsConfig, { type: 'client_credentials' }>;

export function clientCredentialsProvider(upstream: UpstreamConfig, cfg: ClientCredentialsConfig, cache: TokenCache, asserter?: IdentityAsserter): CredentialProvider {
  const endpoint = new TokenEndpoint(upstream.name, cfg);
  const params: Record<string, string> = { ...cfg.extraParams };
  if (cfg.scope) params.scope = cfg.scope;
  if (cfg.audience) params.audience = cfg.audience;
  if (cfg.resource) params.resource = cfg.resource;
  const key = ['client_credentials', upstream.name].join('\u0000');

  const fetchToken = async () => {
    const issued = await endpoint.request('client_credentials', params);
    return cachedFrom(issued);
  };

  return {
    mode: 'client_credentials',
    async get({ principal }) {
      const { accessToken } = await cache.get(key, fetchToken);
      const headers: Record<string, string> = { authorization: `Bearer ${accessToken}` };
      if (asserter) headers[asserter.header] = await asserter.assert(principal);
      return { headers, token: accessToken };
    },
  };
}
