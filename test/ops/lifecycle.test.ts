// `deputy serve` as a process: SIGTERM during a streaming call lets the call finish (and stops new
// connections), SIGHUP with a broken config keeps the old config serving, a valid one is applied
// without dropping the stream in flight.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { AuthorizationServer } from '../../src/demo/authorization-server.ts';
import { onCleanup } from '../support/cleanup.ts';
import { waitFor } from '../support/ports.ts';
import { startAs, startUpstream, userToken } from '../support/stack.ts';

const main = new URL('../../src/cli/main.ts', import.meta.url).pathname;

function configYaml(issuer: string, upstreams: { name: string; url: string }[], extra = ''): string {
  return `server: { host: 127.0.0.1, port: 0, shutdown_grace_ms: 15000 }
auth:
  issuers: [{ issuer: ${issuer} }]
upstreams:
${upstreams.map((u) => `  - { name: ${u.name}, type: mcp, url: ${u.url}, credentials: { type: static, headers: { X-Tenant: acme } } }`).join('\n')}
audit: { store: "sqlite:./audit.db" }
${extra}`;
}

interface Served {
  child: ChildProcess;
  url: string;
  logs: string[];
  exited: Promise<number | null>;
}

async function serve(dir: string): Promise<Served> {
  const child = spawn(process.execPath, [main, 'serve', '--config', join(dir, 'deputy.yaml')], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  const logs: string[] = [];
  let buf = '';
  child.stderr!.on('data', (d: Buffer) => {
    buf += d.toString();
    const lines = buf.split('\n');
    buf = lines.pop()!;
    logs.push(...lines);
  });
  child.stdout!.resume();
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  onCleanup(() => child.exitCode === null && child.kill('SIGKILL'));
  await waitFor(() => logs.some((l) => l.includes('deputy listening')), 'deputy serve to listen');
  const url = JSON.parse(logs.find((l) => l.includes('deputy listening'))!).url as string;
  return { child, url, logs, exited };
}

/** A tools/call of count_down with a progress token: an SSE stream of progress notifications, then the result. */
async function countDown(url: string, token: string, from: number, onFirstChunk: () => void): Promise<{ status: number; body: string }> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': '2025-06-18' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name: 'count_down', arguments: { from, delay_ms: 150 }, _meta: { progressToken: 'p1' } } }),
  });
  let body = '';
  let first = true;
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    body += Buffer.from(chunk).toString();
    if (first && body.includes('notifications/progress')) {
      first = false;
      onFirstChunk();
    }
  }
  return { status: res.status, body };
}

const initialize = (url: string, token: string) =>
  fetch(url, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '0' } } }) }).then(async (r) => (await r.text(), r.status));

const refused = (url: string) =>
  new Promise<boolean>((resolve) => {
    const { hostname, port } = new URL(url);
    const s = connect(Number(port), hostname);
    s.once('connect', () => (s.destroy(), resolve(false)));
    s.once('error', () => resolve(true));
  });

async function setup(): Promise<{ as: AuthorizationServer; dir: string; upstreamUrl: string; secondUrl: string }> {
  const as = await startAs();
  const up = await startUpstream({ stateless: true });
  const second = await startUpstream({ stateless: true, name: 'second' });
  const dir = mkdtempSync(join(tmpdir(), 'deputy-serve-'));
  return { as, dir, upstreamUrl: up.url, secondUrl: second.url };
}

test('SIGTERM during a streaming call: the call completes, new connections are refused, the process exits 0', async () => {
  const { as, dir, upstreamUrl } = await setup();
  writeFileSync(join(dir, 'deputy.yaml'), configYaml(as.issuer, [{ name: 'notes', url: upstreamUrl }]));
  const d = await serve(dir);
  const endpoint = `${d.url}/mcp/notes`;
  const token = await userToken(as, endpoint, { sub: 'olga' });
  const call = countDown(endpoint, token, 12, () => d.child.kill('SIGTERM'));
  await waitFor(() => d.logs.some((l) => l.includes('shutting down')), 'the shutdown to begin');
  assert.ok(await refused(d.url), 'no new connections once draining');
  const result = await call;
  assert.equal(result.status, 200);
  assert.match(result.body, /liftoff/, 'the streamed call ran to its end');
  assert.equal((result.body.match(/notifications\/progress/g) ?? []).length, 12, 'every progress notification arrived');
  assert.equal(await d.exited, 0);
  assert.ok(d.logs.some((l) => l.includes('shut down cleanly')));
});

test('SIGHUP: a broken config is rejected (old one keeps serving); a valid one is applied without dropping a stream in flight', async () => {
  const { as, dir, upstreamUrl, secondUrl } = await setup();
  const path = join(dir, 'deputy.yaml');
  writeFileSync(path, configYaml(as.issuer, [{ name: 'notes', url: upstreamUrl }]));
  const d = await serve(dir);
  const endpoint = `${d.url}/mcp/notes`;
  const token = await userToken(as, endpoint, { sub: 'pete' });
  assert.equal(await initialize(endpoint, token), 200);

  writeFileSync(path, `${configYaml(as.issuer, [{ name: 'notes', url: upstreamUrl }])}\nupstreamz: []\n`);
  d.child.kill('SIGHUP');
  await waitFor(() => d.logs.some((l) => l.includes('config reload rejected') && l.includes("unknown key (did you mean 'upstreams'?)")), 'the reload to be rejected');
  assert.equal(await initialize(endpoint, token), 200, 'the old config keeps serving');
  assert.equal(d.child.exitCode, null);

  // A valid config adds an upstream while a stream is in flight on the old pipeline.
  let reloaded = false;
  const stream = countDown(endpoint, token, 8, () => {
    writeFileSync(path, configYaml(as.issuer, [{ name: 'notes', url: upstreamUrl }, { name: 'second', url: secondUrl }]));
    d.child.kill('SIGHUP');
    reloaded = true;
  });
  await waitFor(() => reloaded && d.logs.some((l) => l.includes('config reloaded') && l.includes('/mcp/second')), 'the reload');
  const second = `${d.url}/mcp/second`;
  assert.equal(await initialize(second, await userToken(as, second, { sub: 'pete' })), 200, 'the new upstream is served');
  assert.equal(await initialize(endpoint, token), 200, 'tokens for existing endpoints stay valid');
  const r = await stream;
  assert.match(r.body, /liftoff/, 'the stream that started before the reload completed');
  d.child.kill('SIGTERM');
  assert.equal(await d.exited, 0);
});
