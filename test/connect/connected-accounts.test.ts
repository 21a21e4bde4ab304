// Connected accounts end to end, with real parts only: the enterprise IdP and a third-party AS (two
// oidc-provider instances, interactive, the third party rotating refresh tokens), the tracker (a
// remote MCP server that accepts only the third party's tokens), Deputy with a SQLite vault, SDK
// clients of both eras, and headless Chromium following the connect link a tool call produced.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { Client as ClientV2, StreamableHTTPClientTransport as TransportV2 } from '@modelcontextprotocol/client';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ElicitationCompleteNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import type { Browser } from 'playwright-core';
import { startAuthorizationServer, type AuthorizationServer } from '../../src/demo/authorization-server.ts';
import { startTracker, type Tracker } from '../../src/demo/tracker.ts';
import { REPORT_SCOPE, startSampleRestApi, type SampleRestApi } from '../../src/demo/sample-rest-api.ts';
import type { Gateway } from '../../src/gateway.ts';
import { launchBrowser } from '../support/browser.ts';
import { consentLink, followConnectLink } from '../support/connect-flow.ts';
import { onCleanup } from '../support/cleanup.ts';
import { freePort, waitFor } from '../support/ports.ts';
import { logLines, startAs, startDeputy, TEST_CLIENT, userToken } from '../support/stack.ts';

const SCOPE = 'issues:read issues:write';
const ALL_SCOPES = `${SCOPE} issues:admin ${REPORT_SCOPE}`;
const DEPUTY_SECRET = 'deputy-at-tracker-secret';
const WEB_SECRET = 'deputy-web-secret-at-idp';
let idp: AuthorizationServer;
let thirdParty: AuthorizationServer;
let tracker: Tracker;
let deputy: Gateway;
let browser: Browser;
let vaultFile: string;
let files: SampleRestApi;

before(async () => {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  idp = await startAs({
    interactive: true,
    accountClaims: (id) => ({ groups: id === 'root' ? ['deputy-admins'] : [] }),
    clients: [TEST_CLIENT, { client_id: 'deputy-web', client_secret: WEB_SECRET, redirect_uris: [`${base}/connect/login/callback`, `${base}/admin/callback`], grant_types: ['authorization_code'], response_types: ['code'], scope: 'openid groups' }],
  });
  thirdParty = await startAuthorizationServer({
    interactive: true,
    refreshTokens: { rotate: true },
    scopes: ALL_SCOPES.split(' '),
    clients: [{ client_id: 'deputy', client_secret: DEPUTY_SECRET, redirect_uris: [`${base}/connect/callback`], grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'] }],
    defaultResource: (r) => (r === tracker?.url || r === files?.url ? { scope: ALL_SCOPES, ttlSeconds: 3600, format: 'jwt' } : undefined),
  });
  onCleanup(() => thirdParty.close());
  files = await startSampleRestApi({ issuer: thirdParty.issuer }); // a REST API that accepts only the third party's tokens for itself
  onCleanup(() => files.close());
  tracker = await startTracker({ issuer: thirdParty.issuer });
  onCleanup(() => tracker.close());
  vaultFile = join(mkdtempSync(join(tmpdir(), 'deputy-vault-')), 'vault.db');
  deputy = await startDeputy(idp, {
    server: { port },
    upstreams: [
      { name: 'tracker', type: 'mcp', url: tracker.url, protocol: '2025-11-25', credentials: { type: 'user_oauth', issuer: thirdParty.issuer, client_id: 'deputy', client_secret: { env: 'TRACKER_SECRET' }, scopes: SCOPE.split(' ') } },
      { name: 'files', type: 'openapi', spec: `${files.url}/openapi.json`, base_url: files.url, credentials: { type: 'user_oauth', issuer: thirdParty.issuer, client_id: 'deputy', client_secret: { env: 'TRACKER_SECRET' }, client_auth: 'client_secret_basic', scopes: SCOPE.split(' ') } },
    ],
    vault: { store: `sqlite:${vaultFile}`, keys: [{ id: 'k1', secret: { env: 'VAULT_KEY' } }] },
    login: { issuer: idp.issuer, client_id: 'deputy-web', client_secret: { env: 'WEB_SECRET' } },
    admin: { enabled: true, claims: { groups: ['deputy-admins'] } },
    env: { TRACKER_SECRET: DEPUTY_SECRET, WEB_SECRET, VAULT_KEY: 'a-vault-key-of-at-least-thirty-two-characters-0123456789' },
  });
  browser = await launchBrowser();
});

/** A person following a connect link (see test/support/connect-flow.ts). */
const follow = (url: string, person: string, trackerUser: string, opts: { decision?: 'Allow' | 'Deny' } = {}) => followConnectLink(browser, url, { deputyUrl: deputy.url, thirdPartyIssuer: thirdParty.issuer, person, trackerUser, decision: opts.decision });

async function handshakeClient(sub: string, urlElicitation = true): Promise<{ client: Client; token: string; completed: string[] }> {
  const token = await userToken(idp, `${deputy.url}/mcp/tracker`, { sub });
  const client = new Client({ name: 'ide', version: '1.0.0' }, { capabilities: urlElicitation ? { elicitation: { form: {}, url: {} } } : {} });
  const completed: string[] = [];
  client.setNotificationHandler(ElicitationCompleteNotificationSchema, (n) => void completed.push(n.params.elicitationId));
  await client.connect(new StreamableHTTPClientTransport(new URL(`${deputy.url}/mcp/tracker`), { requestInit: { headers: { authorization: `Bearer ${token}` } } }));
  onCleanup(() => client.close().catch(() => {}));
  return { client, token, completed };
}

const text = (r: unknown) => (r as { content: { text: string }[] }).content[0]!.text;

test('a 2025-11-25 client: -32042 with a connect link; the person signs in and allows; the call then runs as their tracker user', async () => {
  const { client, token, completed } = await handshakeClient('alice');
  assert.deepEqual((await client.listTools()).tools, [], 'nothing listed before anyone connected');
  const link = await consentLink(client);
  assert.ok(link.url.startsWith(`${deputy.url}/connect?t=`));
  assert.ok(!link.url.includes('alice'), 'no identity in the link');

  const page = await follow(link.url, 'alice', 'ada');
  assert.deepEqual(page, { status: 200, heading: 'Connected to tracker' });
  assert.equal(text(await client.callTool({ name: 'whoami', arguments: {} })), 'ada', 'the upstream sees the user who connected');
  assert.match(text(await client.callTool({ name: 'create_issue', arguments: { title: 'first' } })), /created issue #1 for ada/);
  await waitFor(() => completed.includes(link.elicitationId), 'notifications/elicitation/complete on the session', 5000);
  assert.ok((await client.listTools()).tools.some((t) => t.name === 'whoami'));

  // The vault holds the tokens encrypted: not one token byte in the database files.
  const issued = tracker.requests.map((r) => String(r.headers.authorization ?? '').replace(/^Bearer /, '')).filter((t) => t.length > 20);
  assert.ok(issued.length > 0);
  const files = readdirSync(join(vaultFile, '..')).map((f) => readFileSync(join(vaultFile, '..', f)).toString('latin1')).join('\n');
  for (const t of new Set(issued)) assert.ok(!files.includes(t), 'an access token in the vault file in plaintext');
  // The canary: Deputy's client token never reaches the tracker, a log line, an audit row.
  assert.ok(!tracker.requests.some((r) => JSON.stringify(r).includes(token)));
  assert.ok(!logLines.some((l) => l.includes(token) || issued.some((t) => l.includes(t))));
  assert.ok(!logLines.some((l) => l.includes('/connect?t=')), 'a connect link in the log (it is the person\'s to open, not an error)');
  await deputy.audit.flush();
  const rows = await deputy.audit.query({ limit: 1000 });
  const dump = JSON.stringify(rows);
  assert.ok(!dump.includes(token) && !issued.some((t) => dump.includes(t)), 'a token in an audit row');
  assert.ok(rows.some((r) => r.outcome === 'consent_required' && r.upstream === 'tracker'));
  assert.ok(rows.some((r) => r.route === 'accounts' && r.rpcMethod === 'connected' && r.subject === 'alice'));
});

test('refused links: another user, a replay, an expired link, a forged state; each with a clear page and nothing connected', async () => {
  const { client } = await handshakeClient('bob');
  const link = await consentLink(client);
  const other = await follow(link.url, 'mallory', 'mallory-at-tracker');
  assert.deepEqual(other, { status: 403, heading: 'This link was made for someone else' });

  const fresh = await consentLink(client);
  assert.equal((await follow(fresh.url, 'bob', 'bert')).heading, 'Connected to tracker');
  const replay = await follow(fresh.url, 'bob', 'bert');
  assert.deepEqual(replay, { status: 409, heading: 'This link was already used' });

  const accounts = deputy.outbound.accounts!;
  const expired = `${deputy.url}/connect?t=${accounts.sealer.seal('connect-link', { i: idp.issuer, s: 'bob', u: 'tracker', j: 'x' }, -1)}`;
  let res = await fetch(expired);
  assert.equal(res.status, 410);
  assert.match(await res.text(), /This link has expired/);
  res = await fetch(`${deputy.url}/connect?t=${link.url.split('t=')[1]!.slice(0, -6)}AAAAAA`);
  assert.equal(res.status, 400);

  // A callback whose state is not the flow's: refused, even with the flow's own cookie.
  const flowCookie = `deputy_connect=${accounts.sealer.seal('connect-flow', { t: { i: idp.issuer, s: 'bob', u: 'tracker', j: 'y' }, stage: 'upstream', state: 'the-real-state', verifier: 'v'.repeat(43) }, 60_000)}`;
  res = await fetch(`${deputy.url}/connect/callback?code=stolen&state=forged&iss=${encodeURIComponent(thirdParty.issuer)}`, { headers: { cookie: flowCookie } });
  assert.equal(res.status, 400);
  assert.match(await res.text(), /could not be verified/);
  res = await fetch(`${deputy.url}/connect/callback?code=stolen&state=the-real-state&iss=${encodeURIComponent('http://evil.example')}`, { headers: { cookie: flowCookie } });
  assert.equal(res.status, 400, 'a wrong iss (RFC 9207) is refused');
  res = await fetch(`${deputy.url}/connect/callback?code=x&state=y`);
  assert.equal(res.status, 400, 'no flow cookie');
});

test('a 2026-07-28 client: input_required with a URL elicitation; its handler completes the flow and the retry runs connected', async () => {
  const token = await userToken(idp, `${deputy.url}/mcp`, { sub: 'carol' });
  const asked: { mode?: string; url?: string }[] = [];
  const client = new ClientV2({ name: 'modern', version: '1.0.0' }, { versionNegotiation: { mode: { pin: '2026-07-28' } }, capabilities: { elicitation: { url: {} } } } as never);
  client.setRequestHandler('elicitation/create' as never, (async (req: { params: { mode?: string; url?: string } }) => {
    asked.push(req.params);
    const done = await follow(req.params.url!, 'carol', 'cleo');
    return { action: done.status === 200 ? 'accept' : 'cancel' };
  }) as never);
  await client.connect(new TransportV2(new URL(`${deputy.url}/mcp`), { requestInit: { headers: { authorization: `Bearer ${token}` } } }));
  onCleanup(() => client.close().catch(() => {}));
  assert.equal(text(await client.callTool({ name: 'tracker__whoami', arguments: {} })), 'cleo');
  assert.equal(asked.length, 1);
  assert.equal(asked[0]!.mode, 'url');
});

test('a client without URL elicitation: a tool error whose text gives the link; never the client token', async () => {
  const { client, token } = await handshakeClient('dave', false);
  const r = (await client.callTool({ name: 'whoami', arguments: {} })) as { isError?: boolean; content: { text: string }[] };
  assert.equal(r.isError, true);
  assert.match(r.content[0]!.text, new RegExp(`Connect your tracker account to use this tool: open ${deputy.url.replace(/[.]/g, '\\.')}/connect\\?t=`));
  assert.ok(!tracker.requests.some((q) => JSON.stringify(q).includes(token)));
});

test('refresh: 50 calls at expiry make one refresh at the AS; the rotated token is kept; invalid_grant asks to connect again', async () => {
  const { client } = await handshakeClient('erin');
  assert.equal((await follow((await consentLink(client)).url, 'erin', 'eve')).heading, 'Connected to tracker');
  const accounts = deputy.outbound.accounts!;
  const key = { issuer: idp.issuer, subject: 'erin', upstream: 'tracker' };
  const before = await accounts.vault.get(key);
  await accounts.vault.put(key, { ...before!, expiresAt: Date.now() - 1000 }); // the access token is due
  const refreshes = () => thirdParty.tokenRequests.get('refresh_token') ?? 0;
  const r0 = refreshes();
  const results = await Promise.all(Array.from({ length: 50 }, () => client.callTool({ name: 'whoami', arguments: {} })));
  assert.ok(results.every((r) => text(r) === 'eve'));
  assert.equal(refreshes() - r0, 1, 'exactly one refresh for 50 concurrent calls');
  const after = await accounts.vault.get(key);
  assert.notEqual(after!.refreshToken, before!.refreshToken, 'the rotated refresh token was stored');
  assert.ok(after!.expiresAt! > Date.now());

  // The AS no longer accepts the refresh token (revoked): a definitive invalid_grant means connect again.
  await accounts.vault.put(key, { ...after!, refreshToken: 'revoked-or-unknown', expiresAt: Date.now() - 1000 });
  const link = await consentLink(client);
  assert.ok(link.url.includes('/connect?t='));
  assert.equal(await accounts.vault.get(key), undefined, 'the dead connection is gone');
  await deputy.audit.flush();
  const rows = await deputy.audit.query({ limit: 1000 });
  assert.ok(rows.some((r) => r.route === 'accounts' && r.rpcMethod === 'refreshed' && r.subject === 'erin'));
  assert.ok(rows.some((r) => r.route === 'accounts' && r.rpcMethod === 'refresh_failed' && r.subject === 'erin'));
});

test('/connections: the signed-in person sees their accounts and disconnects one, which revokes it at the AS; forms need the CSRF token', async () => {
  const { client } = await handshakeClient('frank');
  assert.equal((await follow((await consentLink(client)).url, 'frank', 'fred')).heading, 'Connected to tracker');
  const accounts = deputy.outbound.accounts!;
  const key = { issuer: idp.issuer, subject: 'frank', upstream: 'tracker' };
  const stored = await accounts.vault.get(key);

  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    await page.goto(`${deputy.url}/connections`);
    await page.getByLabel('Username').fill('frank');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForLoadState();
    if (await page.getByRole('button', { name: 'Allow' }).count()) await page.getByRole('button', { name: 'Allow' }).click();
    await page.getByRole('heading', { name: 'Connected accounts' }).waitFor();
    assert.equal(await page.getByRole('rowheader', { name: 'tracker' }).count(), 1, 'only frank\'s own account is listed');
    assert.ok(!(await page.content()).includes(stored!.accessToken), 'no token in the page source');
    await page.screenshot({ path: join(vaultFile, '..', 'connections.png') });

    // The same form without its CSRF token is refused.
    const cookies = await context.cookies(`${deputy.url}/connections`);
    const session = cookies.find((c) => c.name === 'deputy_session')!;
    const forged = await fetch(`${deputy.url}/connections/disconnect`, { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: `deputy_session=${session.value}` }, body: 'upstream=tracker&csrf=guess' });
    assert.equal(forged.status, 403);
    assert.ok(await accounts.vault.get(key), 'still connected after the forged request');

    // … and with the token but from another origin.
    const csrf = await page.locator('input[name=csrf]').first().getAttribute('value');
    const crossSite = await fetch(`${deputy.url}/connections/disconnect`, { method: 'POST', redirect: 'manual', headers: { origin: 'http://evil.example', 'content-type': 'application/x-www-form-urlencoded', cookie: `deputy_session=${session.value}` }, body: `upstream=tracker&csrf=${csrf}` });
    assert.equal(crossSite.status, 403);
    await page.getByRole('button', { name: 'Disconnect tracker' }).focus();
    await page.keyboard.press('Enter'); // keyboard works
    await page.getByText('Disconnected.').waitFor();
    assert.equal(await page.getByRole('rowheader', { name: 'tracker' }).count(), 0);
  } finally {
    await context.close();
  }
  assert.equal(await accounts.vault.get(key), undefined);
  // Revoked at the third-party AS: its refresh token no longer works there.
  const { OAuthClient, GrantRejected } = await import('../../src/connect/oauth.ts');
  const probe = new OAuthClient({ issuer: thirdParty.issuer, client: { clientId: 'deputy', method: 'client_secret_basic', clientSecret: { value: () => DEPUTY_SECRET } as never }, redirectUri: `${deputy.url}/connect/callback`, scope: SCOPE, resource: tracker.url, timeoutMs: 5000 });
  await assert.rejects(probe.refresh(stored!.refreshToken!), GrantRejected);
  await deputy.audit.flush();
  assert.ok((await deputy.audit.query({ limit: 1000 })).some((r) => r.route === 'accounts' && r.rpcMethod === 'revoked' && r.subject === 'frank'));
});

test('an OpenAPI upstream with user_oauth: the same link and flow; the API then sees the connected user', async () => {
  const token = await userToken(idp, `${deputy.url}/mcp/files`, { sub: 'gwen' });
  const client = new Client({ name: 'ide', version: '1.0.0' }, { capabilities: { elicitation: { url: {} } } });
  await client.connect(new StreamableHTTPClientTransport(new URL(`${deputy.url}/mcp/files`), { requestInit: { headers: { authorization: `Bearer ${token}` } } }));
  onCleanup(() => client.close().catch(() => {}));
  assert.ok((await client.listTools()).tools.some((t) => t.name === 'whoami'), 'tools come from the spec, connected or not');
  const link = await consentLink(client);
  const page = await follow(link.url, 'gwen', 'gus');
  assert.equal(page.heading, 'Connected to files');
  const r = await client.callTool({ name: 'whoami', arguments: {} });
  assert.match(JSON.stringify(r), /\\"user\\":\\"gus\\"/);
  assert.ok(!files.calls.some((c) => JSON.stringify(c).includes(token)));

  // The API stops accepting the token (401): renewed once and retried, invisible to the client.
  const accounts = deputy.outbound.accounts!;
  const key = { issuer: idp.issuer, subject: 'gwen', upstream: 'files' };
  const first = (await accounts.vault.get(key))!;
  files.revoked.add(first.accessToken);
  const r0 = thirdParty.tokenRequests.get('refresh_token') ?? 0;
  assert.match(JSON.stringify(await client.callTool({ name: 'whoami', arguments: {} })), /\\"user\\":\\"gus\\"/);
  assert.equal((thirdParty.tokenRequests.get('refresh_token') ?? 0) - r0, 1);
  assert.notEqual((await accounts.vault.get(key))!.accessToken, first.accessToken);

  // An operation that needs more scope (403 insufficient_scope): a link whose consent asks for it too.
  const more = await consentLink(client, 'report');
  assert.equal((await follow(more.url, 'gwen', 'gus')).heading, 'Connected to files');
  const report = await client.callTool({ name: 'report', arguments: {} });
  assert.ok(!report.isError, JSON.stringify(report));
  assert.match(JSON.stringify(report), /\\"user\\":\\"gus\\"/);
  assert.ok((await accounts.vault.get(key))!.scope?.split(' ').includes(REPORT_SCOPE), 'the stored grant has the extra scope');
});

test('the upstream refuses the person\'s token: 401 renews it once and retries; 403 insufficient_scope asks for consent again with the scopes it named', async () => {
  const { client } = await handshakeClient('hana');
  assert.equal((await follow((await consentLink(client)).url, 'hana', 'hal')).heading, 'Connected to tracker');
  const accounts = deputy.outbound.accounts!;
  const key = { issuer: idp.issuer, subject: 'hana', upstream: 'tracker' };
  const first = (await accounts.vault.get(key))!;
  tracker.revoked.add(first.accessToken); // the tracker stops accepting it (revoked there, or expired early)
  const r0 = thirdParty.tokenRequests.get('refresh_token') ?? 0;
  assert.equal(text(await client.callTool({ name: 'whoami', arguments: {} })), 'hal', 'renewed and retried, invisible to the client');
  assert.equal((thirdParty.tokenRequests.get('refresh_token') ?? 0) - r0, 1);
  assert.notEqual((await accounts.vault.get(key))!.accessToken, first.accessToken);

  // Step-up: the tool needs issues:admin; the link asks the AS for it beside the configured scopes.
  const link = await consentLink(client, 'admin_report');
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    let authorize: URL | undefined;
    page.on('request', (r) => {
      if (r.url().startsWith(`${thirdParty.issuer}/auth`)) authorize ??= new URL(r.url());
    });
    await page.goto(link.url);
    await page.getByLabel('Username').fill('hana');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForLoadState();
    if (await page.getByRole('button', { name: 'Allow' }).count()) await page.getByRole('button', { name: 'Allow' }).click();
    await page.getByLabel('Username').fill('hal');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('button', { name: 'Allow' }).click();
    await page.getByRole('heading', { name: 'Connected to tracker' }).waitFor();
    assert.deepEqual(authorize!.searchParams.get('scope')!.split(' ').sort(), ['issues:admin', 'issues:read', 'issues:write']);
  } finally {
    await context.close();
  }
});

test('after a restart, a person not yet connected is shown the tracker\'s pinned tools (no one has listed since)', async () => {
  // A second Deputy on the same vault, with pins in a file; alice (connected in the first test) lists once.
  const audit = `sqlite:${join(mkdtempSync(join(tmpdir(), 'deputy-pins-')), 'audit.db')}`;
  const replica = () => startDeputy(idp, {
    upstreams: [{ name: 'tracker', type: 'mcp', url: tracker.url, protocol: '2025-11-25', credentials: { type: 'user_oauth', issuer: thirdParty.issuer, client_id: 'deputy', client_secret: { env: 'TRACKER_SECRET' }, scopes: SCOPE.split(' ') } }],
    audit,
    vault: { store: `sqlite:${vaultFile}`, keys: [{ id: 'k1', secret: { env: 'VAULT_KEY' } }] },
    login: { issuer: idp.issuer, client_id: 'deputy-web', client_secret: { env: 'WEB_SECRET' } },
    env: { TRACKER_SECRET: DEPUTY_SECRET, WEB_SECRET, VAULT_KEY: 'a-vault-key-of-at-least-thirty-two-characters-0123456789' },
  });
  const listAs = async (gw: Gateway, sub: string) => {
    const c = new Client({ name: 'ide', version: '1.0.0' });
    await c.connect(new StreamableHTTPClientTransport(new URL(`${gw.url}/mcp/tracker`), { requestInit: { headers: { authorization: `Bearer ${await userToken(idp, `${gw.url}/mcp/tracker`, { sub })}` } } }));
    try {
      return (await c.listTools()).tools.map((t) => t.name).sort();
    } finally {
      await c.close();
    }
  };
  const first = await replica();
  const seen = await listAs(first, 'alice');
  assert.ok(seen.includes('whoami'), `alice lists the tracker: ${seen.join(',')}`);
  await first.close();
  const restarted = await replica();
  assert.deepEqual(await listAs(restarted, 'nobody-yet'), seen, 'the pinned definitions, before anyone lists again');
});

test('an admin revokes someone\'s connected account from the console; the person is asked to connect again', async () => {
  const { client } = await handshakeClient('ivy');
  assert.equal((await follow((await consentLink(client)).url, 'ivy', 'iris')).heading, 'Connected to tracker');
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    await page.goto(`${deputy.url}/admin/accounts`);
    await page.getByLabel('Username').fill('root');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForLoadState();
    if (await page.getByRole('button', { name: 'Allow' }).count()) await page.getByRole('button', { name: 'Allow' }).click();
    await page.getByRole('heading', { name: 'Connected accounts' }).waitFor();
    await page.getByRole('button', { name: 'Revoke tracker for ivy' }).click();
    await page.getByText('Revoked tracker for ivy.').waitFor();
  } finally {
    await context.close();
  }
  assert.equal(await deputy.outbound.accounts!.vault.get({ issuer: idp.issuer, subject: 'ivy', upstream: 'tracker' }), undefined);
  assert.ok((await consentLink(client)).url.includes('/connect?t='), 'the next call asks ivy to connect again');
});
