// `npm run bench -- --smoke`: the whole bench, shortened, so a change that breaks a scenario (or the
// floor it is measured against) fails here rather than at the next benchmarking session. Figures are
// not judged; only that every scenario ran without errors and the per-user exchange count holds.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';

const root = new URL('../..', import.meta.url).pathname;

test('bench --smoke: every scenario and the fixed-rate run complete without errors; 1 token exchange per user', { timeout: 180_000 }, async () => {
  const { stdout } = await promisify(execFile)(process.execPath, [join(root, 'bench/run.ts'), '--smoke'], { cwd: root, maxBuffer: 1 << 22, timeout: 170_000 });
  const written = /wrote (bench\/results\/bench-[\w-]+\.json)/.exec(stdout);
  assert.ok(written, stdout);
  const out = JSON.parse(readFileSync(join(root, written[1]!), 'utf8'));
  for (const name of ['direct', 'node-proxy', 'deputy-static', 'deputy-exchange', 'deputy-introspect', 'deputy-modern']) {
    assert.ok(out.results[name]?.requests > 0, `${name} ran`);
    assert.equal(out.results[name].errors, 0, `${name} had no errors`);
  }
  for (const name of ['direct', 'node-proxy', 'deputy-static']) assert.equal(out.fixed[name]?.errors, 0, `fixed rate: ${name}`);
  assert.equal(out.exchangeCount.after - out.exchangeCount.before, out.users, 'one token exchange per user');
  assert.ok(Number.isFinite(out.cold.aggregatedMs) && Number.isFinite(out.cold.slowestAloneMs), 'cold tools/list measured');
  assert.ok(out.verify.cached > out.verify.uncached, 'the verified-token cache is faster than verifying');
});
