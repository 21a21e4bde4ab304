// A 2026-07-28 client and a handshake-era upstream that asks the user mid-call (elicitation/create,
// form and URL mode): Deputy parks the upstream's call, answers the client `input_required`, and
// delivers the client's retry to the waiting upstream request. Real peers: the SDK v2 client pinned
// to 2026-07-28 and an SDK 1.x server with sessions. Forged, foreign and stale requestState is refused.
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { Client as ClientV2, StreamableHTTPClientTransport as TransportV2 } from '@modelcontextprotocol/client';
import type { AuthorizationServer } from '../../src/demo/authorization-server.ts';
import type { Gateway } from '../../src/gateway.ts';
import type { SampleServer } from '../../src/demo/sample-mcp-server.ts';
import { onCleanup } from '../support/cleanup.ts';
import { logLines, mcpPost, startAs, startDeputy, startUpstream, userToken } from '../support/stack.ts';

let as: AuthorizationServer;
let deputy: Gateway;
let legacy: SampleServer;
const SECRET = 'Bearer legacy-upstream-secret-7';

before(async () => {
  as = await startAs();
  legacy = await startUpstream({ name: 'legacy', asksUser: true, requireAuthorization: SECRET });
  deputy = await startDeputy(as, {
    upstreams: [{ name: 'legacy', type: 'mcp', url: legacy.url, protocol: '2025-11-25', credentials: { type: 'static', headers: { Authorization: { env: 'UP' } } } }],
    env: { UP: SECRET },
  });
});

type Elicit = { message: string; mode?: string; url?: string };

async function modernClient(path: string, answer: (p: Elicit) => unknown, sub = 'alice', url = true): Promise<{ client: ClientV2; token: string; asked: Elicit[] }> {
  const token = await userToken(as, `${deputy.url}${path}`, { sub });
  const asked: Elicit[] = [];
  const client = new ClientV2({ name: 'modern', version: '1.0.0' }, { versionNegotiation: { mode: { pin: '2026-07-28' } }, capabilities: { elicitation: { form: {}, ...(url ? { url: {} } : {}) } } } as never);
  client.setRequestHandler('elicitation/create' as never, (async (req: { params: Elicit }) => {
    asked.push(req.params);
    return answer(req.params);
  }) as never);
  await client.connect(new TransportV2(new URL(`${deputy.url}${path}`), { requestInit: { headers: { authorization: `Bearer ${token}` } } }));
  onCleanup(() => client.close().catch(() => {}));
  return { client, token, asked };
}
const text = (r: unknown) => (r as { content: { text: string }[] }).content[0]!.text;

test('form elicitation from a handshake-era upstream reaches a 2026 client as input_required, on /mcp/<upstream> and /mcp', async () => {
  for (const [path, tool] of [['/mcp/legacy', 'confirm_note'], ['/mcp', 'legacy__confirm_note']] as const) {
    const { client, asked } = await modernClient(path, () => ({ action: 'accept', content: { confirm: true } }));
    assert.equal(client.getNegotiatedProtocolVersion?.() ?? '2026-07-28', '2026-07-28');
    assert.equal(text(await client.callTool({ name: tool, arguments: { text: `via ${path}` } })), `stored: via ${path}`, path);
    assert.equal(asked.length, 1);
    assert.equal(asked[0]!.message, `Store the note "via ${path}"?`);
    const declined = await modernClient(path, () => ({ action: 'decline' }), 'bob');
    assert.equal(text(await declined.client.callTool({ name: tool, arguments: { text: 'no' } })), 'not stored (decline)', path);
  }
});

test('URL-mode elicitation and two questions in a row; a client without URL support makes the upstream hear an error, not hang', async () => {
  const { client, asked } = await modernClient('/mcp/legacy', (p) => (p.mode === 'url' ? { action: 'accept' } : { action: 'accept', content: { confirm: p.message === 'First?' } }));
  assert.equal(text(await client.callTool({ name: 'open_page', arguments: { url: 'https://tracker.example/connect' } })), 'page: accept');
  assert.deepEqual([asked[0]!.mode, asked[0]!.url], ['url', 'https://tracker.example/connect']);
  assert.equal(text(await client.callTool({ name: 'two_questions', arguments: {} })), 'answers: true, false');
  assert.deepEqual(asked.slice(1).map((a) => a.message), ['First?', 'Second?']);

  const formOnly = await modernClient('/mcp/legacy', () => ({ action: 'accept' }), 'carol', false);
  const r = (await formOnly.client.callTool({ name: 'open_page', arguments: { url: 'https://tracker.example/connect' } })) as { isError?: boolean; content: { text: string }[] };
  assert.equal(r.isError, true);
  assert.match(r.content[0]!.text, /URL mode|url elicitation|not support/i);
  assert.equal(formOnly.asked.length, 0);
});

const META = { 'io.modelcontextprotocol/protocolVersion': '2026-07-28', 'io.modelcontextprotocol/clientCapabilities': { elicitation: { form: {} } } };
async function call(token: string, params: Record<string, unknown>) {
  const res = await mcpPost(`${deputy.url}/mcp/legacy`, { jsonrpc: '2.0', id: 3, method: 'tools/call', params: { ...params, _meta: META } }, { authorization: `Bearer ${token}`, 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/call', 'mcp-name': String(params.name) });
  return { status: res.status, body: (await res.json()) as { result?: Record<string, unknown>; error?: { code: number; message: string } } };
}

test('the retry is bound: another principal\'s, a forged, a replayed or a different call\'s requestState is refused; the canary holds', async () => {
  const alice = await userToken(as, `${deputy.url}/mcp/legacy`, { sub: 'alice' });
  const mallory = await userToken(as, `${deputy.url}/mcp/legacy`, { sub: 'mallory' });
  const first = await call(alice, { name: 'confirm_note', arguments: { text: 'bound' } });
  assert.equal(first.status, 200);
  const r = first.body.result!;
  assert.equal(r.resultType, 'input_required');
  const [key] = Object.keys(r.inputRequests as object);
  assert.equal((r.inputRequests as Record<string, { method: string }>)[key!]!.method, 'elicitation/create');
  const state = r.requestState as string;
  const yes = { [key!]: { action: 'accept', content: { confirm: true } } };

  for (const [who, token, params] of [
    ['another principal', mallory, { name: 'confirm_note', arguments: { text: 'bound' }, inputResponses: yes, requestState: state }],
    ['a forged state', alice, { name: 'confirm_note', arguments: { text: 'bound' }, inputResponses: yes, requestState: `${state.slice(0, -4)}AAAA` }],
    ['a different tool', alice, { name: 'two_questions', arguments: {}, inputResponses: yes, requestState: state }],
  ] as const) {
    const refused = await call(token, params);
    assert.deepEqual([refused.status, refused.body.error?.code], [400, -32602], who);
  }
  const done = await call(alice, { name: 'confirm_note', arguments: { text: 'bound' }, inputResponses: yes, requestState: state });
  assert.deepEqual([done.status, done.body.result?.resultType, text(done.body.result)], [200, 'complete', 'stored: bound']);
  const replay = await call(alice, { name: 'confirm_note', arguments: { text: 'bound' }, inputResponses: yes, requestState: state });
  assert.deepEqual([replay.status, replay.body.error?.code], [400, -32602], 'a finished call cannot be resumed again');

  await deputy.audit.flush();
  const rows = JSON.stringify(await deputy.audit.query({ limit: 1000 }));
  for (const token of [alice, mallory]) {
    assert.ok(!legacy.requests.some((q) => JSON.stringify(q).includes(token)), 'client token reached the upstream');
    assert.ok(!rows.includes(token), 'client token in an audit row');
    assert.ok(!logLines.some((l) => l.includes(token)), 'client token in a log line');
  }
  assert.ok(!rows.includes(SECRET.slice(7)), 'upstream secret in an audit row');
});
