// The conformance suite's 0.2 line (`--requirements 2026-07-28` and `--requirements 2025-11-25`) against
// a full SDK v2 dual-era fixture (./fixture-server-v2.ts: 2026-07-28 per-request serving with
// input_required, subscriptions/listen and caching hints; 2025 stateful sessions with sampling,
// elicitation, logging and resumable streams), directly and through Deputy's /mcp/<upstream>: whatever
// passes directly must pass through Deputy, in both eras, scenario by scenario and check by check
// (warnings included). Directly, everything passes but the io.modelcontextprotocol/tasks extension
// scenarios (run and reported by the suite, never scored), which SDK v2 does not implement. The totals
// are printed.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { before, test } from 'node:test';
import { onCleanup } from '../support/cleanup.ts';
import { startTokenShim } from '../support/token-shim.ts';
import { startAs, startDeputy, userToken } from '../support/stack.ts';
import { startFixtureServerV2 } from './fixture-server-v2.ts';

const SUITE = fileURLToPath(new URL('../../node_modules/conformance-2026/dist/index.js', import.meta.url));
const REQUIREMENTS = ['2026-07-28', '2025-11-25'] as const;

interface Run {
  passed: Set<string>;
  failed: Set<string>;
  /** Every check's status, by `scenario/check-id` (a repeated id gets `#2`, `#3`…). */
  checks: Map<string, string>;
  totals: string;
  output: string;
}

/**
 * One run of the suite. The text summary marks a scenario ✓ even when checks of it only WARNING (a
 * SHOULD not met), so each scenario's checks are read from the results directory (`-o`) as well: a
 * scenario passes only without FAILURE and WARNING, as the 0.1 test counts warnings.
 */
function runSuite(url: string, requirements: string): Promise<Run> {
  const dir = mkdtempSync(join(tmpdir(), 'conformance-'));
  onCleanup(() => rmSync(dir, { recursive: true, force: true }));
  return new Promise((resolve) => {
    execFile(process.execPath, [SUITE, 'server', '--url', url, '--requirements', requirements, '-o', dir], { timeout: 300_000, maxBuffer: 64 * 1_048_576 }, (_error, stdout, stderr) => {
      const output = `${stdout}${stderr}`.replace(/\x1b\[[0-9;]*m/g, '');
      const passed = new Set<string>();
      const failed = new Set<string>();
      for (const m of output.matchAll(/^([✓✗])\s+([\w-]+): (\d+) passed, (\d+) failed/gm)) (m[1] === '✓' ? passed : failed).add(m[2]!);
      const checks = new Map<string, string>();
      let warnings = 0;
      for (const entry of readdirSync(dir)) {
        const scenario = /^server-(.+)-\d{4}-\d{2}-\d{2}T[\d-]+Z$/.exec(entry)?.[1];
        if (!scenario) continue;
        for (const c of JSON.parse(readFileSync(join(dir, entry, 'checks.json'), 'utf8')) as { id: string; status: string }[]) {
          let key = `${scenario}/${c.id}`;
          for (let n = 2; checks.has(key); n++) key = `${scenario}/${c.id}#${n}`;
          checks.set(key, c.status);
          if (c.status === 'WARNING') (warnings++, passed.delete(scenario), failed.add(scenario));
        }
      }
      const total = /Total: (\d+) passed, (\d+) failed/.exec(output);
      resolve({ passed, failed, checks, totals: total ? `${total[1]} checks passed, ${total[2]} failed, ${warnings} warnings` : 'no total', output });
    });
  });
}

const runs = new Map<string, { direct: Run; via: Run }>();

before(async () => {
  const as = await startAs();
  // One fixture instance per route, so concurrent runs cannot hear each other's list changes.
  const [fixture, fixtureDirect] = await Promise.all([startFixtureServerV2({ token: 'fixture-secret' }), startFixtureServerV2({ token: 'fixture-secret' })]);
  onCleanup(() => Promise.all([fixture.close(), fixtureDirect.close()]));
  const upstream = fixture.url;
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
  direct.target(fixtureDirect.url.replace(/\/mcp$/, ''), () => 'fixture-secret');
  for (const req of REQUIREMENTS) {
    const [d, v] = await Promise.all([runSuite(`${direct.origin}/mcp`, req), runSuite(`${shim.origin}/mcp/fixture`, req)]);
    runs.set(req, { direct: d, via: v });
    console.log(`conformance 0.2 --requirements ${req}: direct ${d.passed.size} scenarios passed / ${d.failed.size} failed (${d.totals}); through Deputy ${v.passed.size} / ${v.failed.size} (${v.totals})${d.failed.size ? `; failing directly: ${[...d.failed].join(', ')}` : ''}`);
  }
});

for (const req of REQUIREMENTS) {
  test(`conformance 0.2 --requirements ${req}: everything that passes directly passes through /mcp/<upstream>`, () => {
    const { direct, via } = runs.get(req)!;
    assert.ok(direct.passed.size >= 25, `the suite did not run as expected:\n${direct.output.slice(-3000)}`);
    // Check by check too: a failing scenario has passing checks, and a passing one can lose a check to SKIPPED.
    const lostChecks = [...direct.checks].filter(([k, status]) => status === 'SUCCESS' && via.checks.get(k) !== 'SUCCESS').map(([k]) => `${k}: ${via.checks.get(k) ?? 'missing'}`);
    const lost = [...direct.passed].filter((s) => !via.passed.has(s));
    assert.deepEqual(lost, [], `regressions through Deputy (checks: ${lostChecks.join('; ')}):\n${via.output.slice(-4000)}`);
    assert.deepEqual(lostChecks, [], 'checks that succeed directly but not through Deputy');
  });
}
