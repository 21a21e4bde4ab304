// `deputy scan` as a child process: exit codes 0/1/2, --fail-on, --format, unparsable files, missing paths.
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { runCli } from './helpers.ts';

function project(files: Record<string, string>): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'deputy-scan-'));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    writeFileSync(path.join(dir, name), text);
  }
  return dir;
}

const MCP_PKG = JSON.stringify({ dependencies: { '@modelcontextprotocol/sdk': '^1' } });
const PASSTHROUGH = `app.get('/x', async (req, res) => { await fetch('https://api', { headers: { Authorization: req.headers.authorization } }); });\n`;
const CLEAN = `app.get('/x', async (req, res) => { await fetch('https://api', { headers: { Authorization: process.env.KEY } }); });\n`;
const PYJWT_WARNING = 'import jwt\n\ndef f(t, k):\n    return jwt.decode(t, k, algorithms=["RS256"])\n';

test('exit 0 when clean, with a summary line', () => {
  const dir = project({ 'package.json': MCP_PKG, 'server.js': CLEAN });
  const r = runCli(['scan', dir]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /✔ no findings in 1 file/);
});

test('exit 1 on an error finding; --fail-on none gives 0', () => {
  const dir = project({ 'package.json': MCP_PKG, 'server.js': PASSTHROUGH });
  const r = runCli(['scan', dir]);
  assert.equal(r.code, 1);
  assert.match(r.stdout, /authorization-passthrough/);
  assert.ok(!r.stdout.includes('\x1b['), 'no colour when not a TTY');
  assert.equal(runCli(['scan', dir, '--fail-on', 'none']).code, 0);
});

test('warnings fail only with --fail-on warning (default threshold is error)', () => {
  const dir = project({ 'app.py': PYJWT_WARNING });
  assert.equal(runCli(['scan', dir]).code, 0);
  const r = runCli(['scan', dir, '--fail-on', 'warning', '--format', 'json']);
  assert.equal(r.code, 1);
  const out = JSON.parse(r.stdout);
  assert.equal(out.summary.warning, 1);
  assert.equal(out.findings[0].ruleId, 'jwt-no-audience');
  assert.equal(out.findings[0].line, 4);
});

test('exit 2 on usage errors and missing paths', () => {
  assert.equal(runCli(['scan']).code, 2);
  assert.equal(runCli(['scan', '.', '--format', 'xml']).code, 2);
  assert.equal(runCli(['scan', '.', '--fail-on', 'sometimes']).code, 2);
  assert.equal(runCli(['scan', '.', '--bogus']).code, 2);
  const missing = runCli(['scan', path.join(tmpdir(), 'deputy-does-not-exist-' + process.pid)]);
  assert.equal(missing.code, 2);
  assert.equal(runCli(['scan', '--help']).code, 0);
});

test('an unparsable file is reported, the scan continues, and the exit code is 2', () => {
  const dir = project({ 'package.json': MCP_PKG, 'broken.ts': 'const = = ;\nfunction (\n', 'server.js': PASSTHROUGH });
  const r = runCli(['scan', dir, '--json']);
  assert.equal(r.code, 2);
  const out = JSON.parse(r.stdout);
  assert.equal(out.summary.filesScanned, 2);
  assert.equal(out.findings.length, 1, 'the other file was still scanned');
  assert.equal(out.errors.length, 1);
  assert.equal(out.errors[0].kind, 'parse');
  assert.match(out.errors[0].file, /broken\.ts$/);
  assert.match(r.stderr, /broken\.ts/);
});

test('--format sarif writes SARIF, --output writes to a file', () => {
  const dir = project({ 'package.json': MCP_PKG, 'server.js': PASSTHROUGH });
  const r = runCli(['scan', '.', '--format', 'sarif'], { cwd: dir });
  assert.equal(r.code, 1);
  const sarif = JSON.parse(r.stdout);
  assert.equal(sarif.version, '2.1.0');
  assert.equal(sarif.runs[0].results[0].locations[0].physicalLocation.artifactLocation.uri, 'server.js');
  const out = path.join(dir, 'out.sarif');
  assert.equal(runCli(['scan', '.', '--format', 'sarif', '--output', out], { cwd: dir }).code, 1);
  assert.equal(JSON.parse(require_(out)).runs[0].results.length, 1);
});

function require_(file: string): string {
  return (globalThis.process.getBuiltinModule('node:fs') as typeof import('node:fs')).readFileSync(file, 'utf8');
}
