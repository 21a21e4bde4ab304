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
  /**
   * The upstream answered 401/403 to `credential`. True: try once more with a new credential (it was
   * invalidated); false: nothing to do. May throw a ConsentRequiredError (user_oauth step-up).
   */
  refused?(ctx: CredentialContext, credential: OutboundCredential, answer: { status: number; challenge?: string }): Promise<boolean>;
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

/**
 * The person has no usable connected account for this upstream. Its JSON-RPC form is MCP's
 * URLElicitationRequired (-32042) carrying the connect link; the endpoint turns it into a 2026
 * `input_required` or a tool error for clients without URL elicitation.
 */
export class ConsentRequiredError extends DeputyError {
  readonly upstream: string;
  readonly url: string;
  readonly elicitationId: string;
  constructor(upstream: string, url: string, elicitationId: string, reconnect: boolean) {
    super('ERR_CONSENT_REQUIRED', `${reconnect ? 'Reconnect' : 'Connect'} your ${upstream} account to use this tool: open ${url} , sign in and allow access, then call the tool again.`);
    this.upstream = upstream;
    this.url = url;
    this.elicitationId = elicitationId;
  }

  /** The URL-mode elicitation (2025-11-25 `elicitation/create` params). */
  get elicitation(): { mode: 'url'; elicitationId: string; url: string; message: string } {
    return { mode: 'url', elicitationId: this.elicitationId, url: this.url, message: `Connect your ${this.upstream} account to continue` };
  }

  override toJsonRpc(): { code: number; message: string; data?: unknown } {
    return { code: this.rpcCode, message: this.message, data: { elicitations: [this.elicitation] } };
  }
}

export type ProviderFactory = (upstream: UpstreamConfig) => CredentialProvider;

/**
 * Whether a provider's failure must reach the endpoint as it is: a ConsentRequiredError carries the
 * person's connect link, so it is never turned into a generic upstream error on the way.
 */
export function mustPropagate(error: unknown): error is ConsentRequiredError {
  return error instanceof ConsentRequiredError;
}

/** Why the credential could not be had, in words safe for the client (a provider's own bug is not described). */
export function credentialFailure(upstream: string, error: unknown): string {
  return error instanceof CredentialError ? error.message : `could not obtain a credential for upstream '${upstream}'`;
}
