// Connected accounts with no client_id configured, with real parts only: Deputy finds its client
// identity at each upstream's authorization server (oidc-provider instances) in the MCP order.
//   - RFC 7591: an AS with dynamic registration and no metadata-document support. Deputy registers
//     exactly once (concurrent first flows, several people and calls, a restart on the same vault),
//     keeps the registration sealed, and the tokens are issued to the registered client; when the AS
//     forgets the client, the person reconnects and Deputy registers again.
//   - Client ID Metadata Document: an AS that supports them (oidc-provider's own implementation of
//     the draft, which also offers registration) and Deputy behind https (a TLS front, as a load
//     balancer would be). The AS fetches Deputy's document, the tokens are issued to the document's
//     URL as client_id, refresh works as a public client, and nothing is registered.
//   - Two replicas on one PostgreSQL vault: their first flows at once make one registration, used by both.
//   - Neither applies (an AS accepting only metadata documents, Deputy on http): the person gets a
//     page saying Deputy cannot connect yet; the log names the upstream and what to configure.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import * as jose from 'jose';
import type { Browser } from 'playwright-core';
import { CLIENT_METADATA_PATH } from '../../src/connect/client-identity.ts';
import { startAuthorizationServer, type AuthorizationServer } from '../../src/demo/authorization-server.ts';
import { startTracker, type Tracker } from '../../src/demo/tracker.ts';
import type { Gateway } from '../../src/gateway.ts';
import { launchBrowser } from '../support/browser.ts';
import { onCleanup } from '../support/cleanup.ts';
import { consentLink, followConnectLink } from '../support/connect-flow.ts';
import { freePort } from '../support/ports.ts';
import { startPostgres } from '../support/postgres.ts';
import { logLines, startAs, startDeputy, TEST_CLIENT, userToken } from '../support/stack.ts';
import { startTlsFront, type TlsFront } from '../support/tls-front.ts';

const SCOPE = 'issues:read issues:write';
const WEB_SECRET = 'deputy-web-secret-at-idp';
const VAULT_KEY = 'a-vault-key-of-at-least-thirty-two-characters-0123456789';
let idp: AuthorizationServer;
/** Offers dynamic registration only. */
let registering: AuthorizationServer;
/** Accepts Client ID Metadata Documents (and offers registration too: the document must win). */
let cimd: AuthorizationServer;
/** Accepts Client ID Metadata Documents only. */
let cimdOnly: AuthorizationServer;
let trackers: { registering: Tracker; cimd: Tracker; cimdOnly: Tracker };
let httpPort: number;
let httpVault: string;
let deputy: Gateway;
let front: TlsFront;
let secure: Gateway;
let browser: Browser;

const resourceFor = (tracker: () => Tracker | undefined) => (r: string) => (r === tracker()?.url ? { scope: SCOPE, ttlSeconds: 3600, format: 'jwt' as const } : undefined);

function startHttpDeputy(): Promise<Gateway> {
  return startDeputy(idp, {
    server: { port: httpPort },
    upstreams: [
      { name: 'tracker', type: 'mcp', url: trackers.registering.url, protocol: '2025-11-25', credentials: { type: 'user_oauth', issuer: registering.issuer, scopes: SCOPE.split(' ') } },
      { name: 'wiki', type: 'mcp', url: trackers.cimdOnly.url, protocol: '2025-11-25', credentials: { type: 'user_oauth', issuer: cimdOnly.issuer, scopes: SCOPE.split(' ') } },
    ],
    vault: { store: `sqlite:${httpVault}`, keys: [{ id: 'k1', secret: { env: 'VAULT_KEY' } }] },
    login: { issuer: idp.issuer, client_id: 'deputy-web', client_secret: { env: 'WEB_SECRET' } },
    env: { WEB_SECRET, VAULT_KEY },
  });
}

before(async () => {
  httpPort = await freePort();
  const http = `http://127.0.0.1:${httpPort}`;
  front = await startTlsFront();
  idp = await startAs({
    interactive: true,
    clients: [TEST_CLIENT, { client_id: 'deputy-web', client_secret: WEB_SECRET, redirect_uris: [`${http}/connect/login/callback`, `${front.url}/connect/login/callback`], grant_types: ['authorization_code'], response_types: ['code'], scope: 'openid' }],
    // MCP tokens for Deputy's endpoints, on http and behind the https front.
    defaultResource: (r) => (/^https?:\/\/127\.0\.0\.1:/.test(r) ? { scope: 'mcp:tools', format: 'jwt' } : undefined),
  });
  const common = { interactive: true, refreshTokens: { rotate: true }, scopes: SCOPE.split(' ') };
  registering = await startAuthorizationServer({ ...common, defaultResource: resourceFor(() => trackers?.registering) });
  cimd = await startAuthorizationServer({ ...common, clientIdMetadataDocument: { fetch: front.fetch }, defaultResource: resourceFor(() => trackers?.cimd) });
  cimdOnly = await startAuthorizationServer({ ...common, registration: false, clientIdMetadataDocument: { fetch: front.fetch }, defaultResource: resourceFor(() => trackers?.cimdOnly) });
  for (const as of [registering, cimd, cimdOnly]) onCleanup(() => as.close());
  trackers = { registering: await startTracker({ issuer: registering.issuer }), cimd: await startTracker({ issuer: cimd.issuer }), cimdOnly: await startTracker({ issuer: cimdOnly.issuer }) };
  for (const t of Object.values(trackers)) onCleanup(() => t.close());

  httpVault = join(mkdtempSync(join(tmpdir(), 'deputy-vault-')), 'vault.db');
  deputy = await startHttpDeputy();
  const securePort = await freePort();
  front.target(`http://127.0.0.1:${securePort}`);
  secure = await startDeputy(idp, {
    server: { port: securePort, public_url: front.url },
    upstreams: [{ name: 'tracker', type: 'mcp', url: trackers.cimd.url, protocol: '2025-11-25', credentials: { type: 'user_oauth', issuer: cimd.issuer, scopes: SCOPE.split(' ') } }],
    vault: { store: `sqlite:${join(mkdtempSync(join(tmpdir(), 'deputy-vault-')), 'vault.db')}`, keys: [{ id: 'k1', secret: { env: 'VAULT_KEY' } }] },
    login: { issuer: idp.issuer, client_id: 'deputy-web', client_secret: { env: 'WEB_SECRET' } },
    env: { WEB_SECRET, VAULT_KEY },
  });
  browser = await launchBrowser();
});

/** An MCP client of Deputy's (reached on its own http port) for `resource`, declaring URL elicitation. */
async function mcp(gateway: Gateway, resourceBase: string, upstream: string, sub: string): Promise<Client> {
  const token = await userToken(idp, `${resourceBase}/mcp/${upstream}`, { sub });
  const client = new Client({ name: 'ide', version: '1.0.0' }, { capabilities: { elicitation: { url: {} } } });
  await client.connect(new StreamableHTTPClientTransport(new URL(`${gateway.url}/mcp/${upstream}`), { requestInit: { headers: { authorization: `Bearer ${token}` } } }));
  onCleanup(() => client.close().catch(() => {}));
  return client;
}
const text = (r: unknown) => (r as { content: { text: string }[] }).content[0]!.text;
/** The client_id claims of the access tokens an upstream received (JWTs from its AS). */
const clientIdsSeenBy = (tracker: Tracker) => new Set(tracker.requests.map((r) => String(r.headers.authorization ?? '').replace(/^Bearer /, '')).filter((t) => t.split('.').length === 3).map((t) => String(jose.decodeJwt(t).client_id)));

test('dynamic registration: one registration for concurrent first flows, several people and calls, and a restart on the same vault', async () => {
  // Ten people's flows reach the AS at once, before any registration exists: one registration.
  const oauthClient = deputy.outbound.accounts!.client('tracker')!;
  const urls = await Promise.all(Array.from({ length: 10 }, (_, i) => oauthClient.authorizationUrl({ state: `s${i}`, verifier: 'v'.repeat(43) })));
  assert.equal(registering.registeredClients.length, 1, 'registered exactly once');
  const [clientId] = registering.registeredClients;
  assert.ok(urls.every((u) => u.searchParams.get('client_id') === clientId));

  // Two people connect at the same time, then call a few times.
  const [alice, bob] = [await mcp(deputy, deputy.url, 'tracker', 'alice'), await mcp(deputy, deputy.url, 'tracker', 'bob')];
  const links = [await consentLink(alice), await consentLink(bob)];
  const pages = await Promise.all([
    followConnectLink(browser, links[0]!.url, { deputyUrl: deputy.url, thirdPartyIssuer: registering.issuer, person: 'alice', trackerUser: 'ada' }),
    followConnectLink(browser, links[1]!.url, { deputyUrl: deputy.url, thirdPartyIssuer: registering.issuer, person: 'bob', trackerUser: 'bert' }),
  ]);
  assert.deepEqual(pages.map((p) => p.heading), ['Connected to tracker', 'Connected to tracker']);
  for (let i = 0; i < 3; i++) {
    assert.equal(text(await alice.callTool({ name: 'whoami', arguments: {} })), 'ada');
    assert.equal(text(await bob.callTool({ name: 'whoami', arguments: {} })), 'bert');
  }
  assert.equal(registering.registeredClients.length, 1);
  assert.deepEqual(clientIdsSeenBy(trackers.registering), new Set([clientId]), 'the tokens were issued to the registered client');

  // The registration is in the vault, sealed: its secret is in no file, log line or audit row.
  const vault = deputy.outbound.accounts!.vault;
  const stored = (await vault.getClient({ upstream: 'tracker', issuer: registering.issuer }))!;
  assert.equal(stored.clientId, clientId);
  assert.equal(stored.authMethod, 'client_secret_basic');
  assert.ok(stored.clientSecret && stored.clientSecret.length >= 16);
  const secrets = [stored.clientSecret, stored.registrationAccessToken].filter((s): s is string => !!s);
  const files = readdirSync(join(httpVault, '..')).map((f) => readFileSync(join(httpVault, '..', f)).toString('latin1')).join('\n');
  for (const s of secrets) assert.ok(!files.includes(s), 'a registration secret in the vault files in plaintext');
  assert.ok(!logLines.some((l) => secrets.some((s) => l.includes(s))), 'a registration secret in the log');
  await deputy.audit.flush();
  const rows = await deputy.audit.query({ limit: 1000 });
  assert.ok(!secrets.some((s) => JSON.stringify(rows).includes(s)), 'a registration secret in the audit');
  assert.equal(rows.filter((r) => r.route === 'accounts' && r.rpcMethod === 'client_registered' && r.upstream === 'tracker').length, 1);

  // A restart on the same vault: the registration is reused, for refreshing and for new people.
  await deputy.close();
  deputy = await startHttpDeputy();
  const key = { issuer: idp.issuer, subject: 'alice', upstream: 'tracker' };
  const accounts = deputy.outbound.accounts!;
  await accounts.vault.put(key, { ...(await accounts.vault.get(key))!, expiresAt: Date.now() - 1000 });
  const r0 = registering.tokenRequests.get('refresh_token') ?? 0;
  const alice2 = await mcp(deputy, deputy.url, 'tracker', 'alice');
  assert.equal(text(await alice2.callTool({ name: 'whoami', arguments: {} })), 'ada', 'refreshed with the stored registration');
  assert.equal((registering.tokenRequests.get('refresh_token') ?? 0) - r0, 1);
  const carol = await mcp(deputy, deputy.url, 'tracker', 'carol');
  assert.equal((await followConnectLink(browser, (await consentLink(carol)).url, { deputyUrl: deputy.url, thirdPartyIssuer: registering.issuer, person: 'carol', trackerUser: 'cleo' })).heading, 'Connected to tracker');
  assert.equal(text(await carol.callTool({ name: 'whoami', arguments: {} })), 'cleo');
  assert.deepEqual(registering.registeredClients, [clientId], 'no registration after the restart');

  // The AS forgets the client (deleted there): the next refresh gets invalid_client, the registration
  // is dropped, the person is asked to reconnect, and that flow registers again.
  await registering.provider.Client.adapter.destroy(clientId);
  const ckey = { issuer: idp.issuer, subject: 'carol', upstream: 'tracker' };
  await accounts.vault.put(ckey, { ...(await accounts.vault.get(ckey))!, expiresAt: Date.now() - 1000 });
  const relink = await consentLink(carol);
  assert.equal(await accounts.vault.getClient({ upstream: 'tracker', issuer: registering.issuer }), undefined, 'the refused registration is gone');
  assert.equal((await followConnectLink(browser, relink.url, { deputyUrl: deputy.url, thirdPartyIssuer: registering.issuer, person: 'carol', trackerUser: 'cleo' })).heading, 'Connected to tracker');
  assert.equal(text(await carol.callTool({ name: 'whoami', arguments: {} })), 'cleo');
  assert.equal(registering.registeredClients.length, 2, 'registered again');
  assert.equal((await accounts.vault.getClient({ upstream: 'tracker', issuer: registering.issuer }))?.clientId, registering.registeredClients[1]);
});

test('Client ID Metadata Document: the AS fetches Deputy\'s document over https and issues the tokens to its URL; nothing is registered', async () => {
  const documentUrl = `${front.url}${CLIENT_METADATA_PATH}`;
  const res = await front.fetch(documentUrl);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
  const doc = await res.json() as Record<string, unknown>;
  assert.equal(doc.client_id, documentUrl, 'the document names its own URL');
  assert.deepEqual(doc.redirect_uris, [`${front.url}/connect/callback`]);
  assert.equal(doc.token_endpoint_auth_method, 'none');
  assert.ok(!('client_secret' in doc));

  const dave = await mcp(secure, front.url, 'tracker', 'dave');
  const link = await consentLink(dave);
  assert.ok(link.url.startsWith(`${front.url}/connect?t=`));
  const page = await followConnectLink(browser, link.url, { deputyUrl: front.url, thirdPartyIssuer: cimd.issuer, person: 'dave', trackerUser: 'dora', ignoreHTTPSErrors: true });
  assert.deepEqual(page, { status: 200, heading: 'Connected to tracker' });
  assert.equal(text(await dave.callTool({ name: 'whoami', arguments: {} })), 'dora');
  assert.ok(cimd.metadataFetches.includes(documentUrl), 'the AS fetched Deputy\'s document');
  assert.deepEqual(clientIdsSeenBy(trackers.cimd), new Set([documentUrl]), 'the token was issued to the document\'s URL');
  assert.deepEqual(cimd.registeredClients, [], 'no dynamic registration when the document is supported');

  // Refresh as a public client (PKCE-bound code, no secret).
  const accounts = secure.outbound.accounts!;
  const key = { issuer: idp.issuer, subject: 'dave', upstream: 'tracker' };
  await accounts.vault.put(key, { ...(await accounts.vault.get(key))!, expiresAt: Date.now() - 1000 });
  const r0 = cimd.tokenRequests.get('refresh_token') ?? 0;
  assert.equal(text(await dave.callTool({ name: 'whoami', arguments: {} })), 'dora');
  assert.equal((cimd.tokenRequests.get('refresh_token') ?? 0) - r0, 1);
  assert.equal(await accounts.vault.getClient({ upstream: 'tracker', issuer: cimd.issuer }), undefined, 'nothing stored');
});

test('two replicas on one PostgreSQL vault: first flows on both at once make one registration, which both use; a registration one replica replaced is used by the other, not forgotten', async () => {
  const pg = await startPostgres();
  onCleanup(() => pg.destroy());
  const as = await startAuthorizationServer({ defaultResource: resourceFor(() => trackers.registering) });
  onCleanup(() => as.close());
  const replicas: Gateway[] = [];
  for (let i = 0; i < 2; i++) {
    replicas.push(await startDeputy(idp, {
      server: { public_url: 'http://127.0.0.1:9' }, // the same public_url (and redirect URI) on both, as behind a load balancer
      upstreams: [{ name: 'tracker', type: 'mcp', url: trackers.registering.url, protocol: '2025-11-25', credentials: { type: 'user_oauth', issuer: as.issuer, scopes: SCOPE.split(' ') } }],
      vault: { store: pg.url, keys: [{ id: 'k1', secret: { env: 'VAULT_KEY' } }] },
      login: { issuer: idp.issuer, client_id: 'deputy-web', client_secret: { env: 'WEB_SECRET' } },
      env: { WEB_SECRET, VAULT_KEY },
    }));
  }
  const urls = await Promise.all(Array.from({ length: 10 }, (_, i) => replicas[i % 2]!.outbound.accounts!.client('tracker')!.authorizationUrl({ state: `s${i}`, verifier: 'v'.repeat(43) })));
  assert.equal(as.registeredClients.length, 1, 'one registration across both replicas');
  assert.deepEqual(new Set(urls.map((u) => u.searchParams.get('client_id'))), new Set(as.registeredClients));
  const rows = await pg.query<{ upstream: string; issuer: string; sealed: Buffer }>('SELECT upstream, issuer, sealed FROM vault_clients');
  assert.deepEqual(rows.map((r) => [r.upstream, r.issuer]), [['tracker', as.issuer]]);
  const secret = (await replicas[1]!.outbound.accounts!.vault.getClient({ upstream: 'tracker', issuer: as.issuer }))!.clientSecret!;
  assert.ok(!rows[0]!.sealed.toString('latin1').includes(secret), 'sealed in PostgreSQL');

  // The AS drops the registration. Replica A learns it first (invalid_client) and registers again;
  // replica B, still holding the old one, gets invalid_client too: it must use the new registration,
  // not forget it (that would end people's connections made with the new client).
  const [a, b] = replicas.map((r) => r.outbound.accounts!.client('tracker')!);
  const first = as.registeredClients[0]!;
  await as.provider.Client.adapter.destroy(first);
  await assert.rejects(a!.refresh('not-a-refresh-token'), /no longer knows Deputy's registered client \(invalid_client\)/);
  await a!.authorizationUrl({ state: 's', verifier: 'v'.repeat(43) });
  assert.equal(as.registeredClients.length, 2, 'A registered again');
  await assert.rejects(b!.refresh('not-a-refresh-token'), /refused the refresh token \(invalid_grant/, 'B retried with the new client (whose answer is about the token, not the client)');
  assert.equal((await b!.identity()).clientId, as.registeredClients[1], 'B now uses the new registration');
  assert.equal((await replicas[0]!.outbound.accounts!.vault.getClient({ upstream: 'tracker', issuer: as.issuer }))!.clientId, as.registeredClients[1], 'the new registration is kept');
  assert.equal(as.registeredClients.length, 2, 'nobody registered a third time');
});

test('no way to get a client (metadata documents need https; no registration): a clear page, and the log says what to configure', async () => {
  const erin = await mcp(deputy, deputy.url, 'wiki', 'erin');
  const link = await consentLink(erin);
  const page = await followConnectLink(browser, link.url, { deputyUrl: deputy.url, thirdPartyIssuer: cimdOnly.issuer, person: 'erin', trackerUser: 'eve' });
  assert.deepEqual(page, { status: 502, heading: 'Deputy cannot connect wiki accounts yet' });
  const line = logLines.find((l) => l.includes('no client at the upstream') && l.includes("upstream 'wiki'"));
  assert.ok(line, 'the operator is told');
  assert.match(line!, /must be https/);
  assert.match(line!, /set client_id and client_secret for this upstream/);
  assert.deepEqual(cimdOnly.metadataFetches, [], 'an http client_id is never offered');
  assert.deepEqual(cimdOnly.registeredClients, []);
});
