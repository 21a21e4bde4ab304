// A REST API described by OpenAPI, served through Deputy as MCP tools on /mcp/<name> and /mcp, with
// a client-credentials token Deputy obtains from the real AS — never the client's token.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as jose from 'jose';
import { startRecordingServer } from '../upstreams/openapi/support.ts';
import { connectClient, logLines, startAs, startDeputy, userToken } from '../support/stack.ts';

const spec = new URL('../upstreams/openapi/fixtures/bank.openapi.yaml', import.meta.url).pathname;

test('OpenAPI upstream: tools through Deputy with its own client-credentials token', async () => {
  const as = await startAs({
    clients: [
      { client_id: 'test-client', client_secret: 'test-client-secret', grant_types: ['client_credentials', 'authorization_code'], redirect_uris: ['http://127.0.0.1/cb'], response_types: ['code'], scope: 'mcp:tools' },
      { client_id: 'deputy', client_secret: 'deputy-secret', grant_types: ['client_credentials'], scope: 'bank:read' },
    ],
    resources: { 'https://bank.internal': { scope: 'bank:read', format: 'jwt' } },
  });
  const api = await startRecordingServer();
  const account = { id: 'a1', owner: 'alice' };
  api.respond((req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(req.url.split('?')[0] === '/accounts' ? [account] : account));
  });
  const deputy = await startDeputy(as, {
    upstreams: [{
      name: 'bank', type: 'openapi', spec, base_url: api.url,
      credentials: { type: 'client_credentials', token_endpoint: `${as.issuer}/token`, client_id: 'deputy', client_secret: { env: 'DEPUTY_SECRET' }, resource: 'https://bank.internal', scope: 'bank:read' },
    }],
    env: { DEPUTY_SECRET: 'deputy-secret' },
  });

  const token = await userToken(as, `${deputy.url}/mcp/bank`);
  const client = await connectClient(`${deputy.url}/mcp/bank`, token);
  const { tools } = await client.listTools();
  assert.ok(tools.some((t) => t.name === 'getAccount'));
  const r = await client.callTool({ name: 'getAccount', arguments: { accountId: '../admin' } });
  assert.equal(r.isError, undefined, JSON.stringify(r));
  const sent = api.requests.at(-1)!;
  assert.match(sent.url, /^\/accounts\/\.\.%2Fadmin/);
  const credential = String(sent.headers.authorization).replace(/^Bearer /, '');
  const claims = jose.decodeJwt(credential);
  assert.equal(claims.aud, 'https://bank.internal');
  assert.equal(claims.client_id, 'deputy');

  // The same API on the aggregated endpoint, namespaced.
  const allToken = await userToken(as, `${deputy.url}/mcp`);
  const all = await connectClient(`${deputy.url}/mcp`, allToken);
  const listed = await all.listTools();
  assert.ok(listed.tools.some((t) => t.name === 'bank__listAccounts'), listed.tools.map((t) => t.name).join(', '));
  const r2 = await all.callTool({ name: 'bank__listAccounts', arguments: {} });
  assert.equal(r2.isError, undefined, JSON.stringify(r2));
  assert.equal(api.requests.at(-1)!.url.split('?')[0], '/accounts');

  for (const t of [token, allToken]) {
    assert.ok(!JSON.stringify(api.requests.map((q) => ({ ...q, body: q.body.toString() }))).includes(t), 'client token reached the API');
    assert.ok(!logLines.join('\n').includes(t), 'client token logged');
  }
  await deputy.audit.flush();
  const events = await deputy.audit.query({ limit: 100 });
  assert.ok(events.some((e) => e.route === '/mcp/bank' && e.rpcMethod === 'tools/call' && e.target === 'getAccount' && e.credentialMode === 'client_credentials'));
  assert.equal(as.tokenRequests.get('client_credentials'), 1, 'one token for the service account, cached across both routes');
});

test('OpenAPI upstream: policy hides denied operations and asks for step-up scopes', async () => {
  const as = await startAs();
  const api = await startRecordingServer();
  const deputy = await startDeputy(as, {
    upstreams: [{
      name: 'bank', type: 'openapi', spec, base_url: api.url,
      credentials: { type: 'static', token: { env: 'BANK_TOKEN' } },
      policy: { deny: ['delete*'], tools: { createAccount: { scopes: ['mcp:admin'] } } },
    }],
    env: { BANK_TOKEN: 'bank-service-token' },
  });
  const endpoint = `${deputy.url}/mcp/bank`;
  const client = await connectClient(endpoint, await userToken(as, endpoint, { scope: 'mcp:tools' }));
  const names = (await client.listTools()).tools.map((t) => t.name);
  assert.ok(names.includes('getAccount'));
  assert.ok(!names.includes('deleteAccount'), 'denied by pattern');
  assert.ok(!names.includes('createAccount'), 'needs a scope the principal lacks');
  const denied = await client.callTool({ name: 'deleteAccount', arguments: { accountId: 'a1' } }).catch((e: Error) => e);
  assert.match(String((denied as Error).message), /not allowed \(denied by pattern 'delete\*'\)/);
  const token = await userToken(as, endpoint, { scope: 'mcp:tools' });
  const res = await fetch(endpoint, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'createAccount', arguments: {} } }),
  });
  assert.equal(res.status, 403);
  assert.match(res.headers.get('www-authenticate')!, /error="insufficient_scope".*scope="[^"]*mcp:admin/);
  assert.equal(api.requests.length, 0, 'nothing reached the API');
});
