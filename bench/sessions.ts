// `npm run bench:sessions`: session churn against a real `deputy serve` process. 100,000 initialize
// calls by one principal, then 100,000 by many (10 each), then idle; prints Deputy's RSS, V8 heap (after
// a full GC, see gc-on-signal.ts) and session count after each phase, so "memory returns to its
// baseline" is a measurement, not a claim.
// Not part of `npm test`.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { freePort, startLocalIssuer, waitUntilReady } from './support.ts';
import { Pool } from 'undici';

const { values: flags } = parseArgs({
  options: {
    sessions: { type: 'string', default: '100000' },
    'per-principal': { type: 'string', default: '10' },
    'idle-ms': { type: 'string', default: '15000' },
    concurrency: { type: 'string', default: '32' },
    json: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h' },
  },
});
if (flags.help) {
  console.log('Usage: npm run bench:sessions -- [--sessions 100000] [--per-principal 10] [--idle-ms 15000] [--concurrency 32] [--json]');
  process.exit(0);
}
const total = Number(flags.sessions);
const perPrincipal = Number(flags['per-principal']);
const idleMs = Number(flags['idle-ms']);
const concurrency = Number(flags.concurrency);
const say = (s: string) => !flags.json && console.log(s);

const idp = await startLocalIssuer();
const dir = mkdtempSync(join(tmpdir(), 'deputy-sessions-'));
const port = await freePort();
const base = `http://127.0.0.1:${port}`;
writeFileSync(join(dir, 'deputy.yaml'), `server: { host: 127.0.0.1, port: ${port} }
auth: { issuers: [${idp.yaml}] }
limits: { session_idle_ms: ${idleMs} }
upstreams:
  - { name: bank, type: openapi, spec: ${join(import.meta.dirname, '../test/upstreams/openapi/fixtures/bank.openapi.yaml')}, base_url: http://127.0.0.1:9/api, credentials: { type: static, headers: { X-Tenant: bench } } }
audit: { store: "sqlite:${join(dir, 'audit.db')}" }
metrics: { enabled: true }
`);
const child = spawn(process.execPath, ['--expose-gc', '--import', join(import.meta.dirname, 'gc-on-signal.ts'), join(import.meta.dirname, '../src/cli/main.ts'), 'serve', '--config', join(dir, 'deputy.yaml'), '--no-watch'], { stdio: ['ignore', 'ignore', 'pipe'] });
child.stderr!.on('data', (d) => process.env.BENCH_VERBOSE && process.stderr.write(d));
const stop = () => child.exitCode === null && child.kill('SIGKILL');
process.on('exit', stop);
await waitUntilReady(base, 30_000);

const pool = new Pool(base, { connections: concurrency });
const tokens = new Map<string, string>();
async function token(sub: string): Promise<string> {
  let t = tokens.get(sub);
  if (!t) {
    t = await idp.token(sub, `${base}/mcp/bank`);
    if (tokens.size < 20_000) tokens.set(sub, t);
  }
  return t;
}
const init = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'bench', version: '0' } } });
let failures = 0;
async function initialize(sub: string): Promise<void> {
  const res = await pool.request({ path: '/mcp/bank', method: 'POST', headers: { authorization: `Bearer ${await token(sub)}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' }, body: init });
  await res.body.dump();
  if (res.statusCode !== 200) failures++;
}

async function churn(n: number, subject: (i: number) => string, label: string): Promise<number> {
  const started = Date.now();
  let next = 0;
  let lastPrint = Date.now();
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < n) {
      const i = next++;
      await initialize(subject(i));
      if (Date.now() - lastPrint > 5000) {
        lastPrint = Date.now();
        say(`  ${label}: ${i}/${n} (${Math.round(i / ((Date.now() - started) / 1000))}/s)`);
      }
    }
  }));
  return (Date.now() - started) / 1000;
}

async function sample(phase: string) {
  child.kill('SIGUSR2'); // full GC first: retained memory, not garbage waiting for collection
  await new Promise((r) => setTimeout(r, 1000));
  const rss = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))![1]) / 1024;
  const metrics = await (await fetch(`${base}/metrics`)).text();
  const metric = (name: string) => Number(new RegExp(`^${name}(?:\\{[^}]*\\})? ([\\d.e+]+)$`, 'm').exec(metrics)?.[1] ?? NaN);
  const s = { phase, rssMiB: Math.round(rss), heapUsedMiB: Math.round(metric('deputy_nodejs_heap_size_used_bytes') / 1_048_576), sessions: metric('deputy_sessions'), principals: metric('deputy_session_principals'), evicted: metric('deputy_sessions_evicted_total'), expired: metric('deputy_sessions_expired_total') };
  say(`${phase.padEnd(34)} RSS ${String(s.rssMiB).padStart(4)} MiB  heap ${String(s.heapUsedMiB).padStart(4)} MiB  sessions ${s.sessions} (principals ${s.principals}, evicted ${s.evicted}, expired ${s.expired})`);
  return s;
}

const settle = (ms: number) => new Promise((r) => setTimeout(r, ms));
const results = [];
await churn(2000, (i) => `warm-${i % 50}`, 'warm-up');
await settle(2 * idleMs + 5000);
results.push(await sample('baseline (after warm-up, idle)'));
const t1 = await churn(total, () => 'one-principal', 'one principal');
results.push(await sample(`after ${total} by one principal`));
const t2 = await churn(total, (i) => `user-${Math.floor(i / perPrincipal)}`, 'many principals');
results.push(await sample(`after ${total} by ${Math.ceil(total / perPrincipal)} principals`));
say(`waiting for idle expiry (${idleMs} ms + sweep)…`);
await settle(2 * idleMs + 5000); // expiry, then the next sweep (every min(idle, 60 s))
results.push(await sample('after idle expiry'));
const summary = { total, perPrincipal, idleMs, secondsOnePrincipal: t1, secondsManyPrincipals: t2, failures, results };
if (flags.json) console.log(JSON.stringify(summary, null, 2));
else say(`${failures} failed initialize calls; ${Math.round(total / t1)}/s one principal, ${Math.round(total / t2)}/s many`);
await pool.close();
stop();
idp.close();
process.exit(0);
