// server/discover on the aggregated /mcp merges what its 2026 members said: the versions they all
// speak, their capabilities, and the shortest ttlMs. The members here are small hand-written 2026
// peers, because the point is their answers: different ttlMs and versions, one that lies (malformed
// fields) and one whose discover never answers. Deputy must answer exactly, and in time.
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { before, test } from 'node:test';
import type { AuthorizationServer } from '../../src/demo/authorization-server.ts';
import type { Gateway } from '../../src/gateway.ts';
import { onCleanup } from '../support/cleanup.ts';
import { mcpPost, startAs, startDeputy, userToken } from '../support/stack.ts';

let as: AuthorizationServer;
let deputy: Gateway;

/** A 2026-only peer: server/discover answers `discover` (or never, when undefined); tools/list one tool. */
async function peer(name: string, discover: Record<string, unknown> | undefined): Promise<string> {
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const m = JSON.parse(body || '{}') as { id?: unknown; method?: string };
      const reply = (result: unknown) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ jsonrpc: '2.0', id: m.id, result }));
      if (m.method === 'server/discover') return discover === undefined ? undefined : reply({ resultType: 'complete', capabilities: { tools: {} }, ...discover, _meta: { 'io.modelcontextprotocol/serverInfo': { name, version: '1' } } });
      if (m.method === 'tools/list') return reply({ resultType: 'complete', tools: [{ name: 'hello', inputSchema: { type: 'object' } }], ttlMs: 0, cacheScope: 'public' });
      res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ jsonrpc: '2.0', id: m.id, error: { code: -32601, message: 'Method not found' } }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  onCleanup(() => (server.closeAllConnections(), server.close()));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp`;
}

before(async () => {
  as = await startAs();
  const upstream = (name: string, url: string) => ({ name, type: 'mcp', url, protocol: '2026-07-28', timeout_ms: 1500, credentials: { type: 'static', headers: { Authorization: { env: 'UP' } } } });
  deputy = await startDeputy(as, {
    upstreams: [
      upstream('short', await peer('short', { supportedVersions: ['2026-07-28'], ttlMs: 45_000, cacheScope: 'public' })),
      upstream('long', await peer('long', { supportedVersions: ['2026-07-28', '2099-01-01'], ttlMs: 120_000, cacheScope: 'public' })),
      upstream('liar', await peer('liar', { supportedVersions: 'all of them', ttlMs: -5 })),
      upstream('mute', await peer('mute', undefined)),
    ],
    env: { UP: 'Bearer s' },
  });
});

const META = { 'io.modelcontextprotocol/protocolVersion': '2026-07-28', 'io.modelcontextprotocol/clientCapabilities': {} };

async function discover(): Promise<{ status: number; ms: number; result: Record<string, unknown> }> {
  const token = await userToken(as, `${deputy.url}/mcp`);
  const started = Date.now();
  const res = await mcpPost(`${deputy.url}/mcp`, { jsonrpc: '2.0', id: 1, method: 'server/discover', params: { _meta: META } }, { authorization: `Bearer ${token}`, 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'server/discover' });
  return { status: res.status, ms: Date.now() - started, result: ((await res.json()) as { result: Record<string, unknown> }).result };
}

test('/mcp server/discover: the shortest ttlMs and the versions every 2026 member speaks; malformed fields are ignored, a mute member does not hold it up', async () => {
  const first = await discover();
  assert.equal(first.status, 200);
  assert.ok(first.ms < 5000, `answered in ${first.ms} ms although one member never answers discover`);
  const d = (await discover()).result;
  assert.deepEqual(d.supportedVersions, ['2026-07-28']);
  assert.equal(d.ttlMs, 45_000, 'min(45000, 120000); the liar\'s -5 and the mute member count for nothing');
  assert.equal(d.cacheScope, 'private', 'the merged answer depends on the caller (policy, credentials)');
  assert.deepEqual(Object.keys(d.capabilities as object).sort(), ['tools']);
});
