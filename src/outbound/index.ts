// Step 5 of the request path: one credential provider per upstream, built from its `credentials` mode.
// The OutboundContext holds what providers share: the token cache (one token-endpoint round trip per
// (user, upstream) per token lifetime), Deputy's identity-assertion signer and its public URL.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { DeputyConfig, UpstreamConfig } from '../config/schema.ts';
import { sendJson } from '../http/respond.ts';
import { clientCredentialsProvider } from './client-credentials.ts';
import { IDENTITY_JWKS_PATH, identityAsserter, IdentitySigner } from './identity-assertion.ts';
import { passthroughProvider } from './passthrough.ts';
import type { CredentialProvider } from './provider.ts';
import { staticProvider } from './static.ts';
import { TokenCache, type TokenStore } from './token-cache.ts';
import { tokenExchangeProvider } from './token-exchange.ts';
import { userOAuthProvider } from './user-oauth.ts';
import { idJagProvider } from './id-jag.ts';
import type { ConnectedAccounts } from '../connect/accounts.ts';
import { createConnectedAccounts } from '../connect/index.ts';
import { connectRoutes } from '../connect/routes.ts';
import type { Vault } from '../vault/vault.ts';
import type { AuditSink } from '../audit/event.ts';

export interface OutboundContext {
  cache: TokenCache;
  /** Present when identity assertions are used or signing keys are configured. */
  identity?: IdentitySigner;
  /** Deputy's canonical URL: the `iss` of its identity assertions. */
  publicUrl: string;
  /** GET endpoints to serve (Deputy's JWKS when it signs identity assertions). */
  extraGet: Map<string, (req: IncomingMessage, res: ServerResponse) => void>;
  /** Connected accounts (user_oauth upstreams): the vault and the connect flow. */
  accounts?: ConnectedAccounts;
  /** POST endpoints to serve (the connected-accounts page's forms). */
  extraPost: Map<string, (req: IncomingMessage, res: ServerResponse) => void>;
}

/** Call after `config.server.publicUrl` is final (the gateway resolves port 0 first). */
export async function createOutboundContext(config: DeputyConfig, opts: { tokenStore?: TokenStore; vault?: Vault; audit?: () => AuditSink } = {}): Promise<OutboundContext> {
  const needsSigner = (config.identity?.signingKeys.length ?? 0) > 0 || config.upstreams.some((u) => identityAssertionOf(u) !== undefined);
  const identity = needsSigner ? await IdentitySigner.create(config.identity) : undefined;
  const extraGet = new Map<string, (req: IncomingMessage, res: ServerResponse) => void>();
  if (identity) {
    extraGet.set(IDENTITY_JWKS_PATH, (_req, res) => {
      identity.jwks().then(
        (jwks) => sendJson(res, 200, jwks, { 'cache-control': 'max-age=300', 'access-control-allow-origin': '*' }),
        () => sendJson(res, 503, { error: 'temporarily_unavailable', error_description: 'signing keys could not be loaded' }),
      );
    });
  }
  const extraPost = new Map<string, (req: IncomingMessage, res: ServerResponse) => void>();
  const accounts = opts.vault && config.login ? connectedAccounts(config, opts.vault, opts.audit ?? (() => ({ write() {}, flush: async () => {}, query: async () => [], close: async () => {} })), extraGet, extraPost) : undefined;
  return { cache: new TokenCache(opts.tokenStore), identity, publicUrl: config.server.publicUrl, extraGet, extraPost, accounts };
}

/** The connected-accounts service for user_oauth upstreams, and the connect pages it serves. */
function connectedAccounts(config: DeputyConfig, vault: Vault, audit: () => AuditSink, extraGet: OutboundContext['extraGet'], extraPost: OutboundContext['extraPost']): ConnectedAccounts {
  const { accounts, signIn } = createConnectedAccounts(config, vault, audit);
  const routes = connectRoutes(accounts, signIn!, config.server.publicUrl);
  for (const [path, handler] of routes.get) extraGet.set(path, handler);
  for (const [path, handler] of routes.post) extraPost.set(path, handler);
  return accounts;
}

let fallbackContext: OutboundContext | undefined;

export function createCredentialProvider(upstream: UpstreamConfig, ctx?: OutboundContext): CredentialProvider {
  const c = upstream.credentials;
  const context: OutboundContext = ctx ?? (fallbackContext ??= { cache: new TokenCache(), publicUrl: '', extraGet: new Map(), extraPost: new Map() });
  const iaCfg = identityAssertionOf(upstream);
  let asserter;
  if (iaCfg) {
    if (!context.identity) throw new Error(`upstream '${upstream.name}': identity_assertion needs Deputy's signing keys; create providers with createOutboundContext()`);
    asserter = identityAsserter(upstream, iaCfg, context.identity, context.publicUrl);
  }
  switch (c.type) {
    case 'static':
      return staticProvider(c, asserter);
    case 'passthrough':
      return passthroughProvider(upstream.name, c);
    case 'client_credentials':
      return clientCredentialsProvider(upstream, c, context.cache, asserter);
    case 'token_exchange':
      return tokenExchangeProvider(upstream, c, context.cache);
    case 'id_jag':
      return idJagProvider(upstream, c, context.cache);
    case 'user_oauth':
      if (!context.accounts) throw new Error(`upstream '${upstream.name}': user_oauth needs the connected-accounts service (vault and login); create providers with createOutboundContext()`);
      return userOAuthProvider(upstream.name, context.accounts);
  }
}

function identityAssertionOf(upstream: UpstreamConfig) {
  const c = upstream.credentials;
  return c.type === 'static' || c.type === 'client_credentials' ? c.identityAssertion : undefined;
}
