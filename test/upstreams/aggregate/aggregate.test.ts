// The aggregated endpoint /mcp against real SDK upstreams: merged listings with namespaced names,
// routing of calls/prompts/resources, compound cursors, list_changed relay, partial failure (a killed
// upstream and a hung one), upstream session lifecycle — and the client token never leaving Deputy.
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { ToolListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import type { AuthorizationServer } from '../../../src/demo/authorization-server.ts';
import type { SampleServer } from '../../../src/demo/sample-mcp-server.ts';
import type { Gateway } from '../../../src/gateway.ts';
import { connectClient, initializeMessage, logLines, mcpPost, startAs, startDeputy, startUpstream, userToken } from '../../support/stack.ts';
import { startPagedUpstream, startSilentUpstream } from './helpers.ts';

let as: AuthorizationServer;
let notes: SampleServer;
let crm: SampleServer;
let doomed: SampleServer;
let dyn: SampleServer;
let deputy: Gateway;
let endpoint: string;
let token: string;
const LONG = `x${'y'.repeat(60)}`;

before(async () => {
  as = await startAs();
  notes = await startUpstream({ name: 'notes' });
  crm = await startUpstream({ name: 'crm', extraTools: { [LONG]: () => 'long ok', 'b__c': () => 'crm b__c' } });
  doomed = await startUpstream({ name: 'doomed' });
  dyn = await startUpstream({ name: 'dyn', dynamicTools: true });
  const paged = await startPagedUpstream(5, 2);
  const silent = await startSilentUpstream();
  const cred = (env: string) => ({ type: 'static', headers: { Authorization: { env } } });
  deputy = await startDeputy(as, {
    upstreams: [
      { name: 'notes', type: 'mcp', url: notes.url, credentials: cred('NOTES') },
      { name: 'crm', type: 'mcp', url: crm.url, credentials: cred('CRM') },
      // `crm__b` + tool `c` and `crm` + tool `b__c` both want the name crm__b__c.
      { name: 'crm__b', type: 'mcp', url: (await startUpstream({ name: 'crm__b', extraTools: { c: () => 'crm__b c' } })).url, credentials: cred('CRM') },
      { name: 'doomed', type: 'mcp', url: doomed.url, credentials: cred('NOTES') },
      { name: 'dyn', type: 'mcp', url: dyn.url, credentials: cred('NOTES') },
      { name: 'paged', type: 'mcp', url: paged.url, credentials: cred('NOTES') },
      { name: 'silent', type: 'mcp', url: silent.url, timeout_ms: 300, credentials: cred('NOTES') },
    ],
    env: { NOTES: 'Bearer notes-service-secret', CRM: 'Bearer crm-service-secret' },
  });
  endpoint = `${deputy.url}/mcp`;
  token = await userToken(as, endpoint, { sub: 'alice' });
});

async function allTools(client: Client): Promise<string[]> {
  const names: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await client.listTools(cursor ? { cursor } : {});
    names.push(...page.tools.map((t) => t.name));
    cursor = page.nextCursor;
  } while (cursor);
  return names;
}

const text = (r: unknown) => ((r as { content: { text: string }[] }).content[0]!.text);

test('initialize answers as Deputy with the union of the upstreams\' capabilities', async () => {
  const client = await connectClient(endpoint, token);
  assert.equal(client.getServerVersion()?.name, 'deputy');
  const caps = client.getServerCapabilities()!;
  assert.ok(caps.tools && caps.prompts && caps.resources && caps.logging);
});

test('tools/list merges every upstream with namespaced names, paging through a compound cursor', async () => {
  const client = await connectClient(endpoint, token);
  const names = await allTools(client);
  for (const n of ['notes__echo', 'notes__add_note', 'crm__echo', 'doomed__echo', 'dyn__register_tool', 'paged__t0', 'paged__t4']) assert.ok(names.includes(n), `${n} missing from ${names.join(', ')}`);
  assert.equal(names.filter((n) => n.startsWith('paged__')).length, 5, 'every page of the paging upstream arrives once');
  assert.ok(names.every((n) => /^[A-Za-z0-9_-]{1,64}$/.test(n)), 'all names fit the MCP tool-name pattern');
  assert.equal(new Set(names).size, names.length, 'no duplicate names');
  // The hung upstream (timeout_ms 300) is left out instead of failing the listing.
  assert.ok(!names.some((n) => n.startsWith('silent__')));
});

test('long names and collisions get stable shortened, hashed names that still route', async () => {
  const client = await connectClient(endpoint, token);
  const names = await allTools(client);
  const long = names.filter((n) => n.startsWith('crm__x'));
  assert.equal(long.length, 1);
  assert.ok(long[0]!.length <= 64 && /_[0-9a-f]{8}$/.test(long[0]!), long[0]);
  assert.equal(text(await client.callTool({ name: long[0]!, arguments: {} })), 'long ok');

  const contenders = names.filter((n) => /^crm__b__c(_[0-9a-f]{8})?$/.test(n));
  assert.equal(contenders.length, 2, `expected crm__b__c and a hashed variant, got ${contenders.join(', ')}`);
  const answers = await Promise.all(contenders.map(async (n) => text(await client.callTool({ name: n, arguments: {} }))));
  assert.deepEqual(answers.sort(), ['crm b__c', 'crm__b c']);
  // Deterministic: a second client of the same principal sees the same names.
  const again = await allTools(await connectClient(endpoint, token));
  assert.deepEqual(again.filter((n) => n.startsWith('crm__')).sort(), names.filter((n) => n.startsWith('crm__')).sort());
});

test('tools/call routes by prefix with the upstream\'s own name and credential', async () => {
  const client = await connectClient(endpoint, token);
  const before = crm.requests.length;
  assert.equal(text(await client.callTool({ name: 'crm__add', arguments: { a: 2, b: 40 } })), '42');
  const seen = crm.requests.slice(before);
  assert.ok(seen.some((r) => r.body.includes('"name":"add"')), 'the upstream received its original tool name');
  assert.ok(seen.every((r) => r.headers.authorization === 'Bearer crm-service-secret'));
  // A call without listing first (fresh principal) still routes by parsing the prefix.
  const bob = await connectClient(endpoint, await userToken(as, endpoint, { sub: 'bob' }));
  assert.equal(text(await bob.callTool({ name: 'notes__echo', arguments: { text: 'hi' } })), 'hi');
});

test('progress notifications of an upstream tool stream through /mcp', async () => {
  const client = await connectClient(endpoint, token);
  const seen: number[] = [];
  const r = await client.callTool({ name: 'notes__count_down', arguments: { from: 3, delay_ms: 20 } }, undefined, { onprogress: (p) => seen.push(p.progress) });
  assert.equal(text(r), 'liftoff');
  assert.deepEqual(seen, [1, 2, 3]);
});

test('prompts and resources are namespaced and route back', async () => {
  const client = await connectClient(endpoint, token);
  const prompts = await client.listPrompts();
  assert.ok(prompts.prompts.some((p) => p.name === 'notes__summarize'));
  const got = await client.getPrompt({ name: 'crm__summarize', arguments: { style: 'terse' } });
  assert.match(JSON.stringify(got.messages), /terse/);

  const resources = await client.listResources();
  const uris = resources.resources.map((r) => r.uri);
  assert.ok(uris.includes('deputy://notes/notes://readme'), uris.join(', '));
  const read = await client.readResource({ uri: 'deputy://crm/notes://readme' });
  assert.equal(read.contents[0]!.uri, 'deputy://crm/notes://readme');
  assert.match(String((read.contents[0] as { text: string }).text), /^crm:/);

  await assert.rejects(client.readResource({ uri: 'deputy://nope/x://y' }), /Unknown resource/);
});

test('list_changed from an upstream reaches the client; the new tool is listed and callable', async () => {
  const client = await connectClient(endpoint, token);
  let changed = 0;
  client.setNotificationHandler(ToolListChangedNotificationSchema, () => { changed++; });
  await client.listTools();
  await client.callTool({ name: 'dyn__register_tool', arguments: { name: 'fresh_tool' } });
  for (let i = 0; i < 50 && changed === 0; i++) {
    await client.listTools(); // queued notifications go out on the next request's stream
    if (changed === 0) await new Promise((r) => setTimeout(r, 50));
  }
  assert.ok(changed >= 1, 'tools/list_changed was relayed');
  assert.ok((await allTools(client)).includes('dyn__fresh_tool'));
  assert.equal(text(await client.callTool({ name: 'dyn__fresh_tool', arguments: {} })), 'fresh_tool ran');
});

test('bad cursors and unknown tools get specific errors', async () => {
  const client = await connectClient(endpoint, token);
  await assert.rejects(client.listTools({ cursor: 'not-a-cursor' }), /unknown cursor/);
  await assert.rejects(client.callTool({ name: 'nope__x', arguments: {} }), /Unknown tool: nope__x/);
});

test('a hung upstream is bounded by timeout_ms and named in the error', async () => {
  const client = await connectClient(endpoint, token);
  await assert.rejects(client.callTool({ name: 'silent__anything', arguments: {} }), /upstream 'silent' did not answer within 300 ms/);
});

test('an upstream killed mid-test: the rest keeps working, the failure is named, logged and audited', async () => {
  const client = await connectClient(endpoint, token);
  assert.ok((await allTools(client)).includes('doomed__echo'));
  await doomed.close();
  const names = await allTools(client);
  assert.ok(!names.some((n) => n.startsWith('doomed__')));
  assert.ok(names.includes('notes__echo'));
  await assert.rejects(client.callTool({ name: 'doomed__echo', arguments: { text: 'x' } }), (e: Error) => /upstream 'doomed'/.test(e.message));
  assert.ok(logLines.some((l) => l.includes('upstream left out') && l.includes('doomed')));
  await deputy.audit.flush();
  const events = await deputy.audit.query({});
  assert.ok(events.some((e) => e.route === '/mcp' && e.rpcMethod === 'tools/list' && /doomed/.test(e.detail ?? '')), 'listing notes the failed upstream');
  assert.ok(events.some((e) => e.route === '/mcp' && e.rpcMethod === 'tools/call' && e.upstream === 'doomed' && e.outcome === 'upstream_error'));
});

test('upstream sessions are per principal, reused, and closed when the Deputy session ends', async () => {
  const t = await userToken(as, endpoint, { sub: 'carol' });
  const auth = { authorization: `Bearer ${t}`, 'mcp-protocol-version': '2025-06-18' };
  const init = await mcpPost(endpoint, initializeMessage(), auth);
  const session = init.headers.get('mcp-session-id')!;
  await init.text();
  const start = notes.requests.length;
  for (let i = 0; i < 3; i++) {
    const r = await mcpPost(endpoint, { jsonrpc: '2.0', id: 10 + i, method: 'tools/call', params: { name: 'notes__echo', arguments: { text: 'x' } } }, { ...auth, 'mcp-session-id': session });
    assert.equal(r.status, 200);
    await r.text();
  }
  const inits = notes.requests.slice(start).filter((r) => r.body.includes('"method":"initialize"'));
  assert.ok(inits.length <= 1, `one upstream session for the principal, got ${inits.length} initializes`);
  const del = await fetch(endpoint, { method: 'DELETE', headers: { ...auth, 'mcp-session-id': session } });
  assert.equal(del.status, 200);
  for (let i = 0; i < 40 && !notes.requests.slice(start).some((r) => r.method === 'DELETE'); i++) await new Promise((r) => setTimeout(r, 25));
  assert.ok(notes.requests.slice(start).some((r) => r.method === 'DELETE'), 'the upstream session was closed');
});

test('canary: the client token never reaches an upstream, a log line, an audit row or an error', async () => {
  const canary = await userToken(as, endpoint, { sub: 'canary-user' });
  const client = await connectClient(endpoint, canary);
  await allTools(client);
  await client.callTool({ name: 'notes__echo', arguments: { text: 'hello' } });
  const errors: string[] = [];
  await client.callTool({ name: 'silent__x', arguments: {} }).catch((e: Error) => errors.push(e.message));
  await client.callTool({ name: 'nope__x', arguments: {} }).catch((e: Error) => errors.push(e.message));
  await deputy.audit.flush();
  const audit = JSON.stringify(await deputy.audit.query({}));
  for (const u of [notes, crm, dyn]) assert.ok(!JSON.stringify(u.requests).includes(canary), 'token reached an upstream');
  assert.ok(!logLines.join('\n').includes(canary), 'token in logs');
  assert.ok(!audit.includes(canary), 'token in audit');
  assert.ok(errors.length === 2 && !errors.join('').includes(canary), 'token in an error');
});
