// Per-upstream and per-tool policy, end to end on /mcp and /mcp/<upstream>: what a principal sees is
// what it may call; a missing scope is a 403 step-up challenge, anything else a JSON-RPC error; every
// refusal is audited. Plus config validation with key paths.
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { parseConfig } from '../../src/config/schema.ts';
import { ConfigError } from '../../src/config/errors.ts';
import type { AuthorizationServer } from '../../src/demo/authorization-server.ts';
import type { SampleServer } from '../../src/demo/sample-mcp-server.ts';
import type { Gateway } from '../../src/gateway.ts';
import { ToolPolicy } from '../../src/policy/tools.ts';
import type { Principal } from '../../src/inbound/principal.ts';
import { connectClient, initializeMessage, mcpPost, startAs, startDeputy, startUpstream, userToken } from '../support/stack.ts';

let as: AuthorizationServer;
let notes: SampleServer;
let deputy: Gateway;

const policy = {
  deny: ['count_*'],
  tools: {
    add_note: { scopes: ['notes:write'] },
    'list_*': { claims: { groups: 'finance' } },
  },
};

before(async () => {
  as = await startAs({ scopes: ['mcp:tools', 'mcp:admin', 'notes:read', 'notes:write'] });
  notes = await startUpstream({ name: 'notes' });
  const other = await startUpstream({ name: 'other' });
  deputy = await startDeputy(as, {
    auth: { required_scopes: ['mcp:tools'] },
    upstreams: [
      { name: 'notes', type: 'mcp', url: notes.url, credentials: { type: 'static', headers: { Authorization: { env: 'UP' } } }, policy },
      { name: 'admin', type: 'mcp', url: other.url, credentials: { type: 'static', headers: { Authorization: { env: 'UP' } } }, policy: { scopes: ['mcp:admin'] } },
    ],
    env: { UP: 'Bearer service' },
  });
});

const names = async (url: string, token: string) => (await (await connectClient(url, token)).listTools()).tools.map((t) => t.name).sort();

test('/mcp lists only what the principal may call', async () => {
  const url = `${deputy.url}/mcp`;
  const limited = await userToken(as, url, { sub: 'lim', scope: 'mcp:tools' });
  const seen = await names(url, limited);
  assert.deepEqual(seen.filter((n) => n.startsWith('notes__')), ['notes__add', 'notes__echo']);
  assert.ok(!seen.some((n) => n.startsWith('admin__')), 'upstream-wide scope hides the whole upstream');

  const full = await userToken(as, url, { sub: 'full', scope: 'mcp:tools mcp:admin notes:write', claims: { groups: ['staff', 'finance'] } });
  const all = await names(url, full);
  assert.deepEqual(all.filter((n) => n.startsWith('notes__')), ['notes__add', 'notes__add_note', 'notes__echo', 'notes__list_notes']);
  assert.ok(all.includes('admin__echo'));
});

test('/mcp/<upstream> filters tools/list the same way (JSON and SSE answers)', async () => {
  const url = `${deputy.url}/mcp/notes`;
  const limited = await userToken(as, url, { sub: 'lim', scope: 'mcp:tools' });
  assert.deepEqual(await names(url, limited), ['add', 'echo']);
  const finance = await userToken(as, url, { sub: 'fin', scope: 'mcp:tools notes:write', claims: { groups: 'finance' } });
  assert.deepEqual(await names(url, finance), ['add', 'add_note', 'echo', 'list_notes']);
});

test('a missing tool scope is a 403 insufficient_scope challenge naming all needed scopes, and is audited', async () => {
  for (const [path, tool] of [['/mcp', 'notes__add_note'], ['/mcp/notes', 'add_note']] as const) {
    const url = `${deputy.url}${path}`;
    const t = await userToken(as, url, { sub: 'stepper', scope: 'mcp:tools' });
    const auth = { authorization: `Bearer ${t}`, 'mcp-protocol-version': '2025-06-18' };
    const init = await mcpPost(url, initializeMessage(), auth);
    const session = init.headers.get('mcp-session-id')!;
    await init.text();
    const before = notes.requests.length;
    const res = await mcpPost(url, { jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: tool, arguments: { text: 'x' } } }, { ...auth, 'mcp-session-id': session });
    assert.equal(res.status, 403, path);
    const challenge = res.headers.get('www-authenticate')!;
    assert.match(challenge, /error="insufficient_scope"/);
    assert.match(challenge, /scope="mcp:tools notes:write"/);
    assert.match(challenge, new RegExp(`resource_metadata="${deputy.url}/.well-known/oauth-protected-resource${path}"`));
    assert.equal(notes.requests.slice(before).filter((r) => r.body.includes('add_note')).length, 0, 'the call never reached the upstream');
  }
  await deputy.audit.flush();
  const denied = (await deputy.audit.query({})).filter((e) => e.outcome === 'denied' && e.status === 403 && e.rpcMethod === 'tools/call');
  assert.ok(denied.some((e) => e.route === '/mcp' && /needs the scope notes:write/.test(e.detail ?? '')));
  assert.ok(denied.some((e) => e.route === '/mcp/notes' && /needs the scope notes:write/.test(e.detail ?? '')));
});

test('deny globs and unmet claims are JSON-RPC errors saying the tool is not allowed', async () => {
  const url = `${deputy.url}/mcp`;
  const client = await connectClient(url, await userToken(as, url, { sub: 'lim2', scope: 'mcp:tools notes:write' }));
  await assert.rejects(client.callTool({ name: 'notes__count_down', arguments: { from: 1 } }), /not allowed \(denied by pattern 'count_\*'\)/);
  await assert.rejects(client.callTool({ name: 'notes__list_notes', arguments: {} }), /requires the token claim groups=finance/);
  const direct = await connectClient(`${deputy.url}/mcp/notes`, await userToken(as, `${deputy.url}/mcp/notes`, { sub: 'lim2', scope: 'mcp:tools' }));
  await assert.rejects(direct.callTool({ name: 'count_down', arguments: { from: 1 } }), /not allowed/);
  // Allowed tools still work, including the step-up one once the scope is held.
  assert.equal(((await client.callTool({ name: 'notes__add_note', arguments: { text: 'n' } })).content as { text: string }[])[0]!.text, 'saved note #1');
  await deputy.audit.flush();
  const events = await deputy.audit.query({});
  assert.ok(events.some((e) => e.outcome === 'denied' && e.status === 200 && /denied by pattern 'count_\*'/.test(e.detail ?? '')));
});

test('policy decisions: deny beats allow, allow lists, exact and glob rules, claim forms', () => {
  const p = (scopes: string[], claims: Record<string, unknown> = {}): Principal => ({ issuer: 'i', subject: 's', scopes, audience: [], claims, tokenKind: 'jwt' });
  const pol = new ToolPolicy('u', { scopes: [], claims: {}, allow: ['get_*', 'delete_temp'], deny: ['delete_*'], tools: [{ pattern: 'get_secret', scopes: ['s:read'], claims: { tenant: ['acme'] } }] });
  assert.equal(pol.tool(p([]), 'get_x').allowed, true);
  assert.equal(pol.tool(p([]), 'put_x').allowed, false);
  assert.equal(pol.tool(p([]), 'delete_temp').allowed, false, 'deny wins');
  const noClaim = pol.tool(p(['s:read']), 'get_secret');
  assert.ok(!noClaim.allowed && noClaim.scopes === undefined, 'claims cannot be fixed by step-up');
  const noScope = pol.tool(p([], { tenant: 'acme' }), 'get_secret');
  assert.ok(!noScope.allowed && noScope.scopes?.includes('s:read'));
  assert.equal(pol.tool(p(['s:read'], { tenant: 'acme' }), 'get_secret').allowed, true);
  assert.equal(new ToolPolicy('u', { scopes: [], claims: { roles: ['admin'] }, allow: [], deny: [], tools: [] }).upstreamAccess(p([], { roles: 'user admin' })).allowed, true, 'space-separated string claims');
  assert.equal(new ToolPolicy('u', { scopes: [], claims: {}, allow: ['a.b'], deny: [], tools: [] }).tool(p([]), 'aXb').allowed, false, 'pattern characters are literal');
});

test('policy config errors name the exact key', () => {
  const issues = (policy: unknown, extra: Record<string, unknown> = {}) => {
    try {
      parseConfig({ auth: { issuers: [{ issuer: 'https://idp.example.com' }] }, upstreams: [{ name: 'n', type: 'mcp', url: 'http://127.0.0.1:1/mcp', credentials: { type: 'static', headers: { 'X-A': 'b' } }, policy }], ...extra }, { baseDir: '.' });
      return [];
    } catch (e) {
      return (e as ConfigError).issues.map((i) => `${i.path}: ${i.message}`);
    }
  };
  assert.deepEqual(issues({ allow: ['ok_*'], tools: { add: { scopes: ['a'] } } }), []);
  assert.ok(issues({ alow: ['x'] }).some((i) => i.startsWith("upstreams[0].policy.alow: unknown key (did you mean 'allow'?)")));
  assert.ok(issues({ deny: 'delete_*' }).some((i) => i.startsWith('upstreams[0].policy.deny: expected a list')));
  assert.ok(issues({ allow: ['bad pattern!'] }).some((i) => i.startsWith('upstreams[0].policy.allow[0]:')));
  assert.ok(issues({ tools: { add: { scope: ['a'] } } }).some((i) => i.startsWith("upstreams[0].policy.tools.add.scope: unknown key (did you mean 'scopes'?)")));
  assert.ok(issues({ tools: { add: {} } }).some((i) => i.startsWith('upstreams[0].policy.tools.add: expected a mapping with scopes and/or claims')));
  assert.ok(issues({ claims: { groups: [] } }).some((i) => i.startsWith('upstreams[0].policy.claims.groups: expected a value or a non-empty list')));
  assert.ok(issues({}, { aggregate: { separator: '::' } }).some((i) => i.startsWith('aggregate.separator:')));
  assert.ok(issues({}, { aggregate: { unprefixed: 'nope' } }).some((i) => i.startsWith('aggregate.unprefixed: names no configured upstream')));
});
