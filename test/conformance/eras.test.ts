// The conformance suite's 0.2 line (`--requirements 2026-07-28` and `--requirements 2025-11-25`) against
// an SDK v2 dual-era fixture, directly and through Deputy's /mcp/<upstream>: whatever passes directly
// must pass through Deputy, in both eras. The fixture is minimal (most scenarios need tools it lacks),
// so the point is the comparison, not the totals, which are printed.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { before, test } from 'node:test';
import { createMcpHandler, McpServer } from '@modelcontextprotocol/server';
import { toNodeHandler } from '@modelcontextprotocol/node';
import * as z from 'zod/v4';
import { onCleanup } from '../support/cleanup.ts';
import { startTokenShim } from '../support/token-shim.ts';
import { startAs, startDeputy, userToken } from '../support/stack.ts';

const SUITE = fileURLToPath(new URL('../../node_modules/conformance-2026/dist/index.js', import.meta.url));
const REQUIREMENTS = ['2026-07-28', '2025-11-25'] as const;

interface Run {
  passed: Set<string>;
  failed: Set<string>;
  checks: string;
  output: string;
}

function runSuite(url: string, requirements: string): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [SUITE, 'server', '--url', url, '--requirements', requirements], { timeout: 300_000, maxBuffer: 64 * 1_048_576 }, (_error, stdout, stderr) => {
      const output = `${stdout}${stderr}`.replace(/\x1b\[[0-9;]*m/g, '');
      const passed = new Set<string>();
      const failed = new Set<string>();
      for (const m of output.matchAll(/^([✓✗])\s+([\w-]+): (\d+) passed, (\d+) failed/gm)) (m[1] === '✓' ? passed : failed).add(m[2]!);
      const total = /Total: (\d+) passed, (\d+) failed/.exec(output);
      resolve({ passed, failed, checks: total ? `${total[1]} checks passed, ${total[2]} failed` : 'no total', output });
    });
  });
}

async function fixture(): Promise<string> {
  const handler = toNodeHandler(createMcpHandler(() => {
    const s = new McpServer({ name: 'fixture', version: '1.0.0' });
    s.registerTool('test_simple_text', { description: 'Simple text', inputSchema: z.object({}) }, async () => ({ content: [{ type: 'text', text: 'This is a simple text response for testing.' }] }));
    s.registerPrompt('test_simple_prompt', { description: 'A simple prompt' }, () => ({ messages: [{ role: 'user', content: { type: 'text', text: 'This is a simple prompt for testing.' } }] }));
    s.registerResource('static-text', 'test://static-text', { mimeType: 'text/plain' }, async (uri: URL) => ({ contents: [{ uri: uri.href, mimeType: 'text/plain', text: 'This is the content of the static text resource.' }] }));
    return s;
  }));
  const server = createServer((req, res) => (req.headers.authorization === 'Bearer fixture-secret' ? handler(req, res) : res.writeHead(401).end()));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  onCleanup(() => (server.closeAllConnections(), server.close()));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp`;
}

const runs = new Map<string, { direct: Run; via: Run }>();

before(async () => {
  const as = await startAs();
  const upstream = await fixture();
  const shim = await startTokenShim();
  const deputy = await startDeputy(as, {
    server: { allowed_origins: [shim.origin] },
    upstreams: [{ name: 'fixture', type: 'mcp', url: upstream, credentials: { type: 'static', headers: { Authorization: { env: 'FIX' } } } }],
    env: { FIX: 'Bearer fixture-secret' },
  });
  const token = await userToken(as, `${deputy.url}/mcp/fixture`, { sub: 'conformance', ttlSeconds: 600 });
  shim.target(deputy.url, () => token);
  // Directly, the fixture needs its credential too: a second shim adds it.
  const direct = await startTokenShim();
  direct.target(upstream.replace(/\/mcp$/, ''), () => 'fixture-secret');
  for (const req of REQUIREMENTS) {
    const [d, v] = await Promise.all([runSuite(`${direct.origin}/mcp`, req), runSuite(`${shim.origin}/mcp/fixture`, req)]);
    runs.set(req, { direct: d, via: v });
    console.log(`conformance 0.2 --requirements ${req}: direct ${d.passed.size} scenarios passed / ${d.failed.size} failed (${d.checks}); through Deputy ${v.passed.size} / ${v.failed.size} (${v.checks})`);
  }
});

for (const req of REQUIREMENTS) {
  test(`conformance 0.2 --requirements ${req}: everything that passes directly passes through /mcp/<upstream>`, () => {
    const { direct, via } = runs.get(req)!;
    assert.ok(direct.passed.size >= 5, `the suite did not run as expected:\n${direct.output.slice(-3000)}`);
    const lost = [...direct.passed].filter((s) => !via.passed.has(s));
    assert.deepEqual(lost, [], `regressions through Deputy:\n${via.output.slice(-4000)}`);
  });
}
