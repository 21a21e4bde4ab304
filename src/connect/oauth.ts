// Deputy as an OAuth client, per person, made with oauth4webapi: authorization code with PKCE (S256),
// `state`, RFC 8707 `resource` and the RFC 9207 `iss` check on the callback, then refresh. One class
// serves both ends of the connect flow: the sign-in at the enterprise IdP (OIDC, with a nonce) and
// the consent at an upstream's own authorization server. The authorization server comes from its
// issuer's metadata, or from the protected resource's RFC 9728 metadata when no issuer is configured.
import * as oauth from 'oauth4webapi';
import type { ClientAuthConfig } from '../config/schema.ts';
import { fetchJson } from '../client/fetch-json.ts';
import { discover } from '../inbound/discovery.ts';
import type { StoredTokens } from '../vault/vault.ts';
import { configuredIdentity, dynamicIdentity, type ClientIdentity, type DynamicClientConfig } from './client-identity.ts';

export interface OAuthClientConfig {
  /** The authorization server; else found through `resource`'s RFC 9728 metadata. */
  issuer?: string;
  /** The configured client; without it, `dynamic` says how to get one (client-identity.ts). */
  client?: ClientAuthConfig;
  dynamic?: DynamicClientConfig;
  redirectUri: string;
  scope: string;
  /** RFC 8707: the upstream the token is for. */
  resource?: string;
  timeoutMs: number;
}

/** The authorization server said the grant is no good (invalid_grant): the person must consent again. */
export class GrantRejected extends Error {
  override name = 'GrantRejected';
}

export interface Authorization {
  tokens: StoredTokens;
  /** OIDC sign-in only: who signed in, and the ID token's claims. */
  identity?: { issuer: string; subject: string; claims: Record<string, unknown> };
}

export class OAuthClient {
  readonly #cfg: OAuthClientConfig;
  #server?: Promise<oauth.AuthorizationServer>;

  constructor(cfg: OAuthClientConfig) {
    this.#cfg = cfg;
  }

  /** The authorization server's metadata: discovered once, again after a failure. */
  server(): Promise<oauth.AuthorizationServer> {
    this.#server ??= this.#discover().catch((error: unknown) => {
      this.#server = undefined;
      throw error;
    });
    return this.#server;
  }

  async #discover(): Promise<oauth.AuthorizationServer> {
    let issuer = this.#cfg.issuer;
    if (!issuer) {
      const resource = new URL(this.#cfg.resource!);
      const url = `${resource.origin}/.well-known/oauth-protected-resource${resource.pathname === '/' ? '' : resource.pathname}`;
      const meta = (await fetchJson(url, { timeoutMs: this.#cfg.timeoutMs })) as { authorization_servers?: unknown };
      const first = Array.isArray(meta?.authorization_servers) ? meta.authorization_servers[0] : undefined;
      if (typeof first !== 'string') throw new Error(`${url} names no authorization_servers; set issuer for this upstream`);
      issuer = first;
    }
    const meta = (await discover(issuer, this.#cfg.timeoutMs)) as unknown as oauth.AuthorizationServer;
    if (!meta.authorization_endpoint || !meta.token_endpoint) throw new Error(`the metadata of ${issuer} lacks authorization_endpoint or token_endpoint`);
    return meta;
  }

  /**
   * Deputy's client at this server: the configured one, else its metadata document or a registration
   * (throws ClientIdentityError when none applies).
   */
  async identity(): Promise<ClientIdentity> {
    if (this.#cfg.client) return configuredIdentity(this.#cfg.client);
    if (!this.#cfg.dynamic) throw new Error('an OAuth client needs a client or a way to get one');
    return dynamicIdentity(this.#cfg.dynamic, await this.server(), this.#cfg.redirectUri, this.#cfg.timeoutMs);
  }

  /**
   * Where to send the person: code flow with PKCE, state, resource, and a nonce for OIDC sign-in.
   * `moreScopes` (a step-up the upstream asked for) are requested beside the configured ones.
   */
  async authorizationUrl(t: { state: string; verifier: string; nonce?: string }, moreScopes: string[] = []): Promise<URL> {
    const as = await this.server();
    const id = await this.identity();
    const url = new URL(as.authorization_endpoint!);
    const p = url.searchParams;
    p.set('response_type', 'code');
    p.set('client_id', id.clientId);
    p.set('redirect_uri', this.#cfg.redirectUri);
    const scope = [...new Set([...this.#cfg.scope.split(' '), ...moreScopes].filter(Boolean))].join(' ');
    if (scope) p.set('scope', scope);
    if (this.#cfg.resource) p.set('resource', this.#cfg.resource);
    p.set('state', t.state);
    p.set('code_challenge', await oauth.calculatePKCECodeChallenge(t.verifier));
    p.set('code_challenge_method', 'S256');
    if (t.nonce) p.set('nonce', t.nonce);
    return url;
  }

  /**
   * The callback: `state` and `iss` checked (RFC 9207), the code redeemed with the PKCE verifier.
   * Throws oauth.AuthorizationResponseError when the person or the server refused.
   */
  async redeem(callback: URL, t: { state: string; verifier: string; nonce?: string }): Promise<Authorization> {
    const as = await this.server();
    const id = await this.identity();
    const client = id.client;
    const params = oauth.validateAuthResponse(as, client, callback, t.state);
    const options = { ...this.#options(as), additionalParameters: this.#cfg.resource ? { resource: this.#cfg.resource } : undefined };
    let result: oauth.TokenEndpointResponse;
    try {
      const response = await oauth.authorizationCodeGrantRequest(as, client, await id.auth(), params, this.#cfg.redirectUri, t.verifier, options);
      result = await oauth.processAuthorizationCodeResponse(as, client, response, t.nonce ? { expectedNonce: t.nonce, requireIdToken: true } : undefined);
    } catch (error) {
      await this.#refusedClient(as, id, error);
      throw error;
    }
    const claims = t.nonce ? oauth.getValidatedIdTokenClaims(result) : undefined;
    return { tokens: toTokens(result), identity: claims ? { issuer: claims.iss, subject: claims.sub, claims: { ...claims } } : undefined };
  }

  /** A new access token; the refresh token is kept when the server rotates none. GrantRejected on invalid_grant. */
  async refresh(refreshToken: string, retried = false): Promise<StoredTokens> {
    const as = await this.server();
    const id = await this.identity();
    const client = id.client;
    const options = { ...this.#options(as), additionalParameters: this.#cfg.resource ? { resource: this.#cfg.resource } : undefined };
    try {
      const response = await oauth.refreshTokenGrantRequest(as, client, await id.auth(), refreshToken, options);
      const tokens = toTokens(await oauth.processRefreshTokenResponse(as, client, response));
      return { ...tokens, refreshToken: tokens.refreshToken ?? refreshToken };
    } catch (error) {
      if (error instanceof oauth.ResponseBodyError && error.error === 'invalid_grant') throw new GrantRejected(`the authorization server refused the refresh token (invalid_grant${error.error_description ? `: ${error.error_description}` : ''})`);
      // Another replica replaced the registration (this one still had the old): once more with the new one.
      const refused = await this.#refusedClient(as, id, error);
      if (refused === 'replaced' && !retried) return this.refresh(refreshToken, true);
      // A registration the server no longer knows: its tokens are lost with it; connect again (and register again).
      if (refused) throw new GrantRejected('the authorization server no longer knows Deputy\'s registered client (invalid_client)');
      throw error;
    }
  }

  /** RFC 7009 revocation, when the server offers it. False when it does not. */
  async revoke(token: string, hint: 'refresh_token' | 'access_token'): Promise<boolean> {
    const as = await this.server();
    if (!as.revocation_endpoint) return false;
    const id = await this.identity();
    const response = await oauth.revocationRequest(as, id.client, await id.auth(), token, { ...this.#options(as), additionalParameters: { token_type_hint: hint } });
    await oauth.processRevocationResponse(response);
    return true;
  }

  /**
   * invalid_client for a registered client: forget the registration, so the next flow registers again
   * (`forgotten`), unless another replica has replaced it already (`replaced`). Undefined otherwise.
   */
  async #refusedClient(as: oauth.AuthorizationServer, id: ClientIdentity, error: unknown): Promise<'forgotten' | 'replaced' | undefined> {
    if (id.source !== 'registered' || !isInvalidClient(error)) return undefined;
    return (await this.#cfg.dynamic?.registrations?.forget(this.#cfg.dynamic.upstream, as.issuer, id.clientId)) ?? 'forgotten';
  }

  #options(as: oauth.AuthorizationServer) {
    const insecure = [as.token_endpoint, as.revocation_endpoint].some((u) => u?.startsWith('http:'));
    return { ...(insecure ? { [oauth.allowInsecureRequests]: true } : {}), signal: AbortSignal.timeout(this.#cfg.timeoutMs) };
  }
}

/** invalid_client, in the body or (401 with client_secret_basic) in the WWW-Authenticate challenge. */
function isInvalidClient(error: unknown): boolean {
  if (error instanceof oauth.ResponseBodyError) return error.error === 'invalid_client';
  if (error instanceof oauth.WWWAuthenticateChallengeError) return error.cause.some((c) => c.parameters.error === 'invalid_client');
  return false;
}

function toTokens(r: oauth.TokenEndpointResponse): StoredTokens {
  return {
    accessToken: r.access_token,
    refreshToken: r.refresh_token,
    expiresAt: typeof r.expires_in === 'number' ? Date.now() + r.expires_in * 1000 : undefined,
    scope: r.scope,
    tokenType: r.token_type,
  };
}

/** Network failures, timeouts and 5xx: worth another try, and never a reason to drop a user's tokens. */
export function isTransient(error: unknown): boolean {
  if (error instanceof GrantRejected) return false;
  const e = error as { name?: string; message?: string; status?: number; cause?: { status?: number } };
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError' || (error instanceof TypeError && e.message === 'fetch failed')) return true;
  const status = e?.status ?? e?.cause?.status;
  return typeof status === 'number' && status >= 500;
}
