// `id_jag`: the user's own token at a third-party upstream with no consent screen, where the
// enterprise IdP supports Identity Assertion JWT Authorization Grants. Two grants, both made as
// Deputy's own client: RFC 8693 at the IdP turns the user's token into an ID-JAG (a signed assertion
// of who the user is, for the upstream's authorization server only), then RFC 7523 jwt-bearer at that
// server turns the ID-JAG into an access token for the upstream. The user's token goes to the IdP
// that issued it and nowhere else. Both steps are checked (the ID-JAG's type and audience, the access
// token's audience and expiry), and the result is cached per (user, upstream), single-flight, never
// past the access token's or the user's own token's expiry.
import type { IdJagConfig, UpstreamConfig } from '../config/schema.ts';
import { CredentialError, type CredentialProvider } from './provider.ts';
import { cachedFrom, userTokenKey, type TokenCache } from './token-cache.ts';
import { checkExchangedToken, JWT_BEARER_GRANT, TOKEN_EXCHANGE_GRANT } from './token-exchange.ts';
import { jwtClaims, TokenEndpoint } from './token-endpoint.ts';

export const ID_JAG_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:id-jag';

export function idJagProvider(upstream: UpstreamConfig, cfg: IdJagConfig, cache: TokenCache): CredentialProvider {
  const common = { client: cfg.client, extraParams: {}, timeoutMs: cfg.timeoutMs };
  const idp = new TokenEndpoint(upstream.name, { tokenEndpoint: cfg.idpTokenEndpoint, ...common });
  const as = new TokenEndpoint(upstream.name, { tokenEndpoint: cfg.tokenEndpoint, ...common });
  const resource = cfg.resource ?? (upstream.type === 'mcp' ? upstream.url : upstream.baseUrl);

  return {
    mode: 'id_jag',
    async get({ principal, bearer }) {
      const cached = await cache.get(userTokenKey('id_jag', upstream.name, principal, cfg.scope), async () => {
        const subjectToken = bearer.reveal();
        const jag = await idp.request(TOKEN_EXCHANGE_GRANT, {
          subject_token: subjectToken, subject_token_type: cfg.subjectTokenType, requested_token_type: ID_JAG_TOKEN_TYPE,
          audience: cfg.audience, resource, ...(cfg.scope ? { scope: cfg.scope } : {}),
        }, [subjectToken]);
        checkIdJag(upstream.name, jag.accessToken, jag.issuedTokenType, cfg.audience);
        const issued = await as.request(JWT_BEARER_GRANT, { assertion: jag.accessToken, ...(cfg.scope ? { scope: cfg.scope } : {}) }, [subjectToken, jag.accessToken]);
        checkExchangedToken(upstream.name, issued, resource);
        return cachedFrom(issued, principal.expiresAt !== undefined ? principal.expiresAt * 1000 : Infinity);
      });
      return { headers: { authorization: `Bearer ${cached.accessToken}` }, token: cached.accessToken };
    },
  };
}


/** The IdP's answer must be an ID-JAG for the upstream's authorization server, and not expired. */
function checkIdJag(upstream: string, jag: string, issuedType: string | undefined, audience: string): void {
  if (issuedType !== undefined && issuedType !== ID_JAG_TOKEN_TYPE) throw new CredentialError(upstream, `the IdP issued ${issuedType}, not an ID-JAG; check that it supports ${ID_JAG_TOKEN_TYPE} for this client`);
  const claims = jwtClaims(jag);
  if (!claims) throw new CredentialError(upstream, 'the IdP\'s ID-JAG is not a JWT');
  const aud = ([] as unknown[]).concat(claims.aud ?? []);
  if (!aud.includes(audience)) throw new CredentialError(upstream, `the ID-JAG's audience does not include ${JSON.stringify(audience)}; check audience for this upstream`);
  if (typeof claims.exp === 'number' && claims.exp * 1000 <= Date.now()) throw new CredentialError(upstream, 'the IdP issued an expired ID-JAG; check its clock and lifetime');
}
