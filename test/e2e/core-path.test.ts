import assert from 'node:assert/strict';
import { test } from 'node:test';
import { connectClient, startAs, startDeputy, startUpstream, userToken } from '../support/stack.ts';

test('an SDK client lists and calls tools through Deputy; the upstream gets the static credential only', async () => {
  const as = await startAs();
  const upstream = await startUpstream();
  const deputy = await startDeputy(as, {
    upstreams: [{ name: 'notes', type: 'mcp', url: upstream.url, credentials: { type: 'static', headers: { Authorization: { env: 'NOTES_AUTH' } } } }],
    env: { NOTES_AUTH: 'Bearer upstream-service-secret' },
  });
  const token = await userToken(as, `${deputy.url}/mcp/notes`);
  const client = await connectClient(`${deputy.url}/mcp/notes`, token);
  const tools = await client.listTools();
  assert.ok(tools.tools.some((t) => t.name === 'echo'));
  const r = await client.callTool({ name: 'add', arguments: { a: 2, b: 3 } });
  assert.deepEqual((r.content as { text: string }[])[0]!.text, '5');
  assert.ok(upstream.requests.length >= 3);
  for (const rec of upstream.requests) {
    assert.equal(rec.headers.authorization, 'Bearer upstream-service-secret');
    assert.ok(!JSON.stringify(rec).includes(token), 'client token reached the upstream');
  }
  await deputy.audit.flush();
  const events = await deputy.audit.query({});
  assert.ok(events.some((e) => e.rpcMethod === 'tools/call' && e.target === 'add' && e.subject === 'alice' && e.credentialMode === 'static' && e.outcome === 'ok'));
});
