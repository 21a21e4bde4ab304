// Who Deputy is at an upstream's authorization server, for user_oauth. In the MCP authorization
// specification's order (client registration, 2025-11-25):
//   1. the client configured for the upstream (client_id, and its secret or key);
//   2. Deputy's Client ID Metadata Document (draft-ietf-oauth-client-id-metadata-document): the
//      client_id is the https URL <public_url>/oauth/client-metadata.json, which serves the client's
//      metadata; used when the server's metadata says client_id_metadata_document_supported: true and
//      public_url is https (the draft requires an https client_id, so a conforming server refuses any
//      other, and it would do so on its own authorization page, where Deputy could not fall back);
//   3. RFC 7591 dynamic registration at the server's registration_endpoint: once per (upstream,
//      authorization server), kept sealed in the vault (shared by replicas on PostgreSQL), single-flight
//      in this process and under the vault's lock across replicas, registered again only when the
//      redirect URI changed, the secret expired, or the server no longer knows the client;
//   4. otherwise a ClientIdentityError naming the upstream and what to configure.
// Client secrets and registration access tokens are never logged, audited or shown.
import * as oauth from 'oauth4webapi';
import { systemEvent, type AuditSink } from '../audit/event.ts';
import type { ClientAuthConfig } from '../config/schema.ts';
import { log } from '../log.ts';
import { clientAuthFor, requestOptions } from '../outbound/client-auth.ts';
import type { ClientKey, RegisteredClient, Vault } from '../vault/vault.ts';

/** Where Deputy publishes its Client ID Metadata Document, under public_url. */
export const CLIENT_METADATA_PATH = '/oauth/client-metadata.json';
/** The name authorization servers show on their consent pages. */
const CLIENT_NAME = 'Deputy';
/** A registered secret this close to its expiry is replaced by a new registration. */
const SECRET_EXPIRY_MARGIN_MS = 60_000;

/** Deputy has no usable client at the authorization server: an operator must configure one. */
export class ClientIdentityError extends Error {
  override name = 'ClientIdentityError';
  readonly upstream: string;
  constructor(upstream: string, message: string) {
    super(message);
    this.upstream = upstream;
  }
}

export interface ClientIdentity {
  clientId: string;
  source: 'configured' | 'metadata_document' | 'registered';
  /** What oauth4webapi needs to know of the client. */
  client: oauth.Client;
  auth(): Promise<oauth.ClientAuth>;
}

/** How an upstream without a configured client gets one. */
export interface DynamicClientConfig {
  upstream: string;
  /** Deputy's public_url: the metadata document's URL is derived from it (https only). */
  publicUrl: string;
  /** Absent when no vault can keep registrations (then only the metadata document can apply). */
  registrations?: ClientRegistrations;
}

/** The client_id of Deputy's metadata document, or undefined when public_url is not https. */
export function metadataDocumentUrl(publicUrl: string): string | undefined {
  return publicUrl.startsWith('https://') ? `${publicUrl}${CLIENT_METADATA_PATH}` : undefined;
}

/**
 * Deputy's Client ID Metadata Document: a public client (PKCE, no secret: the draft forbids shared
 * secrets) whose redirect URI is the connect callback shared by every user_oauth upstream.
 */
export function clientMetadataDocument(publicUrl: string, redirectUri: string): Record<string, unknown> {
  return {
    client_id: `${publicUrl}${CLIENT_METADATA_PATH}`,
    client_name: CLIENT_NAME,
    ...(publicUrl.startsWith('https://') ? { client_uri: publicUrl } : {}),
    redirect_uris: [redirectUri],
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    token_endpoint_auth_method: 'none',
    application_type: 'web',
  };
}

export function configuredIdentity(cfg: ClientAuthConfig): ClientIdentity {
  return { clientId: cfg.clientId, source: 'configured', client: { client_id: cfg.clientId }, auth: () => clientAuthFor(cfg) };
}

/** The client to use at this authorization server (see the order above). */
export async function dynamicIdentity(d: DynamicClientConfig, as: oauth.AuthorizationServer, redirectUri: string, timeoutMs: number): Promise<ClientIdentity> {
  const cimd = as.client_id_metadata_document_supported === true;
  const url = metadataDocumentUrl(d.publicUrl);
  if (cimd && url) return { clientId: url, source: 'metadata_document', client: { client_id: url, token_endpoint_auth_method: 'none' }, auth: async () => oauth.None() };
  if (as.registration_endpoint && d.registrations) {
    const c = await d.registrations.client(d.upstream, as, redirectUri, timeoutMs);
    return {
      clientId: c.clientId, source: 'registered', client: { client_id: c.clientId, token_endpoint_auth_method: c.authMethod },
      auth: async () => (c.authMethod === 'client_secret_basic' ? oauth.ClientSecretBasic(c.clientSecret!) : c.authMethod === 'client_secret_post' ? oauth.ClientSecretPost(c.clientSecret!) : oauth.None()),
    };
  }
  const why = cimd
    ? `it accepts Client ID Metadata Documents, but Deputy's client_id would be ${d.publicUrl}${CLIENT_METADATA_PATH} and must be https (set server.public_url to Deputy's https address)${as.registration_endpoint ? '' : ', and it offers no dynamic client registration (registration_endpoint)'}`
    : 'it offers neither Client ID Metadata Documents (client_id_metadata_document_supported) nor dynamic client registration (registration_endpoint)';
  throw new ClientIdentityError(d.upstream, `upstream '${d.upstream}': Deputy has no client at the authorization server ${as.issuer}: no client_id is configured and ${why}; register a client for Deputy there (redirect URI ${redirectUri}) and set client_id and client_secret for this upstream`);
}

/**
 * RFC 7591 registrations, kept in the vault. `client()` returns the stored registration, registering
 * once when there is none (or it is no longer usable); concurrent callers in this process share one
 * attempt, and replicas serialise on the vault's lock and re-read under it.
 */
/** How long a replica trusts the registration it last read before reading the vault again. */
const KNOWN_MS = 60_000;

export class ClientRegistrations {
  readonly #vault: Vault;
  readonly #audit: () => AuditSink;
  readonly #clientUri?: string;
  /** Registrations read from the vault, re-read after KNOWN_MS (another replica may have replaced one). */
  readonly #known = new Map<string, { client: RegisteredClient; at: number }>();
  readonly #pending = new Map<string, Promise<RegisteredClient>>();

  constructor(vault: Vault, audit: () => AuditSink, publicUrl: string) {
    this.#vault = vault;
    this.#audit = audit;
    if (publicUrl.startsWith('https://')) this.#clientUri = publicUrl;
  }

  client(upstream: string, as: oauth.AuthorizationServer, redirectUri: string, timeoutMs: number): Promise<RegisteredClient> {
    const key: ClientKey = { upstream, issuer: as.issuer };
    const id = JSON.stringify([upstream, as.issuer]);
    const known = this.#known.get(id);
    if (known && Date.now() - known.at < KNOWN_MS && usable(known.client, redirectUri)) return Promise.resolve(known.client);
    let pending = this.#pending.get(id);
    if (!pending) {
      pending = this.#obtain(key, as, redirectUri, timeoutMs)
        .then((c) => (this.#known.set(id, { client: c, at: Date.now() }), c))
        .finally(() => this.#pending.delete(id));
      this.#pending.set(id, pending);
    }
    return pending;
  }

  /**
   * The server refused this client (invalid_client): drop it, so the next flow registers again. Only
   * the registration that was refused is deleted: `replaced` when another replica has replaced it
   * already (the caller may retry with the new one).
   */
  async forget(upstream: string, issuer: string, clientId: string): Promise<'forgotten' | 'replaced'> {
    const key: ClientKey = { upstream, issuer };
    this.#known.delete(JSON.stringify([upstream, issuer]));
    const outcome = await this.#vault.withClientLock(key, async () => {
      const stored = await this.#vault.getClient(key).catch(() => undefined);
      if (stored && stored.clientId !== clientId) return 'replaced' as const;
      if (stored) await this.#vault.deleteClient(key);
      return 'forgotten' as const;
    });
    if (outcome === 'forgotten') log.warn('the authorization server refused Deputy\'s registered client (invalid_client); it will register again', { upstream, issuer, clientId });
    return outcome;
  }

  async #obtain(key: ClientKey, as: oauth.AuthorizationServer, redirectUri: string, timeoutMs: number): Promise<RegisteredClient> {
    const stored = await this.#vault.getClient(key);
    if (stored && usable(stored, redirectUri)) return stored;
    return this.#vault.withClientLock(key, async () => {
      const again = await this.#vault.getClient(key); // another replica may have registered meanwhile
      if (again && usable(again, redirectUri)) return again;
      const client = await this.#register(key, as, redirectUri, timeoutMs);
      await this.#vault.putClient(key, client);
      log.info('registered Deputy as a client at an authorization server (RFC 7591)', { upstream: key.upstream, issuer: key.issuer, clientId: client.clientId, authMethod: client.authMethod });
      this.#audit().write(systemEvent('accounts', { rpcMethod: 'client_registered', upstream: key.upstream, credentialMode: 'user_oauth', outcome: 'ok', detail: `client ${client.clientId} at ${key.issuer}` }));
      return client;
    });
  }

  async #register(key: ClientKey, as: oauth.AuthorizationServer, redirectUri: string, timeoutMs: number): Promise<RegisteredClient> {
    const supported = as.token_endpoint_auth_methods_supported ?? ['client_secret_basic']; // RFC 8414's default
    const method = (['client_secret_basic', 'client_secret_post', 'none'] as const).find((m) => supported.includes(m));
    if (!method) throw new ClientIdentityError(key.upstream, `upstream '${key.upstream}': the authorization server ${key.issuer} offers dynamic registration, but none of the token endpoint authentication methods Deputy registers with (client_secret_basic, client_secret_post, none); register a client for Deputy there (redirect URI ${redirectUri}) and set client_id for this upstream`);
    const metadata = {
      client_name: CLIENT_NAME,
      ...(this.#clientUri ? { client_uri: this.#clientUri } : {}),
      redirect_uris: [redirectUri],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: method,
    };
    let answer: oauth.OmitSymbolProperties<oauth.Client>;
    try {
      const response = await oauth.dynamicClientRegistrationRequest(as, metadata, requestOptions(as.registration_endpoint!, timeoutMs));
      answer = await oauth.processDynamicClientRegistrationResponse(response);
    } catch (error) {
      if (error instanceof oauth.ResponseBodyError || error instanceof oauth.WWWAuthenticateChallengeError) {
        const what = error instanceof oauth.ResponseBodyError ? `${error.error}${error.error_description ? `: ${error.error_description.slice(0, 200)}` : ''}` : `HTTP ${error.status}`;
        throw new ClientIdentityError(key.upstream, `upstream '${key.upstream}': the authorization server ${key.issuer} refused Deputy's dynamic client registration (${what}); register a client for Deputy there (redirect URI ${redirectUri}) and set client_id and client_secret for this upstream`);
      }
      throw error;
    }
    const secret = typeof answer.client_secret === 'string' && answer.client_secret ? answer.client_secret : undefined;
    const authMethod = typeof answer.token_endpoint_auth_method === 'string' ? answer.token_endpoint_auth_method : secret ? 'client_secret_basic' : 'none';
    if (authMethod !== 'client_secret_basic' && authMethod !== 'client_secret_post' && authMethod !== 'none') {
      throw new ClientIdentityError(key.upstream, `upstream '${key.upstream}': the authorization server ${key.issuer} registered Deputy with token_endpoint_auth_method ${authMethod.slice(0, 40)}, which Deputy cannot use for a registered client; set client_id for this upstream`);
    }
    if (authMethod !== 'none' && !secret) throw new ClientIdentityError(key.upstream, `upstream '${key.upstream}': the authorization server ${key.issuer} registered Deputy for ${authMethod} but returned no client_secret; set client_id for this upstream`);
    const expires = typeof answer.client_secret_expires_at === 'number' && answer.client_secret_expires_at > 0 ? answer.client_secret_expires_at * 1000 : undefined;
    return {
      clientId: answer.client_id, authMethod, redirectUri,
      ...(secret && authMethod !== 'none' ? { clientSecret: secret } : {}),
      ...(expires ? { secretExpiresAt: expires } : {}),
      ...(typeof answer.registration_access_token === 'string' ? { registrationAccessToken: answer.registration_access_token } : {}),
      ...(typeof answer.registration_client_uri === 'string' ? { registrationClientUri: answer.registration_client_uri } : {}),
    };
  }
}

function usable(c: RegisteredClient, redirectUri: string): boolean {
  return c.redirectUri === redirectUri && (c.secretExpiresAt === undefined || c.secretExpiresAt - SECRET_EXPIRY_MARGIN_MS > Date.now());
}
