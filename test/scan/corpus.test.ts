// Precision and recall of both rules over the fixture corpus: every `expect:` line must be reported (recall) and
// nothing else may be (precision).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { scanPaths } from '../../src/scan/index.ts';
import { expectations, FIXTURES, ROOT } from './helpers.ts';

test('fixture corpus: precision and recall are 1.0 for every rule', async () => {
  const result = await scanPaths([FIXTURES], { cwd: ROOT });
  assert.deepEqual(result.errors, [], 'the corpus parses cleanly');
  const files = [...new Set([...result.findings.map((f) => f.file)])];
  const scannedFiles = await listFixtureFiles();
  const expected = expectations(scannedFiles);
  const actual = new Set(result.findings.map((f) => `${f.file}:${f.line}:${f.ruleId}`));
  void files;
  for (const rule of ['authorization-passthrough', 'jwt-no-audience']) {
    const exp = [...expected].filter((k) => k.endsWith(`:${rule}`));
    const act = [...actual].filter((k) => k.endsWith(`:${rule}`));
    const tp = act.filter((k) => expected.has(k)).length;
    const precision = act.length ? tp / act.length : 1;
    const recall = exp.length ? tp / exp.length : 1;
    console.log(`${rule}: expected ${exp.length}, reported ${act.length}, true positives ${tp}, precision ${precision.toFixed(3)}, recall ${recall.toFixed(3)}`);
  }
  const missed = [...expected].filter((k) => !actual.has(k));
  const extra = [...actual].filter((k) => !expected.has(k));
  assert.deepEqual({ missed, extra }, { missed: [], extra: [] });
  assert.ok(expected.size >= 60, `corpus has ${expected.size} expectations`);
});

async function listFixtureFiles(): Promise<string[]> {
  const { readdir } = await import('node:fs/promises');
  const entries = await readdir(FIXTURES, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile() && /\.(py|ts|js)$/.test(e.name))
    .map((e) => `${e.parentPath}/${e.name}`.slice(ROOT.length));
}

test('fixture corpus: surveyed in worker threads or on one thread, the scan reports the same findings and notes', async () => {
  const [threaded, single] = await Promise.all([scanPaths([FIXTURES], { cwd: ROOT, threads: 2 }), scanPaths([FIXTURES], { cwd: ROOT, threads: 1 })]);
  assert.ok(threaded.filesScanned > 400, `the corpus is large enough to matter (${threaded.filesScanned} files)`);
  assert.equal(threaded.filesScanned, single.filesScanned);
  assert.deepEqual(threaded.findings, single.findings);
  assert.deepEqual(threaded.errors, single.errors);
});
