// One OAuth token request for an upstream credential (client_credentials, RFC 8693 exchange, jwt-bearer
// on-behalf-of), made with oauth4webapi: the token endpoint is configured or discovered from the
// issuer's metadata, Deputy authenticates as its own client, every call is bounded by `timeout_ms`, and
// every failure becomes a CredentialError that says what went wrong without any token or secret in it.
import { decodeJwt } from 'jose';
import * as oauth from 'oauth4webapi';
import type { TokenEndpointConfig } from '../config/schema.ts';
import { describeNetworkError } from '../client/fetch-json.ts';
import { discover } from '../inbound/discovery.ts';
import { clientAuthFor, requestOptions } from './client-auth.ts';
import { CredentialError } from './provider.ts';

/** Used when the response has neither `expires_in` nor a JWT `exp`: short, so an unknown lifetime is not over-trusted. */
const DEFAULT_LIFETIME_SECONDS = 60;

export interface IssuedToken {
  accessToken: string;
  /** Milliseconds since the epoch. */
  obtainedAt: number;
  expiresAt: number;
  scope?: string;
  issuedTokenType?: string;
}

export class TokenEndpoint {
  readonly #upstream: string;
  readonly #cfg: TokenEndpointConfig;

  constructor(upstream: string, cfg: TokenEndpointConfig) {
    this.#upstream = upstream;
    this.#cfg = cfg;
  }

  /**
   * Requests a token. `secrets` lists values (such as the subject token) that must never appear in an
   * error message even if the authorization server echoes them back.
   */
  async request(grantType: string, params: Record<string, string>, secrets: string[] = []): Promise<IssuedToken> {
    const as = await this.#authorizationServer();
    const endpoint = as.token_endpoint!;
    const client: oauth.Client = { client_id: this.#cfg.client.clientId };
    let auth: oauth.ClientAuth;
    try {
      // Without a configured issuer the assertion's audience is the token endpoint (RFC 7523 §3 allows either).
      auth = await clientAuthFor(this.#cfg.client, { assertionAudience: this.#cfg.issuer ? undefined : endpoint });
    } catch (error) {
      throw this.#fail(`Deputy's client key could not be loaded: ${(error as Error).message}`);
    }
    const obtainedAt = Date.now();
    let result: oauth.TokenEndpointResponse;
    try {
      const options = requestOptions(endpoint, this.#cfg.timeoutMs);
      if (grantType === 'client_credentials') {
        const response = await oauth.clientCredentialsGrantRequest(as, client, auth, params, options);
        result = await oauth.processClientCredentialsResponse(as, client, response);
      } else {
        const response = await oauth.genericTokenEndpointRequest(as, client, auth, grantType, params, options);
        result = await oauth.processGenericTokenEndpointResponse(as, client, response, { recognizedTokenTypes: { n_a: () => {} } }); // an ID-JAG's token_type is N_A (RFC 8693)
      }
    } catch (error) {
      throw this.#fail(this.#explain(error, endpoint), secrets);
    }
    if (result.token_type === 'dpop') throw this.#fail('the authorization server issued a DPoP-bound token; Deputy presents bearer tokens to upstreams');
    return {
      accessToken: result.access_token,
      obtainedAt,
      expiresAt: expiryOf(result, obtainedAt),
      scope: result.scope,
      issuedTokenType: typeof result.issued_token_type === 'string' ? result.issued_token_type : undefined,
    };
  }

  async #authorizationServer(): Promise<oauth.AuthorizationServer> {
    const cfg = this.#cfg;
    if (cfg.tokenEndpoint) return { issuer: cfg.issuer ?? cfg.tokenEndpoint, token_endpoint: cfg.tokenEndpoint };
    let meta;
    try {
      meta = await discover(cfg.issuer!, cfg.timeoutMs);
    } catch (error) {
      throw this.#fail(`the token endpoint could not be discovered (${(error as Error).message}); set token_endpoint explicitly or check issuer`);
    }
    if (typeof meta.token_endpoint !== 'string') throw this.#fail(`the metadata of ${cfg.issuer} has no token_endpoint; set token_endpoint explicitly`);
    return { issuer: meta.issuer, token_endpoint: meta.token_endpoint };
  }

  #explain(error: unknown, endpoint: string): string {
    if (error instanceof oauth.ResponseBodyError) {
      return `the token endpoint refused the request: ${error.error}${error.error_description ? ` (${error.error_description})` : ''} [HTTP ${error.status}]`;
    }
    if (error instanceof oauth.WWWAuthenticateChallengeError) {
      const p = error.cause[0]?.parameters ?? {};
      return `the token endpoint refused Deputy's client authentication: ${p.error ?? 'unauthorized'}${p.error_description ? ` (${p.error_description})` : ''} [HTTP ${error.status}]`;
    }
    const e = error as { name?: string; message?: string; cause?: unknown };
    if (e?.name === 'TimeoutError' || e?.name === 'AbortError') return `the token endpoint ${endpoint} did not answer within ${this.#cfg.timeoutMs} ms`;
    if (error instanceof TypeError && e.message === 'fetch failed') return `the token endpoint ${endpoint} is unreachable (${describeNetworkError(error)})`;
    if (error instanceof oauth.OperationProcessingError || error instanceof oauth.UnsupportedOperationError) {
      const status = (e.cause as { status?: number } | undefined)?.status;
      return `the token endpoint's response was not usable: ${e.message}${status ? ` [HTTP ${status}]` : ''}`;
    }
    return `the token request failed: ${e?.message ?? String(error)}`;
  }

  #fail(reason: string, secrets: string[] = []): CredentialError {
    return new CredentialError(this.#upstream, scrub(reason, secrets));
  }
}

/** Removes token material from a message that may quote an authorization server's words. */
export function scrub(text: string, secrets: string[]): string {
  let out = text;
  for (const s of secrets) if (s) out = out.split(s).join('[redacted]');
  out = out.replace(/eyJ[\w-]*\.[\w-]*\.[\w-]*/g, '[redacted]').replace(/[\u0000-\u001f\u007f]/g, ' ');
  return out.length > 400 ? `${out.slice(0, 400)}…` : out;
}

function expiryOf(result: oauth.TokenEndpointResponse, obtainedAt: number): number {
  let expiresAt = typeof result.expires_in === 'number' ? obtainedAt + result.expires_in * 1000 : undefined;
  const jwtExp = jwtClaims(result.access_token)?.exp;
  if (typeof jwtExp === 'number') expiresAt = Math.min(expiresAt ?? Infinity, jwtExp * 1000);
  return expiresAt ?? obtainedAt + DEFAULT_LIFETIME_SECONDS * 1000;
}

/** The claims of a JWT access token, or undefined for an opaque one. No signature check (see callers). */
export function jwtClaims(token: string): Record<string, unknown> | undefined {
  if (token.split('.').length !== 3) return undefined;
  try {
    return decodeJwt(token) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}
