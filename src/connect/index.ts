// Builds the connected-accounts service from the config: one OAuth client per user_oauth upstream
// (redirecting to <public_url>/connect/callback; its client configured, or Deputy's Client ID Metadata
// Document, or registered: client-identity.ts) and the OIDC sign-in at the `login` IdP (redirecting
// to <public_url>/connect/login/callback). Used by the gateway and by `deputy connections`.
import type { AuditSink } from '../audit/event.ts';
import type { DeputyConfig } from '../config/schema.ts';
import type { Vault } from '../vault/vault.ts';
import { ConnectedAccounts } from './accounts.ts';
import { ClientRegistrations, clientMetadataDocument } from './client-identity.ts';
import { OAuthClient } from './oauth.ts';
import { CONNECT_PATHS } from './routes.ts';
import { Sealer } from './seal.ts';

export function createConnectedAccounts(config: DeputyConfig, vault: Vault, audit: () => AuditSink): { accounts: ConnectedAccounts; signIn?: OAuthClient } {
  const base = config.server.publicUrl;
  const redirectUri = `${base}${CONNECT_PATHS.callback}`;
  const clients = new Map<string, OAuthClient>();
  // Upstreams without a configured client_id: Deputy's metadata document or dynamic registration.
  let registrations: ClientRegistrations | undefined;
  for (const u of config.upstreams) {
    if (u.credentials.type !== 'user_oauth') continue;
    const c = u.credentials;
    const dynamic = c.client ? undefined : { upstream: u.name, publicUrl: base, registrations: (registrations ??= new ClientRegistrations(vault, audit, base)) };
    clients.set(u.name, new OAuthClient({ issuer: c.issuer, client: c.client, dynamic, redirectUri, scope: c.scopes.join(' '), resource: c.resource ?? (u.type === 'mcp' ? u.url : u.baseUrl), timeoutMs: c.timeoutMs }));
  }
  const login = config.login;
  const signIn = login && new OAuthClient({ issuer: login.issuer, client: login.client, redirectUri: `${base}${CONNECT_PATHS.login}`, scope: 'openid', timeoutMs: 10_000 });
  // Published only when some upstream may need it (an upstream with no client_id).
  const clientMetadata = registrations ? clientMetadataDocument(base, redirectUri) : undefined;
  const accounts = new ConnectedAccounts({ vault, sealer: new Sealer(config.vault!.keys.map((k) => k.secret.value())), publicUrl: base, clients, audit, clientMetadata });
  return { accounts, signIn };
}
