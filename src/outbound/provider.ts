// Step 5 of the request path: the credential Deputy presents to an upstream. Each mode is one module;
// none of them forwards the client's token except the explicit, acknowledged passthrough mode.
import { DeputyError } from '../errors.ts';
import type { CredentialMode, UpstreamConfig } from '../config/schema.ts';
import type { BearerToken, Principal } from '../inbound/principal.ts';

export interface CredentialContext {
  principal: Principal;
  bearer: BearerToken;
}

export interface OutboundCredential {
  /** Headers to add to the upstream request. */
  headers: Record<string, string>;
  /** The bare access token or secret, for upstreams that place it per security scheme (OpenAPI). */
  token?: string;
}

export interface CredentialProvider {
  readonly mode: CredentialMode;
  get(ctx: CredentialContext): Promise<OutboundCredential>;
  close?(): void;
}

/** The credential for an upstream could not be obtained. The message is safe to show to the client. */
export class CredentialError extends DeputyError {
  readonly upstream: string;
  constructor(upstream: string, reason: string) {
    super('ERR_CREDENTIAL_UNAVAILABLE', `could not obtain a credential for upstream '${upstream}': ${reason}`);
    this.upstream = upstream;
  }
}

export type ProviderFactory = (upstream: UpstreamConfig) => CredentialProvider;

/** Why the credential could not be had, in words safe for the client (a provider's own bug is not described). */
export function credentialFailure(upstream: string, error: unknown): string {
  return error instanceof CredentialError ? error.message : `could not obtain a credential for upstream '${upstream}'`;
}
