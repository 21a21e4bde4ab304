// Builds the connected-accounts service from the config: one OAuth client per user_oauth upstream
// (redirecting to <public_url>/connect/callback) and the OIDC sign-in at the `login` IdP (redirecting
// to <public_url>/connect/login/callback). Used by the gateway and by `deputy connections`.
import type { AuditSink } from '../audit/event.ts';
import type { DeputyConfig } from '../config/schema.ts';
import type { Vault } from '../vault/vault.ts';
import { ConnectedAccounts } from './accounts.ts';
import { OAuthClient } from './oauth.ts';
import { CONNECT_PATHS } from './routes.ts';
import { Sealer } from './seal.ts';

export function createConnectedAccounts(config: DeputyConfig, vault: Vault, audit: () => AuditSink): { accounts: ConnectedAccounts; signIn?: OAuthClient } {
  const base = config.server.publicUrl;
  const clients = new Map<string, OAuthClient>();
  for (const u of config.upstreams) {
    if (u.credentials.type !== 'user_oauth') continue;
    const c = u.credentials;
    clients.set(u.name, new OAuthClient({ issuer: c.issuer, client: c.client, redirectUri: `${base}${CONNECT_PATHS.callback}`, scope: c.scopes.join(' '), resource: c.resource ?? (u.type === 'mcp' ? u.url : u.baseUrl), timeoutMs: c.timeoutMs }));
  }
  const login = config.login;
  const signIn = login && new OAuthClient({ issuer: login.issuer, client: { clientId: login.clientId, method: 'client_secret_basic', clientSecret: login.clientSecret }, redirectUri: `${base}${CONNECT_PATHS.login}`, scope: 'openid', timeoutMs: 10_000 });
  const accounts = new ConnectedAccounts({ vault, sealer: new Sealer(config.vault!.keys.map((k) => k.secret.value())), publicUrl: base, clients, audit });
  return { accounts, signIn };
}
