// `static`: headers (and/or a bare token) from secret references. The same for every user; values are
// read per request so a rotated secret file takes effect without a restart.
import type { CredentialsConfig } from '../config/schema.ts';
import type { CredentialProvider, OutboundCredential } from './provider.ts';

type StaticConfig = Extract<CredentialsConfig, { type: 'static' }>;

export function staticProvider(cfg: StaticConfig): CredentialProvider {
  const entries = Object.entries(cfg.headers);
  return {
    mode: 'static',
    async get(): Promise<OutboundCredential> {
      const headers: Record<string, string> = {};
      for (const [name, secret] of entries) headers[name.toLowerCase()] = secret.value();
      return { headers, token: cfg.token?.value() };
    },
  };
}
