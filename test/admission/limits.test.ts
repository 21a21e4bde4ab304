// Overload protection end to end: one principal's GET streams cannot take the connections other
// users' requests need, the gateway and each upstream refuse past their limits with 503/429 and
// Retry-After (audited `overloaded`/`throttled`), every upstream call has a deadline and a size cap,
// the session table is bounded, and a credential the upstream echoes never reaches the client.
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { before, test } from 'node:test';
import type { AuthorizationServer } from '../../src/demo/authorization-server.ts';
import type { SampleServer } from '../../src/demo/sample-mcp-server.ts';
import { onCleanup } from '../support/cleanup.ts';
import { waitFor } from '../support/ports.ts';
import { initializeMessage, mcpPost, startAs, startDeputy, startUpstream, userToken } from '../support/stack.ts';

let as: AuthorizationServer;
let upstream: SampleServer;

before(async () => {
  as = await startAs();
  upstream = await startUpstream();
});

const SECRET = 'Bearer upstream-secret-0123456789abcdef';
const staticCreds = { type: 'static', headers: { Authorization: { env: 'UP' }, 'X-Tenant': 'acme' } };
const env = { UP: SECRET };
const bearer = (t: string) => ({ authorization: `Bearer ${t}` });

async function initialize(url: string, token: string): Promise<string> {
  const res = await mcpPost(url, initializeMessage(), bearer(token));
  await res.text();
  assert.equal(res.status, 200);
  return res.headers.get('mcp-session-id')!;
}

/** Opens a GET stream; resolves with its status once the head arrives (the body stays open). */
async function openStream(url: string, token: string, session: string): Promise<{ status: number; close(): void; retryAfter: string | null; body(): Promise<string> }> {
  const abort = new AbortController();
  const res = await fetch(url, { headers: { ...bearer(token), accept: 'text/event-stream', 'mcp-session-id': session, 'mcp-protocol-version': '2025-06-18' }, signal: abort.signal });
  onCleanup(() => abort.abort());
  return { status: res.status, retryAfter: res.headers.get('retry-after'), close: () => abort.abort(), body: () => res.text() };
}

test('GET streams have their own budget: an upstream full of one user\'s streams still serves everyone\'s requests', async () => {
  const deputy = await startDeputy(as, {
    upstreams: [{ name: 'notes', type: 'mcp', url: upstream.url, credentials: staticCreds, limits: { max_in_flight: 4, max_streams: 3 } }],
    env,
  });
  const url = `${deputy.url}/mcp/notes`;
  const alice = await userToken(as, url, { sub: 'alice' });
  const bob = await userToken(as, url, { sub: 'bob' });
  const streams = [];
  for (let i = 0; i < 3; i++) streams.push(await openStream(url, alice, await initialize(url, alice)));
  assert.deepEqual(streams.map((s) => s.status), [200, 200, 200]);
  const fourth = await openStream(url, alice, await initialize(url, alice));
  assert.equal(fourth.status, 503);
  assert.equal(fourth.retryAfter, '1');
  assert.match(JSON.parse(await fourth.body()).error.message, /limit of 3 concurrent streams/);
  // Bob's requests (more of them than the stream budget) are unaffected.
  const session = await initialize(url, bob);
  const calls = await Promise.all(Array.from({ length: 8 }, (_, i) => mcpPost(url, { jsonrpc: '2.0', id: i + 2, method: 'tools/call', params: { name: 'add', arguments: { a: i, b: 1 } } }, { ...bearer(bob), 'mcp-session-id': session, 'mcp-protocol-version': '2025-06-18' }).then((r) => r.status)));
  assert.deepEqual(calls, Array(8).fill(200));
  await deputy.audit.flush();
  assert.ok((await deputy.audit.query({ limit: 100 })).some((e) => e.outcome === 'overloaded' && e.httpMethod === 'GET' && e.status === 503));
});

test('limits.max_streams_per_principal: one principal\'s extra stream gets 429, another principal is not affected', async () => {
  const deputy = await startDeputy(as, {
    upstreams: [{ name: 'notes', type: 'mcp', url: upstream.url, credentials: staticCreds }],
    limits: { max_streams_per_principal: 2 },
    env,
  });
  const url = `${deputy.url}/mcp/notes`;
  const alice = await userToken(as, url, { sub: 'alice' });
  const carol = await userToken(as, url, { sub: 'carol' });
  const a = [await openStream(url, alice, await initialize(url, alice)), await openStream(url, alice, await initialize(url, alice))];
  assert.deepEqual(a.map((s) => s.status), [200, 200]);
  const third = await openStream(url, alice, await initialize(url, alice));
  assert.equal(third.status, 429);
  assert.ok(Number(third.retryAfter) > 0);
  assert.equal((await openStream(url, carol, await initialize(url, carol))).status, 200);
  a[0]!.close();
  await waitFor(async () => (await openStream(url, alice, await initialize(url, alice))).status === 200, 'a slot freed by closing a stream');
  await deputy.audit.flush();
  assert.ok((await deputy.audit.query({ limit: 100 })).some((e) => e.outcome === 'throttled' && e.status === 429 && e.subject === 'alice'));
});

test('limits.max_in_flight: a short queue, then 503 + Retry-After at once (no hang); the queued request completes', async () => {
  const deputy = await startDeputy(as, {
    upstreams: [{ name: 'notes', type: 'mcp', url: upstream.url, credentials: staticCreds }],
    limits: { max_in_flight: 2, max_queued: 1, queue_timeout_ms: 5000 },
    env,
  });
  const url = `${deputy.url}/mcp/notes`;
  const alice = await userToken(as, url, { sub: 'alice' });
  const session = await initialize(url, alice);
  const slow = (id: number) => mcpPost(url, { jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'count_down', arguments: { from: 4, delay_ms: 150 } } }, { ...bearer(alice), 'mcp-session-id': session, 'mcp-protocol-version': '2025-06-18' });
  const running = [slow(1), slow(2)];
  await new Promise((r) => setTimeout(r, 100));
  const queued = slow(3);
  await new Promise((r) => setTimeout(r, 50));
  const started = Date.now();
  const refused = await slow(4);
  assert.equal(refused.status, 503);
  assert.ok(Date.now() - started < 500, 'refused at once');
  assert.equal(refused.headers.get('retry-after'), '1');
  assert.equal((await refused.json()).error.code, -32013);
  assert.deepEqual(await Promise.all([...running, queued].map(async (p) => (await p).status)), [200, 200, 200]);
});

/** A raw MCP upstream that echoes the Authorization header it received, as JSON or as SSE split mid-secret. */
async function echoUpstream(): Promise<string> {
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let raw = '';
    req.on('data', (d) => (raw += d));
    req.on('end', () => {
      const msg = JSON.parse(raw || '{}');
      const auth = String(req.headers.authorization);
      const text = `you sent ${auth}`;
      const result = JSON.stringify({ jsonrpc: '2.0', id: msg.id, result: { content: [{ type: 'text', text }] } });
      if (msg.params?.name === 'sse') {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        const cut = result.indexOf('secret-0123') + 5;
        res.write(`event: message\ndata: ${result.slice(0, cut)}`);
        setTimeout(() => res.end(`${result.slice(cut)}\n\n`), 50);
        return;
      }
      if (msg.params?.name === 'big') return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ jsonrpc: '2.0', id: msg.id, result: { content: [{ type: 'text', text: 'x'.repeat(10_000) }] } }));
      if (msg.params?.name === 'endless') {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        const t = setInterval(() => res.write(': still working\n\n'), 50);
        res.on('close', () => clearInterval(t));
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end(result);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  onCleanup(() => (server.closeAllConnections(), server.close()));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp`;
}

test('an upstream echoing Deputy\'s credential: overwritten in JSON and in SSE split across chunks; audited', async () => {
  const deputy = await startDeputy(as, { upstreams: [{ name: 'echo', type: 'mcp', url: await echoUpstream(), credentials: staticCreds }], env });
  const url = `${deputy.url}/mcp/echo`;
  const alice = await userToken(as, url, { sub: 'alice' });
  for (const name of ['json', 'sse']) {
    const res = await mcpPost(url, { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name, arguments: {} } }, bearer(alice));
    const body = await res.text();
    assert.equal(res.status, 200);
    assert.ok(!body.includes('upstream-secret'), `${name}: ${body}`);
    assert.match(body, /you sent \*{10,}/);
    if (name === 'json') assert.doesNotThrow(() => JSON.parse(body));
  }
  await deputy.audit.flush();
  const rows = await deputy.audit.query({ limit: 10 });
  assert.ok(rows.filter((e) => e.detail?.includes("echoed Deputy's credential")).length >= 2);
});

test('upstream limits: max_response_bytes cuts a large answer; max_call_ms ends an endless stream; both audited', async () => {
  const deputy = await startDeputy(as, { upstreams: [{ name: 'echo', type: 'mcp', url: await echoUpstream(), credentials: staticCreds, limits: { max_response_bytes: 4096, max_call_ms: 600 } }], env });
  const url = `${deputy.url}/mcp/echo`;
  const alice = await userToken(as, url, { sub: 'alice' });
  const big = await mcpPost(url, { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'big', arguments: {} } }, bearer(alice));
  assert.equal(big.status, 502); // too large before anything was relayed: a proper error answer
  assert.match((await big.json()).error.message, /more than 4096 bytes \(max_response_bytes\)/);
  const started = Date.now();
  const endless = await mcpPost(url, { jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'endless', arguments: {} } }, bearer(alice));
  await endless.text().catch(() => {});
  assert.ok(Date.now() - started < 3000, `endless stream ended after ${Date.now() - started} ms`);
  const details = async () => {
    await deputy.audit.flush();
    return (await deputy.audit.query({ limit: 10 })).map((e) => `${e.outcome}: ${e.detail}`);
  };
  await waitFor(async () => (await details()).some((d) => /upstream_error: .*max_call_ms/.test(d)), 'the endless stream audited as cut by max_call_ms');
  assert.ok((await details()).some((d) => /upstream_error: .*max_response_bytes/.test(d)));
});

test('sessions: a principal past max_sessions_per_principal loses its least recently used; a full table refuses initialize with 503', async () => {
  const deputy = await startDeputy(as, {
    upstreams: [{ name: 'notes', type: 'mcp', url: upstream.url, credentials: staticCreds }],
    limits: { max_sessions_per_principal: 3, max_sessions: 5 },
    env,
  });
  const url = `${deputy.url}/mcp/notes`;
  const agg = `${deputy.url}/mcp`;
  const alice = await userToken(as, url, { sub: 'alice' });
  const ids = [];
  for (let i = 0; i < 5; i++) ids.push(await initialize(url, alice));
  const ping = async (id: string) => (await mcpPost(url, { jsonrpc: '2.0', id: 9, method: 'ping' }, { ...bearer(alice), 'mcp-session-id': id, 'mcp-protocol-version': '2025-06-18' })).status;
  assert.deepEqual(await Promise.all(ids.map(ping)), [404, 404, 200, 200, 200]);
  assert.equal(deputy.sessions.stats().sessions, 3);
  assert.equal(deputy.sessions.stats().evicted, 2);
  // Two more principals fill the table (5); the next initialize is refused, existing sessions live on.
  await initialize(agg, await userToken(as, agg, { sub: 'bob' }));
  await initialize(agg, await userToken(as, agg, { sub: 'carol' }));
  const dave = await mcpPost(agg, initializeMessage(), bearer(await userToken(as, agg, { sub: 'dave' })));
  assert.equal(dave.status, 503);
  assert.ok(dave.headers.get('retry-after'));
  assert.match((await dave.json()).error.message, /session table is full/);
  assert.equal(await ping(ids[4]!), 200);
});

test('the /mcp member\'s per-principal notification streams take at most half of max_streams: clients keep the rest', async () => {
  const deputy = await startDeputy(as, { upstreams: [{ name: 'notes', type: 'mcp', url: upstream.url, credentials: staticCreds, limits: { max_streams: 2 } }], env });
  const agg = `${deputy.url}/mcp`;
  // Three principals on /mcp: each gets an upstream session whose notification stream wants a slot.
  for (const sub of ['p1', 'p2', 'p3']) {
    const t = await userToken(as, agg, { sub });
    const session = await initialize(agg, t);
    await mcpPost(agg, { jsonrpc: '2.0', id: 2, method: 'tools/list' }, { ...bearer(t), 'mcp-session-id': session, 'mcp-protocol-version': '2025-06-18' }).then((r) => r.text());
  }
  await new Promise((r) => setTimeout(r, 300));
  const url = `${deputy.url}/mcp/notes`;
  const alice = await userToken(as, url, { sub: 'alice' });
  const stream = await openStream(url, alice, await initialize(url, alice));
  assert.equal(stream.status, 200, 'a client stream still finds a slot');
});
