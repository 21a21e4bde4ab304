// File discovery (.gitignore, skipped folders, virtualenvs) and project-level MCP gating.
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { collectFiles } from '../../src/scan/files.ts';
import { isIgnored, parseGitignore } from '../../src/scan/gitignore.ts';
import { scanPaths } from '../../src/scan/index.ts';
import { packageJsonDeclaresMcp, pythonRequirementNames } from '../../src/scan/project.ts';
import { FIXTURES, ROOT, tree } from './helpers.ts';


test('walk honours root and nested .gitignore and skips dependency/build/virtualenv folders', async () => {
  const dir = tree({
    '.gitignore': 'generated/\n*.gen.ts\n/only-root.py\n!keep.gen.ts\n',
    'src/app.ts': '', 'src/x.gen.ts': '', 'src/keep.gen.ts': '', 'only-root.py': '', 'src/only-root.py': '',
    'generated/a.ts': '', 'src/generated/b.ts': '',
    'pkg/.gitignore': 'secret/**\n# comment\nlocal.py\n', 'pkg/secret/deep/c.py': '', 'pkg/local.py': '', 'pkg/ok.py': '',
    'node_modules/lib/index.js': '', 'sub/node_modules/x.js': '', 'dist/out.js': '', 'build/out.js': '',
    '.venv/lib/site.py': '', 'venv/a.py': '', 'myenv/pyvenv.cfg': '', 'myenv/lib/b.py': '', '__pycache__/c.py': '', '.git/hooks/d.py': '',
    'types.d.ts': '', 'README.md': '', 'src/view.tsx': '', 'lib/m.mjs': '',
  });
  const files = (await collectFiles([dir])).map((f) => path.relative(dir, f.abs).split(path.sep).join('/')).sort();
  assert.deepEqual(files, ['lib/m.mjs', 'pkg/ok.py', 'src/app.ts', 'src/keep.gen.ts', 'src/only-root.py', 'src/view.tsx']);
  const all = (await collectFiles([dir], { gitignore: false })).map((f) => path.relative(dir, f.abs)).sort();
  assert.ok(all.includes('generated/a.ts') && !all.some((f) => f.includes('node_modules')));
});

test('build output is skipped beside its sources, and scanned in a package published with only its build', async () => {
  const dir = tree({
    'app/package.json': '{}', 'app/src/index.ts': '', 'app/dist/index.js': '',
    'tsapp/tsconfig.json': '{}', 'tsapp/index.ts': '', 'tsapp/build/index.js': '',
    'pyapp/pyproject.toml': '', 'pyapp/build/lib/pkg/mod.py': '', 'pyapp/pkg/mod.py': '',
    'published/package.json': '{}', 'published/README.md': '', 'published/dist/index.js': '', 'published/dist/types.d.ts': '',
  });
  const files = (await collectFiles([dir])).map((f) => path.relative(dir, f.abs).split(path.sep).join('/')).sort();
  assert.deepEqual(files, ['app/src/index.ts', 'published/dist/index.js', 'pyapp/pkg/mod.py', 'tsapp/index.ts']);
  // Installed dependencies' builds are other people's code, unless the package itself is what is scanned.
  const deps = tree({ 'node_modules/server/package.json': '{}', 'node_modules/server/dist/index.js': '', 'node_modules/server/index.js': '' });
  const rel = async (p: string) => (await collectFiles([p])).map((f) => path.relative(deps, f.abs).split(path.sep).join('/')).sort();
  assert.deepEqual(await rel(path.join(deps, 'node_modules')), ['node_modules/server/index.js']);
  assert.deepEqual(await rel(path.join(deps, 'node_modules', 'server')), ['node_modules/server/dist/index.js', 'node_modules/server/index.js']);
});

test('an explicitly given folder is scanned even when its name is normally skipped', async () => {
  const dir = tree({ 'node_modules/lib/index.js': '', 'node_modules/lib/node_modules/inner.js': '' });
  const files = (await collectFiles([path.join(dir, 'node_modules')])).map((f) => path.relative(dir, f.abs).split(path.sep).join('/'));
  assert.deepEqual(files, ['node_modules/lib/index.js']);
});

test('test files met in folders are skipped unless asked for; one named on the command line is scanned', async () => {
  const dir = tree({
    'src/server.ts': '', 'src/server.test.ts': '', 'src/api.spec.js': '', 'src/__tests__/a.ts': '', 'tests/test_tools.py': '',
    'app/tools_test.py': '', 'app/conftest.py': '', 'app/tools.py': '', 'e2e/flow.ts': '', 'app/testing.py': '', 'app/latest.py': '',
  });
  const rel = (files: { abs: string }[]) => files.map((f) => path.relative(dir, f.abs).split(path.sep).join('/')).sort();
  assert.deepEqual(rel(await collectFiles([dir])), ['app/latest.py', 'app/testing.py', 'app/tools.py', 'src/server.ts']);
  assert.equal(rel(await collectFiles([dir], { tests: true })).length, 11);
  assert.deepEqual(rel(await collectFiles([path.join(dir, 'src/server.test.ts')])), ['src/server.test.ts']);
  // A flow that starts in a test (a made-up header passed to the server's helper) is not reported by default.
  const app = tree({
    'package.json': '{"dependencies":{"@modelcontextprotocol/sdk":"1"}}',
    'src/client.ts': 'export function callApi(token: string) { return fetch("https://api.example.com", { headers: { Authorization: token } }); }\n',
    'src/client.test.ts': 'import { callApi } from "./client.ts";\nexport function t(req: any) { return callApi(req.headers.authorization); }\n',
  });
  assert.equal((await scanPaths([app], { cwd: app })).findings.length, 0);
  assert.equal((await scanPaths([app], { cwd: app, tests: true })).findings.length, 1);
});

test('gitignore patterns: anchoring, **, character classes, negation, dir-only', () => {
  const ig = parseGitignore('/r', 'a/**/z.py\n[bc]at.ts\nlogs/\n!logs/keep/\n\\#hash.py\nfoo/*\n');
  const rel = (_d: string, abs: string) => path.relative('/r', abs);
  const check = (p: string, dir = false) => isIgnored([ig], `/r/${p}`, dir, rel);
  assert.ok(check('a/z.py') && check('a/b/c/z.py') && !check('b/a/z.py'));
  assert.ok(check('bat.ts') && check('x/cat.ts') && !check('rat.ts'));
  assert.ok(check('logs', true) && !check('logs', false) && check('x/logs', true));
  assert.ok(check('#hash.py'));
  assert.ok(check('foo/a.py') && !check('foo/a/b.py') && !check('x/foo/a.py'));
});

test('manifest parsing recognises MCP libraries', () => {
  assert.ok(packageJsonDeclaresMcp(JSON.stringify({ dependencies: { '@modelcontextprotocol/sdk': '1' } })));
  assert.ok(packageJsonDeclaresMcp(JSON.stringify({ devDependencies: { 'mcp-framework': '1' } })));
  assert.ok(!packageJsonDeclaresMcp(JSON.stringify({ dependencies: { express: '5', 'mcp-inspector-ui': '1' } })));
  assert.deepEqual(pythonRequirementNames('mcp[cli]>=1.9\n# fastmcp\nFast_MCP==2\n'), ['mcp', 'fast-mcp']);
  assert.ok(pythonRequirementNames('[project]\ndependencies = ["fastmcp>=2.10", "httpx"]\n').includes('fastmcp'));
  assert.ok(pythonRequirementNames('[tool.poetry.dependencies]\nmcp = "^1.9"\n').includes('mcp'));
});

test('passthrough is gated per project: not reported in a non-MCP project unless the gate is off', async () => {
  const nonMcp = path.join(FIXTURES, 'non-mcp');
  const gated = await scanPaths([nonMcp], { cwd: ROOT });
  assert.deepEqual(gated.findings.map((f) => f.ruleId), ['jwt-no-audience'], 'jwt-no-audience is not gated');
  const ungated = await scanPaths([nonMcp], { cwd: ROOT, mcpGate: false });
  assert.equal(ungated.findings.filter((f) => f.ruleId === 'authorization-passthrough').length, 2);
});

test('helpers in separate modules are scanned when their project uses MCP (manifest or a sibling import)', async () => {
  const viaManifest = await scanPaths([path.join(FIXTURES, 'multi-module/src/app/downstream.py')], { cwd: ROOT });
  assert.equal(viaManifest.findings.length, 1, 'pyproject.toml declares mcp');
  const helperAlone = await scanPaths([path.join(FIXTURES, 'multi-module-ts/lib/forward.ts')], { cwd: ROOT });
  assert.equal(helperAlone.findings.length, 0, 'alone, nothing says the project is MCP');
  const withServer = await scanPaths([path.join(FIXTURES, 'multi-module-ts')], { cwd: ROOT });
  assert.equal(withServer.findings.length, 1, 'server.ts imports the SDK, so the project is MCP');
});

test('files without any manifest belong to their scan root', async () => {
  const dir = tree({ 'server.py': 'from mcp.server.fastmcp import FastMCP\n', 'helper.py': 'import httpx\nfrom flask import request\nhttpx.get("u", headers={"Authorization": request.headers["Authorization"]})\n' });
  const r = await scanPaths([dir]);
  assert.equal(r.findings.length, 1);
});
