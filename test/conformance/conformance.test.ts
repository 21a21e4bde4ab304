// The official MCP conformance suite (server scenarios), run against the fixture upstream directly,
// through /mcp/<upstream> and through the aggregated /mcp: whatever passes directly must pass through
// Deputy. The suite sends no bearer token, so a loopback shim in front of Deputy adds one minted by
// the test authorization server — a test fixture only; Deputy itself has no unauthenticated mode.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { before, test } from 'node:test';
import { onCleanup } from '../support/cleanup.ts';
import { startAs, startDeputy, startUpstream, userToken } from '../support/stack.ts';
import { startFixtureServer } from './fixture-server.ts';
import { startTokenShim } from '../support/token-shim.ts';

const SUITE = fileURLToPath(new URL('../../node_modules/@modelcontextprotocol/conformance/dist/index.js', import.meta.url));
const BASELINE = fileURLToPath(new URL('./expected-failures.yml', import.meta.url));

interface Run {
  passed: Set<string>;
  failed: Set<string>;
  checks: { passed: number; failed: number };
  output: string;
}

/** `conformance server --suite all`: every server scenario of 0.1.16 (about two seconds per run). */
function runSuite(url: string): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [SUITE, 'server', '--url', url, '--suite', 'all', '--expected-failures', BASELINE], { timeout: 120_000, maxBuffer: 16 * 1_048_576 }, (_error, stdout, stderr) => {
      const output = `${stdout}${stderr}`.replace(/\x1b\[[0-9;]*m/g, '');
      const passed = new Set<string>();
      const failed = new Set<string>();
      for (const m of output.matchAll(/^([✓✗])\s+([\w-]+): (\d+) passed, (\d+) failed/gm)) (m[1] === '✓' ? passed : failed).add(m[2]!);
      // Warnings count as failures for the baseline (the suite's own rule): unexpected (✗) or expected (~).
      for (const m of output.matchAll(/^\s+[✗~] ([\w-]+)$/gm)) { passed.delete(m[1]!); failed.add(m[1]!); }
      const total = /Total: (\d+) passed, (\d+) failed/.exec(output);
      resolve({ passed, failed, checks: { passed: Number(total?.[1] ?? 0), failed: Number(total?.[2] ?? 0) }, output });
    });
  });
}

let direct: Run;
let proxied: Run;
let aggregated: Run;

before(async () => {
  const as = await startAs();
  const fixture = await startFixtureServer();
  onCleanup(() => fixture.close());
  const other = await startUpstream({ name: 'other' });
  const shim = await startTokenShim();
  const deputy = await startDeputy(as, {
    // The suite's DNS-rebinding scenario sends the shim's own origin as a legitimate local origin.
    server: { allowed_origins: [shim.origin] },
    upstreams: [
      { name: 'fixture', type: 'mcp', url: fixture.url, credentials: { type: 'static', headers: { Authorization: { env: 'FIX' } } } },
      { name: 'other', type: 'mcp', url: other.url, credentials: { type: 'static', headers: { Authorization: { env: 'FIX' } } } },
    ],
    // On /mcp the fixture keeps its own names (the suite calls test_simple_text, reads test://static-text);
    // the second upstream is namespaced beside it, so this is a real aggregation.
    env: { FIX: 'Bearer fixture-secret' },
    aggregate: { unprefixed: 'fixture' },
  });
  const tokens = new Map<string, string>();
  for (const path of ['/mcp/fixture', '/mcp']) tokens.set(path, await userToken(as, `${deputy.url}${path}`, { sub: 'conformance', ttlSeconds: 600 }));

  direct = await runSuite(fixture.url);
  shim.target(deputy.url, () => tokens.get('/mcp/fixture')!);
  proxied = await runSuite(`${shim.origin}/mcp/fixture`);
  shim.target(deputy.url, () => tokens.get('/mcp')!);
  aggregated = await runSuite(`${shim.origin}/mcp`);
  for (const [name, r] of [['direct', direct], ['/mcp/fixture', proxied], ['/mcp', aggregated]] as const) {
    console.log(`conformance ${name}: ${r.passed.size} scenarios passed, ${r.failed.size} failed (${r.checks.passed} checks passed, ${r.checks.failed} failed)${r.failed.size ? `; failed: ${[...r.failed].join(', ')}` : ''}`);
  }
});

test('the fixture upstream passes the suite directly (the baseline is honest)', () => {
  assert.ok(direct.passed.size >= 25, `suite did not run as expected:\n${direct.output.slice(-3000)}`);
  const baseline = [...readFileSync(BASELINE, 'utf8').matchAll(/^\s+- ([\w-]+)/gm)].map((m) => m[1]!).sort();
  assert.deepEqual([...direct.failed].sort(), baseline, 'direct failures must match expected-failures.yml');
});

test('everything that passes directly passes through /mcp/<upstream>', () => {
  const lost = [...direct.passed].filter((s) => !proxied.passed.has(s));
  assert.deepEqual(lost, [], `regressions through the proxy:\n${proxied.output.slice(-4000)}`);
});

test('everything that passes directly passes through the aggregated /mcp', () => {
  const lost = [...direct.passed].filter((s) => !aggregated.passed.has(s));
  assert.deepEqual(lost, [], `regressions through /mcp:\n${aggregated.output.slice(-4000)}`);
});
