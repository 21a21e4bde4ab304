// `token_exchange`: the upstream gets a token for *itself* that still names the user. The client's
// token is the RFC 8693 `subject_token` (or, for Entra-style on-behalf-of, the jwt-bearer `assertion`)
// and goes to the configured token endpoint only; Deputy authenticates there as its own client. The
// exchanged token is checked before use and cached per (issuer, subject, upstream, scope), never past
// its own expiry nor the user's token's.
import type { CredentialsConfig, UpstreamConfig } from '../config/schema.ts';
import { CredentialError, type CredentialProvider } from './provider.ts';
import { cachedFrom, userTokenKey, type TokenCache } from './token-cache.ts';
import { jwtClaims, TokenEndpoint, type IssuedToken } from './token-endpoint.ts';

type TokenExchangeConfig = Extract<CredentialsConfig, { type: 'token_exchange' }>;

export const TOKEN_EXCHANGE_GRANT = 'urn:ietf:params:oauth:grant-type:token-exchange';
export const JWT_BEARER_GRANT = 'urn:ietf:params:oauth:grant-type:jwt-bearer';

export function tokenExchangeProvider(upstream: UpstreamConfig, cfg: TokenExchangeConfig, cache: TokenCache): CredentialProvider {
  const endpoint = new TokenEndpoint(upstream.name, cfg);
  const expectedAudience = cfg.expectedAudience ?? cfg.audience ?? cfg.resource;
  const grantType = cfg.grant === 'jwt_bearer_obo' ? JWT_BEARER_GRANT : TOKEN_EXCHANGE_GRANT;

  const params = (subjectToken: string): Record<string, string> => {
    const p: Record<string, string> = { ...cfg.extraParams };
    if (cfg.grant === 'jwt_bearer_obo') {
      p.assertion = subjectToken;
      p.requested_token_use = 'on_behalf_of';
    } else {
      p.subject_token = subjectToken;
      p.subject_token_type = cfg.subjectTokenType;
      if (cfg.requestedTokenType) p.requested_token_type = cfg.requestedTokenType;
      if (cfg.actorToken) {
        p.actor_token = cfg.actorToken.value();
        p.actor_token_type = cfg.actorTokenType!;
      }
    }
    // Sent only when configured: some IdPs (Entra OBO) reject resource/audience next to scope.
    if (cfg.scope) p.scope = cfg.scope;
    if (cfg.audience) p.audience = cfg.audience;
    if (cfg.resource) p.resource = cfg.resource;
    return p;
  };

  return {
    mode: 'token_exchange',
    async get({ principal, bearer }) {
      const key = userTokenKey('token_exchange', upstream.name, principal, cfg.scope);
      const cached = await cache.get(key, async () => {
        const subjectToken = bearer.reveal();
        const secrets = [subjectToken, ...(cfg.actorToken ? [cfg.actorToken.value()] : [])];
        const issued = await endpoint.request(grantType, params(subjectToken), secrets);
        checkExchangedToken(upstream.name, issued, expectedAudience);
        // Never beyond the user's own token: once it expires the user must re-authenticate anyway.
        return cachedFrom(issued, principal.expiresAt !== undefined ? principal.expiresAt * 1000 : Infinity);
      });
      return { headers: { authorization: `Bearer ${cached.accessToken}` }, token: cached.accessToken };
    },
  };
}


/**
 * Refuses an exchanged token that is not for this upstream or already expired. The signature is not
 * verified: the token arrived in the authenticated response of the token endpoint Deputy chose
 * (over TLS in production), and it is meant for the upstream, which verifies it with the issuer's keys
 * Deputy may not even be able to use (e.g. tokens for other resources). The check catches
 * misconfiguration (wrong audience or resource at the IdP) before a token reaches the wrong service.
 */
export function checkExchangedToken(upstream: string, issued: IssuedToken, expectedAudience: string | undefined, now = Date.now()): void {
  const claims = jwtClaims(issued.accessToken);
  if (!claims) {
    // Opaque token: nothing to read; its lifetime comes from expires_in.
    if (issued.expiresAt <= now) throw new CredentialError(upstream, 'the exchanged token is already expired (expires_in <= 0)');
    return;
  }
  const aud = ([] as unknown[]).concat(claims.aud ?? []).filter((a): a is string => typeof a === 'string');
  if (expectedAudience && !aud.includes(expectedAudience)) {
    throw new CredentialError(upstream, `the exchanged token's audience ${aud.length ? aud.map((a) => JSON.stringify(a)).join(', ') : '(none)'} does not include ${JSON.stringify(expectedAudience)}; check audience/resource/expected_audience for this upstream and the IdP's token-exchange policy`);
  }
  if (typeof claims.exp === 'number' && claims.exp * 1000 <= now) {
    throw new CredentialError(upstream, `the exchanged token expired at ${new Date(claims.exp * 1000).toISOString()}, before it could be used; check the IdP's token lifetime and Deputy's clock`);
  }
  if (issued.expiresAt <= now) throw new CredentialError(upstream, 'the exchanged token is already expired (expires_in <= 0)');
}
