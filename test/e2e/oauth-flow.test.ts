// The whole MCP authorization flow with the SDK's own client: 401 → RFC 9728 metadata → AS metadata
// → dynamic client registration → authorization code + PKCE + RFC 8707 resource → token → tools.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { UnauthorizedError, type OAuthClientProvider } from '@modelcontextprotocol/sdk/client/auth.js';
import type { OAuthClientInformationMixed, OAuthTokens } from '@modelcontextprotocol/sdk/shared/auth.js';
import * as jose from 'jose';
import { logLines, startAs, startDeputy, startUpstream } from '../support/stack.ts';

const REDIRECT = 'http://127.0.0.1:8090/callback';

/** Follows the authorization redirects like a browser (cookie jar, headless login) until the callback. */
async function browse(start: URL): Promise<URL> {
  const jar = new Map<string, string>();
  let url = start.href;
  for (let i = 0; i < 12; i++) {
    if (url.startsWith(REDIRECT)) return new URL(url);
    const r = await fetch(url, { redirect: 'manual', headers: { cookie: [...jar].map(([k, v]) => `${k}=${v}`).join('; ') } });
    for (const c of r.headers.getSetCookie()) {
      const [kv] = c.split(';');
      const eq = kv!.indexOf('=');
      jar.set(kv!.slice(0, eq), kv!.slice(eq + 1));
    }
    const location = r.headers.get('location');
    if (!location) throw new Error(`stuck at ${url}: ${r.status} ${(await r.text()).slice(0, 300)}`);
    url = new URL(location, url).href;
  }
  throw new Error('too many redirects');
}

function oauthProvider() {
  const s: { info?: OAuthClientInformationMixed; tokens?: OAuthTokens; verifier?: string; authUrl?: URL; callback?: URL } = {};
  const provider: OAuthClientProvider = {
    redirectUrl: REDIRECT,
    clientMetadata: { client_name: 'e2e', redirect_uris: [REDIRECT], grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'], token_endpoint_auth_method: 'none' },
    clientInformation: () => s.info,
    saveClientInformation: (i) => { s.info = i; },
    tokens: () => s.tokens,
    saveTokens: (t) => { s.tokens = t; },
    saveCodeVerifier: (v) => { s.verifier = v; },
    codeVerifier: () => s.verifier!,
    async redirectToAuthorization(u) {
      s.authUrl = u;
      s.callback = await browse(u);
    },
  };
  return { s, provider };
}

test('SDK client: full OAuth flow against oidc-provider, then tools through Deputy', async () => {
  const as = await startAs();
  const upstream = await startUpstream();
  const deputy = await startDeputy(as, {
    auth: { required_scopes: ['mcp:tools'] },
    upstreams: [{ name: 'notes', type: 'mcp', url: upstream.url, credentials: { type: 'static', headers: { Authorization: { env: 'UP' } } } }],
    env: { UP: 'Bearer upstream-only-credential' },
  });
  const endpoint = `${deputy.url}/mcp/notes`;
  const { s, provider } = oauthProvider();
  const connect = async () => {
    const transport = new StreamableHTTPClientTransport(new URL(endpoint), { authProvider: provider });
    const client = new Client({ name: 'e2e', version: '1.0.0' });
    await client.connect(transport);
    return { client, transport };
  };
  await assert.rejects(connect(), UnauthorizedError);
  // The SDK discovered everything from Deputy's challenge and metadata:
  assert.equal(s.authUrl!.searchParams.get('resource'), endpoint);
  assert.equal(s.authUrl!.searchParams.get('scope'), 'mcp:tools');
  assert.equal(s.authUrl!.searchParams.get('code_challenge_method'), 'S256');
  assert.ok(s.info?.client_id, 'dynamically registered');
  const t = new StreamableHTTPClientTransport(new URL(endpoint), { authProvider: provider });
  await t.finishAuth(s.callback!.searchParams.get('code')!);

  const { client } = await connect();
  const result = await client.callTool({ name: 'add_note', arguments: { text: 'via oauth' } });
  assert.deepEqual((result.content as { text: string }[])[0]!.text, 'saved note #1');
  const token = s.tokens!.access_token;
  const claims = jose.decodeJwt(token);
  assert.equal(claims.aud, endpoint);
  assert.equal(claims.sub, 'alice');
  await client.close();

  for (const rec of upstream.requests) assert.equal(rec.headers.authorization, 'Bearer upstream-only-credential');
  assert.ok(!JSON.stringify(upstream.requests).includes(token), 'client token reached the upstream');
  assert.ok(!logLines.join('\n').includes(token), 'client token in logs');
  await deputy.audit.flush();
  const events = await deputy.audit.query({ limit: 100 });
  assert.ok(!JSON.stringify(events).includes(token), 'client token in audit');
  const call = events.find((e) => e.rpcMethod === 'tools/call');
  assert.equal(call?.subject, 'alice');
  assert.equal(call?.clientId, s.info!.client_id);
  assert.equal(call?.target, 'add_note');
});

test('RFC 9728 metadata: root and path-suffixed documents', async () => {
  const as = await startAs();
  const upstream = await startUpstream();
  const deputy = await startDeputy(as, {
    server: { public_url: 'https://mcp.example.com' },
    auth: { required_scopes: ['mcp:tools'] },
    upstreams: [{ name: 'notes', type: 'mcp', url: upstream.url, required_scopes: ['notes:read'], credentials: { type: 'static', headers: { Authorization: { env: 'UP' } } } }],
    env: { UP: 'x' },
  });
  const root = await (await fetch(`${deputy.url}/.well-known/oauth-protected-resource`)).json();
  assert.deepEqual(root, { resource: 'https://mcp.example.com', authorization_servers: [as.issuer], scopes_supported: ['mcp:tools', 'notes:read'], bearer_methods_supported: ['header'], resource_name: 'Deputy MCP gateway' });
  const notes = await (await fetch(`${deputy.url}/.well-known/oauth-protected-resource/mcp/notes`)).json();
  assert.deepEqual(notes, { resource: 'https://mcp.example.com/mcp/notes', authorization_servers: [as.issuer], scopes_supported: ['mcp:tools', 'notes:read'], bearer_methods_supported: ['header'], resource_name: 'Deputy: notes' });
  const res = await fetch(`${deputy.url}/mcp/notes`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
  assert.equal(res.headers.get('www-authenticate'), 'Bearer resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource/mcp/notes", scope="mcp:tools notes:read"');
});
