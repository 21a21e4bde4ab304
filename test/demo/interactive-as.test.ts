// The connected-accounts test infrastructure works end to end with a real browser: the demo AS's
// interactive login and consent pages, its authorization code + PKCE + RFC 8707 + RFC 9207 flow and
// rotating refresh tokens (driven with oauth4webapi, as Deputy drives it), and the tracker, which
// accepts only that AS's tokens for its own URL and tells everyone else where to get one.
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { before, test } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import * as jose from 'jose';
import * as oauth from 'oauth4webapi';
import type { Browser } from 'playwright-core';
import { startAuthorizationServer, type AuthorizationServer } from '../../src/demo/authorization-server.ts';
import { startTracker, type Tracker } from '../../src/demo/tracker.ts';
import { launchBrowser } from '../support/browser.ts';
import { onCleanup } from '../support/cleanup.ts';

const SCOPE = 'issues:read issues:write';
const insecure = { [oauth.allowInsecureRequests]: true };

let browser: Browser;
let as: AuthorizationServer;
let tracker: Tracker;
let meta: oauth.AuthorizationServer;
let callbackUrl: string;
const callbacks: URL[] = [];

before(async () => {
  // The client's redirect URI: records the query the browser lands with.
  const cb = createServer((req, res) => {
    const url = new URL(req.url ?? '/', callbackUrl);
    if (url.pathname !== '/callback') return void res.writeHead(404).end(); // e.g. the browser's favicon request
    callbacks.push(url);
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end('<!doctype html><title>Done</title><p>You can close this window.</p>');
  });
  await new Promise<void>((r) => cb.listen(0, '127.0.0.1', () => r()));
  callbackUrl = `http://127.0.0.1:${(cb.address() as AddressInfo).port}/callback`;
  onCleanup(() => new Promise<void>((r) => { cb.close(() => r()); cb.closeAllConnections(); }));

  const client = (client_id: string, token_endpoint_auth_method: string) => ({
    client_id, client_secret: `${client_id}-secret`, token_endpoint_auth_method,
    redirect_uris: [callbackUrl], grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'],
  });
  as = await startAuthorizationServer({
    interactive: true,
    refreshTokens: { rotate: true },
    scopes: SCOPE.split(' '),
    clients: [client('deputy-basic', 'client_secret_basic'), client('deputy-post', 'client_secret_post')],
    defaultResource: (r) => (r === tracker?.url ? { scope: SCOPE } : r === 'https://elsewhere.example/mcp' ? { scope: SCOPE } : undefined),
  });
  onCleanup(() => as.close());
  tracker = await startTracker({ issuer: as.issuer, scopes: SCOPE.split(' ') });
  onCleanup(() => tracker.close());
  browser = await launchBrowser();

  const issuer = new URL(as.issuer);
  meta = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, { algorithm: 'oidc', ...insecure }));
});

/** Drives the browser from a fresh authorization request to the callback; returns what the client needs next. */
async function authorize(clientId: string, username: string, decision: 'Allow' | 'Deny') {
  const verifier = oauth.generateRandomCodeVerifier();
  const state = oauth.generateRandomState();
  const url = new URL(meta.authorization_endpoint!);
  for (const [k, v] of Object.entries({
    client_id: clientId, redirect_uri: callbackUrl, response_type: 'code', scope: SCOPE, resource: tracker.url, state,
    code_challenge: await oauth.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
  })) url.searchParams.set(k, v);

  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    await page.goto(url.href);
    const field = page.getByLabel('Username');
    assert.ok(await field.evaluate((el) => el === document.activeElement), 'the username field has focus');
    await field.fill(username);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Allow access?' }).waitFor();
    const consent = await page.locator('main').innerText();
    assert.match(consent, new RegExp(clientId));
    for (const s of SCOPE.split(' ')) assert.match(consent, new RegExp(s));
    const before = callbacks.length;
    await page.getByRole('button', { name: decision, exact: true }).click();
    await page.waitForURL((u) => u.href.startsWith(callbackUrl));
    assert.equal(callbacks.length, before + 1);
  } finally {
    await context.close();
  }
  return { verifier, state, callback: callbacks.at(-1)! };
}

async function codeGrant(clientId: string, auth: oauth.ClientAuth, username: string) {
  const { verifier, state, callback } = await authorize(clientId, username, 'Allow');
  assert.equal(callback.searchParams.get('iss'), as.issuer, 'RFC 9207 iss in the authorization response');
  const client: oauth.Client = { client_id: clientId };
  const params = oauth.validateAuthResponse(meta, client, callback, state);
  const res = await oauth.authorizationCodeGrantRequest(meta, client, auth, params, callbackUrl, verifier, { ...insecure, additionalParameters: { resource: tracker.url } });
  return { client, tokens: await oauth.processAuthorizationCodeResponse(meta, client, res) };
}

async function callTool(token: string, name: string, args: Record<string, unknown> = {}): Promise<string> {
  const mcp = new Client({ name: 'test', version: '1.0.0' });
  await mcp.connect(new StreamableHTTPClientTransport(new URL(tracker.url), { requestInit: { headers: { authorization: `Bearer ${token}` } } }));
  try {
    const result = await mcp.callTool({ name, arguments: args });
    return (result.content as { type: string; text: string }[])[0].text;
  } finally {
    await mcp.close();
  }
}

test('a person signs in and allows in the browser; the client gets tokens for the tracker, calls it as that person, and refreshes with rotation', async () => {
  const auth = oauth.ClientSecretBasic('deputy-basic-secret');
  const { client, tokens } = await codeGrant('deputy-basic', auth, 'alice');
  assert.ok(tokens.refresh_token, 'a refresh token without offline_access');
  assert.equal(tokens.scope, SCOPE);
  const claims = jose.decodeJwt(tokens.access_token);
  assert.deepEqual([claims.iss, claims.sub, claims.aud], [as.issuer, 'alice', tracker.url]);

  assert.equal(await callTool(tokens.access_token, 'whoami'), 'alice');
  assert.equal(await callTool(tokens.access_token, 'create_issue', { title: 'first' }), 'created issue #1 for alice');

  const refreshed = await oauth.processRefreshTokenResponse(meta, client, await oauth.refreshTokenGrantRequest(meta, client, auth, tokens.refresh_token, insecure));
  assert.ok(refreshed.refresh_token);
  assert.notEqual(refreshed.refresh_token, tokens.refresh_token, 'rotated');
  assert.equal(jose.decodeJwt(refreshed.access_token).aud, tracker.url, 'the granted resource again');
  assert.equal(as.tokenRequests.get('refresh_token'), 1);
  assert.equal(as.tokenRequests.get('authorization_code'), 1);
  assert.match(await callTool(refreshed.access_token, 'list_issues'), /#1 first/);
});

test('client_secret_post works too, and the tracker keeps each person\'s issues apart', async () => {
  const { tokens } = await codeGrant('deputy-post', oauth.ClientSecretPost('deputy-post-secret'), 'bob');
  assert.equal(await callTool(tokens.access_token, 'whoami'), 'bob');
  assert.equal(await callTool(tokens.access_token, 'create_issue', { title: 'bobs' }), 'created issue #1 for bob');
  assert.equal(await callTool(tokens.access_token, 'list_issues'), '#1 bobs');
});

test('Deny ends the flow with access_denied (and iss)', async () => {
  const { state, callback } = await authorize('deputy-basic', 'carol', 'Deny');
  assert.equal(callback.searchParams.get('error'), 'access_denied');
  assert.equal(callback.searchParams.get('iss'), as.issuer);
  assert.throws(() => oauth.validateAuthResponse(meta, { client_id: 'deputy-basic' }, callback, state), (e: unknown) => e instanceof oauth.AuthorizationResponseError && e.error === 'access_denied');
});

test('the tracker refuses a missing or foreign token with 401 and points at its RFC 9728 metadata', async () => {
  const post = (authorization?: string) => fetch(tracker.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...(authorization ? { authorization } : {}) },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'whoami', arguments: {} } }),
  });
  const metadataUrl = tracker.url.replace('/mcp', '/.well-known/oauth-protected-resource/mcp');

  const missing = await post();
  assert.equal(missing.status, 401);
  assert.equal(missing.headers.get('www-authenticate'), `Bearer resource_metadata="${metadataUrl}"`);
  const prm = await (await fetch(metadataUrl)).json();
  assert.equal(prm.resource, tracker.url);
  assert.deepEqual(prm.authorization_servers, [as.issuer]);

  // Signed by the right AS, but for another resource.
  const otherAudience = await as.issueUserToken({ accountId: 'alice', clientId: 'deputy-basic', resource: 'https://elsewhere.example/mcp', scope: SCOPE });
  // Right issuer and audience, wrong key.
  const { privateKey } = await jose.generateKeyPair('ES256');
  const forged = await new jose.SignJWT({ sub: 'mallory', client_id: 'deputy-basic' }).setProtectedHeader({ alg: 'ES256', typ: 'at+jwt' })
    .setIssuer(as.issuer).setAudience(tracker.url).setIssuedAt().setExpirationTime('5m').sign(privateKey);
  for (const token of [otherAudience, forged, 'not-a-jwt']) {
    const res = await post(`Bearer ${token}`);
    assert.equal(res.status, 401);
    assert.equal(res.headers.get('www-authenticate'), `Bearer resource_metadata="${metadataUrl}", error="invalid_token"`);
  }
});
