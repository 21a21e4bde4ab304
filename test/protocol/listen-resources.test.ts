// subscriptions/listen with resourceSubscriptions, for a 2026 client of a handshake-era upstream: the
// acknowledgement names the URIs Deputy could subscribe upstream (resources/subscribe on the
// principal's session), notifications/resources/updated for them arrive tagged with the listen, and
// the upstream subscription ends with the last listen. Real upstream: the SDK 1.x sample server.
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import type { AuthorizationServer } from '../../src/demo/authorization-server.ts';
import type { SampleServer } from '../../src/demo/sample-mcp-server.ts';
import type { Gateway } from '../../src/gateway.ts';
import { waitFor } from '../support/ports.ts';
import { mcpPost, startAs, startDeputy, startUpstream, userToken } from '../support/stack.ts';

let as: AuthorizationServer;
let deputy: Gateway;
let notes: SampleServer;

before(async () => {
  as = await startAs();
  notes = await startUpstream({ name: 'notes', resourceUpdates: true });
  deputy = await startDeputy(as, {
    upstreams: [{ name: 'notes', type: 'mcp', url: notes.url, protocol: '2025-11-25', credentials: { type: 'static', headers: { Authorization: { env: 'UP' } } } }],
    env: { UP: 'Bearer s' },
  });
});

const META = { 'io.modelcontextprotocol/protocolVersion': '2026-07-28', 'io.modelcontextprotocol/clientCapabilities': {} };
const headers = (token: string, method: string, name?: string) => ({ authorization: `Bearer ${token}`, 'mcp-protocol-version': '2026-07-28', 'mcp-method': method, ...(name ? { 'mcp-name': name } : {}) });

/** Opens a listen and collects its SSE messages until closed. */
async function listen(path: string, token: string, notifications: Record<string, unknown>) {
  const abort = new AbortController();
  const res = await fetch(`${deputy.url}${path}`, {
    method: 'POST', signal: abort.signal,
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers(token, 'subscriptions/listen') },
    body: JSON.stringify({ jsonrpc: '2.0', id: 'L1', method: 'subscriptions/listen', params: { notifications, _meta: META } }),
  });
  assert.equal(res.status, 200);
  const messages: { method: string; params: Record<string, unknown> }[] = [];
  void (async () => {
    const decoder = new TextDecoder();
    let buf = '';
    try {
      for await (const chunk of res.body!) {
        buf += decoder.decode(chunk, { stream: true });
        for (let i = buf.indexOf('\n\n'); i !== -1; i = buf.indexOf('\n\n')) {
          const data = buf.slice(0, i).split('\n').find((l) => l.startsWith('data: '));
          buf = buf.slice(i + 2);
          if (data) messages.push(JSON.parse(data.slice(6)));
        }
      }
    } catch {
      // closed by the test
    }
  })();
  await waitFor(() => messages.length > 0, 'the acknowledgement', 5000);
  return { messages, close: () => abort.abort() };
}

async function addNote(path: string, token: string, tool: string) {
  const res = await mcpPost(`${deputy.url}${path}`, { jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: tool, arguments: { text: 'hello' }, _meta: META } }, headers(token, 'tools/call', tool));
  assert.equal(res.status, 200);
}

for (const [path, tool, uri] of [['/mcp/notes', 'add_note', 'notes://all'], ['/mcp', 'notes__add_note', 'deputy://notes/notes://all']] as const) {
  test(`${path}: resourceSubscriptions acknowledged, updates tagged, the upstream subscription ends with the last listen`, async () => {
    const token = await userToken(as, `${deputy.url}${path}`, { sub: `sub-${path}` });
    const subscribes = () => notes.requests.filter((r) => r.body.includes('"resources/subscribe"')).length;
    const unsubscribes = () => notes.requests.filter((r) => r.body.includes('"resources/unsubscribe"')).length;
    const [s0, u0] = [subscribes(), unsubscribes()];
    const a = await listen(path, token, { resourceSubscriptions: [uri, 'nope://unknown'], toolsListChanged: true });
    const ack = a.messages[0]!;
    assert.equal(ack.method, 'notifications/subscriptions/acknowledged');
    // On /mcp the unknown URI names no upstream (deputy://<upstream>/…) and is left out; on
    // /mcp/notes the upstream decides, and the sample server accepts any URI.
    const direct = path === '/mcp/notes';
    assert.deepEqual((ack.params.notifications as Record<string, unknown>).resourceSubscriptions, direct ? [uri, 'nope://unknown'] : [uri]);
    const b = await listen(path, token, { resourceSubscriptions: [uri] });
    assert.equal(subscribes() - s0, direct ? 2 : 1, 'one upstream subscription per URI, shared by both listens');

    await addNote(path, token, tool);
    for (const l of [a, b]) await waitFor(() => l.messages.some((m) => m.method === 'notifications/resources/updated'), `the update on ${path}`, 5000);
    const update = a.messages.find((m) => m.method === 'notifications/resources/updated')!;
    assert.equal(update.params.uri, uri);
    assert.equal((update.params._meta as Record<string, unknown>)['io.modelcontextprotocol/subscriptionId'], 'L1');

    a.close();
    await new Promise((r) => setTimeout(r, 300));
    const unsubscribedUris = () => notes.requests.filter((r) => r.body.includes('"resources/unsubscribe"')).slice(u0).map((r) => (JSON.parse(r.body) as { params: { uri: string } }).params.uri);
    assert.deepEqual(unsubscribedUris(), direct ? ['nope://unknown'] : [], 'notes://all: another listen still wants it');
    b.close();
    await waitFor(() => unsubscribedUris().includes('notes://all'), 'resources/unsubscribe after the last listen', 5000);
    assert.equal(unsubscribes() - u0, direct ? 2 : 1);
  });
}
