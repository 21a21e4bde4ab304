// The CLI as a user runs it: a child process on the pinned Node, exit codes, messages.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { SqliteAuditSink } from '../../src/audit/sqlite.ts';

const main = new URL('../../src/cli/main.ts', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'deputy-cli-'));

async function deputy(args: string[], env: Record<string, string> = {}) {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [main, ...args], { cwd: dir, env: { ...process.env, ...env } });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

const goodConfig = `
server: { port: 0 }
auth:
  issuers: [{ issuer: https://idp.example.com }]
upstreams:
  - name: notes
    type: mcp
    url: http://127.0.0.1:9001/mcp
    credentials: { type: static, headers: { Authorization: { env: NOTES_AUTH } } }
  - name: legacy
    type: mcp
    url: https://legacy.internal/mcp
    credentials: { type: passthrough, acknowledge_spec_violation: true }
`;

test('--help and unknown commands', async () => {
  const help = await deputy(['--help']);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /Usage: deputy <command>/);
  assert.match(help.stdout, /scan/);
  const unknown = await deputy(['frobnicate']);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /unknown command 'frobnicate'/);
  const badFlag = await deputy(['check', '--nope']);
  assert.equal(badFlag.code, 2);
  assert.match(badFlag.stderr, /Unknown option '--nope'/);
});

test('check: valid config with a passthrough warning → exit 0', async () => {
  writeFileSync(join(dir, 'good.yaml'), goodConfig);
  const r = await deputy(['check', '--config', 'good.yaml'], { NOTES_AUTH: 'Bearer x' });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /good\.yaml\n\s+13:\d+\s+warning\s+upstreams\[1\]\.credentials\.type: upstream 'legacy' uses token passthrough.*config-passthrough/);
  assert.match(r.stderr, /valid, 0 error\(s\), 1 warning\(s\)/);
});

test('check: errors name the key → exit 1; --json for machines', async () => {
  writeFileSync(join(dir, 'bad.yaml'), goodConfig.replace('type: static', 'type: magic'));
  const r = await deputy(['check', '--config', 'bad.yaml']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /9:\d+\s+error\s+upstreams\[0\]\.credentials\.type: expected one of static, client_credentials, token_exchange, user_oauth, id_jag, passthrough, got "magic"\s+config-invalid/);
  const j = await deputy(['check', '--config', 'bad.yaml', '--format', 'json']);
  assert.equal(j.code, 1);
  const out = JSON.parse(j.stdout);
  const f = out.findings.find((x: { message: string }) => x.message.startsWith('upstreams[0].credentials.type'));
  assert.equal(f.ruleId, 'config-invalid');
  assert.equal(f.line, 9);
  assert.equal(f.file, 'bad.yaml');
});

test('check: SARIF, literal secrets and plain-http lint', async () => {
  writeFileSync(join(dir, 'lint.yaml'), `
auth:
  issuers: [{ issuer: http://idp.corp.example }]
upstreams:
  - name: crm
    type: mcp
    url: http://crm.corp.example/mcp
    credentials: { type: client_credentials, token_endpoint: http://idp.corp.example/token, client_id: deputy, client_secret: hunter2 }
`);
  const r = await deputy(['check', '--config', 'lint.yaml', '--format', 'sarif']);
  assert.equal(r.code, 1);
  const sarif = JSON.parse(r.stdout);
  assert.equal(sarif.version, '2.1.0');
  const results = sarif.runs[0].results as { ruleId: string; locations: { physicalLocation: { region: { startLine: number } } }[] }[];
  const literal = results.find((x) => x.ruleId === 'config-literal-secret');
  assert.equal(literal?.locations[0]!.physicalLocation.region.startLine, 8);
  writeFileSync(join(dir, 'lint.yaml'), readFileSync(join(dir, 'lint.yaml'), 'utf8').replace('client_secret: hunter2', 'client_secret: { env: S }'));
  const ok = await deputy(['check', '--config', 'lint.yaml', '--format', 'json'], { S: 'x' });
  assert.equal(ok.code, 0, ok.stdout);
  const rules = JSON.parse(ok.stdout).findings.map((x: { ruleId: string; message: string }) => `${x.ruleId} ${x.message.split(':')[0]}`).sort();
  assert.deepEqual(rules, ['config-plain-http auth.issuers[0].issuer', 'config-plain-http upstreams[0].credentials.token_endpoint', 'config-plain-http upstreams[0].url']);
});

test('check: missing file and missing env var', async () => {
  const missing = await deputy(['check', '--config', 'nope.yaml']);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /config file not found/);
  const noEnv = await deputy(['check', '--config', 'good.yaml'], { NOTES_AUTH: '' });
  assert.equal(noEnv.code, 1);
  assert.match(noEnv.stderr, /environment variable NOTES_AUTH is not set/);
});

test('audit: prints recent events, --json, --since', async () => {
  const sink = new SqliteAuditSink(join(dir, 'audit.db'));
  sink.write({ time: new Date(Date.now() - 7200_000).toISOString(), requestId: 'old', route: '/mcp/notes', httpMethod: 'POST', outcome: 'ok', status: 200, latencyMs: 1 });
  sink.write({ time: new Date().toISOString(), requestId: 'r1', issuer: 'https://idp', subject: 'alice', clientId: 'ide', upstream: 'notes', route: '/mcp/notes', httpMethod: 'POST', rpcMethod: 'tools/call', target: 'add', credentialMode: 'static', outcome: 'ok', status: 200, latencyMs: 3.2 });
  await sink.close();
  const text = await deputy(['audit', '--store', 'sqlite:audit.db']);
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout, /alice via ide\s+POST \/mcp\/notes tools\/call add \[static\]/);
  const json = await deputy(['audit', '--store', 'sqlite:audit.db', '--since', '1h', '--json']);
  const events = JSON.parse(json.stdout);
  assert.deepEqual(events.map((e: { requestId: string }) => e.requestId), ['r1']);
  const bad = await deputy(['audit', '--store', 'sqlite:audit.db', '--since', 'yesterday-ish']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--since expects a duration like 30m/);
});

test('check: the shipped deputy.example.yaml is valid and reports its passthrough upstream and OpenAPI summary', async () => {
  const example = new URL('../../deputy.example.yaml', import.meta.url).pathname;
  const r = await deputy(['check', '--config', example, '--format', 'json'], { NOTES_AUTHORIZATION: 'x', INTROSPECT_SECRET: 'x', DEPUTY_CLIENT_SECRET: 'x', TRACKER_CLIENT_SECRET: 'x', DEPUTY_WEB_SECRET: 'x', DEPUTY_VAULT_KEY: 'k'.repeat(32) });
  assert.equal(r.code, 0, r.stdout + r.stderr);
  const rules = JSON.parse(r.stdout).findings.map((f: { ruleId: string }) => f.ruleId).sort();
  assert.deepEqual(rules, ['config-passthrough', 'openapi-excluded-operation', 'openapi-summary']);
});
