// The Streamable HTTP proxy: streaming, sessions bound to principals, protocol checks, bad input and
// unreachable upstreams — against a real SDK upstream and tokens from the real authorization server.
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { before, test } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { AuthorizationServer } from '../../../src/demo/authorization-server.ts';
import type { SampleServer } from '../../../src/demo/sample-mcp-server.ts';
import type { Gateway } from '../../../src/gateway.ts';
import { onCleanup } from '../../support/cleanup.ts';
import { waitFor } from '../../support/ports.ts';
import { connectClient, initializeMessage, logLines, mcpPost, startAs, startDeputy, startUpstream, userToken } from '../../support/stack.ts';

let as: AuthorizationServer;
let upstream: SampleServer;
let deputy: Gateway;
let endpoint: string;
let alice: string;
let bob: string;

before(async () => {
  as = await startAs();
  upstream = await startUpstream();
  deputy = await startDeputy(as, {
    server: { allowed_origins: ['https://app.example.com'], max_body_bytes: 4096 },
    upstreams: [
      { name: 'notes', type: 'mcp', url: upstream.url, credentials: { type: 'static', headers: { Authorization: { env: 'UP' }, 'X-Tenant': 'acme' } } },
      { name: 'down', type: 'mcp', url: 'http://127.0.0.1:9/mcp', timeout_ms: 2000, credentials: { type: 'static', headers: { Authorization: { env: 'UP' } } } },
    ],
    env: { UP: 'Bearer service-credential' },
  });
  endpoint = `${deputy.url}/mcp/notes`;
  alice = await userToken(as, endpoint, { sub: 'alice' });
  bob = await userToken(as, endpoint, { sub: 'bob' });
});

const auth = (t: string) => ({ authorization: `Bearer ${t}` });

test('progress notifications stream through before the result (SSE)', async () => {
  const client = await connectClient(endpoint, alice);
  const seen: string[] = [];
  const result = await client.callTool({ name: 'count_down', arguments: { from: 4, delay_ms: 100 } }, undefined, {
    onprogress: (p) => seen.push(`progress ${p.progress}/${p.total}`),
  });
  seen.push(`result ${(result.content as { text: string }[])[0]!.text}`);
  assert.deepEqual(seen, ['progress 1/4', 'progress 2/4', 'progress 3/4', 'progress 4/4', 'result liftoff']);
});

test('progress arrives incrementally, not buffered until the end', async () => {
  const init = await mcpPost(endpoint, initializeMessage(), auth(alice));
  const session = init.headers.get('mcp-session-id')!;
  await init.text();
  const res = await mcpPost(endpoint, { jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'count_down', arguments: { from: 3, delay_ms: 300 }, _meta: { progressToken: 'p' } } }, { ...auth(alice), 'mcp-session-id': session, 'mcp-protocol-version': '2025-06-18' });
  assert.equal(res.headers.get('content-type'), 'text/event-stream');
  const reader = res.body!.getReader();
  const started = Date.now();
  const first = await reader.read();
  const firstAt = Date.now() - started;
  assert.match(new TextDecoder().decode(first.value), /notifications\/progress/);
  let rest = '';
  for (let r = await reader.read(); !r.done; r = await reader.read()) rest += new TextDecoder().decode(r.value);
  const total = Date.now() - started;
  assert.match(rest, /liftoff/);
  assert.ok(total - firstAt >= 500, `first event at ${firstAt} ms, end at ${total} ms: the stream was buffered`);
});

test('Deputy issues its own session ids and binds them to the principal', async () => {
  const init = await mcpPost(endpoint, initializeMessage(), auth(alice));
  assert.equal(init.status, 200);
  const session = init.headers.get('mcp-session-id')!;
  await init.text();
  const upstreamSession = upstream.requests.at(-1)!;
  assert.ok(session && session.length >= 32);
  assert.notEqual(session, (await upstreamIds()).at(-1), 'the upstream session id must not be exposed');

  const list = { jsonrpc: '2.0', id: 3, method: 'tools/list' };
  const ok = await mcpPost(endpoint, list, { ...auth(alice), 'mcp-session-id': session, 'mcp-protocol-version': '2025-06-18' });
  assert.equal(ok.status, 200);
  await ok.text();

  const hijack = await mcpPost(endpoint, list, { ...auth(bob), 'mcp-session-id': session, 'mcp-protocol-version': '2025-06-18' });
  assert.equal(hijack.status, 404);
  assert.deepEqual(await hijack.json(), { jsonrpc: '2.0', id: 3, error: { code: -32001, message: 'Session not found: start a new session with initialize' } });

  const unknown = await mcpPost(endpoint, list, { ...auth(alice), 'mcp-session-id': 'made-up', 'mcp-protocol-version': '2025-06-18' });
  assert.equal(unknown.status, 404);
  await unknown.text();
  assert.ok(upstreamSession);
});

async function upstreamIds(): Promise<string[]> {
  return upstream.requests.map((r) => r.headers['mcp-session-id']).filter((v): v is string => typeof v === 'string');
}

test('DELETE ends the session at the upstream and at Deputy', async () => {
  const init = await mcpPost(endpoint, initializeMessage(), auth(alice));
  const session = init.headers.get('mcp-session-id')!;
  await init.text();
  const del = await fetch(endpoint, { method: 'DELETE', headers: { ...auth(alice), 'mcp-session-id': session, 'mcp-protocol-version': '2025-06-18' } });
  assert.equal(del.status, 200);
  assert.equal(upstream.requests.at(-1)!.method, 'DELETE');
  const after = await mcpPost(endpoint, { jsonrpc: '2.0', id: 1, method: 'ping' }, { ...auth(alice), 'mcp-session-id': session });
  assert.equal(after.status, 404);
});

test('GET opens the server-to-client SSE stream through the proxy', async () => {
  const init = await mcpPost(endpoint, initializeMessage(), auth(alice));
  const session = init.headers.get('mcp-session-id')!;
  await init.text();
  const ac = new AbortController();
  const res = await fetch(endpoint, { headers: { ...auth(alice), accept: 'text/event-stream', 'mcp-session-id': session, 'mcp-protocol-version': '2025-06-18' }, signal: ac.signal });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-type'), 'text/event-stream');
  ac.abort();
});

test('only configured headers reach the upstream: no client Authorization, cookies or hop-by-hop headers', async () => {
  const before = upstream.requests.length;
  const res = await mcpPost(endpoint, initializeMessage(), { ...auth(alice), cookie: 'sid=secret-cookie', 'proxy-authorization': 'Basic eA==', 'x-forwarded-for': '1.2.3.4', connection: 'keep-alive, x-custom', 'x-custom': '1' });
  assert.equal(res.status, 200);
  await res.text();
  const rec = upstream.requests.slice(before).at(-1)!;
  assert.equal(rec.headers.authorization, 'Bearer service-credential');
  assert.equal(rec.headers['x-tenant'], 'acme');
  for (const h of ['cookie', 'proxy-authorization', 'x-forwarded-for', 'x-custom']) assert.equal(rec.headers[h], undefined, h);
  assert.ok(!JSON.stringify(upstream.requests).includes(alice), 'the client token reached the upstream');
});

test('Origin: allow-listed and own origin pass, others get 403', async () => {
  const good = await mcpPost(endpoint, initializeMessage(), { ...auth(alice), origin: 'https://app.example.com' });
  assert.equal(good.status, 200);
  assert.equal(good.headers.get('access-control-allow-origin'), 'https://app.example.com');
  await good.text();
  const own = await mcpPost(endpoint, initializeMessage(), { ...auth(alice), origin: deputy.url });
  assert.equal(own.status, 200);
  await own.text();
  const bad = await mcpPost(endpoint, initializeMessage(), { ...auth(alice), origin: 'https://evil.example' });
  assert.equal(bad.status, 403);
  assert.match((await bad.json()).error_description, /Origin https:\/\/evil.example is not allowed/);
});

test('unsupported MCP-Protocol-Version → 400', async () => {
  const res = await mcpPost(endpoint, { jsonrpc: '2.0', id: 1, method: 'ping' }, { ...auth(alice), 'mcp-protocol-version': '1999-01-01' });
  assert.equal(res.status, 400);
  assert.match((await res.json()).error.message, /unsupported MCP-Protocol-Version "1999-01-01"; supported: 2025-03-26, 2025-06-18, 2025-11-25/);
});

test('oversized body → 413 before anything is forwarded', async () => {
  const before = upstream.requests.length;
  const res = await mcpPost(endpoint, { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'echo', arguments: { text: 'x'.repeat(10_000) } } }, auth(alice));
  assert.equal(res.status, 413);
  assert.match((await res.json()).error.message, /exceeds the limit of 4096 bytes/);
  assert.equal(upstream.requests.length, before);
});

const malformed: [string, string, number, number, string][] = [
  ['not JSON', '{"jsonrpc":', 400, -32700, 'Parse error'],
  ['a batch', '[{"jsonrpc":"2.0","id":1,"method":"ping"}]', 400, -32600, 'batches are not supported'],
  ['wrong version', '{"jsonrpc":"1.0","id":1,"method":"ping"}', 400, -32600, '"jsonrpc" must be "2.0"'],
  ['no method', '{"jsonrpc":"2.0","id":1}', 400, -32600, 'needs "method"'],
  ['object id', '{"jsonrpc":"2.0","id":{},"method":"ping"}', 400, -32600, '"id" must be a string or a number'],
  ['array params', '{"jsonrpc":"2.0","id":1,"method":"ping","params":[1]}', 400, -32602, 'must be an object'],
  ['tools/call without a name', '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{}}', 400, -32602, 'needs params.name'],
  ['a string', '"hello"', 400, -32600, 'expected a JSON-RPC object'],
];
for (const [name, body, status, code, text] of malformed) {
  test(`malformed JSON-RPC (${name}) → ${status} ${code}`, async () => {
    const res = await mcpPost(endpoint, body, auth(alice));
    assert.equal(res.status, status);
    const json = await res.json();
    assert.equal(json.error.code, code);
    assert.ok(json.error.message.includes(text), json.error.message);
  });
}

test('wrong content type → 415', async () => {
  const res = await fetch(endpoint, { method: 'POST', headers: { ...auth(alice), 'content-type': 'text/plain' }, body: '{}' });
  assert.equal(res.status, 415);
});

test('unknown upstream → 404 naming the endpoints', async () => {
  const res = await mcpPost(`${deputy.url}/mcp/nope`, initializeMessage(), auth(alice));
  assert.equal(res.status, 404);
  assert.match((await res.json()).error_description, /\/mcp\/notes/);
});

test('unreachable upstream → 502 JSON-RPC error naming it; the gateway stays up', async () => {
  const token = await userToken(as, `${deputy.url}/mcp/down`);
  const res = await mcpPost(`${deputy.url}/mcp/down`, initializeMessage(7), auth(token));
  assert.equal(res.status, 502);
  const json = await res.json();
  assert.equal(json.id, 7);
  assert.equal(json.error.code, -32010);
  assert.match(json.error.message, /^upstream 'down' is unreachable \(.*ECONNREFUSED/);
  const again = await mcpPost(endpoint, initializeMessage(), auth(alice));
  assert.equal(again.status, 200);
  await again.text();
});

test('an upstream refusing Deputy\'s credential is a gateway error, not a client challenge', async () => {
  const strict = await startUpstream({ requireAuthorization: 'Bearer something-else' });
  const gw = await startDeputy(as, { upstreams: [{ name: 'strict', type: 'mcp', url: strict.url, credentials: { type: 'static', headers: { Authorization: { env: 'UP' } } } }], env: { UP: 'Bearer wrong' } });
  const token = await userToken(as, `${gw.url}/mcp/strict`);
  const res = await mcpPost(`${gw.url}/mcp/strict`, initializeMessage(), auth(token));
  assert.equal(res.status, 502);
  assert.equal(res.headers.get('www-authenticate'), null);
  assert.match((await res.json()).error.message, /upstream 'strict' rejected Deputy's credential \(HTTP 401\)/);
});

test('canary: the client token appears in no upstream request, log line, audit row or error body', async () => {
  const bodies: string[] = [];
  for (const [url, body, headers] of [
    [endpoint, '{"jsonrpc":', auth(alice)],
    [endpoint, initializeMessage(), { ...auth(alice), origin: 'https://evil.example' }],
    [`${deputy.url}/mcp/down`, initializeMessage(), auth(alice)],
    [endpoint, initializeMessage(), { ...auth(alice), 'mcp-protocol-version': 'x' }],
    [`${endpoint}?access_token=${alice}`, initializeMessage(), auth(alice)],
  ] as [string, unknown, Record<string, string>][]) {
    const res = await mcpPost(url, body, headers);
    bodies.push(await res.text(), JSON.stringify([...res.headers]));
  }
  await deputy.audit.flush();
  const audit = JSON.stringify(await deputy.audit.query({ limit: 10_000 }));
  for (const [where, text] of [['upstream', JSON.stringify(upstream.requests)], ['logs', logLines.join('\n')], ['audit', audit], ['errors', bodies.join('\n')]] as const) {
    assert.ok(!text.includes(alice), `client token found in ${where}`);
    assert.ok(!text.includes(alice.split('.')[2]!), `client token signature found in ${where}`);
  }
});

test('an SDK client session works end to end across several calls', async () => {
  const client = new Client({ name: 't', version: '1' });
  await client.connect(new StreamableHTTPClientTransport(new URL(endpoint), { requestInit: { headers: auth(bob) } }));
  await client.callTool({ name: 'add_note', arguments: { text: 'from bob' } });
  const r = await client.callTool({ name: 'list_notes', arguments: {} });
  assert.match((r.content as { text: string }[])[0]!.text, /from bob/);
  const prompts = await client.listPrompts();
  assert.ok(prompts.prompts.some((p) => p.name === 'summarize'));
  const res = await client.readResource({ uri: 'notes://readme' });
  assert.match(String((res.contents[0] as { text: string }).text), /sample MCP server/);
  await client.close();
});

test('streaming edge cases on a raw upstream: a 3 MB answer arrives intact; a client leaving an SSE stream closes it upstream', { timeout: 30_000 }, async () => {
  const big = JSON.stringify({ jsonrpc: '2.0', id: 7, result: { content: [{ type: 'text', text: 'x'.repeat(3 * 1024 * 1024) }] } });
  let sseClosed = false;
  const raw = createServer((req, res) => {
    if (req.method === 'GET') {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('event: message\ndata: {"jsonrpc":"2.0","method":"notifications/message","params":{}}\n\n');
      res.on('close', () => (sseClosed = true));
      return;
    }
    req.resume().on('end', () => res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(big) }).end(big));
  });
  await new Promise<void>((r) => raw.listen(0, '127.0.0.1', r));
  onCleanup(() => new Promise((r) => (raw.closeAllConnections(), raw.close(r))));
  const gw = await startDeputy(as, { upstreams: [{ name: 'raw', type: 'mcp', url: `http://127.0.0.1:${(raw.address() as AddressInfo).port}/mcp`, credentials: { type: 'static', headers: { Authorization: { env: 'UP' } } } }], env: { UP: 'Bearer service-credential' } });
  const url = `${gw.url}/mcp/raw`;
  const token = await userToken(as, url, { sub: 'alice' });

  const res = await mcpPost(url, { jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name: 'big', arguments: {} } }, auth(token));
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-length'), String(Buffer.byteLength(big)));
  assert.equal(await res.text(), big);

  const ac = new AbortController();
  const sse = await fetch(url, { headers: { ...auth(token), accept: 'text/event-stream', 'mcp-protocol-version': '2025-06-18' }, signal: ac.signal });
  assert.equal(sse.status, 200);
  const first = await sse.body!.getReader().read();
  assert.match(Buffer.from(first.value!).toString(), /notifications\/message/);
  ac.abort();
  await waitFor(() => sseClosed, 'the upstream SSE response to close after the client left');
  await gw.audit.flush();
  await waitFor(async () => (await gw.audit.query({ limit: 10 })).some((e) => e.httpMethod === 'GET' && e.detail === 'client disconnected before the response completed'), 'the audit event of the abandoned stream');
});
