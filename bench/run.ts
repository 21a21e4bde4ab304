// `npm run bench`: Deputy against the floor, in one run, under the same load generator and concurrency.
//   1 direct            client → upstream
//   2 nginx             client → nginx (generated keep-alive reverse proxy) → upstream: what any proxy hop costs
//     node-proxy        client → bare node:http + undici proxy → upstream: the floor for anything on Node
//   3 deputy-static     JWT verified (cached), static upstream credential
//   4 deputy-exchange   JWT + RFC 8693 token exchange, steady state (cached exchanged tokens), several users
//   5 deputy-introspect opaque tokens, cached RFC 7662 introspection
//   6 deputy-modern     as deputy-static, but an MCP 2026-07-28 request (stateless: no session lookup)
// Plus: a fixed-rate run (p99 added latency), token-endpoint requests per 1,000 calls per user, and JWT
// verification cost with and without the verified-token cache. Prints a table, writes JSON and an SVG
// chart to bench/results/. Never part of `npm test`.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { stringify } from 'yaml';
import { startAuthorizationServer, TOKEN_EXCHANGE_GRANT } from '../src/demo/authorization-server.ts';
import { TokenVerifier } from '../src/inbound/verifier.ts';
import { renderChart } from './chart.ts';
import { closedLoop, fixedRate, hasWrk, type LoadResult, type RequestSpec } from './load.ts';

const { values: flags } = parseArgs({
  options: {
    duration: { type: 'string', default: '8' },
    reps: { type: 'string', default: '2' },
    connections: { type: 'string', default: '32' },
    users: { type: 'string', default: '8' },
    rate: { type: 'string', default: '2000' },
    smoke: { type: 'boolean', default: false },
    only: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  },
});
if (flags.help) {
  console.log('Usage: npm run bench -- [--duration 8] [--reps 2] [--connections 32] [--users 8] [--rate 2000] [--only deputy-static,nginx] [--smoke]');
  process.exit(0);
}
const smoke = flags.smoke!;
const duration = smoke ? 1 : Number(flags.duration);
const reps = smoke ? 1 : Number(flags.reps);
const connections = Number(flags.connections);
const users = smoke ? 2 : Number(flags.users);
const rate = Number(flags.rate);
const root = new URL('..', import.meta.url).pathname;
const work = mkdtempSync(join(tmpdir(), 'deputy-bench-'));
const children: ChildProcess[] = [];
const log = (s: string) => process.stderr.write(`${s}\n`);
process.on('exit', () => children.forEach((c) => c.kill('SIGTERM')));

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const port = (srv.address() as { port: number }).port;
  await new Promise((r) => srv.close(r));
  return port;
}

function start(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}): ChildProcess {
  const child = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  child.stderr!.on('data', (d) => { if (process.env.BENCH_VERBOSE) process.stderr.write(d); });
  return child;
}

async function waitFor(url: string, ms = 15_000): Promise<void> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    try {
      if ((await fetch(url)).status < 500) return;
    } catch {}
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} did not come up`);
}

// --- the upstream responder
log('starting the upstream responder…');
const responder = start(process.execPath, [join(root, 'bench/responder.ts')]);
const upstreamPort = Number(await new Promise<string>((r) => responder.stdout!.once('data', (d) => r(String(d).trim()))));
const upstream = `http://127.0.0.1:${upstreamPort}/mcp`;

// --- five more responders with increasing latency, for the cold tools/list fan-out measurement
const fanout: { name: string; url: string; delay: number }[] = [];
for (const [i, delay] of [5, 10, 15, 20, 25].entries()) {
  const child = start(process.execPath, [join(root, 'bench/responder.ts'), '0', String(delay)]);
  const port = Number(await new Promise<string>((r) => child.stdout!.once('data', (d) => r(String(d).trim()))));
  fanout.push({ name: `fan${i + 1}`, url: `http://127.0.0.1:${port}/mcp`, delay });
}

// --- the authorization server (in this process; idle in steady state)
const deputyPort = await freePort();
const deputyBase = `http://127.0.0.1:${deputyPort}`;
const BACKEND = 'https://bench-backend.internal';
const as = await startAuthorizationServer({
  scopes: ['mcp:tools', 'api:read'],
  clients: [
    { client_id: 'bench-client', client_secret: 'bench-client-secret', grant_types: ['client_credentials'], scope: 'mcp:tools' },
    { client_id: 'deputy', client_secret: 'deputy-secret', grant_types: ['client_credentials', TOKEN_EXCHANGE_GRANT], scope: 'api:read' },
  ],
  resources: { [BACKEND]: { scope: 'api:read', format: 'jwt', ttlSeconds: 3600 } },
  defaultResource: (r) => r === `${deputyBase}/mcp/introspect` ? { scope: 'mcp:tools', format: 'opaque', ttlSeconds: 3600 } : r.startsWith(deputyBase) ? { scope: 'mcp:tools', format: 'jwt', ttlSeconds: 3600 } : undefined,
});

// --- Deputy, as a user runs it: `deputy serve --config deputy.yaml` in its own process
const config = {
  server: { host: '127.0.0.1', port: deputyPort },
  auth: { issuers: [{ issuer: as.issuer, introspection: { endpoint: `${as.issuer}/token/introspection`, client_id: 'deputy', client_secret: { env: 'DEPUTY_SECRET' } } }], required_scopes: ['mcp:tools'] },
  upstreams: [
    { name: 'static', type: 'mcp', url: upstream, credentials: { type: 'static', headers: { Authorization: { env: 'UPSTREAM_AUTH' } } } },
    { name: 'exchange', type: 'mcp', url: upstream, credentials: { type: 'token_exchange', token_endpoint: `${as.issuer}/token`, client_id: 'deputy', client_secret: { env: 'DEPUTY_SECRET' }, resource: BACKEND, scope: 'api:read' } },
    { name: 'introspect', type: 'mcp', url: upstream, credentials: { type: 'static', headers: { Authorization: { env: 'UPSTREAM_AUTH' } } } },
    { name: 'modern', type: 'mcp', url: upstream, protocol: '2026-07-28', credentials: { type: 'static', headers: { Authorization: { env: 'UPSTREAM_AUTH' } } } },
    ...fanout.map((f) => ({ name: f.name, type: 'mcp', url: f.url, credentials: { type: 'static', headers: { Authorization: { env: 'UPSTREAM_AUTH' } } } })),
  ],
  // BENCH_AUDIT=none|stdout|… measures the cost of the audit store itself.
  audit: { store: process.env.BENCH_AUDIT ?? `sqlite:${join(work, 'audit.db')}` },
};
writeFileSync(join(work, 'deputy.yaml'), stringify(config));
log('starting Deputy…');
// BENCH_PROFILE=1 writes a V8 CPU profile of Deputy to bench/results/profiles/ (open it in Chrome DevTools).
const profile = process.env.BENCH_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${join(root, 'bench/results/profiles')}`] : [];
const deputy = start(process.execPath, [...profile, join(root, 'src/cli/main.ts'), 'serve', '--config', join(work, 'deputy.yaml')], { DEPUTY_SECRET: 'deputy-secret', UPSTREAM_AUTH: 'Bearer bench-upstream-credential', DEPUTY_LOG_LEVEL: 'warn' });
await waitFor(`${deputyBase}/healthz`);

// --- nginx, if installed
let nginxUrl: string | undefined;
let nginxNote = '';
if (spawnSync('nginx', ['-v']).error === undefined) {
  const port = await freePort();
  const dir = join(work, 'nginx');
  mkdirSync(join(dir, 'logs'), { recursive: true });
  writeFileSync(join(dir, 'nginx.conf'), `
worker_processes 1;
daemon off;
error_log stderr warn;
pid ${dir}/nginx.pid;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${dir}/body; proxy_temp_path ${dir}/proxy; fastcgi_temp_path ${dir}/fcgi; uwsgi_temp_path ${dir}/uwsgi; scgi_temp_path ${dir}/scgi;
  upstream mcp { server 127.0.0.1:${upstreamPort}; keepalive 64; }
  server {
    listen 127.0.0.1:${port};
    location / { proxy_pass http://mcp; proxy_http_version 1.1; proxy_set_header Connection ""; proxy_buffering off; }
  }
}`);
  start('nginx', ['-p', dir, '-c', join(dir, 'nginx.conf')]);
  nginxUrl = `http://127.0.0.1:${port}/mcp`;
  await waitFor(`http://127.0.0.1:${port}/`);
} else {
  nginxNote = 'nginx is not installed, so the proxy-floor scenario is skipped. Install it with: apt-get install -y nginx-light';
  log(nginxNote);
}

// --- the Node floor: a bare node:http + undici proxy (what any Node proxy costs on this machine)
const nodeProxy = start(process.execPath, [join(root, 'bench/node-proxy.ts'), upstream]);
const nodeProxyUrl = `http://127.0.0.1:${Number(await new Promise<string>((r) => nodeProxy.stdout!.once('data', (d) => r(String(d).trim()))))}/mcp`;

// --- tokens and sessions
const call = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'echo', arguments: { text: 'hello' } } });
const base = { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': '2025-06-18' };
/** Counts token exchanges from before the users' first calls (sessions included) to the end of scenario 4. */
const exchangeCount = { before: 0, after: 0, calls: 0 };
async function deputyRequests(route: string, n: number, counter?: typeof exchangeCount): Promise<RequestSpec[]> {
  if (counter) counter.before = as.tokenRequests.get(TOKEN_EXCHANGE_GRANT) ?? 0;
  const out: RequestSpec[] = [];
  for (let i = 0; i < n; i++) {
    const token = await as.issueUserToken({ accountId: `user-${i}`, clientId: 'bench-client', resource: `${deputyBase}/mcp/${route}`, scope: 'mcp:tools' });
    const init = await fetch(`${deputyBase}/mcp/${route}`, { method: 'POST', headers: { ...base, authorization: `Bearer ${token}` }, body: JSON.stringify({ jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'bench', version: '1' } } }) });
    if (init.status !== 200) throw new Error(`initialize through Deputy failed: ${init.status} ${await init.text()}`);
    await init.text();
    out.push({ headers: { ...base, authorization: `Bearer ${token}`, 'mcp-session-id': init.headers.get('mcp-session-id')! }, body: call });
  }
  return out;
}
const direct: RequestSpec[] = [{ headers: { ...base, 'mcp-session-id': 'bench-upstream-session' }, body: call }];
/** A 2026-07-28 call: per-request _meta and mirrored headers instead of a session. */
async function modernRequests(route: string): Promise<RequestSpec[]> {
  const token = await as.issueUserToken({ accountId: 'user-modern', clientId: 'bench-client', resource: `${deputyBase}/mcp/${route}`, scope: 'mcp:tools' });
  const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'echo', arguments: { text: 'hello' }, _meta: { 'io.modelcontextprotocol/protocolVersion': '2026-07-28', 'io.modelcontextprotocol/clientCapabilities': {} } } });
  return [{ headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/call', 'mcp-name': 'echo', authorization: `Bearer ${token}` }, body }];
}

interface Scenario { name: string; url: string; requests: RequestSpec[] }
const allScenarios: Scenario[] = [
  { name: 'direct', url: upstream, requests: direct },
  ...(nginxUrl ? [{ name: 'nginx', url: nginxUrl, requests: direct }] : []),
  { name: 'node-proxy', url: nodeProxyUrl, requests: direct },
  { name: 'deputy-static', url: `${deputyBase}/mcp/static`, requests: await deputyRequests('static', 1) },
  { name: 'deputy-exchange', url: `${deputyBase}/mcp/exchange`, requests: await deputyRequests('exchange', users, exchangeCount) },
  { name: 'deputy-introspect', url: `${deputyBase}/mcp/introspect`, requests: await deputyRequests('introspect', 1) },
  { name: 'deputy-modern', url: `${deputyBase}/mcp/modern`, requests: await modernRequests('modern') },
];

// `--only a,b` runs a subset (profiling); `direct` is always kept as the baseline for ratios.
const only = flags.only?.split(',');
const scenarios = allScenarios.filter((s) => !only || s.name === 'direct' || only.includes(s.name));

// --- closed-loop throughput
const results: Record<string, LoadResult & { runs: LoadResult[] }> = {};
for (const s of scenarios) {
  log(`${s.name}: warm-up…`);
  await closedLoop({ url: s.url, requests: s.requests, connections, durationSec: smoke ? 1 : 2 });
  const runs: LoadResult[] = [];
  for (let i = 0; i < reps; i++) {
    log(`${s.name}: run ${i + 1}/${reps} (${duration}s, ${connections} connections)…`);
    runs.push(await closedLoop({ url: s.url, requests: s.requests, connections, durationSec: duration }));
  }
  if (s.name === 'deputy-exchange') {
    exchangeCount.after = as.tokenRequests.get(TOKEN_EXCHANGE_GRANT) ?? 0;
    exchangeCount.calls = runs.reduce((a, r) => a + r.requests, 0) + users; // + the users' initialize calls
  }
  const median = [...runs].sort((a, b) => a.rps - b.rps)[Math.floor(runs.length / 2)]!;
  results[s.name] = { ...median, errors: runs.reduce((a, r) => a + r.errors, 0), runs };
}

// --- fixed rate: added p99 latency at a moderate load. Tails on a small shared machine are noisy, so
// each target runs `fixedReps` times, interleaved (a disturbance hits every target alike), and the
// median of each percentile is reported.
type Fixed = Awaited<ReturnType<typeof fixedRate>>;
const fixedTargets = [
  { name: 'direct', url: upstream, requests: direct },
  ...(nginxUrl ? [{ name: 'nginx', url: nginxUrl, requests: direct }] : []),
  { name: 'node-proxy', url: nodeProxyUrl, requests: direct },
  { name: 'deputy-static', url: `${deputyBase}/mcp/static`, requests: allScenarios.find((s) => s.name === 'deputy-static')!.requests },
];
const fixed: Record<string, Fixed & { runs: Fixed[] }> = {};
{
  const fixedReps = smoke ? 1 : 3;
  const runs = new Map<string, Fixed[]>(fixedTargets.map((t) => [t.name, []]));
  for (let rep = 1; rep <= fixedReps; rep++) {
    for (const t of fixedTargets) {
      log(`fixed rate ${rate} req/s, run ${rep}/${fixedReps}: ${t.name}…`);
      runs.get(t.name)!.push(await fixedRate({ url: t.url, requests: t.requests, connections: 16, durationSec: smoke ? 1 : 5, rate }));
    }
  }
  const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  for (const [name, rs] of runs) {
    fixed[name] = { rate, sent: rs.reduce((a, r) => a + r.sent, 0), errors: rs.reduce((a, r) => a + r.errors, 0), p50Us: med(rs.map((r) => r.p50Us)), p90Us: med(rs.map((r) => r.p90Us)), p99Us: med(rs.map((r) => r.p99Us)), p999Us: med(rs.map((r) => r.p999Us)), maxUs: med(rs.map((r) => r.maxUs)), runs: rs };
  }
}

// --- cold tools/list: /mcp over 5 upstreams (5–25 ms each) vs the slowest upstream alone. Cold means a
// principal with no upstream sessions yet: initialize + tools/list, fresh user each time.
log('cold tools/list: /mcp over 5 upstreams vs the slowest alone…');
async function coldList(route: string, user: string): Promise<number> {
  const url = `${deputyBase}${route}`;
  const token = await as.issueUserToken({ accountId: user, clientId: 'bench-client', resource: url, scope: 'mcp:tools' });
  const h = { ...base, authorization: `Bearer ${token}` };
  const t0 = performance.now();
  const init = await fetch(url, { method: 'POST', headers: h, body: JSON.stringify({ jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'bench', version: '1' } } }) });
  await init.text();
  const list = await fetch(url, { method: 'POST', headers: { ...h, 'mcp-session-id': init.headers.get('mcp-session-id')! }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }) });
  const body = await list.text();
  if (list.status !== 200 || !body.includes('echo')) throw new Error(`cold tools/list on ${route} failed: ${list.status} ${body.slice(0, 200)}`);
  return performance.now() - t0;
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const coldTrials = smoke ? 3 : 9;
const coldAll: number[] = [];
const coldSlowest: number[] = [];
let cold = { aggregatedMs: NaN, slowestAloneMs: NaN, trials: coldTrials };
try {
  for (let i = 0; i < coldTrials; i++) {
    coldAll.push(await coldList('/mcp', `cold-all-${i}`));
    coldSlowest.push(await coldList('/mcp/fan5', `cold-one-${i}`));
  }
  cold = { aggregatedMs: median(coldAll), slowestAloneMs: median(coldSlowest), trials: coldTrials };
} catch (error) {
  log(`cold tools/list skipped: ${(error as Error).message}`); // e.g. a Deputy build without /mcp
}

// --- JWT verification cost, with and without the verified-token cache (in this process)
log('JWT verification cost…');
const jwtResource = `${deputyBase}/mcp/static`;
const jwtToken = await as.issueUserToken({ accountId: 'jwt-bench', clientId: 'bench-client', resource: jwtResource, scope: 'mcp:tools' });
const authCfg = (ttl: number) => ({ issuers: [{ issuer: as.issuer, algorithms: ['ES256', 'RS256'] }], requiredScopes: [], audiences: [], clockSkewSeconds: 30, cacheTtlSeconds: ttl });
async function verifyRate(ttl: number): Promise<number> {
  const v = new TokenVerifier(authCfg(ttl));
  await v.verify(jwtToken);
  const n = smoke ? 200 : 5000;
  const t0 = performance.now();
  for (let i = 0; i < n; i++) await v.verify(jwtToken);
  return n / ((performance.now() - t0) / 1000);
}
const verifyUncached = await verifyRate(0);
const verifyCached = await verifyRate(300);

// --- Deputy's peak memory
const status = readFileSync(`/proc/${deputy.pid}/status`, 'utf8');
const peakRssMb = Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? 0) / 1024;

// --- report
const d = results.direct!;
const n = results.nginx;
const rows = Object.entries(results).map(([name, r]) => ({
  scenario: name,
  'req/s': Math.round(r.rps),
  'p50 ms': r.p50Ms.toFixed(2),
  'p99 ms': r.p99Ms.toFixed(2),
  'max ms': r.maxMs.toFixed(1),
  errors: r.errors,
  'vs direct': (r.rps / d.rps).toFixed(2),
  'vs nginx': n ? (r.rps / n.rps).toFixed(2) : '-',
}));
console.log(`\nDeputy bench — ${new Date().toISOString()} — ${hasWrk() ? 'wrk' : 'autocannon'}, ${connections} connections, ${duration}s × ${reps} runs (median), Node ${process.version}\n`);
console.table(rows);
const ms = (us: number) => (us / 1000).toFixed(2);
const perUser = exchangeCount.calls ? ((exchangeCount.after - exchangeCount.before) / (exchangeCount.calls / users)) * 1000 : 0;
const s3 = results['deputy-static'] ?? d;
const s4 = results['deputy-exchange'] ?? d;
const summary = {
  'deputy-static / nginx throughput': n ? (s3.rps / n.rps).toFixed(2) : 'n/a (no nginx)',
  'deputy-static / node-proxy throughput': results['node-proxy'] ? (s3.rps / results['node-proxy'].rps).toFixed(2) : 'n/a',
  'deputy-exchange / deputy-static throughput': (s4.rps / s3.rps).toFixed(2),
  'deputy-modern (2026-07-28) / deputy-static throughput': results['deputy-modern'] ? (results['deputy-modern'].rps / s3.rps).toFixed(2) : 'n/a',
  ...(fixed.direct ? Object.fromEntries(Object.entries(fixed).flatMap(([name, f]) => [
    [`at ${rate} req/s: ${name} p50 / p90 / p99 (median of ${f.runs.length})`, `${ms(f.p50Us)} / ${ms(f.p90Us)} / ${ms(f.p99Us)} ms`],
    ...(name === 'direct' ? [] : [[`p99 added over direct: ${name}`, `${ms(f.p99Us - fixed.direct!.p99Us)} ms`]]),
  ])) : {}),
  'token exchanges in scenario 4 (from the users\' first call)': `${exchangeCount.after - exchangeCount.before} for ${exchangeCount.calls} calls by ${users} users = ${perUser.toFixed(3)} per 1,000 calls per user`,
  'cold initialize+tools/list, /mcp over 5 upstreams (median)': `${cold.aggregatedMs.toFixed(1)} ms`,
  'cold initialize+tools/list, slowest upstream alone (median)': `${cold.slowestAloneMs.toFixed(1)} ms (ratio ${(cold.aggregatedMs / cold.slowestAloneMs).toFixed(2)})`,
  'JWT verify, no cache (ops/s)': Math.round(verifyUncached),
  'JWT verify, with cache (ops/s)': Math.round(verifyCached),
  'Deputy peak RSS': `${peakRssMb.toFixed(0)} MB`,
};
console.table(summary);
if (nginxNote) console.log(nginxNote);

const out = { time: new Date().toISOString(), node: process.version, loadTool: hasWrk() ? 'wrk' : 'autocannon', connections, duration, reps, users, smoke, results, fixed, cold, exchangeCount, verify: { uncached: verifyUncached, cached: verifyCached }, peakRssMb, nginx: !!nginxUrl };
const dir = join(root, 'bench/results');
mkdirSync(dir, { recursive: true });
const stamp = out.time.replace(/[:.]/g, '-');
writeFileSync(join(dir, `bench-${stamp}.json`), JSON.stringify(out, null, 2));
writeFileSync(join(dir, smoke ? 'smoke.svg' : 'latest.svg'), renderChart(rows.map((r) => ({ name: r.scenario, rps: r['req/s'], p99: Number(r['p99 ms']) }))));
console.log(`\nwrote bench/results/bench-${stamp}.json and bench/results/${smoke ? 'smoke' : 'latest'}.svg`);

children.forEach((c) => c.kill('SIGTERM'));
await new Promise((r) => deputy.once('exit', r)); // lets a profiled Deputy write its profile
await as.close();
process.exit(0);
