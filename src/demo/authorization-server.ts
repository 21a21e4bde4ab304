// A real OAuth 2.1 / OIDC authorization server (oidc-provider) for the demo and the test suite:
// dynamic client registration with a headless login (or, opt-in, small HTML login and consent pages
// a browser can drive), authorization code + PKCE with RFC 8707 resource indicators and RFC 9207
// `iss`, refresh tokens, client credentials, JWT (`at+jwt`) or opaque access tokens, RFC 7662
// introspection, and an RFC 8693 token-exchange grant. Opt-in, both halves of the Identity Assertion
// JWT Authorization Grant (ID-JAG, draft-ietf-oauth-identity-assertion-authz-grant): as the enterprise
// IdP it exchanges a user's token for an ID-JAG, and as a resource's AS it redeems ID-JAGs from trusted
// IdPs through the RFC 7523 jwt-bearer grant. Opt-in, OAuth Client ID Metadata Documents (oidc-provider's
// implementation of the draft). Development use only: it logs in anyone.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as jose from 'jose';
import Provider, { errors } from 'oidc-provider';

export const TOKEN_EXCHANGE_GRANT = 'urn:ietf:params:oauth:grant-type:token-exchange';
export const JWT_BEARER_GRANT = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
export const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';
export const ID_JAG_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:id-jag';
/** JOSE header `typ` of an ID-JAG. */
export const ID_JAG_TYP = 'oauth-id-jag+jwt';
/** `tokenRequests` key for token-exchange requests with requested_token_type=id-jag (IdP side). */
export const ID_JAG_REQUESTS = 'id-jag';
/** `tokenRequests` key for jwt-bearer requests whose assertion is an ID-JAG (resource-AS side). */
export const ID_JAG_GRANTS = 'id-jag-grant';

export interface ResourceInfo {
  scope: string;
  format?: 'jwt' | 'opaque';
  ttlSeconds?: number;
  alg?: 'ES256' | 'RS256';
}

export interface StaticClient {
  client_id: string;
  client_secret?: string;
  grant_types?: string[];
  scope?: string;
  token_endpoint_auth_method?: string;
  jwks?: { keys: object[] };
  redirect_uris?: string[];
  response_types?: string[];
}

export interface AuthorizationServerOptions {
  port?: number;
  /** Resource indicator → how its tokens look. Unknown resources fall back to `defaultResource`. */
  resources?: Record<string, ResourceInfo>;
  /** Info for resources not listed (e.g. Deputy endpoints on random ports); undefined → invalid_target. */
  defaultResource?: (resource: string) => ResourceInfo | undefined;
  /** Resource used when a client sends none. */
  fallbackResource?: () => string | undefined;
  scopes?: string[];
  clients?: StaticClient[];
  /** Which subject-token audiences the token-exchange grant accepts (default: any resource it issued). */
  exchangeAcceptsAudience?: (aud: string[]) => boolean;
  /** Account id the headless login uses. */
  loginAs?: string;
  /** Extra claims for user tokens (e.g. groups). */
  accountClaims?: (accountId: string) => Record<string, unknown>;
  /**
   * Serve HTML login (any non-empty username, no password) and consent (Allow / Deny) pages instead
   * of completing interactions headlessly as `loginAs`. Default false.
   */
  interactive?: boolean;
  /**
   * When set, every authorization_code grant to a client allowed the refresh_token grant gets a
   * refresh token (no offline_access needed), and refresh tokens are rotated on use when `rotate`.
   * Unset: oidc-provider's defaults (refresh tokens only with offline_access).
   */
  refreshTokens?: { rotate: boolean };
  /**
   * IdP side of ID-JAG: the token-exchange grant also accepts requested_token_type=
   * urn:ietf:params:oauth:token-type:id-jag (audience required: the resource's AS issuer) and answers
   * with an ID-JAG signed with this AS's ES256 key (kid es-1, in its JWKS), valid `lifetimeSeconds`
   * (default 300; 0 mints one already expired). Unset: such requests get invalid_request, as before.
   */
  idJag?: { lifetimeSeconds?: number };
  /**
   * Resource-AS side of ID-JAG: the jwt-bearer grant redeems assertions with header typ
   * oauth-id-jag+jwt from these issuers (verified with `jwksUri`, else the jwks_uri their
   * /.well-known/openid-configuration names) when aud is this issuer, client_id is the authenticated
   * client and the `resource` claim is one this AS knows (`resources` / `defaultResource`). Unset:
   * every jwt-bearer request is the on-behalf-of variant, as before.
   */
  trustIdJagFrom?: { issuer: string; jwksUri?: string }[];
  /** RFC 7591 dynamic client registration at /reg (open, no initial access token). Default true. */
  registration?: boolean;
  /**
   * Accept OAuth Client ID Metadata Documents (oidc-provider's experimental feature, draft-02): an
   * https client_id is fetched, must name itself as client_id and use no shared secret, and is
   * advertised as client_id_metadata_document_supported. `fetch` makes those requests (default: the
   * global fetch; tests pass one that trusts their own CA). Unset: off, as before.
   */
  clientIdMetadataDocument?: { fetch?: (url: string, init: RequestInit) => Promise<Response> };
}

export interface AuthorizationServer {
  issuer: string;
  provider: any;
  /**
   * Token endpoint requests seen (successful or refused), by grant_type; ID-JAG requests are counted
   * under their grant_type and, in addition, under `ID_JAG_REQUESTS` ('id-jag': token exchange with
   * requested_token_type id-jag) or `ID_JAG_GRANTS` ('id-jag-grant': jwt-bearer with an ID-JAG typ).
   */
  tokenRequests: Map<string, number>;
  /** Details of grant errors (oidc-provider hides them from responses). */
  grantErrors: string[];
  /** Clients created through dynamic registration, in order. */
  registeredClients: string[];
  /** URLs fetched for Client ID Metadata Documents, in order. */
  metadataFetches: string[];
  clientCredentials(clientId: string, secret: string, params: Record<string, string>): Promise<{ access_token: string; expires_in: number; scope?: string }>;
  /** Mints a user token directly (what the authorization-code flow would issue), for tests. */
  issueUserToken(opts: { accountId: string; clientId: string; resource: string; scope: string; ttlSeconds?: number; claims?: Record<string, unknown> }): Promise<string>;
  stop(): Promise<void>;
  /** Listen again on the same port after stop(). */
  restart(): Promise<void>;
  close(): Promise<void>;
}

export async function startAuthorizationServer(opts: AuthorizationServerOptions = {}): Promise<AuthorizationServer> {
  let server: Server = createServer();
  await new Promise<void>((r) => server.listen(opts.port ?? 0, '127.0.0.1', () => r()));
  const port = (server.address() as AddressInfo).port;
  const issuer = `http://127.0.0.1:${port}`;

  const es = await jose.generateKeyPair('ES256', { extractable: true });
  const rs = await jose.generateKeyPair('RS256', { extractable: true });
  const esJwk = { ...(await jose.exportJWK(es.privateKey)), kid: 'es-1', alg: 'ES256', use: 'sig' };
  const rsJwk = { ...(await jose.exportJWK(rs.privateKey)), kid: 'rs-1', alg: 'RS256', use: 'sig' };
  const ownKeys = jose.createLocalJWKSet({ keys: [publicOnly(esJwk), publicOnly(rsJwk)] });

  const resources = opts.resources ?? {};
  const info = (resource: string): ResourceInfo | undefined => resources[resource] ?? opts.defaultResource?.(resource);
  const getResourceServerInfo = (_ctx: unknown, resource: string) => {
    const i = info(resource);
    if (!i) throw new errors.InvalidTarget(`unknown resource ${resource}`);
    return {
      audience: resource,
      scope: i.scope,
      accessTokenFormat: i.format ?? 'jwt',
      accessTokenTTL: i.ttlSeconds ?? 300,
      ...(i.format === 'opaque' ? {} : { jwt: { sign: { alg: i.alg ?? 'ES256' } } }),
    };
  };

  const allScopes = new Set(['openid', 'offline_access', ...(opts.scopes ?? [])]);
  for (const r of Object.values(resources)) for (const s of r.scope.split(' ')) allScopes.add(s);
  for (const c of opts.clients ?? []) for (const s of (c.scope ?? '').split(' ').filter(Boolean)) allScopes.add(s);

  const registeredClients: string[] = [];
  const metadataFetches: string[] = [];
  const cimd = opts.clientIdMetadataDocument;
  const cimdFetch = cimd?.fetch ?? ((url: string, init: RequestInit) => fetch(url, init));

  const provider = new Provider(issuer, {
    // oidc-provider's outgoing requests (here: metadata documents) go through this; its SSRF guard
    // (a dispatcher refusing loopback addresses) is left out so the test servers on 127.0.0.1 work.
    ...(cimd ? {
      fetch: (url: string | URL, init: RequestInit & { dispatcher?: unknown }) => {
        metadataFetches.push(String(url));
        const { dispatcher: _guard, ...rest } = init;
        return cimdFetch(String(url), rest);
      },
    } : {}),
    jwks: { keys: [esJwk, rsJwk] },
    clientDefaults: { id_token_signed_response_alg: 'ES256' },
    scopes: [...allScopes],
    clients: (opts.clients ?? []).map((c) => ({ redirect_uris: [], response_types: [], grant_types: ['client_credentials'], ...c })),
    interactions: { url: (_ctx: unknown, i: { uid: string }) => `/interaction/${i.uid}` },
    // ID tokens carry the account's extra claims (e.g. groups) when the `groups` scope is asked for:
    // Deputy's admin console decides who is an admin from them.
    findAccount: async (_ctx: unknown, id: string) => ({ accountId: id, claims: async () => ({ sub: id, ...(opts.accountClaims ? opts.accountClaims(id) : {}) }) }),
    claims: { openid: ['sub'], groups: ['groups'] },
    conformIdTokenClaims: false,
    extraTokenClaims: async (_ctx: unknown, token: any) => ({ ...(token.accountId && opts.accountClaims ? opts.accountClaims(token.accountId) : {}), ...(token.extraClaims ?? {}) }),
    ...(opts.refreshTokens ? {
      issueRefreshToken: async (_ctx: unknown, client: any) => client.grantTypeAllowed('refresh_token'),
      rotateRefreshToken: opts.refreshTokens.rotate,
    } : {}),
    ttl: {
      ClientCredentials: (_ctx: unknown, t: any) => t.resourceServer?.accessTokenTTL ?? 300,
      AccessToken: (_ctx: unknown, t: any) => t.resourceServer?.accessTokenTTL ?? 300,
    },
    features: {
      devInteractions: { enabled: false },
      registration: { enabled: opts.registration ?? true },
      ...(cimd ? { clientIdMetadataDocument: { enabled: true, ack: 'draft-02' } } : {}),
      clientCredentials: { enabled: true },
      introspection: { enabled: true },
      revocation: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => opts.fallbackResource?.(),
        useGrantedResource: () => true,
        getResourceServerInfo,
      },
    },
  });
  provider.proxy = false;

  const tokenRequests = new Map<string, number>();
  const grantErrors: string[] = [];
  const bump = (key: string) => tokenRequests.set(key, (tokenRequests.get(key) ?? 0) + 1);
  const count = (ctx: any) => {
    const p = ctx?.oidc?.params;
    const grant = p?.grant_type ?? '?';
    bump(grant);
    if (grant === TOKEN_EXCHANGE_GRANT && p.requested_token_type === ID_JAG_TOKEN_TYPE) bump(ID_JAG_REQUESTS);
    if (grant === JWT_BEARER_GRANT && isIdJag(p.assertion)) bump(ID_JAG_GRANTS);
  };
  provider.on('grant.success', count);
  provider.on('grant.error', (ctx: any, err: any) => {
    count(ctx);
    grantErrors.push(`${err.error}: ${err.error_detail ?? err.error_description ?? err.message}`);
  });
  provider.on('server_error', (_ctx: unknown, err: Error) => grantErrors.push(`server_error: ${err.message}`));
  provider.on('registration_create.success', (_ctx: unknown, client: { clientId: string }) => registeredClients.push(client.clientId));

  // RFC 8693 token exchange (and the Entra-style jwt-bearer on-behalf-of variant). The calling client is
  // already authenticated by the token endpoint; the subject token must be one this AS issued.
  const verifySubject = async (subjectToken: string): Promise<jose.JWTPayload> => {
    let subject: jose.JWTPayload;
    try {
      ({ payload: subject } = await jose.jwtVerify(subjectToken, ownKeys, { issuer, typ: 'at+jwt' }));
    } catch (e) {
      throw new errors.InvalidGrant(`subject_token invalid: ${(e as { code?: string }).code ?? (e as Error).message}`);
    }
    const aud = ([] as string[]).concat((subject.aud as string | string[]) ?? []);
    if (opts.exchangeAcceptsAudience && !opts.exchangeAcceptsAudience(aud)) throw new errors.InvalidGrant('subject_token was not issued for this client');
    return subject;
  };
  const exchange = async (ctx: any, subjectToken: string) => {
    const p = ctx.oidc.params;
    const subject = await verifySubject(subjectToken);
    const resource = p.resource ?? p.audience;
    if (!resource || Array.isArray(resource)) throw new errors.InvalidTarget('exactly one resource (or audience) required');
    const ri = getResourceServerInfo(ctx, resource);
    const wanted = (p.scope ?? ri.scope).split(' ').filter((s: string) => ri.scope.split(' ').includes(s));
    const token = new provider.AccessToken({ accountId: subject.sub, client: ctx.oidc.client, gty: 'token_exchange', scope: wanted.join(' ') });
    token.extraClaims = { act: { sub: ctx.oidc.client.clientId }, subject_client_id: subject.client_id };
    token.resourceServer = new provider.ResourceServer(resource, ri);
    ctx.oidc.entity('AccessToken', token);
    ctx.body = { access_token: await token.save(), issued_token_type: ACCESS_TOKEN_TYPE, token_type: 'Bearer', expires_in: token.expiration, scope: token.scope };
  };

  // ID-JAG, IdP side: the user's token (one this AS issued, checked as for any exchange) becomes a
  // short-lived assertion for another AS (`audience`) naming the user, the calling client and, when
  // asked, the resource and scope. It is signed like this AS's tokens, so its JWKS verifies it.
  const idJagLifetime = opts.idJag?.lifetimeSeconds ?? 300;
  const issueIdJag = async (ctx: any) => {
    const p = ctx.oidc.params;
    if (typeof p.audience !== 'string' || !p.audience) throw new errors.InvalidRequest('exactly one audience (the authorization server the ID-JAG is for) required');
    if (p.resource !== undefined && typeof p.resource !== 'string') throw new errors.InvalidTarget('at most one resource');
    const subject = await verifySubject(p.subject_token);
    if (typeof subject.sub !== 'string') throw new errors.InvalidGrant('subject_token names no subject');
    const now = Math.floor(Date.now() / 1000);
    const claims: jose.JWTPayload = { client_id: ctx.oidc.client.clientId };
    if (p.resource) claims.resource = p.resource;
    if (p.scope) claims.scope = p.scope;
    const idJag = await new jose.SignJWT(claims)
      .setProtectedHeader({ alg: 'ES256', kid: esJwk.kid, typ: ID_JAG_TYP })
      .setIssuer(issuer).setSubject(subject.sub).setAudience(p.audience)
      .setJti(crypto.randomUUID()).setIssuedAt(now).setExpirationTime(now + idJagLifetime)
      .sign(es.privateKey);
    ctx.body = { access_token: idJag, issued_token_type: ID_JAG_TOKEN_TYPE, token_type: 'N_A', expires_in: idJagLifetime, ...(p.scope ? { scope: p.scope } : {}) };
  };

  // ID-JAG, resource-AS side: the assertion must come from a trusted IdP (its JWKS, discovered once),
  // be meant for this AS and the authenticated client, and be unexpired. The access token is for the
  // asserted resource, names the asserted subject, and carries the requested scopes (default: the
  // asserted ones) that were asserted and belong to the resource; no asserted scope → none.
  const trustedJwks = new Map<string, Promise<jose.JWTVerifyGetKey>>();
  const jwksOf = (t: { issuer: string; jwksUri?: string }) => {
    let keys = trustedJwks.get(t.issuer);
    if (!keys) {
      keys = (async () => {
        if (t.jwksUri) return jose.createRemoteJWKSet(new URL(t.jwksUri));
        const res = await fetch(`${t.issuer.replace(/\/$/, '')}/.well-known/openid-configuration`);
        const meta = res.ok ? await res.json() as { issuer?: string; jwks_uri?: string } : {};
        if (meta.issuer !== t.issuer || typeof meta.jwks_uri !== 'string') throw new Error(`no usable discovery document for ${t.issuer}`);
        return jose.createRemoteJWKSet(new URL(meta.jwks_uri));
      })();
      keys.catch(() => trustedJwks.delete(t.issuer)); // retry discovery next time
      trustedJwks.set(t.issuer, keys);
    }
    return keys;
  };
  const redeemIdJag = async (ctx: any, trusted: { issuer: string; jwksUri?: string }[]) => {
    const p = ctx.oidc.params;
    let iss: unknown;
    try {
      iss = jose.decodeJwt(p.assertion).iss;
    } catch {
      throw new errors.InvalidGrant('assertion is not a JWT');
    }
    const from = trusted.find((t) => t.issuer === iss);
    if (!from) throw new errors.InvalidGrant(`ID-JAG issuer ${String(iss)} is not trusted`);
    let claims: jose.JWTPayload;
    try {
      ({ payload: claims } = await jose.jwtVerify(p.assertion, await jwksOf(from), {
        issuer: from.issuer, audience: issuer, typ: ID_JAG_TYP, maxTokenAge: 3600, requiredClaims: ['sub', 'client_id', 'jti', 'iat', 'exp'],
      }));
    } catch (e) {
      throw new errors.InvalidGrant(`ID-JAG invalid: ${(e as { code?: string }).code ?? ''} ${(e as Error).message}`.trim());
    }
    if (claims.client_id !== ctx.oidc.client.clientId) throw new errors.InvalidGrant('ID-JAG was issued to another client');
    const resource = claims.resource ?? opts.fallbackResource?.();
    if (typeof resource !== 'string') throw new errors.InvalidTarget('ID-JAG names no single resource');
    if (p.resource !== undefined && p.resource !== resource) throw new errors.InvalidTarget('resource differs from the ID-JAG\'s');
    const ri = getResourceServerInfo(ctx, resource);
    const asserted = typeof claims.scope === 'string' ? claims.scope.split(' ').filter(Boolean) : [];
    const requested = p.scope ? (p.scope as string).split(' ') : asserted;
    const offered = ri.scope.split(' ');
    const scope = requested.filter((s: string) => asserted.includes(s) && offered.includes(s)).join(' ');
    const token = new provider.AccessToken({ accountId: claims.sub, client: ctx.oidc.client, gty: 'jwt_bearer', scope });
    token.resourceServer = new provider.ResourceServer(resource, ri);
    ctx.oidc.entity('AccessToken', token);
    ctx.body = { access_token: await token.save(), token_type: 'Bearer', expires_in: token.expiration, scope: token.scope };
  };

  provider.registerGrantType(TOKEN_EXCHANGE_GRANT, async (ctx: any) => {
    const p = ctx.oidc.params;
    if (p.subject_token_type !== ACCESS_TOKEN_TYPE) throw new errors.InvalidRequest('unsupported subject_token_type');
    if (opts.idJag && p.requested_token_type === ID_JAG_TOKEN_TYPE) return issueIdJag(ctx);
    if (p.requested_token_type && p.requested_token_type !== ACCESS_TOKEN_TYPE) throw new errors.InvalidRequest('unsupported requested_token_type');
    await exchange(ctx, p.subject_token);
  }, ['subject_token', 'subject_token_type', 'actor_token', 'actor_token_type', 'requested_token_type', 'resource', 'audience', 'scope'], ['resource', 'audience']);
  provider.registerGrantType(JWT_BEARER_GRANT, async (ctx: any) => {
    const p = ctx.oidc.params;
    if (opts.trustIdJagFrom && isIdJag(p.assertion)) return redeemIdJag(ctx, opts.trustIdJagFrom);
    if (p.requested_token_use !== 'on_behalf_of') throw new errors.InvalidRequest('requested_token_use must be on_behalf_of');
    await exchange(ctx, p.assertion);
  }, ['assertion', 'requested_token_use', 'resource', 'audience', 'scope'], ['resource', 'audience']);

  const callback = provider.callback();
  const onRequest = async (req: any, res: any) => {
    if (!req.url.startsWith('/interaction/')) return callback(req, res);
    if (opts.interactive) return interactive(provider, req, res);
    try { // headless login + consent: log in as loginAs and grant whatever was asked
      const d = await provider.interactionDetails(req, res);
      if (d.prompt.name === 'login') return await provider.interactionFinished(req, res, { login: { accountId: opts.loginAs ?? 'alice' } }, { mergeWithLastSubmission: false });
      const grant = d.grantId ? await provider.Grant.find(d.grantId) : new provider.Grant({ accountId: d.session.accountId, clientId: d.params.client_id });
      const m = d.prompt.details;
      if (m.missingOIDCScope) grant.addOIDCScope(m.missingOIDCScope.join(' '));
      if (m.missingOIDCClaims) grant.addOIDCClaims(m.missingOIDCClaims);
      for (const [ind, sc] of Object.entries(m.missingResourceScopes ?? {})) grant.addResourceScope(ind, (sc as string[]).join(' '));
      return await provider.interactionFinished(req, res, { consent: { grantId: await grant.save() } }, { mergeWithLastSubmission: true });
    } catch (e) {
      res.statusCode = 500;
      res.end(String((e as Error).message));
    }
  };
  server.on('request', onRequest);

  const shut = () => new Promise<void>((r) => {
    server.close(() => r());
    server.closeAllConnections();
  });

  return {
    issuer, provider, tokenRequests, grantErrors, registeredClients, metadataFetches,
    async clientCredentials(clientId, secret, params) {
      const res = await fetch(`${issuer}/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(secret)}`).toString('base64')}` },
        body: new URLSearchParams({ grant_type: 'client_credentials', ...params }),
      });
      const body = await res.json();
      if (!res.ok) throw new Error(`client_credentials failed: ${JSON.stringify(body)} ${grantErrors.at(-1) ?? ''}`);
      return body;
    },
    async issueUserToken({ accountId, clientId, resource, scope, ttlSeconds, claims }) {
      const client = await provider.Client.find(clientId);
      if (!client) throw new Error(`unknown client ${clientId}`);
      const ri = getResourceServerInfo(undefined, resource);
      const token = new provider.AccessToken({ accountId, client, scope, gty: 'authorization_code' });
      token.resourceServer = new provider.ResourceServer(resource, { ...ri, accessTokenTTL: ttlSeconds ?? ri.accessTokenTTL });
      token.extraClaims = claims;
      return token.save();
    },
    stop: shut,
    async restart() {
      server = createServer(onRequest);
      await new Promise<void>((r) => server.listen(port, '127.0.0.1', () => r()));
    },
    close: shut,
  };
}

// The browser flow's pages. Every interaction answers GET with a page for its prompt and POST (the
// page's form, posted back to the same uid) with the person's choice.
async function interactive(provider: any, req: any, res: any): Promise<void> {
  const page = (status: number, title: string, body: string) => {
    res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store', 'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'" });
    res.end(`<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${esc(title)}</title><style>${PAGE_CSS}</style></head><body><main><h1>${esc(title)}</h1>${body}</main></body></html>`);
  };
  try {
    const d = await provider.interactionDetails(req, res);
    const action = `/interaction/${encodeURIComponent(d.uid)}`;
    const clientId = String(d.params.client_id);
    if (req.method === 'GET') {
      if (d.prompt.name === 'login') {
        return page(200, 'Sign in', `<p>to continue to <strong>${esc(clientId)}</strong></p>
<form method="post" action="${esc(action)}"><label for="login">Username</label>
<input id="login" name="login" type="text" autocomplete="username" autofocus required>
<button type="submit">Sign in</button></form>
<p class="note">Development authorization server: any username signs in, no password.</p>`);
      }
      const scopes = String(d.params.scope ?? '').split(' ').filter(Boolean);
      const resources = resourcesOf(d.params.resource);
      return page(200, 'Allow access?', `<p><strong>${esc(clientId)}</strong> asks to act as <strong>${esc(d.session?.accountId ?? '')}</strong> with:</p>
<ul>${scopes.map((s) => `<li><code>${esc(s)}</code></li>`).join('') || '<li>no scopes</li>'}</ul>
${resources.length ? `<p>at ${resources.map((r) => `<code>${esc(r)}</code>`).join(', ')}</p>` : ''}
<form method="post" action="${esc(action)}"><button type="submit" name="decision" value="allow">Allow</button>
<button type="submit" name="decision" value="deny" class="secondary">Deny</button></form>`);
    }
    if (req.method !== 'POST') return void res.writeHead(405, { allow: 'GET, POST' }).end();
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const c of req) {
      size += (c as Buffer).length;
      if (size > 8192) return void res.writeHead(413).end();
      chunks.push(c as Buffer);
    }
    const form = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
    if (d.prompt.name === 'login') {
      const login = (form.get('login') ?? '').trim();
      if (!login) return page(400, 'Sign in', `<p role="alert">Enter a username.</p><p><a href="${esc(action)}">Try again</a></p>`);
      return await provider.interactionFinished(req, res, { login: { accountId: login } }, { mergeWithLastSubmission: false });
    }
    if (form.get('decision') !== 'allow') {
      return await provider.interactionFinished(req, res, { error: 'access_denied', error_description: 'the user denied the request' }, { mergeWithLastSubmission: false });
    }
    // Allow: what the headless path grants (the missing OIDC scopes/claims and resource scopes), plus
    // every requested resource indicator, so a code for it is redeemable even with no resource scope.
    const grant = d.grantId ? await provider.Grant.find(d.grantId) : new provider.Grant({ accountId: d.session.accountId, clientId });
    const m = d.prompt.details;
    if (m.missingOIDCScope) grant.addOIDCScope(m.missingOIDCScope.join(' '));
    if (m.missingOIDCClaims) grant.addOIDCClaims(m.missingOIDCClaims);
    for (const [ind, sc] of Object.entries(m.missingResourceScopes ?? {})) grant.addResourceScope(ind, (sc as string[]).join(' '));
    for (const r of resourcesOf(d.params.resource)) if (!grant.getResourceScope(r)) grant.addResourceScope(r, '');
    return await provider.interactionFinished(req, res, { consent: { grantId: await grant.save() } }, { mergeWithLastSubmission: true });
  } catch (e) {
    if (!res.headersSent) page(400, 'Something went wrong', `<p role="alert">${esc((e as Error).message)}</p>`);
  }
}

/** Whether a JWT's header typ says ID-JAG (compared as RFC 8725 §3.11 media types). */
function isIdJag(assertion: unknown): boolean {
  if (typeof assertion !== 'string') return false;
  try {
    const typ = jose.decodeProtectedHeader(assertion).typ;
    return typeof typ === 'string' && typ.toLowerCase().replace(/^application\//, '') === ID_JAG_TYP;
  } catch {
    return false;
  }
}

const resourcesOf = (r: unknown): string[] => ([] as unknown[]).concat(r ?? []).map(String);

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

const PAGE_CSS = 'body{font:16px/1.5 system-ui,sans-serif;margin:0;background:#f4f5f7;color:#1b1f24}main{max-width:24rem;margin:4rem auto;padding:1.5rem 2rem;background:#fff;border-radius:8px;box-shadow:0 1px 4px #0002}h1{font-size:1.4rem;margin-top:0}label{display:block;font-weight:600;margin-bottom:.25rem}input{width:100%;box-sizing:border-box;padding:.5rem;font:inherit;margin-bottom:1rem}button{font:inherit;padding:.5rem 1.25rem;border:0;border-radius:4px;background:#1f5fbf;color:#fff;cursor:pointer;margin-right:.5rem}button.secondary{background:#e4e7eb;color:#1b1f24}button:focus-visible,input:focus-visible{outline:3px solid #f0a500;outline-offset:2px}.note{font-size:.85rem;color:#555}';

function publicOnly(jwk: Record<string, unknown>) {
  const { d, p, q, dp, dq, qi, ...pub } = jwk;
  return pub;
}
