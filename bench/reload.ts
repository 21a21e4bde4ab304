// `npm run bench:reload`: tools/list latency while `deputy serve` reloads its config (SIGHUP) with a
// large OpenAPI spec (Kubernetes, 845 operations). A fixed-rate stream of tools/list calls on an MCP
// upstream (/mcp/notes) and on the OpenAPI upstream itself (/mcp/k8s) measures how much a reload
// stalls the requests the old pipeline keeps serving. `--deputy PATH` runs another checkout's
// src/cli/main.ts (e.g. to compare with a version that converted specs on the main thread).
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { freePort, startLocalIssuer, waitUntilReady } from './support.ts';
import { Pool } from 'undici';
import { startSampleMcpServer } from '../src/demo/sample-mcp-server.ts';

const { values: flags } = parseArgs({
  options: {
    reloads: { type: 'string', default: '3' },
    rate: { type: 'string', default: '100' },
    deputy: { type: 'string', default: join(import.meta.dirname, '../src/cli/main.ts') },
    spec: { type: 'string', default: join(import.meta.dirname, '../test/upstreams/openapi/fixtures/.cache/kubernetes.json') },
    json: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h' },
  },
});
if (flags.help) {
  console.log('Usage: npm run bench:reload -- [--reloads 3] [--rate 100] [--deputy path/to/src/cli/main.ts] [--spec kubernetes.json] [--json]');
  process.exit(0);
}
const spec = resolve(flags.spec!);
if (!existsSync(spec)) throw new Error(`${spec} is missing: run node scripts/fetch-openapi-fixtures.ts`);
const say = (s: string) => !flags.json && console.log(s);

const idp = await startLocalIssuer();
const notes = await startSampleMcpServer({ stateless: true });

const dir = mkdtempSync(join(tmpdir(), 'deputy-reload-'));
const port = await freePort();
const base = `http://127.0.0.1:${port}`;
const config = (n: number) => `# reload ${n}
server: { host: 127.0.0.1, port: ${port} }
auth: { issuers: [${idp.yaml}] }
upstreams:
  - { name: notes, type: mcp, url: ${notes.url}, credentials: { type: static, headers: { X-Tenant: bench } } }
  - { name: k8s, type: openapi, spec: ${spec}, base_url: http://127.0.0.1:9/api, credentials: { type: static, headers: { X-Tenant: bench } } }
audit: { store: none }
`;
writeFileSync(join(dir, 'deputy.yaml'), config(0));
const child = spawn(process.execPath, [flags.deputy!, 'serve', '--config', join(dir, 'deputy.yaml'), '--no-watch'], { stdio: ['ignore', 'ignore', 'pipe'] });
let reloaded = 0;
child.stderr!.on('data', (d: Buffer) => {
  reloaded += (String(d).match(/"config reloaded"/g) ?? []).length;
  if (process.env.BENCH_VERBOSE) process.stderr.write(d);
});
process.on('exit', () => child.exitCode === null && child.kill('SIGKILL'));
await waitUntilReady(base, 60_000);

const token = (path: string) => idp.token('bench', `${base}${path}`);
const targets = [{ path: '/mcp/notes', token: await token('/mcp/notes') }, { path: '/mcp/k8s', token: await token('/mcp/k8s') }];
const pool = new Pool(base, { connections: 16 });
const list = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' });
interface Sample { path: string; at: number; ms: number; reloading: boolean; ok: boolean }
const samples: Sample[] = [];
let reloading = false;

async function one(t: { path: string; token: string }): Promise<void> {
  const at = performance.now();
  const during = reloading;
  try {
    const res = await pool.request({ path: t.path, method: 'POST', headers: { authorization: `Bearer ${t.token}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' }, body: list });
    await res.body.dump();
    samples.push({ path: t.path, at, ms: performance.now() - at, reloading: during || reloading, ok: res.statusCode === 200 });
  } catch {
    samples.push({ path: t.path, at, ms: performance.now() - at, reloading: during || reloading, ok: false });
  }
}

const rate = Number(flags.rate);
const inflight = new Set<Promise<void>>();
const ticker = setInterval(() => {
  for (const t of targets) {
    const p = one(t).finally(() => inflight.delete(p));
    inflight.add(p);
  }
}, 1000 / rate);

await new Promise((r) => setTimeout(r, 3000));
for (let n = 1; n <= Number(flags.reloads); n++) {
  writeFileSync(join(dir, 'deputy.yaml'), config(n));
  const started = performance.now();
  reloading = true;
  child.kill('SIGHUP');
  while (reloaded < n) await new Promise((r) => setTimeout(r, 5));
  reloading = false;
  say(`reload ${n}: ${Math.round(performance.now() - started)} ms`);
  await new Promise((r) => setTimeout(r, 2000));
}
clearInterval(ticker);
await Promise.all(inflight);

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? Math.round(s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]! * 100) / 100 : NaN;
};
const rows = [];
for (const t of targets) {
  for (const during of [false, true]) {
    const xs = samples.filter((s) => s.path === t.path && s.reloading === during);
    rows.push({ path: t.path, window: during ? 'during reload' : 'steady', n: xs.length, failed: xs.filter((s) => !s.ok).length, p50: pct(xs.map((s) => s.ms), 50), p99: pct(xs.map((s) => s.ms), 99), max: pct(xs.map((s) => s.ms), 100) });
  }
}
if (flags.json) console.log(JSON.stringify({ rate, reloads: Number(flags.reloads), rows }, null, 2));
else {
  say('\ntools/list latency, ms');
  say('| endpoint | window | requests | failed | p50 | p99 | max |\n|---|---|---|---|---|---|---|');
  for (const r of rows) say(`| ${r.path} | ${r.window} | ${r.n} | ${r.failed} | ${r.p50} | ${r.p99} | ${r.max} |`);
}
await pool.close();
child.kill('SIGKILL');
await notes.close();
idp.close();
process.exit(0);
