// Refresh where gateways break in practice, with two Deputy replicas sharing a PostgreSQL vault:
// 50 calls at token expiry spread over both replicas make exactly one refresh at the third-party AS
// (the vault's lock, re-read, compare-and-swap), and the rotated refresh token is what both use next.
// The authorization server is found through the tracker's RFC 9728 metadata. Then the AS answers 503 for a while: the refresh is retried, the call fails with a retryable
// credential error, and the person's tokens are kept (no consent asked again). With shared state in
// Redis, a connection completed through one replica is announced to the person's session on the other.
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { after, before, test } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Browser } from 'playwright-core';
import { startAuthorizationServer, type AuthorizationServer } from '../../src/demo/authorization-server.ts';
import { startTracker, type Tracker } from '../../src/demo/tracker.ts';
import type { Gateway } from '../../src/gateway.ts';
import { launchBrowser } from '../support/browser.ts';
import { onCleanup } from '../support/cleanup.ts';
import { followConnectLink } from '../support/connect-flow.ts';
import { freePort } from '../support/ports.ts';
import { startPostgres, type PostgresServer } from '../support/postgres.ts';
import { startAs, startDeputy, TEST_CLIENT, userToken } from '../support/stack.ts';
import { startRedis, type RedisServer } from '../support/redis.ts';
import { ElicitationCompleteNotificationSchema } from '@modelcontextprotocol/sdk/types.js';

const SCOPE = 'issues:read issues:write';
let pg: PostgresServer;
let idp: AuthorizationServer;
let thirdParty: AuthorizationServer;
let thirdPartyPort: number;
let tracker: Tracker;
let replicas: Gateway[];
let browser: Browser;
let redis: RedisServer;

before(async () => {
  pg = await startPostgres();
  redis = await startRedis();
  const ports = [await freePort(), await freePort()];
  const bases = ports.map((p) => `http://127.0.0.1:${p}`);
  idp = await startAs({ interactive: true, clients: [TEST_CLIENT, { client_id: 'deputy-web', client_secret: 'web-secret', redirect_uris: bases.map((b) => `${b}/connect/login/callback`), grant_types: ['authorization_code'], response_types: ['code'], scope: 'openid' }] });
  thirdPartyPort = await freePort();
  thirdParty = await startAuthorizationServer({
    port: thirdPartyPort, interactive: true, refreshTokens: { rotate: true }, scopes: SCOPE.split(' '),
    clients: [{ client_id: 'deputy', client_secret: 'tracker-secret', redirect_uris: bases.map((b) => `${b}/connect/callback`), grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'] }],
    defaultResource: (r) => (r === tracker?.url ? { scope: SCOPE, ttlSeconds: 3600 } : undefined),
  });
  tracker = await startTracker({ issuer: thirdParty.issuer });
  onCleanup(() => tracker.close());
  replicas = [];
  for (const port of ports) {
    replicas.push(await startDeputy(idp, {
      server: { port },
      // No issuer: the tracker's RFC 9728 metadata names its authorization server.
      upstreams: [{ name: 'tracker', type: 'mcp', url: tracker.url, protocol: '2025-11-25', credentials: { type: 'user_oauth', client_id: 'deputy', client_secret: { env: 'TRACKER_SECRET' }, scopes: SCOPE.split(' ') } }],
      vault: { store: pg.url, keys: [{ id: 'k1', secret: { env: 'VAULT_KEY' } }] },
      login: { issuer: idp.issuer, client_id: 'deputy-web', client_secret: { env: 'WEB_SECRET' } },
      state: { store: redis.url, encryption_key: { env: 'STATE_KEY' } },
      env: { TRACKER_SECRET: 'tracker-secret', WEB_SECRET: 'web-secret', VAULT_KEY: 'replicas-share-this-vault-key-0123456789abcdef', STATE_KEY: Buffer.alloc(32, 9).toString('base64') },
    }));
  }
  browser = await launchBrowser();
});
after(async () => {
  await pg?.destroy();
  await redis?.kill();
});

async function client(replica: Gateway, sub: string): Promise<Client> {
  const token = await userToken(idp, `${replica.url}/mcp/tracker`, { sub });
  const c = new Client({ name: 'ide', version: '1.0.0' }, { capabilities: { elicitation: { url: {} } } });
  await c.connect(new StreamableHTTPClientTransport(new URL(`${replica.url}/mcp/tracker`), { requestInit: { headers: { authorization: `Bearer ${token}` } } }));
  onCleanup(() => c.close().catch(() => {}));
  return c;
}
const text = (r: unknown) => (r as { content: { text: string }[] }).content[0]!.text;

test('a connection completed through the other replica reaches the session: notifications/elicitation/complete crosses replicas', async () => {
  const token = await userToken(idp, `${replicas[0]!.url}/mcp/tracker`, { sub: 'hugo' });
  const c = new Client({ name: 'ide', version: '1.0.0' }, { capabilities: { elicitation: { url: {} } } });
  const completed: string[] = [];
  c.setNotificationHandler(ElicitationCompleteNotificationSchema, (n) => void completed.push(n.params.elicitationId));
  await c.connect(new StreamableHTTPClientTransport(new URL(`${replicas[0]!.url}/mcp/tracker`), { requestInit: { headers: { authorization: `Bearer ${token}` } } }));
  onCleanup(() => c.close().catch(() => {}));
  let link = { url: '', elicitationId: '' };
  try {
    await c.callTool({ name: 'whoami', arguments: {} });
  } catch (error) {
    link = (error as { data: { elicitations: { url: string; elicitationId: string }[] } }).data.elicitations[0]!;
  }
  // Behind a load balancer the person's browser may land on the other replica: the whole flow runs there.
  const viaOther = link.url.replace(replicas[0]!.url, replicas[1]!.url);
  assert.equal((await followConnectLink(browser, viaOther, { deputyUrl: replicas[1]!.url, thirdPartyIssuer: thirdParty.issuer, person: 'hugo', trackerUser: 'hal' })).heading, 'Connected to tracker');
  assert.equal(text(await c.callTool({ name: 'whoami', arguments: {} })), 'hal');
  const until = Date.now() + 5000;
  while (!completed.includes(link.elicitationId) && Date.now() < until) {
    await new Promise((r) => setTimeout(r, 100));
    await c.listTools(); // /mcp/<upstream> of a user_oauth upstream has no GET stream: notifications come with requests
  }
  assert.deepEqual(completed, [link.elicitationId], 'the session on the first replica was told, once');
});

test('two replicas, 50 calls at expiry: one refresh at the AS; an AS answering 503 keeps the tokens', async () => {
  const [a, b] = [await client(replicas[0]!, 'grace'), await client(replicas[1]!, 'grace')];
  let link = '';
  try {
    await a.callTool({ name: 'whoami', arguments: {} });
  } catch (error) {
    link = (error as { data: { elicitations: { url: string }[] } }).data.elicitations[0]!.url;
  }
  assert.equal((await followConnectLink(browser, link, { deputyUrl: replicas[0]!.url, thirdPartyIssuer: thirdParty.issuer, person: 'grace', trackerUser: 'gina' })).heading, 'Connected to tracker');
  assert.equal(text(await b.callTool({ name: 'whoami', arguments: {} })), 'gina', 'the other replica reads the same vault');

  const vault = replicas[0]!.outbound.accounts!.vault;
  const key = { issuer: idp.issuer, subject: 'grace', upstream: 'tracker' };
  const before = (await vault.get(key))!;
  await vault.put(key, { ...before, expiresAt: Date.now() - 1000 });
  const r0 = thirdParty.tokenRequests.get('refresh_token') ?? 0;
  const results = await Promise.all(Array.from({ length: 50 }, (_, i) => (i % 2 ? a : b).callTool({ name: 'whoami', arguments: {} })));
  assert.ok(results.every((r) => text(r) === 'gina'));
  assert.equal((thirdParty.tokenRequests.get('refresh_token') ?? 0) - r0, 1, 'exactly one refresh across both replicas');
  const rotated = (await vault.get(key))!;
  assert.notEqual(rotated.refreshToken, before.refreshToken);

  // The AS goes away and a stand-in answers 503 on its port: retried, then a retryable error; tokens kept.
  await vault.put(key, { ...rotated, expiresAt: Date.now() - 1000 });
  await thirdParty.close();
  let hits = 0;
  const standIn = createServer((req, res) => {
    hits++;
    req.resume();
    res.writeHead(503, { 'content-type': 'application/json' }).end('{"error":"temporarily_unavailable"}');
  });
  await new Promise<void>((r) => standIn.listen(thirdPartyPort, '127.0.0.1', () => r()));
  onCleanup(() => new Promise<void>((r) => standIn.close(() => r())));
  const failed = (await a.callTool({ name: 'whoami', arguments: {} }).catch((e: Error & { code?: number }) => e)) as Error & { code?: number };
  assert.ok(failed instanceof Error, 'the call fails while the AS is down');
  assert.notEqual(failed.code, -32042, 'not a consent request: the connection is intact');
  assert.match(failed.message, /could not refresh the connected account just now; retry shortly/);
  assert.equal(hits, 3, 'one refresh and two retries');
  const kept = (await vault.get(key))!;
  assert.equal(kept.refreshToken, rotated.refreshToken, 'tokens kept through transient failures');
});
