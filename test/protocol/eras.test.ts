// MCP 2026-07-28 beside the handshake era, with real peers of both: the SDK v2 client pinned to
// 2026-07-28 and in auto mode, the SDK 1.x client, an SDK v2 modern-only upstream and SDK 1.x
// upstreams. Each case asserts the era actually negotiated and a real tool call; the 2026 header
// rules are checked with exact answers.
import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { before, test } from 'node:test';
import { Client as ClientV2, StreamableHTTPClientTransport as TransportV2 } from '@modelcontextprotocol/client';
import { acceptedContent, createMcpHandler, inputRequired, McpServer as McpServerV2 } from '@modelcontextprotocol/server';
import { Client as ClientV1 } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport as TransportV1 } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ElicitRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { toNodeHandler } from '@modelcontextprotocol/node';
import * as z from 'zod/v4';
import type { AuthorizationServer } from '../../src/demo/authorization-server.ts';
import type { Gateway } from '../../src/gateway.ts';
import { onCleanup } from '../support/cleanup.ts';
import { waitFor } from '../support/ports.ts';
import { connectClient, logLines, mcpPost, startAs, startDeputy, startUpstream, userToken } from '../support/stack.ts';

let as: AuthorizationServer;
let deputy: Gateway;
let notesRequests: { headers: IncomingHttpHeaders; body: string }[];
const dualSeen: IncomingHttpHeaders[] = [];
const modernSeen: IncomingHttpHeaders[] = [];
const SECRET = 'Bearer modern-upstream-secret-42';

/** An SDK v2 server that speaks only 2026-07-28 (`legacy: 'reject'`), or both eras. */
async function v2Upstream(legacy: 'reject' | 'stateless', seen?: IncomingHttpHeaders[]): Promise<string> {
  const handler = toNodeHandler(createMcpHandler(({ era }: { era: string }) => {
    const s = new McpServerV2({ name: `v2-${legacy}`, version: '1.0.0' });
    s.registerTool('echo', { description: 'Echo', inputSchema: z.object({ text: z.string() }) }, async ({ text }: { text: string }) => ({ content: [{ type: 'text', text: `${text} (${era})` }] }));
    s.registerTool('ask', { description: 'Ask the user for a name (multi round-trip)', inputSchema: z.object({}) }, async (_a: unknown, ctx: { mcpReq: { inputResponses?: unknown } }) => {
      const got = acceptedContent(ctx.mcpReq.inputResponses as never, 'who', z.object({ name: z.string() }));
      if (!got) return inputRequired({ inputRequests: { who: inputRequired.elicit({ message: 'Name?', requestedSchema: { type: 'object', properties: { name: { type: 'string' } }, required: ['name'] } }) } });
      return { content: [{ type: 'text', text: `hello ${got.name}` }] };
    });
    s.registerTool('ask_state', { description: 'Multi round-trip with requestState', inputSchema: z.object({}) }, async (_a: unknown, ctx: { mcpReq: { inputResponses?: unknown; requestState(): string | undefined } }) => {
      const got = acceptedContent(ctx.mcpReq.inputResponses as never, 'who', z.object({ name: z.string() }));
      if (!got) return inputRequired({ inputRequests: { who: inputRequired.elicit({ message: 'Name?', requestedSchema: { type: 'object', properties: { name: { type: 'string' } }, required: ['name'] } }) }, requestState: 'upstream-state-123' });
      return { content: [{ type: 'text', text: `hello ${got.name} (state ${ctx.mcpReq.requestState() === 'upstream-state-123' ? 'ok' : 'wrong'})` }] };
    });
    return s;
  }, { legacy }));
  const server = createServer((req, res) => {
    seen?.push(req.headers);
    if (req.headers.authorization !== SECRET) return void res.writeHead(401).end();
    handler(req, res);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  onCleanup(() => (server.closeAllConnections(), server.close()));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp`;
}

before(async () => {
  as = await startAs();
  const notes = await startUpstream({ stateless: true });
  notesRequests = notes.requests;
  deputy = await startDeputy(as, {
    upstreams: [
      { name: 'notes', type: 'mcp', url: notes.url, credentials: { type: 'static', headers: { Authorization: { env: 'UP' } } } },
      { name: 'modern', type: 'mcp', url: await v2Upstream('reject', modernSeen), credentials: { type: 'static', headers: { Authorization: { env: 'UP' } } } },
      { name: 'dual', type: 'mcp', url: await v2Upstream('stateless', dualSeen), credentials: { type: 'static', headers: { Authorization: { env: 'UP' } } } },
      { name: 'dyn', type: 'mcp', url: (await startUpstream({ dynamicTools: true, name: 'dyn' })).url, credentials: { type: 'static', headers: { Authorization: { env: 'UP' } } } },
    ],
    env: { UP: SECRET },
  });
});

async function v2Client(path: string, mode: 'auto' | { pin: string }, sub = 'alice', elicit?: () => unknown): Promise<{ client: ClientV2; token: string }> {
  const token = await userToken(as, `${deputy.url}${path}`, { sub });
  const client = new ClientV2({ name: 'era-test', version: '1.0.0' }, { versionNegotiation: { mode }, ...(elicit ? { capabilities: { elicitation: { form: {} } } } : {}) } as never);
  if (elicit) client.setRequestHandler('elicitation/create' as never, (async () => elicit()) as never);
  await client.connect(new TransportV2(new URL(`${deputy.url}${path}`), { requestInit: { headers: { authorization: `Bearer ${token}` } } }));
  onCleanup(() => client.close().catch(() => {}));
  return { client, token };
}

const text = (r: unknown) => ((r as { content: { text: string }[] }).content[0]!.text);

test('a 2026-07-28 client on /mcp: modern era, server/discover from Deputy, a real call to a handshake-era upstream', async () => {
  const { client } = await v2Client('/mcp', { pin: '2026-07-28' });
  assert.equal(client.getProtocolEra(), 'modern');
  assert.equal(client.getNegotiatedProtocolVersion(), '2026-07-28');
  const discover = client.getDiscoverResult() as Record<string, unknown>;
  assert.deepEqual(discover.supportedVersions, ['2026-07-28']);
  assert.equal(discover.cacheScope, 'private');
  const tools = await client.listTools();
  assert.ok(tools.tools.some((t) => t.name === 'notes__add'));
  assert.equal((tools as { cacheScope?: string }).cacheScope, 'private');
  const sum = await client.callTool({ name: 'notes__add', arguments: { a: 2, b: 3 } });
  assert.equal(text(sum), '5');
  assert.equal(deputy.sessions.stats().sessions, 0, 'no session in the 2026 era');
});

test('/mcp/<upstream>: a 2026 client reaches a 2026-only upstream in the 2026 era; the upstream gets Deputy\'s credential and no session', async () => {
  const { client, token } = await v2Client('/mcp/modern', 'auto');
  assert.equal(client.getProtocolEra(), 'modern');
  assert.equal(text(await client.callTool({ name: 'echo', arguments: { text: 'hi' } })), 'hi (modern)');
  assert.ok(modernSeen.length > 0);
  for (const h of modernSeen) {
    assert.equal(h.authorization, SECRET);
    assert.equal(h['mcp-session-id'], undefined);
    assert.ok(!JSON.stringify(h).includes(token));
  }
  assert.ok(modernSeen.some((h) => h['mcp-method'] === 'tools/call' && h['mcp-name'] === 'echo' && h['mcp-protocol-version'] === '2026-07-28'));
  assert.ok(!logLines.some((l) => l.includes(token)));
});

test('/mcp/<upstream>: a 2026 client (pinned or auto) reaches a handshake-only upstream in the 2026 era, Deputy translating', async () => {
  for (const mode of [{ pin: '2026-07-28' }, 'auto'] as const) {
    const { client } = await v2Client('/mcp/notes', mode);
    assert.equal(client.getProtocolEra(), 'modern', JSON.stringify(mode));
    assert.equal((client.getDiscoverResult() as { _meta: Record<string, { name: string }> })._meta['io.modelcontextprotocol/serverInfo']!.name, 'deputy/notes');
    const tools = await client.listTools();
    assert.ok(tools.tools.some((t) => t.name === 'add'), 'the upstream\'s own tool names');
    assert.equal(text(await client.callTool({ name: 'add', arguments: { a: 1, b: 1 } })), '2');
  }
  // Handshake-era clients still get the upstream as it is (proxied, with sessions).
  const token = await userToken(as, `${deputy.url}/mcp/notes`);
  const old = await connectClient(`${deputy.url}/mcp/notes`, token);
  assert.equal(((await old.callTool({ name: 'add', arguments: { a: 2, b: 2 } })).content as { text: string }[])[0]!.text, '4');
});

test('an SDK 1.x client reaches a dual-era SDK v2 upstream in the handshake era', async () => {
  const token = await userToken(as, `${deputy.url}/mcp/dual`);
  const client = await connectClient(`${deputy.url}/mcp/dual`, token);
  const r = await client.callTool({ name: 'echo', arguments: { text: 'old' } });
  assert.equal((r.content as { text: string }[])[0]!.text, 'old (legacy)');
});

const META = { 'io.modelcontextprotocol/protocolVersion': '2026-07-28', 'io.modelcontextprotocol/clientCapabilities': {} };
async function modernPost(body: Record<string, unknown>, headers: Record<string, string>, path = '/mcp') {
  const token = await userToken(as, `${deputy.url}${path}`);
  const res = await mcpPost(`${deputy.url}${path}`, { jsonrpc: '2.0', id: 7, ...body }, { authorization: `Bearer ${token}`, ...headers });
  return { status: res.status, allow: res.headers.get('allow'), body: await res.json().catch(() => undefined) as { error?: { code: number; message: string; data?: unknown }; result?: Record<string, unknown> } };
}
const h = (method: string, extra: Record<string, string> = {}) => ({ 'mcp-protocol-version': '2026-07-28', 'mcp-method': method, ...extra });

test('2026 header rules: mismatches -32020, unsupported version -32022 with the supported list, missing _meta -32602, unknown and removed methods 404', async () => {
  const list = { method: 'tools/list', params: { _meta: META } };
  assert.equal((await modernPost(list, h('tools/list'))).status, 200);
  let r = await modernPost(list, h('tools/list', { 'mcp-protocol-version': '2025-11-25' }));
  assert.deepEqual([r.status, r.body.error?.code], [400, -32020]);
  r = await modernPost(list, h('TOOLS/LIST'));
  assert.deepEqual([r.status, r.body.error?.code], [400, -32020]);
  r = await modernPost(list, { 'mcp-protocol-version': '2026-07-28' });
  assert.deepEqual([r.status, r.body.error?.code], [400, -32020], 'missing Mcp-Method');
  r = await modernPost({ method: 'tools/list', params: { _meta: { ...META, 'io.modelcontextprotocol/protocolVersion': '2027-01-01' } } }, h('tools/list', { 'mcp-protocol-version': '2027-01-01' }));
  assert.deepEqual([r.status, r.body.error?.code, r.body.error?.data], [400, -32022, { supported: ['2026-07-28'], requested: '2027-01-01' }]);
  r = await modernPost({ method: 'tools/list', params: { _meta: { 'io.modelcontextprotocol/protocolVersion': '2026-07-28' } } }, h('tools/list'));
  assert.deepEqual([r.status, r.body.error?.code], [400, -32602], 'missing clientCapabilities');
  r = await modernPost({ method: 'tools/list' }, h('tools/list'));
  assert.deepEqual([r.status, r.body.error?.code], [400, -32602], 'a 2026 header without _meta');
  const call = { method: 'tools/call', params: { name: 'notes__add', arguments: { a: 1, b: 2 }, _meta: META } };
  r = await modernPost(call, h('tools/call'));
  assert.deepEqual([r.status, r.body.error?.code], [400, -32020], 'missing Mcp-Name');
  r = await modernPost(call, h('tools/call', { 'mcp-name': 'notes__other' }));
  assert.deepEqual([r.status, r.body.error?.code], [400, -32020], 'Mcp-Name mismatch');
  r = await modernPost(call, h('tools/call', { 'mcp-name': `=?base64?${Buffer.from('notes__add').toString('base64')}?=` }));
  assert.equal(r.status, 200, 'the base64 form is decoded');
  assert.equal(r.body.result?.resultType, 'complete');
  r = await modernPost(call, h('tools/call', { 'mcp-name': '=?base64?bm90ZXNfX2FkZA?=' }));
  assert.deepEqual([r.status, r.body.error?.code], [400, -32020], 'base64 without padding is refused');
  r = await modernPost({ method: 'nope/nothing', params: { _meta: META } }, h('nope/nothing'));
  assert.deepEqual([r.status, r.body.error?.code], [404, -32601]);
  r = await modernPost({ method: 'ping', params: { _meta: META } }, h('ping'));
  assert.deepEqual([r.status, r.body.error?.code], [404, -32601], 'ping was removed in 2026-07-28');
  r = await modernPost(list, h('tools/list', { 'mcp-session-id': 'whatever' }));
  assert.equal(r.status, 200, 'an Mcp-Session-Id on a 2026 request is ignored (spec)');
});

test('2026 era on GET/DELETE: 405 with Allow: POST; the discover answer of /mcp is exact', async () => {
  const token = await userToken(as, `${deputy.url}/mcp`);
  const get = await fetch(`${deputy.url}/mcp`, { headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream', 'mcp-protocol-version': '2026-07-28' } });
  assert.equal(get.status, 405);
  assert.equal(get.headers.get('allow'), 'POST');
  const r = await modernPost({ method: 'server/discover', params: { _meta: META } }, h('server/discover'));
  assert.equal(r.status, 200);
  const d = r.body.result!;
  assert.deepEqual([d.resultType, d.supportedVersions, d.ttlMs, d.cacheScope], ['complete', ['2026-07-28'], 0, 'private']);
  assert.deepEqual((d._meta as Record<string, unknown>)['io.modelcontextprotocol/serverInfo'], { name: 'deputy', title: 'Deputy (all upstreams)', version: '1.0.0' });
  assert.ok((d.capabilities as Record<string, unknown>).tools);
  assert.equal((d.capabilities as Record<string, unknown>).logging, undefined, 'logging/setLevel does not exist in 2026');
});

test('handshake-era clients reach a 2026-only upstream: on /mcp/<upstream> and /mcp, with its multi round-trip input asked of the client', async () => {
  for (const [path, tool] of [['/mcp/modern', 'ask'], ['/mcp', 'modern__ask']] as const) {
    const token = await userToken(as, `${deputy.url}${path}`, { sub: 'bob' });
    const client = new ClientV1({ name: 'old-client', version: '1.0.0' }, { capabilities: { elicitation: {} } });
    client.setRequestHandler(ElicitRequestSchema, async (req) => {
      assert.equal(req.params.message, 'Name?');
      return { action: 'accept', content: { name: 'ada' } };
    });
    await client.connect(new TransportV1(new URL(`${deputy.url}${path}`), { requestInit: { headers: { authorization: `Bearer ${token}` } } }));
    onCleanup(() => client.close().catch(() => {}));
    const echo = await client.callTool({ name: tool.replace('ask', 'echo'), arguments: { text: 'hey' } });
    assert.equal((echo.content as { text: string }[])[0]!.text, 'hey (modern)', path);
    const asked = await client.callTool({ name: tool, arguments: {} });
    assert.equal((asked.content as { text: string }[])[0]!.text, 'hello ada', path);
  }
  for (const h of modernSeen) assert.equal(h.authorization, SECRET);
});

test('relayed multi round-trip: the upstream\'s requestState reaches the client sealed for that principal; forged or another principal\'s state is refused', async () => {
  // The SDK client answers the elicitation and retries with the state it got (Deputy's envelope).
  const { client } = await v2Client('/mcp/modern', { pin: '2026-07-28' }, 'alice', () => ({ action: 'accept', content: { name: 'ada' } }));
  assert.equal(text(await client.callTool({ name: 'ask_state', arguments: {} })), 'hello ada (state ok)');

  const call = (extra: Record<string, unknown>) => ({ method: 'tools/call', params: { name: 'ask_state', arguments: {}, ...extra, _meta: { ...META, 'io.modelcontextprotocol/clientCapabilities': { elicitation: { form: {} } } } } });
  const first = await modernPost(call({}), h('tools/call', { 'mcp-name': 'ask_state' }), '/mcp/modern');
  assert.equal(first.status, 200);
  const sealed = first.body.result!.requestState as string;
  assert.match(sealed, /^dps1\./);
  const answers = { inputResponses: { who: { action: 'accept', content: { name: 'eve' } } } };
  const ok = await modernPost(call({ ...answers, requestState: sealed }), h('tools/call', { 'mcp-name': 'ask_state' }), '/mcp/modern');
  assert.equal((ok.body.result!.content as { text: string }[])[0]!.text, 'hello eve (state ok)');
  for (const forged of ['upstream-state-123', `${sealed.slice(0, -2)}xx`, 'dps1.e30.AAAA']) {
    const r = await modernPost(call({ ...answers, requestState: forged }), h('tools/call', { 'mcp-name': 'ask_state' }), '/mcp/modern');
    assert.deepEqual([r.status, r.body.error?.code, r.body.error?.message], [400, -32602, 'Invalid or expired requestState']);
  }
  // Another principal presenting alice's envelope.
  const bob = await userToken(as, `${deputy.url}/mcp/modern`, { sub: 'bob' });
  const stolen = await mcpPost(`${deputy.url}/mcp/modern`, { jsonrpc: '2.0', id: 9, ...call({ ...answers, requestState: sealed }) }, { authorization: `Bearer ${bob}`, ...h('tools/call', { 'mcp-name': 'ask_state' }) });
  assert.equal(stolen.status, 400);
  assert.equal((await stolen.json()).error.code, -32602);
});

test('the era matrix: client era × upstream era × route, each with the era negotiated and a real call', async () => {
  const upstreams = { notes: { tool: 'add', args: { a: 1, b: 2 }, expect: /^3$/ }, modern: { tool: 'echo', args: { text: 'm' }, expect: /^m \(modern\)$/ }, dual: { tool: 'echo', args: { text: 'd' }, expect: /^d \((modern|legacy)\)$/ } } as const;
  const cells: string[] = [];
  for (const [name, u] of Object.entries(upstreams)) {
    for (const route of [`/mcp/${name}`, '/mcp']) {
      const tool = route === '/mcp' ? `${name}__${u.tool}` : u.tool;
      for (const clientEra of ['2026-07-28', 'auto', 'sdk-1.x'] as const) {
        let era: string;
        let out: string;
        if (clientEra === 'sdk-1.x') {
          const c = await connectClient(`${deputy.url}${route}`, await userToken(as, `${deputy.url}${route}`, { sub: 'matrix' }));
          era = 'legacy';
          out = ((await c.callTool({ name: tool, arguments: u.args })).content as { text: string }[])[0]!.text;
        } else {
          const { client } = await v2Client(route, clientEra === 'auto' ? 'auto' : { pin: clientEra }, 'matrix');
          era = client.getProtocolEra() ?? "none";
          out = text(await client.callTool({ name: tool, arguments: u.args }));
        }
        assert.match(out, u.expect, `${clientEra} → ${route}`);
        // v2 clients always reach the 2026 era (no downgrade); SDK 1.x clients stay in the handshake era.
        assert.equal(era, clientEra === 'sdk-1.x' ? 'legacy' : 'modern', `${clientEra} → ${route}`);
        cells.push(`${clientEra} → ${route} (${name}): ${era}`);
      }
    }
  }
  assert.equal(cells.length, 18);
  console.log(`era matrix (client → route: negotiated era):\n  ${cells.join('\n  ')}`);
});

test('canary on every era path: no client token in any upstream request, log line, audit row or answer', async () => {
  const tokens: string[] = [];
  const bodies: string[] = [];
  const track = async <T>(p: Promise<{ client: ClientV2; token: string }>, use: (c: ClientV2) => Promise<T>) => {
    const { client, token } = await p;
    tokens.push(token);
    bodies.push(JSON.stringify(await use(client)));
  };
  // 2026 → handshake upstream (translated), 2026 → 2026 upstream (relayed, with MRTR), 2026 → /mcp.
  await track(v2Client('/mcp/notes', { pin: '2026-07-28' }, 'canary'), (c) => c.callTool({ name: 'echo', arguments: { text: 'x' } }));
  await track(v2Client('/mcp/modern', { pin: '2026-07-28' }, 'canary', () => ({ action: 'accept', content: { name: 'c' } })), (c) => c.callTool({ name: 'ask_state', arguments: {} }));
  await track(v2Client('/mcp', 'auto', 'canary'), (c) => c.callTool({ name: 'dual__echo', arguments: { text: 'y' } }));
  // Handshake → 2026-only upstream (translated, with its input request).
  const token = await userToken(as, `${deputy.url}/mcp/modern`, { sub: 'canary' });
  tokens.push(token);
  const old = new ClientV1({ name: 'old', version: '1' }, { capabilities: { elicitation: {} } });
  old.setRequestHandler(ElicitRequestSchema, async () => ({ action: 'accept', content: { name: 'c' } }));
  await old.connect(new TransportV1(new URL(`${deputy.url}/mcp/modern`), { requestInit: { headers: { authorization: `Bearer ${token}` } } }));
  onCleanup(() => old.close().catch(() => {}));
  bodies.push(JSON.stringify(await old.callTool({ name: 'ask', arguments: {} })));
  // Refusals on the new paths.
  for (const t of tokens) {
    const r = await mcpPost(`${deputy.url}/mcp/modern`, { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'ask_state', arguments: {}, requestState: t, _meta: META } }, { authorization: `Bearer ${t}`, ...h('tools/call', { 'mcp-name': 'ask_state' }) });
    bodies.push(await r.text());
    const r2 = await mcpPost(`${deputy.url}/mcp/modern`, { jsonrpc: '2.0', id: 1, method: 'tools/list', params: { _meta: { ...META, 'io.modelcontextprotocol/protocolVersion': t } } }, { authorization: `Bearer ${t}`, ...h('tools/list', { 'mcp-protocol-version': t }) });
    bodies.push(await r2.text());
  }
  await deputy.audit.flush();
  const audit = JSON.stringify(await deputy.audit.query({ limit: 10_000 }));
  const upstreamSide = JSON.stringify([notesRequests, modernSeen, dualSeen]);
  for (const t of tokens) {
    const piece = t.slice(-24);
    assert.ok(!upstreamSide.includes(piece), 'an upstream saw the client token');
    assert.ok(!logLines.some((l) => l.includes(piece)), 'a log line holds the client token');
    assert.ok(!audit.includes(piece), 'an audit row holds the client token');
    assert.ok(!bodies.some((b) => b.includes(piece)), 'an answer holds the client token');
  }
  assert.ok(upstreamSide.includes(SECRET), 'upstreams got Deputy\'s credential');
});

test('subscriptions/listen on /mcp: acknowledged with what can be sent, then the upstreams\' list changes tagged with the subscription', async () => {
  const { client } = await v2Client('/mcp', { pin: '2026-07-28' }, 'listener');
  await client.listTools(); // the principal's upstream sessions (and their notification streams) exist from here
  const changed: unknown[] = [];
  (client as unknown as { setNotificationHandler(m: string, h: (n: unknown) => void): void }).setNotificationHandler('notifications/tools/list_changed', (n) => void changed.push(n));
  const sub = await (client as unknown as { listen(f: object): Promise<{ honoredFilter: unknown; close(): Promise<void> }> }).listen({ toolsListChanged: true, promptsListChanged: true });
  assert.deepEqual(sub.honoredFilter, { toolsListChanged: true, promptsListChanged: true });
  const r = await client.callTool({ name: 'dyn__register_tool', arguments: { name: 'fresh_tool' } });
  assert.match(text(r), /registered fresh_tool/);
  await waitFor(() => changed.length > 0, 'the list change on the listen stream', 5000);
  assert.ok((await client.listTools()).tools.some((t) => t.name === 'dyn__fresh_tool'));
  await sub.close();
});
