// SARIF validated against the SARIF 2.1.0 schema (vendored: test/scan/sarif-schema-2.1.0.json), JSON shape, text.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { Ajv } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { formatJson, formatText, RULES, scanPaths, toSarif, type Finding } from '../../src/scan/index.ts';
import { FIXTURES, ROOT } from './helpers.ts';

const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;
const schema = JSON.parse(readFileSync(path.join(ROOT, 'test/scan/sarif-schema-2.1.0.json'), 'utf8'));

test('SARIF output validates against the SARIF 2.1.0 schema and carries rule metadata', async () => {
  const result = await scanPaths([FIXTURES], { cwd: ROOT });
  const sarif = toSarif(result.findings, { rules: RULES, toolVersion: '0.1.0', srcRoot: ROOT, errors: [{ kind: 'parse', file: 'x.py', message: 'syntax error', line: 2, column: 1 }] });
  const ajv = new Ajv({ strict: false, allErrors: true, unicodeRegExp: false }) // the schema's `language` pattern is not valid with the u flag;
  addFormats(ajv);
  const validate = ajv.compile(schema);
  const ok = validate(sarif);
  assert.ok(ok, JSON.stringify(validate.errors?.slice(0, 5), null, 2));
  assert.equal(validate({ version: '2.1.0', runs: [{ tool: { driver: {} } }] }), false, 'the schema really validates (driver.name is required)');

  const run = (sarif.runs as any[])[0];
  const rules = run.tool.driver.rules as any[];
  assert.deepEqual(rules.map((r) => r.id).sort(), ['authorization-passthrough', 'jwt-no-audience']);
  for (const r of rules) {
    assert.ok(r.name && r.shortDescription.text && r.fullDescription.text && r.help.text && r.help.markdown);
    assert.match(r.helpUri, /^https:\/\/modelcontextprotocol\.io\//);
    assert.ok(['error', 'warning', 'note'].includes(r.defaultConfiguration.level));
    assert.ok(r.properties.tags.includes('security'));
    assert.match(r.properties['security-severity'], /^\d+\.\d$/);
  }
  assert.equal(run.results.length, result.findings.length);
  const fingerprints = new Set<string>();
  for (const res of run.results) {
    const loc = res.locations[0].physicalLocation;
    assert.equal(loc.artifactLocation.uriBaseId, '%SRCROOT%');
    assert.ok(!loc.artifactLocation.uri.startsWith('/'), 'relative URI');
    assert.ok(loc.region.startLine >= 1 && loc.region.startColumn >= 1 && loc.region.endLine >= loc.region.startLine);
    assert.ok(loc.region.snippet.text.length > 0);
    assert.equal(rules[res.ruleIndex].id, res.ruleId);
    fingerprints.add(res.partialFingerprints['deputyFindingHash/v1']);
  }
  assert.equal(fingerprints.size, run.results.length, 'fingerprints are unique');
  assert.equal(run.originalUriBaseIds['%SRCROOT%'].uri, new URL(`file://${ROOT.endsWith('/') ? ROOT : ROOT + '/'}`).href);
});

const sample: Finding = {
  ruleId: 'jwt-no-audience', level: 'warning', message: 'm', file: 'a/b.py', line: 3, column: 5, endLine: 3, endColumn: 20,
  snippet: 'jwt.decode(t)', fix: 'pass audience',
};

test('--format json shape is stable', () => {
  const out = JSON.parse(formatJson({ findings: [sample], errors: [{ kind: 'parse', file: 'c.ts', message: 'syntax error', line: 1, column: 2 }], filesScanned: 7, durationMs: 12 }, '0.1.0'));
  assert.deepEqual(Object.keys(out), ['version', 'tool', 'summary', 'findings', 'errors']);
  assert.equal(out.version, 1);
  assert.deepEqual(out.tool, { name: 'deputy', version: '0.1.0' });
  assert.deepEqual(out.summary, { filesScanned: 7, findings: 1, error: 0, warning: 1, note: 0, errors: 1, durationMs: 12 });
  assert.deepEqual(Object.keys(out.findings[0]).sort(), ['column', 'endColumn', 'endLine', 'file', 'fix', 'level', 'line', 'message', 'ruleId', 'snippet']);
});

test('text report groups by file, colours only on request, ends with a summary line', () => {
  const plain = formatText([sample, { ...sample, file: 'z.ts', level: 'error' }], { filesScanned: 2, durationMs: 5 });
  assert.ok(!plain.includes('\x1b['));
  assert.match(plain, /^a\/b\.py\n  3:5 /m);
  assert.match(plain, /✖ 2 findings \(1 error, 1 warning\) in 2 files \(5 ms\)\n$/);
  assert.ok(formatText([sample], { color: true }).includes('\x1b[33m'));
  assert.match(formatText([], { filesScanned: 3 }), /✔ no findings in 3 files/);
});
