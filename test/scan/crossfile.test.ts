// Cross-file analysis: the path of every finding (source first, sink last, across files), SARIF codeFlows, the text
// hops, single-file scans of a consumer module, bad input (symbolic-link loops, binary, minified, import cycles,
// unparsable files) reported as notes while the scan goes on, and the dependency order.
import assert from 'node:assert/strict';
import { readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { Ajv } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { dependencyOrder, formatText, RULES, scanPaths, toSarif } from '../../src/scan/index.ts';
import { FIXTURES, ROOT, runCli, tree } from './helpers.ts';

const SHAPES = path.join(FIXTURES, 'shapes');
const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;


test('every passthrough finding carries its path: a source first, the sink (the finding itself) last', async () => {
  const result = await scanPaths([SHAPES], { cwd: ROOT });
  const passthrough = result.findings.filter((f) => f.ruleId === 'authorization-passthrough');
  assert.ok(passthrough.length >= 25);
  for (const f of passthrough) {
    assert.ok(f.path && f.path.length >= 2, `${f.file}:${f.line} has a path`);
    assert.match(f.path[0]!.message, /^source: /, `${f.file}:${f.line} starts at a source`);
    const last = f.path.at(-1)!;
    assert.deepEqual([last.file, last.line, last.column], [f.file, f.line, f.column]);
    assert.match(last.message, /^sink: /);
  }
  // Across files: the ContextVar shape goes middleware → context variable → helper → request.
  const cv = passthrough.find((f) => f.file.includes('py-contextvar-middleware'))!;
  const files = new Set(cv.path!.map((s) => path.basename(s.file)));
  assert.deepEqual([...files].sort(), ['middleware.py', 'upstream.py']);
  assert.ok(cv.path!.some((s) => /stored in context variable `auth_header`/.test(s.message)));
  assert.ok(cv.path!.some((s) => /read from context variable `auth_header`/.test(s.message)));
  // A constructor in one file, the header in another.
  const cls = passthrough.find((f) => f.file.includes('ts-repo-client-class'))!;
  assert.ok(cls.path!.some((s) => s.file.endsWith('server.ts') && /passed to `new TrackerClient`/.test(s.message)));
  // A credential picked out again in another file (`this.params.token` of what the handler stored): the message names
  // the first read as well.
  const record = passthrough.find((f) => f.file.includes('ts-factory-record-methods-read-this-field'))!;
  assert.match(record.message, /^Inbound credential `this\.params\.token` \(line 14; first read as `extra\?\.authInfo\?\.token` at \S+server\.ts:10\)/);
});

test('SARIF codeFlows: one thread flow per finding, valid against the SARIF 2.1.0 schema', async () => {
  const result = await scanPaths([SHAPES], { cwd: ROOT });
  const sarif = toSarif(result.findings, { rules: RULES, srcRoot: ROOT });
  const ajv = new Ajv({ strict: false, allErrors: true, unicodeRegExp: false });
  addFormats(ajv);
  const validate = ajv.compile(JSON.parse(readFileSync(path.join(ROOT, 'test/scan/sarif-schema-2.1.0.json'), 'utf8')));
  assert.ok(validate(sarif), JSON.stringify(validate.errors?.slice(0, 3)));
  const results = (sarif.runs as any[])[0].results as any[];
  const flows = results.filter((r) => r.codeFlows);
  assert.equal(flows.length, result.findings.filter((f) => (f.path?.length ?? 0) > 1).length);
  for (const r of flows) {
    const locs = r.codeFlows[0].threadFlows[0].locations;
    assert.ok(locs.length >= 2);
    assert.equal(locs.at(-1).location.physicalLocation.region.startLine, r.locations[0].physicalLocation.region.startLine);
    assert.ok(locs.every((l: any, i: number) => l.executionOrder === i + 1 && l.location.message.text));
  }
});

test('the text report prints the hops, naming a file where the flow changes file', async () => {
  const result = await scanPaths([path.join(SHAPES, 'py-repo-client-class-field')], { cwd: ROOT });
  const text = formatText(result.findings);
  assert.match(text, /path:\n/);
  assert.match(text, /test\/scan\/fixtures\/shapes\/py-repo-client-class-field\/tracker\/server\.py:\d+\s+source: `get_access_token\(\)\.token`/);
  assert.match(text, /\n\s+11\s+sink: the headers of an outbound HTTP request/);
});

test('a consumer module scanned alone: a credential handed to a client it cannot see is still reported', async () => {
  const dir = tree({
    'pyproject.toml': '[project]\ndependencies = ["fastmcp"]\n',
    'tools.py': 'from fastmcp.server.dependencies import get_http_headers\nfrom .client import ApiClient\n\n' +
      'def search(q):\n    key = get_http_headers().get("x-api-key")\n    return ApiClient(api_key=key).search(q)\n',
  });
  const r = await scanPaths([path.join(dir, 'tools.py')]);
  assert.equal(r.findings.length, 1);
  assert.match(r.findings[0]!.message, /`api_key` credential of `ApiClient`/);
  // With the client in the scan, its code decides: this one sends only its own secret, so nothing is reported.
  writeFileSync(path.join(dir, 'client.py'), 'import os, httpx\n\nclass ApiClient:\n    def __init__(self, api_key):\n        self.key = api_key\n\n' +
    '    def search(self, q):\n        return httpx.get("https://api", params={"q": q}, headers={"X-Key": os.environ["OWN_KEY"]})\n');
  const both = await scanPaths([dir]);
  assert.deepEqual(both.findings, []);
});

test('bad input is reported and the scan goes on: link loops, binary, minified, unparsable files, import cycles', async () => {
  const dir = tree({
    'package.json': JSON.stringify({ dependencies: { '@modelcontextprotocol/sdk': '1' } }),
    'src/a.ts': "import { b } from './b';\nexport function a(req) { return b(req.headers.authorization); }\n",
    'src/b.ts': "import { a } from './a';\nexport function b(tok) { return fetch('https://x', { headers: { Authorization: tok } }); }\nvoid a;\n",
    'src/binary.js': Buffer.from([0x63, 0x6f, 0x6e, 0x00, 0x01, 0x02, 0x73, 0x74]),
    'src/bundle.min.js': 'var a=1;'.repeat(2000),
    'src/broken.py': 'def f(:\n    return httpx.get(\n',
  });
  symlinkSync(path.join(dir, 'src'), path.join(dir, 'src', 'loop'));
  const r = await scanPaths([dir], { cwd: dir });
  const byKind = (kind: string) => r.errors.filter((e) => e.kind === kind).map((e) => `${e.file}: ${e.message}`);
  assert.ok(byKind('skipped').some((m) => /src\/loop: skipped: symbolic link loop/.test(m)), byKind('skipped').join('\n'));
  assert.ok(byKind('skipped').some((m) => /binary\.js: skipped: binary file/.test(m)));
  assert.ok(byKind('skipped').some((m) => /bundle\.min\.js: skipped: minified or generated/.test(m)));
  assert.ok(byKind('parse').some((m) => /broken\.py: syntax error/.test(m)));
  assert.ok(byKind('note').some((m) => /import cycle across files \(src\/a\.ts → src\/b\.ts → src\/a\.ts\)/.test(m)), byKind('note').join('\n'));
  // The cycle is still analysed: the header read in a.ts reaches the request in b.ts.
  assert.deepEqual(r.findings.map((f) => `${f.file}:${f.line}`), ['src/b.ts:2']);
  // Surveyed in worker threads, the same notes, skips and finding.
  const threaded = await scanPaths([dir], { cwd: dir, threads: 2 });
  assert.deepEqual({ errors: threaded.errors, findings: threaded.findings }, { errors: r.errors, findings: r.findings });
  // Notes and skips do not make the CLI fail with 2; the finding makes it 1.
  const cli = runCli(['scan', path.join(dir, 'src', 'a.ts'), path.join(dir, 'src', 'b.ts'), path.join(dir, 'src', 'binary.js')]);
  assert.equal(cli.code, 1, cli.stdout + cli.stderr);
  assert.match(cli.stdout, /import cycle across files/);
});

test('dependency order puts imported modules first and reports each cycle once', () => {
  const graph = new Map([['app', ['lib', 'util']], ['lib', ['util']], ['util', []], ['x', ['y']], ['y', ['x']]]);
  const { order, cycles } = dependencyOrder(graph);
  assert.ok(order.indexOf('util') < order.indexOf('lib') && order.indexOf('lib') < order.indexOf('app'));
  assert.deepEqual(cycles.map((c) => [...c].sort()), [['x', 'y']]);
  const deep = new Map(Array.from({ length: 50_000 }, (_, i) => [`m${i}`, i + 1 < 50_000 ? [`m${i + 1}`] : []] as [string, string[]]));
  assert.equal(dependencyOrder(deep).order[0], 'm49999', 'a long import chain does not overflow the stack');
});

test('the CLI shows progress for both passes on a large tree (stderr, one line per 500 files when not a terminal)', () => {
  const files: Record<string, string> = { 'package.json': JSON.stringify({ dependencies: { '@modelcontextprotocol/sdk': '1' } }) };
  for (let i = 0; i < 1000; i++) files[`src/m${i}.ts`] = `export const v${i} = ${i};\n`;
  const dir = tree(files);
  const r = runCli(['scan', dir, '--format', 'json']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /deputy scan: scanning 1000\/1000 files/);
  assert.match(r.stderr, /deputy scan: following data across 1000\/1000 files/);
  assert.equal(JSON.parse(r.stdout).summary.filesScanned, 1000);
});
