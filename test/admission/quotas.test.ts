// Quotas end to end: buckets keyed on the verified user (re-initialising does not reset them), per
// upstream with per-tool overrides, policy before quota, 429 + Retry-After for whole requests and an
// in-band JSON-RPC error on /mcp, and buckets shared by two replicas through Redis, failing closed for
// possibly-destructive tools when Redis is down.
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import type { AuthorizationServer } from '../../src/demo/authorization-server.ts';
import type { SampleServer } from '../../src/demo/sample-mcp-server.ts';
import { startRedis } from '../support/redis.ts';
import { initializeMessage, mcpPost, startAs, startDeputy, startUpstream, userToken } from '../support/stack.ts';

let as: AuthorizationServer;
let upstream: SampleServer;

before(async () => {
  as = await startAs();
  upstream = await startUpstream({ stateless: true });
});

const creds = { type: 'static', headers: { 'X-Tenant': 'acme' } };
const call = (url: string, token: string, name: string, id = 1, session?: string) =>
  mcpPost(url, { jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: name === 'add' ? { a: 1, b: 2 } : { text: 'x' } } }, { authorization: `Bearer ${token}`, ...(session ? { 'mcp-session-id': session } : {}) });

test('quotas.per_user: keyed on the verified user, not the session; 429 + Retry-After with the retry time; others unaffected', async () => {
  const deputy = await startDeputy(as, { upstreams: [{ name: 'notes', type: 'mcp', url: upstream.url, credentials: creds }], quotas: { per_user: '3/min' } });
  const url = `${deputy.url}/mcp/notes`;
  const alice = await userToken(as, url, { sub: 'alice' });
  const statuses = [];
  for (let i = 0; i < 3; i++) statuses.push((await call(url, alice, 'add', i)).status);
  assert.deepEqual(statuses, [200, 200, 200]);
  // A fresh initialize (a new session) does not reset the bucket: it is spent too.
  const init = await mcpPost(url, initializeMessage(), { authorization: `Bearer ${alice}` });
  assert.equal(init.status, 429);
  const res = await call(url, alice, 'add', 9);
  assert.equal(res.status, 429);
  const retry = Number(res.headers.get('retry-after'));
  assert.ok(retry >= 1 && retry <= 60, `Retry-After ${retry}`);
  const body = await res.json();
  assert.equal(body.id, 9);
  assert.equal(body.error.code, -32013);
  assert.ok(body.error.data.retryAfterMs > 0 && body.error.data.retryAfterMs <= 20_000);
  assert.match(body.error.message, /quotas\.per_user \(3\/min\) is used up/);
  const bob = await userToken(as, url, { sub: 'bob' });
  assert.equal((await call(url, bob, 'add')).status, 200);
  await deputy.audit.flush();
  const throttled = (await deputy.audit.query({ limit: 50 })).filter((e) => e.outcome === 'throttled');
  assert.equal(throttled.length, 2);
  assert.ok(throttled.every((e) => e.subject === 'alice' && e.status === 429));
});

test('upstream quotas: a tool rule overrides per_user for that tool; policy runs first (a denied call spends nothing)', async () => {
  const deputy = await startDeputy(as, {
    upstreams: [{
      name: 'notes', type: 'mcp', url: upstream.url, credentials: creds,
      policy: { deny: ['echo'] },
      quotas: { per_user: '100/min', tools: { add_note: '2/min' } },
    }],
  });
  const url = `${deputy.url}/mcp/notes`;
  const alice = await userToken(as, url, { sub: 'alice' });
  assert.deepEqual([(await call(url, alice, 'add_note')).status, (await call(url, alice, 'add_note')).status, (await call(url, alice, 'add_note')).status], [200, 200, 429]);
  assert.equal((await call(url, alice, 'add')).status, 200, 'other tools use the upstream per_user bucket');
  for (let i = 0; i < 5; i++) assert.equal((await (await call(url, alice, 'echo')).json()).error.code, -32012, 'refused by policy, not by quota');
});

test('/mcp: a tools/call over quota is an in-band JSON-RPC error with the retry time (HTTP 200)', async () => {
  const deputy = await startDeputy(as, { upstreams: [{ name: 'notes', type: 'mcp', url: upstream.url, credentials: creds, quotas: { tools: { 'add*': '1/min' } } }] });
  const url = `${deputy.url}/mcp`;
  const alice = await userToken(as, url, { sub: 'alice' });
  const first = await (await call(url, alice, 'notes__add')).json();
  assert.ok(first.result, JSON.stringify(first));
  const res = await call(url, alice, 'notes__add', 2);
  assert.equal(res.status, 200);
  const body = await res.json();
  assert.equal(body.error.code, -32013);
  assert.ok(body.error.data.retryAfterMs > 0);
  await deputy.audit.flush();
  assert.ok((await deputy.audit.query({ limit: 20 })).some((e) => e.outcome === 'throttled' && e.upstream === 'notes'));
});

test('quotas.shared: two replicas spend one bucket in Redis; with Redis down, a tool call fails closed (503: annotations unknown on the proxy), initialize open', async () => {
  const redis = await startRedis();
  const cfg = {
    upstreams: [{ name: 'notes', type: 'mcp', url: upstream.url, credentials: creds, quotas: { per_user: '4/min' } }],
    quotas: { shared: true },
    state: { store: redis.url, encryption_key: { env: 'STATE_KEY' } },
    env: { STATE_KEY: Buffer.alloc(32, 7).toString('base64') },
  };
  const a = await startDeputy(as, cfg);
  const b = await startDeputy(as, cfg);
  const alice = await userToken(as, `${a.url}/mcp/notes`, { sub: 'alice' });
  const aliceB = await userToken(as, `${b.url}/mcp/notes`, { sub: 'alice' });
  const statuses = [];
  for (let i = 0; i < 3; i++) statuses.push((await call(`${a.url}/mcp/notes`, alice, 'add', i)).status);
  statuses.push((await call(`${b.url}/mcp/notes`, aliceB, 'add', 4)).status);
  statuses.push((await call(`${b.url}/mcp/notes`, aliceB, 'add', 5)).status);
  assert.deepEqual(statuses, [200, 200, 200, 200, 429], 'one bucket of 4 across both replicas');
  assert.ok(redis.cli('--scan', '--pattern', 'deputy:quota:*').trim().length > 0, 'the bucket lives in Redis');

  await redis.kill();
  const bob = await userToken(as, `${a.url}/mcp/notes`, { sub: 'bob' });
  const closed = await call(`${a.url}/mcp/notes`, bob, 'add_note');
  assert.equal(closed.status, 503, 'tools/call of a tool not known to be read-only fails closed');
  assert.match((await closed.json()).error.message, /quota store is unreachable/);
  // initialize is not a tool call: it fails open.
  assert.equal((await mcpPost(`${a.url}/mcp/notes`, initializeMessage(), { authorization: `Bearer ${bob}` })).status, 200);
});
