// `npm start` as a newcomer meets it: the printed commands work — a token from the demo AS, a tool
// call through Deputy, the REST API reached through token exchange as the user, and the audit trail.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import * as jose from 'jose';
import { instructions, startDemo } from '../../src/demo/run.ts';
import { onCleanup } from '../support/cleanup.ts';
import { freePort } from '../support/ports.ts';
import { launchBrowser } from '../support/browser.ts';

test('the demo serves an authenticated tool call on each endpoint and prints working commands', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'deputy-demo-'));
  const demo = await startDemo({ port: await freePort(), asPort: await freePort(), upstreamPort: await freePort(), apiPort: await freePort(), dataDir });
  onCleanup(() => demo.close());
  const base = demo.gateway.config.server.publicUrl;
  const text = instructions(demo, dataDir);
  assert.match(text, new RegExp(`-d resource=${base}/mcp/notes -d scope=mcp:tools ${demo.issuer}/token`));

  const token = async (resource: string) => {
    const res = await fetch(`${demo.issuer}/token`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from('demo-client:demo-secret').toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'client_credentials', resource, scope: 'mcp:tools' }),
    });
    return ((await res.json()) as { access_token: string }).access_token;
  };
  const call = async (url: string, bearer: string, name: string, args: unknown) => {
    const res = await fetch(url, {
      method: 'POST',
      headers: { authorization: `Bearer ${bearer}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name, arguments: args } }),
    });
    assert.equal(res.status, 200);
    return res.text();
  };

  const notesToken = await token(`${base}/mcp/notes`);
  assert.match(await call(`${base}/mcp/notes`, notesToken, 'add_note', { text: 'hello' }), /saved note #1/);

  // The demo's quota: 5 add_note per user per minute; the sixth is 429 with Retry-After (step 4).
  for (let i = 2; i <= 5; i++) assert.match(await call(`${base}/mcp/notes`, notesToken, 'add_note', { text: `n${i}` }), new RegExp(`saved note #${i}`));
  const sixth = await fetch(`${base}/mcp/notes`, { method: 'POST', headers: { authorization: `Bearer ${notesToken}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' }, body: JSON.stringify({ jsonrpc: '2.0', id: 6, method: 'tools/call', params: { name: 'add_note', arguments: { text: 'n6' } } }) });
  assert.equal(sixth.status, 429);
  assert.ok(Number(sixth.headers.get('retry-after')) > 0);

  // Step 5: a 2026-07-28 call, exactly as the printed instructions send it.
  const modern = await fetch(`${base}/mcp/notes`, {
    method: 'POST',
    headers: { authorization: `Bearer ${notesToken}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/call', 'mcp-name': 'list_notes' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'list_notes', arguments: {}, _meta: { 'io.modelcontextprotocol/protocolVersion': '2026-07-28', 'io.modelcontextprotocol/clientCapabilities': {} } } }),
  });
  assert.equal(modern.status, 200);
  const modernBody = await modern.json();
  assert.equal(modernBody.result.resultType, 'complete');
  assert.match(modernBody.result.content[0].text, /hello/);

  const tasksToken = await token(`${base}/mcp/tasks`);
  const who = await call(`${base}/mcp/tasks`, tasksToken, 'whoami', {});
  assert.match(who, /\\"user\\":\\"demo-client\\",\\"acting_client\\":\\"deputy\\"/);
  assert.equal(demo.api.calls.at(-1)!.actor, 'deputy');
  assert.equal(jose.decodeJwt(tasksToken).aud, `${base}/mcp/tasks`);

  const unauthenticated = await fetch(`${base}/mcp/notes`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
  assert.equal(unauthenticated.status, 401);

  // Step 7: ID-JAG, no consent screen: the search service sees alice.
  assert.ok(text.includes(`ALICE_SEARCH=${demo.aliceSearchToken}`));
  assert.match(await call(`${base}/mcp/search`, demo.aliceSearchToken, 'whoami', {}), /"text":"alice"/);
  assert.ok(!demo.search.requests.some((r) => JSON.stringify(r).includes(demo.aliceSearchToken)));

  // Step 8: the admin console asks the IdP who you are.
  const admin = await fetch(`${base}/admin`, { redirect: 'manual' });
  assert.ok([302, 303].includes(admin.status), `admin: ${admin.status}`);
  assert.ok(admin.headers.get('location')!.startsWith(demo.issuer));

  await demo.gateway.audit.flush();
  const events = await demo.gateway.audit.query({});
  assert.ok(events.some((e) => e.upstream === 'tasks' && e.credentialMode === 'token_exchange' && e.outcome === 'ok'));
  assert.ok(events.some((e) => e.upstream === 'search' && e.credentialMode === 'id_jag' && e.outcome === 'ok'));
  assert.ok(!JSON.stringify(events).includes(tasksToken));

  // Step 9: the same events as OCSF lines in the export file, with their chain fields.
  const exported = join(dataDir, 'audit-ocsf.jsonl');
  let lines: { class_uid: number; metadata: { sequence: number } }[] = [];
  for (let i = 0; i < 100 && lines.length < events.length; i++) {
    await new Promise((r) => setTimeout(r, 100));
    lines = existsSync(exported) ? readFileSync(exported, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l)) : [];
  }
  assert.ok(lines.length >= events.length, `exported ${lines.length} of ${events.length}`);
  assert.ok(lines.every((l, i) => l.class_uid === 6003 && l.metadata.sequence === i + 1));
  assert.ok(!readFileSync(exported, 'utf8').includes(tasksToken));
});

test('the demo\'s connected-accounts step: the printed call answers with a connect link; following it in a browser connects alice as her tracker user', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'deputy-demo-'));
  const demo = await startDemo({ port: await freePort(), asPort: await freePort(), upstreamPort: await freePort(), apiPort: await freePort(), dataDir });
  onCleanup(() => demo.close());
  const base = demo.gateway.config.server.publicUrl;
  assert.ok(instructions(demo, dataDir).includes(`ALICE=${demo.aliceToken}`));
  const whoami = async () => {
    const res = await fetch(`${base}/mcp/tracker`, { method: 'POST', headers: { authorization: `Bearer ${demo.aliceToken}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'whoami', arguments: {} } }) });
    return (await res.json()) as { result: { isError?: boolean; content: { text: string }[] } };
  };
  const first = await whoami();
  assert.equal(first.result.isError, true);
  const link = /open (\S+\/connect\?t=\S+)/.exec(first.result.content[0]!.text)![1]!;

  const browser = await launchBrowser();
  const page = await (await browser.newContext()).newPage();
  await page.goto(link); // the demo IdP signs alice in by itself; the tracker's AS asks who you are there
  await page.getByLabel('Username').fill('ada');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('button', { name: 'Allow' }).click();
  await page.getByRole('heading', { name: 'Connected to tracker' }).waitFor();
  assert.equal((await whoami()).result.content[0]!.text, 'ada');
  assert.ok(!demo.tracker.requests.some((r) => JSON.stringify(r).includes(demo.aliceToken)));
});
