// `static`: headers (and/or a bare token) from secret references. The same for every user; values are
// read per request so a rotated secret file takes effect without a restart. With `identity_assertion`
// the upstream also learns which user acts (a JWT Deputy signs, see identity-assertion.ts).
import type { CredentialsConfig } from '../config/schema.ts';
import type { IdentityAsserter } from './identity-assertion.ts';
import type { CredentialProvider, OutboundCredential } from './provider.ts';

type StaticConfig = Extract<CredentialsConfig, { type: 'static' }>;

export function staticProvider(cfg: StaticConfig, asserter?: IdentityAsserter): CredentialProvider {
  const entries = Object.entries(cfg.headers);
  return {
    mode: 'static',
    async get({ principal }): Promise<OutboundCredential> {
      const headers: Record<string, string> = {};
      for (const [name, secret] of entries) headers[name.toLowerCase()] = secret.value();
      if (asserter) headers[asserter.header] = await asserter.assert(principal);
      return { headers, token: cfg.token?.value() };
    },
  };
}
