// The HTTP front under hostile or unlucky clients: every request gets an answer from the moment the
// port is bound, slow and oversized requests are cut by the listener limits and audited, and what a
// client sends (a token-like body, a huge tool name) never comes back whole in an answer or audit row.
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { connect, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { before, test } from 'node:test';
import type { AuthorizationServer } from '../../src/demo/authorization-server.ts';
import { parseConfig } from '../../src/config/schema.ts';
import { startGateway, type Gateway } from '../../src/gateway.ts';
import { onCleanup } from '../support/cleanup.ts';
import { freePort, waitFor } from '../support/ports.ts';
import { initializeMessage, logLines, mcpPost, startAs, startDeputy, startUpstream, userToken } from '../support/stack.ts';

let as: AuthorizationServer;
let deputy: Gateway;
let endpoint: string;
let token: string;

before(async () => {
  as = await startAs();
  const upstream = await startUpstream();
  deputy = await startDeputy(as, {
    server: { headers_timeout_ms: 400, request_timeout_ms: 800, keep_alive_timeout_ms: 300, max_header_bytes: 16384 },
    upstreams: [
      { name: 'notes', type: 'mcp', url: upstream.url, credentials: { type: 'static', headers: { 'X-Tenant': 'acme' } } },
      { name: 'down', type: 'mcp', url: 'http://127.0.0.1:9/mcp', timeout_ms: 500, credentials: { type: 'static', headers: { 'X-Tenant': 'acme' } } },
    ],
  });
  endpoint = `${deputy.url}/mcp/notes`;
  token = await userToken(as, endpoint, { sub: 'alice' });
});

const auth = () => ({ authorization: `Bearer ${token}` });

async function auditRows() {
  await deputy.audit.flush();
  return deputy.audit.query({ limit: 1000 });
}

/** Opens a raw socket, writes `data`, and resolves with everything the server sent once it closes. */
function raw(data: string, opts: { keepWriting?: string; intervalMs?: number } = {}): Promise<{ text: string; ms: number }> {
  const { port } = new URL(deputy.url);
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const s: Socket = connect(Number(port), '127.0.0.1');
    let text = '';
    let timer: NodeJS.Timeout | undefined;
    s.on('data', (d) => (text += d.toString()));
    s.once('connect', () => {
      if (data) s.write(data);
      if (opts.keepWriting) timer = setInterval(() => s.writable && s.write(opts.keepWriting!), opts.intervalMs ?? 100);
    });
    s.once('close', () => (clearInterval(timer), resolve({ text, ms: Date.now() - started })));
    s.once('error', () => {});
    setTimeout(() => (s.destroy(), reject(new Error(`connection still open after 10 s; got: ${text.slice(0, 200)}`))), 10_000).unref();
  });
}

test('a connection that sends nothing, or headers byte by byte, is cut by headers_timeout_ms with 408 and an audit row', async () => {
  const silent = await raw('');
  assert.ok(silent.ms < 3000, `idle connection closed after ${silent.ms} ms`);
  const slow = await raw('POST /mcp/notes HTTP/1.1\r\nHost: x\r\n', { keepWriting: 'X-Slow: a\r\n', intervalMs: 100 });
  assert.ok(slow.ms < 3000, `slow-loris connection closed after ${slow.ms} ms`);
  assert.match(slow.text, /^HTTP\/1\.1 408 /);
  await waitFor(async () => (await auditRows()).some((e) => e.status === 408 && e.outcome === 'rejected'), 'an audit row for the 408');
});

test('a body that never ends is cut by request_timeout_ms', async () => {
  const head = `POST /mcp/notes HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n`;
  const r = await raw(head, { keepWriting: '1\r\n \r\n', intervalMs: 50 });
  assert.ok(r.ms < 4000, `never-ending body cut after ${r.ms} ms`);
  // The audit row carries no token, whatever the outcome.
  for (const e of await auditRows()) assert.ok(!JSON.stringify(e).includes(token));
});

test('headers over max_header_bytes get 431 and an audit row; no token in it', async () => {
  const res = await mcpPost(endpoint, initializeMessage(), { ...auth(), 'x-big': 'a'.repeat(20_000) });
  assert.equal(res.status, 431);
  await waitFor(async () => (await auditRows()).some((e) => e.status === 431 && e.detail?.includes('HPE_HEADER_OVERFLOW')), 'an audit row for the 431');
});

test('two Authorization headers are refused with 400 invalid_request, not resolved', async () => {
  const other = await userToken(as, endpoint, { sub: 'mallory' });
  const body = JSON.stringify(initializeMessage());
  const r = await raw(`POST /mcp/notes HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\nAuthorization: Bearer ${other}\r\nContent-Type: application/json\r\nAccept: application/json, text/event-stream\r\nConnection: close\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
  const status = { status: Number(r.text.slice(9, 12)), body: r.text.slice(r.text.indexOf('\r\n\r\n') + 4) };
  assert.equal(status.status, 400);
  assert.equal(JSON.parse(status.body).error, 'invalid_request');
  assert.match(JSON.parse(status.body).error_description, /more than one Authorization header/);
});

test('a JSON parse error names no byte of the body (it can be the start of a token)', async () => {
  const res = await mcpPost(endpoint, `${token}{`, auth());
  assert.equal(res.status, 400);
  const text = await res.text();
  assert.equal(JSON.parse(text).error.code, -32700);
  assert.ok(!text.includes(token.slice(0, 8)), text);
  const rows = await auditRows();
  assert.ok(rows.every((e) => !e.detail?.includes(token.slice(0, 8))));
});

test('a client aborting mid-body is audited as aborted (499), not logged as an unhandled error', async () => {
  const before = logLines.length;
  const { port } = new URL(deputy.url);
  const s = connect(Number(port), '127.0.0.1');
  await new Promise((r) => s.once('connect', r));
  s.write(`POST /mcp/notes HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"jsonrpc":"2.0",`);
  await new Promise((r) => setTimeout(r, 100));
  s.destroy();
  await waitFor(async () => (await auditRows()).some((e) => e.outcome === 'aborted' && e.status === 499 && e.subject === 'alice'), 'an aborted audit row');
  assert.ok(!logLines.slice(before).some((l) => l.includes('unhandled error')), logLines.slice(before).join('\n'));
});

test('a 1 MB tool name is cut in the audit row and in the answer', async () => {
  const name = 'x'.repeat(1_000_000);
  const agg = `${deputy.url}/mcp`;
  const t = await userToken(as, agg, { sub: 'alice' });
  const res = await mcpPost(agg, { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name, arguments: {} } }, { authorization: `Bearer ${t}` });
  const text = await res.text();
  assert.ok(text.length < 2000, `answer of ${text.length} bytes`);
  const row = (await auditRows()).find((e) => e.rpcMethod === 'tools/call' && e.target?.startsWith('xxxx'));
  assert.ok(row, 'audit row of the call');
  assert.ok(row.target!.length <= 256);
  const method = 'm'.repeat(100_000);
  const res2 = await mcpPost(agg, { jsonrpc: '2.0', id: 2, method }, { authorization: `Bearer ${t}` });
  assert.ok((await res2.text()).length < 2000);
  await waitFor(async () => (await auditRows()).some((e) => e.rpcMethod?.startsWith('mmmm') && e.rpcMethod.length <= 256), 'a clipped method in the audit row');
});

test('an aggregate member that is down is logged once, not once per listing', async () => {
  const agg = `${deputy.url}/mcp`;
  const t = await userToken(as, agg, { sub: 'alice' });
  const before = logLines.length;
  for (let i = 0; i < 5; i++) await (await mcpPost(agg, { jsonrpc: '2.0', id: i, method: 'tools/list' }, { authorization: `Bearer ${t}` })).text();
  const lines = logLines.slice(before).filter((l) => l.includes('upstream left out'));
  assert.ok(lines.length <= 1, lines.join('\n')); // 0 when an earlier test of this file already logged it this minute
});

test('during start-up every request is answered: /healthz 200, /readyz 503, MCP endpoints 503 + Retry-After', async () => {
  // An OpenAPI spec that takes 1.5 s to arrive holds start-up back.
  const spec = readFileSync(new URL('../upstreams/openapi/fixtures/bank.openapi.yaml', import.meta.url));
  const slow = createServer((_req, res) => setTimeout(() => res.writeHead(200, { 'content-type': 'application/yaml' }).end(spec), 1500));
  await new Promise<void>((r) => slow.listen(0, '127.0.0.1', () => r()));
  onCleanup(() => slow.close());
  const port = await freePort();
  const config = parseConfig({
    server: { host: '127.0.0.1', port },
    auth: { issuers: [{ issuer: as.issuer }] },
    upstreams: [{ name: 'bank', type: 'openapi', spec: `http://127.0.0.1:${(slow.address() as AddressInfo).port}/spec.yaml`, base_url: 'http://127.0.0.1:9/api', credentials: { type: 'static', headers: { 'X-Tenant': 'a' } } }],
    audit: { store: 'none' },
  }, { baseDir: process.cwd() });
  const starting = startGateway(config);
  let gw: Gateway | undefined;
  starting.then((g) => (gw = g), () => {});
  onCleanup(async () => (await starting).close());
  const base = `http://127.0.0.1:${port}`;
  await waitFor(async () => (await fetch(`${base}/healthz`)).ok, 'the port to be bound', 5000);
  const answers = await Promise.all([
    fetch(`${base}/healthz`),
    fetch(`${base}/readyz`),
    fetch(`${base}/mcp/bank`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' }),
    fetch(`${base}/mcp`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' }),
  ].map((p) => p.then(async (r) => ({ status: r.status, retry: r.headers.get('retry-after'), body: await r.text() }))));
  assert.equal(gw, undefined, 'still starting while probed');
  assert.deepEqual(answers.map((a) => a.status), [200, 503, 503, 503]);
  assert.equal(answers[2]!.retry, '1');
  assert.match(answers[2]!.body, /starting/);
  await starting;
  assert.equal((await fetch(`${base}/readyz`)).status, 200);
});
