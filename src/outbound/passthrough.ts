// `passthrough`: forwards the client's own token. Non-compliant with the MCP specification (token
// passthrough MUST NOT); exists only behind `acknowledge_spec_violation: true`, is warned about at
// start-up and by `deputy check`, and every use is audited with mode `passthrough`.
import type { CredentialsConfig } from '../config/schema.ts';
import { CredentialError, type CredentialProvider } from './provider.ts';

type PassthroughConfig = Extract<CredentialsConfig, { type: 'passthrough' }>;

export function passthroughProvider(upstream: string, cfg: PassthroughConfig): CredentialProvider {
  return {
    mode: 'passthrough',
    async get({ principal, bearer }) {
      // require_audience: only tokens the client obtained for the backend too may be forwarded.
      if (cfg.requireAudience && !principal.audience.includes(cfg.requireAudience)) {
        throw new CredentialError(upstream, `passthrough requires the token's audience to include ${cfg.requireAudience}; request a token for that audience`);
      }
      const token = bearer.reveal();
      return { headers: { authorization: `Bearer ${token}` }, token };
    },
  };
}
