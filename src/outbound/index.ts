import type { UpstreamConfig } from '../config/schema.ts';
import { passthroughProvider } from './passthrough.ts';
import type { CredentialProvider } from './provider.ts';
import { staticProvider } from './static.ts';

export function createCredentialProvider(upstream: UpstreamConfig): CredentialProvider {
  const c = upstream.credentials;
  switch (c.type) {
    case 'static':
      return staticProvider(c);
    case 'passthrough':
      return passthroughProvider(upstream.name, c);
    case 'client_credentials':
    case 'token_exchange':
      throw new Error(`credential mode ${c.type} is not implemented yet`);
  }
}
