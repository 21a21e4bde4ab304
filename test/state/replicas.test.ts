// Two replicas sharing Redis: sessions continue across replicas, one token exchange serves both,
// nothing readable is stored in Redis, and a Redis outage degrades to local caches without failing
// requests, then recovers by itself.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TOKEN_EXCHANGE_GRANT } from '../../src/outbound/token-exchange.ts';
import { clients, DEPUTY_SECRET, deputyClient, lastUpstreamToken } from '../outbound/helpers.ts';
import { waitFor } from '../support/ports.ts';
import { startRedis } from '../support/redis.ts';
import { logLines, startAs, startUpstream, userToken } from '../support/stack.ts';
import { add, openSession, readyz, rpc, startReplica, sumOf } from './helpers.ts';

const PUBLIC = 'http://127.0.0.1:9/'; // the load balancer's URL: the audience tokens carry
const PATH = '/mcp/crm';

async function deployment() {
  const as = await startAs({ clients: clients(deputyClient()) });
  const upstream = await startUpstream();
  const redis = await startRedis();
  const upstreams = [{ name: 'crm', type: 'mcp', url: upstream.url, credentials: { type: 'token_exchange', token_endpoint: `${as.issuer}/token`, client_id: 'deputy', client_secret: { env: 'DEPUTY_SECRET' }, audience: upstream.url, scope: 'notes:read' } }];
  const replica = () => startReplica({ publicUrl: PUBLIC, upstreams, issuers: [{ issuer: as.issuer }], redisUrl: redis.url, env: { DEPUTY_SECRET } });
  const a = await replica();
  const b = await replica();
  const exchanges = () => as.tokenRequests.get(TOKEN_EXCHANGE_GRANT) ?? 0;
  return { as, upstream, redis, a, b, exchanges };
}

test('replicas share sessions and tokens through Redis; an outage degrades each replica to its local cache, then recovers', async () => {
  const { as, upstream, redis, a, b, exchanges } = await deployment();
  const resource = `${PUBLIC.replace(/\/$/, '')}${PATH}`;
  const alice = await userToken(as, resource, { sub: 'alice' });

  // A session opened through A continues through B (and back).
  const session = await openSession(a.url, PATH, alice);
  const viaB = await rpc(b.url, PATH, alice, add(2, 2, 3), session);
  assert.equal(viaB.status, 200, viaB.body);
  assert.equal(sumOf(viaB), 5);
  assert.equal(viaB.session, session, 'B answers within the same Deputy session');

  // 100 calls spread over both replicas: one token exchange in total.
  const before = exchanges();
  for (let i = 0; i < 100; i++) {
    const r = await rpc(i % 2 ? b.url : a.url, PATH, alice, add(10 + i, i, 1), session);
    assert.equal(r.status, 200, r.body);
    assert.equal(sumOf(r), i + 1);
  }
  const total = exchanges();
  assert.equal(total, 1, 'one token exchange served both replicas (it happened on the first call)');
  assert.equal(before, 1);
  assert.ok(a.shared.state!.tokens.sharedHits + b.shared.state!.tokens.sharedHits >= 1, 'one replica used the token the other obtained');

  // Cross-replica single-flight: 20 concurrent first calls by a new user, split over A and B.
  const dave = await userToken(as, resource, { sub: 'dave' });
  const beforeDave = exchanges();
  const burst = await Promise.all(Array.from({ length: 20 }, (_, i) => rpc(i % 2 ? b.url : a.url, PATH, dave, { jsonrpc: '2.0', id: i, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'x', version: '0' } } })));
  assert.deepEqual(burst.map((r) => r.status), Array(20).fill(200));
  const daveExchanges = exchanges() - beforeDave;
  assert.equal(daveExchanges, 1, '20 concurrent first calls over two replicas → one exchange (Redis lock)');

  // Nothing readable in Redis: no exchanged token, no user token, no upstream session id, no subject.
  const exchanged = lastUpstreamToken(upstream);
  const upstreamSession = String(upstream.requests.find((r) => r.headers['mcp-session-id'])?.headers['mcp-session-id']);
  const keys = redis.cli('--scan').trim().split('\n').filter(Boolean);
  assert.ok(keys.some((k) => k.startsWith('deputy:session:')) && keys.some((k) => k.startsWith('deputy:token:')));
  const dump = keys.map((k) => `${k}=${redis.cli('GET', k)}`).join('\n');
  for (const secret of [exchanged, alice, upstreamSession, session, 'alice']) assert.ok(!dump.includes(secret), 'Redis holds only encrypted values under hashed keys');

  // Redis dies. Both replicas keep serving: the existing session (known locally to both), and new sessions.
  const warningsBefore = logLines.filter((l) => l.includes('Redis is unavailable')).length;
  await redis.kill();
  await waitFor(async () => (await readyz(a.url)).body.components.state?.status === 'degraded', 'A to notice the outage');
  const ready = await readyz(a.url);
  assert.equal(ready.status, 200, 'degraded is still ready');
  assert.equal(ready.body.status, 'degraded');
  for (let i = 0; i < 20; i++) {
    const r = await rpc(i % 2 ? b.url : a.url, PATH, alice, add(200 + i, i, 2), session);
    assert.equal(r.status, 200, `during the outage: ${r.body}`);
    assert.equal(sumOf(r), i + 2);
  }
  const outageSession = await openSession(a.url, PATH, alice);
  assert.equal((await rpc(a.url, PATH, alice, add(300, 1, 1), outageSession)).status, 200);
  const erin = await userToken(as, resource, { sub: 'erin' });
  const e1 = await openSession(b.url, PATH, erin);
  assert.equal(sumOf(await rpc(b.url, PATH, erin, add(301, 4, 4), e1)), 8, 'a new user is served during the outage (token exchanged locally)');
  const warnings = logLines.filter((l) => l.includes('Redis is unavailable')).length - warningsBefore;
  assert.equal(warnings, 2, 'one warning per replica for the whole outage, not one per request');

  // Redis returns (empty). The replicas reconnect by themselves and share again.
  await redis.start();
  await waitFor(async () => (await readyz(a.url)).body.status === 'ready' && (await readyz(b.url)).body.status === 'ready', 'both replicas to reconnect');
  const fresh = await openSession(b.url, PATH, alice);
  const back = await rpc(a.url, PATH, alice, add(400, 20, 22), fresh);
  assert.equal(back.status, 200, back.body);
  assert.equal(sumOf(back), 42, 'a session opened through B after recovery continues through A');
  // The session A created during the outage is written back on its next use, then B can serve it.
  assert.equal((await rpc(a.url, PATH, alice, add(401, 1, 2), outageSession)).status, 200);
  const crossed = await rpc(b.url, PATH, alice, add(402, 2, 2), outageSession);
  assert.equal(crossed.status, 200, crossed.body);
  assert.ok(logLines.some((l) => l.includes('Redis is reachable again')));
  console.log(`replicas: session across A→B ok; 100 calls over 2 replicas → ${total} token exchange; 20 concurrent first calls over 2 replicas → ${daveExchanges} exchange; outage: ${warnings} warnings (one per replica), served throughout; recovered`);
});

test('a session deleted through one replica is gone on the other', async () => {
  const { as, a, b } = await deployment();
  const token = await userToken(as, `${PUBLIC.replace(/\/$/, '')}${PATH}`, { sub: 'frank' });
  const session = await openSession(a.url, PATH, token);
  assert.equal((await rpc(b.url, PATH, token, add(2, 1, 1), session)).status, 200);
  const del = await fetch(`${b.url}${PATH}`, { method: 'DELETE', headers: { authorization: `Bearer ${token}`, 'mcp-session-id': session, 'mcp-protocol-version': '2025-06-18' } });
  assert.equal(del.status, 200);
  const after = await rpc(a.url, PATH, token, add(3, 1, 1), session);
  assert.equal(after.status, 404, 'A must not resurrect the deleted session from its local copy');
});

test('another principal cannot ride a shared session', async () => {
  const { as, a, b } = await deployment();
  const resource = `${PUBLIC.replace(/\/$/, '')}${PATH}`;
  const session = await openSession(a.url, PATH, await userToken(as, resource, { sub: 'grace' }));
  const mallory = await userToken(as, resource, { sub: 'mallory' });
  assert.equal((await rpc(b.url, PATH, mallory, add(2, 1, 1), session)).status, 404);
});
