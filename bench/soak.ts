// `npm run soak -- --minutes 10`: a fixed-rate mix against a real Deputy process (`node src/cli/main.ts
// serve --config <generated yaml>`, as a user runs it) for a long time, failing when Deputy's memory
// grows. In this process: the development authorization server (it mints the users' tokens), the
// upstreams (a stateful SDK MCP server behind a static credential, a stateless one behind RFC 8693
// token exchange, the demo's REST API as an OpenAPI upstream, also behind token exchange), a JWKS
// endpoint whose soak-owned signing keys rotate during the run, and the load generator. Deputy's RSS
// comes from /proc/<pid>/status; heap, handles and event-loop delay from its /metrics (prom-client's
// process metrics) and from bench/soak-probe.ts, preloaded into Deputy unless --no-probe, which adds
// what /metrics lacks: heap after each major GC, worker-thread heaps, one-second loop-delay windows.
// Never part of `npm test`.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import * as jose from 'jose';
import { Pool } from 'undici';
import { stringify } from 'yaml';
import { startAuthorizationServer, TOKEN_EXCHANGE_GRANT } from '../src/demo/authorization-server.ts';
import { startSampleMcpServer } from '../src/demo/sample-mcp-server.ts';
import { startSampleRestApi } from '../src/demo/sample-rest-api.ts';
import type { ProbeSnapshot } from './soak-probe.ts';

const usage = `Usage: npm run soak -- [options]

Runs a real Deputy (node src/cli/main.ts serve --config <generated yaml>) under a fixed-rate mix and
fails (exit 1) when its RSS grows past the bound, when it dies, or when too many answers are wrong.

The mix (shares of --rate): 30% tools/call on /mcp/notes (static credential, stateful upstream,
sessions), 20% tools/call on /mcp/backend (RFC 8693 token exchange), 20% /mcp (aggregate: tools/list
and tools/call across all three upstreams), 20% /mcp/tasks (OpenAPI REST API, token exchange), 10%
session churn (initialize, initialized, tools/list, then DELETE — checked gone — or abandon).
Beside it: --streams GET (SSE) streams on /mcp/notes held 20-90 s, then closed and reopened on the
same session or a new one, each receiving tools/list_changed events the soak triggers every 10 s;
user tokens living --token-ttl seconds, re-minted as they age; every 5 s an expired token that must
get 401; and every --rotate-every seconds a JWKS signing-key rotation (a new key is published and
signs from then on, 10 users re-authenticate at once, the old key is unpublished once its tokens
have expired).

Options:
  --minutes N            run length (default 10); --seconds N for a short check
  --rate N               requests per second of the mix (default 200)
  --interval S           progress line every S seconds (default 30)
  --warmup S             seconds before the memory baseline (default 60, or 1/5 of the run if shorter)
  --users N              regular users (default 40)
  --churn-users N        principals opening and abandoning sessions (default 300)
  --streams N            GET (SSE) streams held open at once (default 8)
  --token-ttl A-B        user-token lifetime in seconds, random in [A, B] (default 30-60)
  --rotate-every S       JWKS key rotation period in seconds, 0 = never (default 60)
  --session-idle S       Deputy's limits.session_idle_ms, in seconds, so abandoned sessions expire within
                           the run (default 120; 0 = Deputy's own default, 30 min)
  --max-growth-mib N     fail when final RSS > baseline + max(N MiB, P% of baseline)
  --max-growth-pct P       (defaults 64 and 25)
  --max-failure-rate F   fail when unexpected answers exceed this fraction of requests (default 0.01)
  --node-flags=F         Node flags for Deputy's process (mind the "="), e.g.
                           --node-flags=--max-semi-space-size=16 (see docs/deployment.md, Memory)
  --no-probe             run Deputy without bench/soak-probe.ts (heap after GC, worker heaps, 1 s loop delay)
  --json                 print the final summary as JSON on stdout (progress lines go to stderr)
  --verbose              pass Deputy's log (stderr) through
  -h, --help             this text

Baseline and final RSS are medians of the samples (every 5 s) in the 30 s before the end of the
warm-up and before the end of the run, both under load.`;

let flags;
try {
  ({ values: flags } = parseArgs({
    allowNegative: true,
    options: {
      minutes: { type: 'string', default: '10' },
      seconds: { type: 'string' },
      rate: { type: 'string', default: '200' },
      interval: { type: 'string', default: '30' },
      warmup: { type: 'string' },
      users: { type: 'string', default: '40' },
      'churn-users': { type: 'string', default: '300' },
      streams: { type: 'string', default: '8' },
      'token-ttl': { type: 'string', default: '30-60' },
      'rotate-every': { type: 'string', default: '60' },
      'session-idle': { type: 'string', default: '120' },
      'max-growth-mib': { type: 'string', default: '64' },
      'max-growth-pct': { type: 'string', default: '25' },
      'max-failure-rate': { type: 'string', default: '0.01' },
      'node-flags': { type: 'string', default: '' },
      probe: { type: 'boolean', default: true },
      json: { type: 'boolean', default: false },
      verbose: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h' },
    },
  }));
} catch (error) {
  console.error(`${(error as Error).message}\n\n${usage}`);
  process.exit(2);
}
if (flags.help) {
  console.log(usage);
  process.exit(0);
}
function num(name: string, raw: string | undefined, min: number): number {
  const v = Number(raw);
  if (!Number.isFinite(v) || v < min) {
    console.error(`--${name} must be a number ≥ ${min}, got ${JSON.stringify(raw)}\n\n${usage}`);
    process.exit(2);
  }
  return v;
}
const durationS = flags.seconds !== undefined ? num('seconds', flags.seconds, 10) : num('minutes', flags.minutes, 0.2) * 60;
const rate = num('rate', flags.rate, 1);
const intervalS = num('interval', flags.interval, 1);
const warmupS = flags.warmup !== undefined ? num('warmup', flags.warmup, 0) : Math.min(60, durationS / 5);
const userCount = Math.floor(num('users', flags.users, 1));
const churnUsers = Math.floor(num('churn-users', flags['churn-users'], 1));
const streamCount = Math.floor(num('streams', flags.streams, 0));
const ttlMatch = /^(\d+)(?:-(\d+))?$/.exec(flags['token-ttl']!);
if (!ttlMatch || Number(ttlMatch[1]) < 5 || Number(ttlMatch[2] ?? ttlMatch[1]) < Number(ttlMatch[1])) {
  console.error(`--token-ttl must be A-B seconds with 5 ≤ A ≤ B, got ${flags['token-ttl']}\n\n${usage}`);
  process.exit(2);
}
const ttlMin = Number(ttlMatch[1]);
const ttlMax = Number(ttlMatch[2] ?? ttlMatch[1]);
const rotateEveryS = num('rotate-every', flags['rotate-every'], 0);
const sessionIdleS = num('session-idle', flags['session-idle'], 0);
const maxGrowthMiB = num('max-growth-mib', flags['max-growth-mib'], 0);
const maxGrowthPct = num('max-growth-pct', flags['max-growth-pct'], 0);
const maxFailureRate = num('max-failure-rate', flags['max-failure-rate'], 0);
if (warmupS >= durationS - 10) {
  console.error(`the warm-up (${warmupS} s) must end at least 10 s before the run does (${durationS} s)`);
  process.exit(2);
}
const asJson = flags.json!;
const verbose = flags.verbose!;
const useProbe = flags.probe!;

const root = new URL('..', import.meta.url).pathname;
let running = true;
let stopReason = '';
let resolveDone!: () => void;
const done = new Promise<void>((r) => { resolveDone = r; });
function stopRun(reason: string): void {
  if (!running) return;
  running = false;
  stopReason = reason;
  resolveDone();
}
const work = mkdtempSync(join(tmpdir(), 'deputy-soak-'));
const say = (s: string) => (asJson ? process.stderr : process.stdout).write(`${s}\n`);
const MiB = 1024 * 1024;
const mib = (bytes: number) => Math.round((bytes / MiB) * 10) / 10;
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const rand = (a: number, b: number) => a + Math.random() * (b - a);
const SKEW_S = 30; // Deputy's default auth.clock_skew_seconds

async function freePort(): Promise<number> {
  const srv = createNetServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const port = (srv.address() as AddressInfo).port;
  await new Promise((r) => srv.close(r));
  return port;
}

// ---------------------------------------------------------------------------------------------
// Counters and failures. Every request ends in exactly one of good()/bad(); a stream that breaks
// after it opened adds a bad() of its own, so for `sse` errors may exceed sent - ok.
type Kind = 'notes' | 'backend' | 'aggregate' | 'tasks' | 'churn' | 'sse' | 'expired';
const KINDS: Kind[] = ['notes', 'backend', 'aggregate', 'tasks', 'churn', 'sse', 'expired'];
interface Count { sent: number; ok: number; errors: number }
const counts = new Map<Kind, Count>(KINDS.map((k) => [k, { sent: 0, ok: 0, errors: 0 }]));
interface Failure { kind: Kind; reason: string; count: number; firstAtS: number; lastAtS: number; sample: string }
const failures = new Map<string, Failure>();
let t0 = performance.now();
const elapsedS = () => (performance.now() - t0) / 1000;

function good(kind: Kind): void {
  counts.get(kind)!.ok++;
}
function bad(kind: Kind, reason: string, sample: string): void {
  counts.get(kind)!.errors++;
  const key = `${kind}\u0000${reason}`;
  const f = failures.get(key);
  const at = Math.round(elapsedS());
  if (f) {
    f.count++;
    f.lastAtS = at;
  } else failures.set(key, { kind, reason, count: 1, firstAtS: at, lastAtS: at, sample: sample.replace(/\s+/g, ' ').slice(0, 400) });
}
function resetCounters(): void {
  for (const c of counts.values()) c.sent = c.ok = c.errors = 0;
  failures.clear();
}

// ---------------------------------------------------------------------------------------------
// The authorization server, the upstreams and the JWKS endpoint (all in this process).
log('starting the authorization server and the upstreams…');
const deputyPort = await freePort();
const deputyBase = `http://127.0.0.1:${deputyPort}`;
const BACKEND = 'https://soak-backend.internal';
let apiUrl = '\u0000'; // set once the REST API listens
const as = await startAuthorizationServer({
  scopes: ['mcp:tools', 'api:read', 'tasks'],
  clients: [
    { client_id: 'soak-client', client_secret: 'soak-client-secret', grant_types: ['client_credentials'], scope: 'mcp:tools' },
    { client_id: 'deputy', client_secret: 'deputy-secret', grant_types: ['client_credentials', TOKEN_EXCHANGE_GRANT], scope: 'api:read tasks' },
  ],
  resources: { [BACKEND]: { scope: 'api:read', format: 'jwt', ttlSeconds: 300 } },
  defaultResource: (r) => (r === apiUrl ? { scope: 'tasks', format: 'jwt', ttlSeconds: 300 } : r === deputyBase || r.startsWith(`${deputyBase}/`) ? { scope: 'mcp:tools', format: 'jwt', ttlSeconds: 300 } : undefined),
});
const upstreamAuth = `Bearer soak-upstream-${randomBytes(12).toString('hex')}`;
const notesUpstream = await startSampleMcpServer({ name: 'soak-notes', requireAuthorization: upstreamAuth, dynamicTools: true });
const backendUpstream = await startSampleMcpServer({ name: 'soak-backend', stateless: true });
const api = await startSampleRestApi({ issuer: as.issuer });
apiUrl = api.url;
// The sample servers record every request (for tests); over a long run that alone would be hundreds of MB here.
const trimRecords = setInterval(() => {
  notesUpstream.requests.length = 0;
  backendUpstream.requests.length = 0;
  api.calls.length = 0;
}, 5000);

// JWKS rotation. TODO(issue 12): the demo authorization server (src/demo/authorization-server.ts) has no
// key-rotation API, and its token-exchange grant only accepts subject tokens signed with its two fixed
// keys, so rotating *its* keys cannot be done from here without editing src/. The soak therefore rotates
// a second key set of its own for the same issuer: Deputy's jwks_uri points at this endpoint, which
// serves the AS's keys plus the soak's current (and not yet retired) keys, and the tokens for
// /mcp/notes (static traffic, GET streams, part of the churn) are signed by the soak with the current
// key. Tokens that must survive token exchange (/mcp/backend, /mcp/tasks, /mcp) stay AS-signed. Once the
// AS offers `rotateSigningKey(): Promise<{ kid: string }>` (new key published at /jwks, used by
// issueUserToken and the token endpoint, accepted by the exchange grant; old key still published) and
// `retireSigningKey(kid: string): void` (unpublished, no longer accepted), call them from rotate() and
// retire() below and drop the jwks_uri override, so every token rotates.
interface RotKey { kid: string; key: CryptoKey; jwk: jose.JWK }
const published: RotKey[] = [];
let signing: RotKey | undefined;
let rotations = 0;
let jwksFetches = 0;
const keyEvents: { atS: number; event: 'rotate' | 'retire'; kid: string }[] = [];
const asJwks = (await (await fetch(`${as.issuer}/jwks`)).json()) as { keys: jose.JWK[] };
const jwksServer = createHttpServer((req, res) => {
  if (req.url !== '/jwks') return void res.writeHead(404).end();
  jwksFetches++;
  res.writeHead(200, { 'content-type': 'application/jwk-set+json', 'cache-control': 'no-store' }).end(JSON.stringify({ keys: [...asJwks.keys, ...published.map((k) => k.jwk)] }));
});
await new Promise<void>((r) => jwksServer.listen(0, '127.0.0.1', () => r()));
const jwksUrl = `http://127.0.0.1:${(jwksServer.address() as AddressInfo).port}/jwks`;
const retireTimers = new Set<NodeJS.Timeout>();

async function rotate(): Promise<void> {
  const { privateKey, publicKey } = await jose.generateKeyPair('ES256', { extractable: true });
  const kid = `soak-${++rotations}`;
  const next: RotKey = { kid, key: privateKey, jwk: { ...(await jose.exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' } };
  published.push(next);
  const previous = signing;
  signing = next;
  if (rotations > 1) keyEvents.push({ atS: Math.round(elapsedS()), event: 'rotate', kid });
  if (!previous) return;
  // Unpublished once every token it signed has expired (beyond Deputy's clock skew).
  const timer = setTimeout(() => {
    retireTimers.delete(timer);
    const i = published.indexOf(previous);
    if (i >= 0) published.splice(i, 1);
    keyEvents.push({ atS: Math.round(elapsedS()), event: 'retire', kid: previous.kid });
  }, (ttlMax + SKEW_S + 15) * 1000);
  retireTimers.add(timer);
}
await rotate();

// ---------------------------------------------------------------------------------------------
// Deputy, as a user runs it.
const config = {
  server: { host: '127.0.0.1', port: deputyPort },
  auth: { issuers: [{ issuer: as.issuer, jwks_uri: jwksUrl }], required_scopes: ['mcp:tools'] },
  upstreams: [
    { name: 'notes', type: 'mcp', url: notesUpstream.url, credentials: { type: 'static', headers: { Authorization: { env: 'SOAK_UPSTREAM_AUTH' } } } },
    { name: 'backend', type: 'mcp', url: backendUpstream.url, credentials: { type: 'token_exchange', token_endpoint: `${as.issuer}/token`, client_id: 'deputy', client_secret: { env: 'SOAK_DEPUTY_SECRET' }, resource: BACKEND, scope: 'api:read' } },
    { name: 'tasks', type: 'openapi', spec: `${api.url}/openapi.json`, base_url: api.url, credentials: { type: 'token_exchange', token_endpoint: `${as.issuer}/token`, client_id: 'deputy', client_secret: { env: 'SOAK_DEPUTY_SECRET' }, resource: api.url, scope: 'tasks' } },
  ],
  audit: { store: `sqlite:${join(work, 'audit.db')}` },
  metrics: { enabled: true },
  ...(sessionIdleS > 0 ? { limits: { session_idle_ms: Math.round(sessionIdleS * 1000) } } : {}),
};
const configPath = join(work, 'deputy.yaml');
writeFileSync(configPath, stringify(config));
const probeFile = join(work, 'probe.json');
const pool = new Pool(deputyBase, { connections: 128, pipelining: 1, keepAliveTimeout: 2000, headersTimeout: 30_000, bodyTimeout: 30_000 });
const streamPool = new Pool(deputyBase, { connections: streamCount * 2 + 4, pipelining: 1, keepAliveTimeout: 2000, headersTimeout: 120_000, bodyTimeout: 0 });
const nodeFlags = flags['node-flags']!.split(/\s+/).filter(Boolean);
const deputyArgs = [...nodeFlags, ...(useProbe ? ['--import', pathToFileURL(join(root, 'bench/soak-probe.ts')).href] : []), join(root, 'src/cli/main.ts'), 'serve', '--config', configPath];
log(`starting Deputy: node ${deputyArgs.map((a) => a.replace(pathToFileURL(root).href, '').replace(root, '')).join(' ')}`);
const deputy: ChildProcess = spawn(process.execPath, deputyArgs, {
  env: { ...process.env, SOAK_UPSTREAM_AUTH: upstreamAuth, SOAK_DEPUTY_SECRET: 'deputy-secret', DEPUTY_LOG_LEVEL: 'info', DEPUTY_SOAK_PROBE: probeFile },
  stdio: ['ignore', 'pipe', 'pipe'],
  detached: true, // its own process group: Ctrl-C stops the soak, which then stops Deputy and reports
});
let deputyExit: { code: number | null; signal: string | null; atS: number } | undefined;
let stopping = false;
deputy.on('exit', (code, signal) => {
  deputyExit = { code, signal, atS: Math.round(elapsedS()) };
  if (!stopping) {
    log(`Deputy exited unexpectedly (code ${code}, signal ${signal})`);
    stopRun('Deputy exited');
  }
});
process.on('exit', () => {
  if (deputy.exitCode === null && deputy.signalCode === null) deputy.kill('SIGKILL');
});

/** Deputy's log lines (JSON on stderr), counted by level and message; the first of each kept. */
const deputyLog = new Map<string, { level: string; msg: string; count: number; firstAtS: number; sample: string }>();
const stderrTail: string[] = [];
let partial = '';
deputy.stdout!.on('data', (d: Buffer) => { if (verbose) process.stderr.write(d); });
deputy.stderr!.on('data', (d: Buffer) => {
  if (verbose) process.stderr.write(d);
  const lines = (partial + d.toString('utf8')).split('\n');
  partial = lines.pop()!;
  for (const line of lines) {
    if (!line.trim()) continue;
    stderrTail.push(line);
    if (stderrTail.length > 40) stderrTail.shift();
    let level = 'text';
    let msg = line.slice(0, 160);
    try {
      const j = JSON.parse(line) as { level?: string; msg?: string };
      level = j.level ?? 'text';
      msg = j.msg ?? msg;
    } catch {}
    const key = `${level}\u0000${msg}`;
    const e = deputyLog.get(key);
    if (e) e.count++;
    else deputyLog.set(key, { level, msg, count: 1, firstAtS: Math.round(elapsedS()), sample: line.slice(0, 500) });
  }
});

{
  const until = Date.now() + 30_000;
  let ready = false;
  while (!ready && Date.now() < until && !deputyExit) {
    try {
      ready = (await fetch(`${deputyBase}/readyz`)).status === 200;
    } catch {}
    if (!ready) await sleep(200);
  }
  if (!ready) {
    console.error(`Deputy did not become ready within 30 s${deputyExit ? ` (it exited with code ${deputyExit.code})` : ''}. Its last log lines:\n${stderrTail.join('\n')}`);
    await shutdownAll();
    process.exit(2);
  }
}

// ---------------------------------------------------------------------------------------------
// HTTP to Deputy.
let inFlight = 0;
const maxInFlight = Math.max(500, Math.ceil(rate * 5));

interface Reply { status: number; headers: Record<string, string | string[] | undefined>; body: string }

function describe(error: unknown): string {
  const e = error as { code?: string; name?: string; message?: string; cause?: { code?: string } };
  return e.code ?? e.cause?.code ?? e.name ?? String(error);
}

/** One request; a network error is counted (bad) and answered with undefined. */
async function send(kind: Kind, method: 'GET' | 'POST' | 'DELETE', path: string, headers: Record<string, string>, body?: string): Promise<Reply | undefined> {
  counts.get(kind)!.sent++;
  inFlight++;
  try {
    const res = await pool.request({ method, path, headers, body });
    return { status: res.statusCode, headers: res.headers, body: await res.body.text() };
  } catch (error) {
    bad(kind, `${method} ${routeOf(path)}: network error ${describe(error)}`, String((error as Error).message ?? error));
    return undefined;
  } finally {
    inFlight--;
  }
}

const routeOf = (path: string) => (path === '/mcp' ? '/mcp' : path);
const VERSION = '2025-06-18';
function mcpHeaders(token: string, session?: string): Record<string, string> {
  const h: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': VERSION, authorization: `Bearer ${token}` };
  if (session) h['mcp-session-id'] = session;
  return h;
}
let nextId = 1;
function rpc(method: string, params?: Record<string, unknown>): { id: number; body: string } {
  const id = nextId++;
  return { id, body: JSON.stringify({ jsonrpc: '2.0', id, method, ...(params ? { params } : {}) }) };
}
const notification = (method: string) => JSON.stringify({ jsonrpc: '2.0', method });

/** JSON-RPC messages in a JSON or SSE answer. */
function messages(r: Reply): Record<string, unknown>[] {
  const type = String(r.headers['content-type'] ?? '');
  const parse = (s: string) => {
    try {
      const m = JSON.parse(s) as unknown;
      return (Array.isArray(m) ? m : [m]) as Record<string, unknown>[];
    } catch {
      return [];
    }
  };
  if (!type.startsWith('text/event-stream')) return parse(r.body);
  return r.body.split(/\r?\n\r?\n/).flatMap((block) => {
    const data = block.split(/\r?\n/).filter((l) => l.startsWith('data:')).map((l) => l.slice(5).replace(/^ /, '')).join('\n');
    return data ? parse(data) : [];
  });
}

/** Why a reply is not what was expected, as a short stable reason (the details go in the sample). */
function httpReason(path: string, r: Reply, want: string): string {
  const m = messages(r)[0];
  const rpcCode = (m?.error as { code?: number } | undefined)?.code;
  let oauth: string | undefined;
  try {
    oauth = (JSON.parse(r.body) as { error?: string }).error;
  } catch {}
  return `${routeOf(path)}: HTTP ${r.status}${rpcCode !== undefined ? ` JSON-RPC ${rpcCode}` : oauth ? ` ${oauth}` : ''} (expected ${want})`;
}
const sampleOf = (r: Reply) => `HTTP ${r.status} ${r.headers['www-authenticate'] ? `www-authenticate: ${r.headers['www-authenticate']} ` : ''}${r.body.slice(0, 300)}`;

/** Checks a JSON-RPC answer; `check` may refuse the result. Counts the outcome. */
function expectResult(kind: Kind, path: string, r: Reply | undefined, id: number, what: string, check?: (result: Record<string, unknown>) => string | undefined): Record<string, unknown> | undefined {
  if (!r) return undefined;
  if (r.status !== 200) {
    bad(kind, `${what}: ${httpReason(path, r, '200')}`, sampleOf(r));
    return undefined;
  }
  const m = messages(r).find((x) => x.id === id);
  if (!m) {
    bad(kind, `${what}: no JSON-RPC answer in the response`, sampleOf(r));
    return undefined;
  }
  const error = m.error as { code?: number; message?: string } | undefined;
  if (error) {
    bad(kind, `${what}: JSON-RPC error ${error.code}`, String(error.message));
    return undefined;
  }
  const result = (m.result ?? {}) as Record<string, unknown>;
  if (result.isError === true) {
    bad(kind, `${what}: tool error result`, JSON.stringify(result).slice(0, 300));
    return undefined;
  }
  const problem = check?.(result);
  if (problem) {
    bad(kind, `${what}: ${problem}`, JSON.stringify(result).slice(0, 300));
    return undefined;
  }
  good(kind);
  return result;
}
function expectStatus(kind: Kind, path: string, r: Reply | undefined, what: string, ok: (s: number) => boolean, want: string): boolean {
  if (!r) return false;
  if (ok(r.status)) {
    good(kind);
    return true;
  }
  bad(kind, `${what}: ${httpReason(path, r, want)}`, sampleOf(r));
  return false;
}
const textOf = (result: Record<string, unknown>) => ((result.content as { text?: string }[] | undefined) ?? []).map((c) => c.text ?? '').join('');

// ---------------------------------------------------------------------------------------------
// User tokens: one per (user, endpoint), living --token-ttl seconds, replaced once 3/4 of its life is
// gone. /mcp/notes tokens are signed with the soak's rotating key, the others by the AS itself.
type Signer = 'as' | 'rot';
interface Held { token: string; iat: number; exp: number; path: string }
const held = new Map<string, Held>();
const minting = new Map<string, Promise<Held>>();
const minted = { as: 0, rot: 0, failed: 0 };
/** AS-signed tokens that were replaced: once expired beyond the clock skew they must get 401. */
const retiredTokens: Held[] = [];

async function mint(user: string, path: string, signer: Signer): Promise<Held> {
  const ttl = Math.round(rand(ttlMin, ttlMax));
  const iat = Math.floor(Date.now() / 1000);
  const resource = `${deputyBase}${path}`;
  if (signer === 'as') {
    const token = await as.issueUserToken({ accountId: user, clientId: 'soak-client', resource, scope: 'mcp:tools', ttlSeconds: ttl });
    minted.as++;
    return { token, iat, exp: iat + ttl, path };
  }
  const key = signing!;
  const token = await new jose.SignJWT({ client_id: 'soak-client', scope: 'mcp:tools', jti: randomBytes(12).toString('base64url') })
    .setProtectedHeader({ alg: 'ES256', kid: key.kid, typ: 'at+jwt' })
    .setIssuer(as.issuer).setSubject(user).setAudience(resource).setIssuedAt(iat).setExpirationTime(iat + ttl)
    .sign(key.key);
  minted.rot++;
  return { token, iat, exp: iat + ttl, path };
}

async function tokenFor(user: string, path: string, signer: Signer): Promise<string> {
  const key = `${signer}\u0000${user}\u0000${path}`;
  const h = held.get(key);
  const now = Date.now() / 1000;
  if (h && now < h.iat + (h.exp - h.iat) * 0.75) return h.token;
  let pending = minting.get(key);
  if (!pending) {
    pending = mint(user, path, signer).then((n) => {
      const old = held.get(key);
      if (old && signer === 'as') {
        retiredTokens.push(old);
        if (retiredTokens.length > 500) retiredTokens.shift();
      }
      held.set(key, n);
      return n;
    }, (error: unknown) => {
      minted.failed++;
      throw error;
    }).finally(() => minting.delete(key));
    minting.set(key, pending);
  }
  return (await pending).token;
}

/**
 * After a rotation, 10 users re-authenticate at once and call /mcp/notes together: new-key tokens
 * arriving at the same moment, as after an IdP key rollover (outside the fixed rate).
 */
async function rotationBurst(): Promise<void> {
  const users = Array.from({ length: Math.min(10, userCount) }, (_, i) => `user-${(rotations * 7 + i) % userCount}`);
  for (const key of [...held.keys()]) {
    const [signer, user] = key.split('\u0000');
    if (signer === 'rot' && users.includes(user!)) held.delete(key);
  }
  await Promise.all(users.map((u) => tokenFor(u, ROUTES.notes.path, 'rot')));
  await Promise.all(users.map((u) => notesCall(u)));
}

// ---------------------------------------------------------------------------------------------
// Sessions of the regular users: one per (user, endpoint), opened on first use, kept for the run.
const sessions = new Map<string, Promise<string | undefined>>();
const ROUTES = {
  notes: { path: '/mcp/notes', signer: 'rot' as Signer, session: true },
  backend: { path: '/mcp/backend', signer: 'as' as Signer, session: false },
  aggregate: { path: '/mcp', signer: 'as' as Signer, session: true },
  tasks: { path: '/mcp/tasks', signer: 'as' as Signer, session: true },
};

/** initialize + notifications/initialized; the session id, or undefined (counted) when that failed. */
async function openSession(kind: Kind, path: string, user: string, signer: Signer): Promise<string | undefined> {
  const token = await tokenFor(user, path, signer);
  const init = rpc('initialize', { protocolVersion: VERSION, capabilities: {}, clientInfo: { name: 'deputy-soak', version: '1' } });
  const r = await send(kind, 'POST', path, mcpHeaders(token), init.body);
  if (!expectResult(kind, path, r, init.id, 'initialize', (res) => (typeof res.protocolVersion === 'string' ? undefined : 'no protocolVersion'))) return undefined;
  const session = r!.headers['mcp-session-id'];
  if (typeof session !== 'string') {
    bad(kind, `initialize: ${routeOf(path)} answered without Mcp-Session-Id`, sampleOf(r!));
    return undefined;
  }
  const n = await send(kind, 'POST', path, mcpHeaders(token, session), notification('notifications/initialized'));
  if (!expectStatus(kind, path, n, 'notifications/initialized', (s) => s === 202 || s === 200, '202')) return undefined;
  return session;
}

async function sessionFor(kind: Kind, path: string, user: string, signer: Signer): Promise<string | undefined> {
  const key = `${path}\u0000${user}`;
  let s = sessions.get(key);
  if (!s) {
    s = openSession(kind, path, user, signer);
    sessions.set(key, s);
    s.then((id) => { if (id === undefined && sessions.get(key) === s) sessions.delete(key); }, () => sessions.delete(key));
  }
  return s;
}
/** A 404 on a session the soak still uses: Deputy lost it. Counted by the caller; open a new one next time. */
function sessionLost(path: string, user: string): void {
  sessions.delete(`${path}\u0000${user}`);
}

let userCursor = 0;
const nextUser = () => `user-${userCursor++ % userCount}`;
let seq = 0;

async function notesCall(user = nextUser()): Promise<void> {
  const { path, signer } = ROUTES.notes;
  const session = await sessionFor('notes', path, user, signer);
  if (!session) return;
  const text = `soak ${seq++}`;
  const call = rpc('tools/call', { name: 'echo', arguments: { text } });
  const r = await send('notes', 'POST', path, mcpHeaders(await tokenFor(user, path, signer), session), call.body);
  if (r?.status === 404) sessionLost(path, user);
  expectResult('notes', path, r, call.id, 'tools/call echo', (res) => (textOf(res) === text ? undefined : 'echo answered another text'));
}

async function backendCall(): Promise<void> {
  const user = nextUser();
  const { path, signer } = ROUTES.backend;
  const a = seq++ % 1000;
  const b = 7;
  const call = rpc('tools/call', { name: 'add', arguments: { a, b } });
  const r = await send('backend', 'POST', path, mcpHeaders(await tokenFor(user, path, signer)), call.body);
  expectResult('backend', path, r, call.id, 'tools/call add', (res) => (textOf(res) === String(a + b) ? undefined : 'add answered a wrong sum'));
}

const AGGREGATE_TOOLS = ['notes__echo', 'backend__add', 'tasks__whoami'];
async function aggregateCall(): Promise<void> {
  const user = nextUser();
  const { path, signer } = ROUTES.aggregate;
  const session = await sessionFor('aggregate', path, user, signer);
  if (!session) return;
  const n = seq++;
  const token = await tokenFor(user, path, signer);
  if (n % 4 === 0) {
    const list = rpc('tools/list');
    const r = await send('aggregate', 'POST', path, mcpHeaders(token, session), list.body);
    if (r?.status === 404) sessionLost(path, user);
    expectResult('aggregate', path, r, list.id, 'tools/list', (res) => {
      const names = new Set(((res.tools as { name?: string }[] | undefined) ?? []).map((t) => t.name));
      const missing = AGGREGATE_TOOLS.filter((t) => !names.has(t));
      return missing.length ? `tools/list lacks ${missing.join(', ')}` : undefined;
    });
    return;
  }
  const tool = AGGREGATE_TOOLS[n % 3]!;
  const args = tool === 'notes__echo' ? { text: `agg ${n}` } : tool === 'backend__add' ? { a: n % 1000, b: 1 } : {};
  const call = rpc('tools/call', { name: tool, arguments: args });
  const r = await send('aggregate', 'POST', path, mcpHeaders(token, session), call.body);
  if (r?.status === 404) sessionLost(path, user);
  expectResult('aggregate', path, r, call.id, `tools/call ${tool}`, (res) => {
    const text = textOf(res);
    if (tool === 'notes__echo') return text === `agg ${n}` ? undefined : 'echo answered another text';
    if (tool === 'backend__add') return text === String((n % 1000) + 1) ? undefined : 'add answered a wrong sum';
    return text.includes(user) && text.includes('deputy') ? undefined : 'whoami does not name the user and Deputy as actor';
  });
}

async function tasksCall(): Promise<void> {
  const user = nextUser();
  const { path, signer } = ROUTES.tasks;
  const session = await sessionFor('tasks', path, user, signer);
  if (!session) return;
  const n = seq++;
  const [tool, args] = n % 20 === 0 ? ['addTask', { body: { title: `soak task ${n}` } }] : n % 3 === 0 ? ['listTasks', {}] : ['whoami', {}];
  const call = rpc('tools/call', { name: tool, arguments: args });
  const r = await send('tasks', 'POST', path, mcpHeaders(await tokenFor(user, path, signer), session), call.body);
  if (r?.status === 404) sessionLost(path, user);
  expectResult('tasks', path, r, call.id, `tools/call ${tool}`, (res) => (tool !== 'whoami' || (textOf(res).includes(user) && textOf(res).includes('deputy')) ? undefined : 'whoami does not name the user and Deputy as actor'));
}

// Session churn: each tick of the churn share sends the next request of one churning session.
interface Churn { user: string; path: string; signer: Signer; step: number; session?: string; token?: string }
const churnReady: Churn[] = [];
const churnStats = { started: 0, deleted: 0, abandoned: 0, checkedGone: 0 };
let churnSeq = 0;
const CHURN_ROUTES: { path: string; signer: Signer }[] = [ROUTES.notes, ROUTES.aggregate, ROUTES.tasks];

async function churnTick(): Promise<void> {
  let c = churnReady.shift();
  if (!c) {
    const n = churnSeq++;
    const route = CHURN_ROUTES[n % CHURN_ROUTES.length]!;
    c = { user: `churn-${n % churnUsers}`, path: route.path, signer: route.signer, step: 0 };
    churnStats.started++;
  }
  if (await churnStep(c)) churnReady.push(c);
}

/** Sends one request of the churning session; true when it has more to do. */
async function churnStep(c: Churn): Promise<boolean> {
  const { path } = c;
  switch (c.step) {
    case 0: {
      c.token = await tokenFor(c.user, path, c.signer);
      const init = rpc('initialize', { protocolVersion: VERSION, capabilities: {}, clientInfo: { name: 'deputy-soak-churn', version: '1' } });
      const r = await send('churn', 'POST', path, mcpHeaders(c.token), init.body);
      if (!expectResult('churn', path, r, init.id, 'initialize')) return false;
      const session = r!.headers['mcp-session-id'];
      if (typeof session !== 'string') return false;
      c.session = session;
      c.step = 1;
      return true;
    }
    case 1: {
      const r = await send('churn', 'POST', path, mcpHeaders(c.token!, c.session), notification('notifications/initialized'));
      c.step = 2;
      return expectStatus('churn', path, r, 'notifications/initialized', (s) => s === 202 || s === 200, '202');
    }
    case 2: {
      const list = rpc('tools/list');
      const r = await send('churn', 'POST', path, mcpHeaders(c.token!, c.session), list.body);
      if (!expectResult('churn', path, r, list.id, 'tools/list', (res) => (Array.isArray(res.tools) && res.tools.length > 0 ? undefined : 'no tools listed'))) return false;
      if (Math.random() < 0.4) {
        churnStats.abandoned++; // never DELETEd: Deputy must forget it by itself
        return false;
      }
      c.step = 3;
      return true;
    }
    case 3: {
      const r = await send('churn', 'DELETE', path, mcpHeaders(c.token!, c.session));
      if (!expectStatus('churn', path, r, 'DELETE', (s) => s >= 200 && s < 300, '2xx')) return false;
      churnStats.deleted++;
      c.step = 4;
      return Math.random() < 0.25;
    }
    default: {
      const list = rpc('tools/list');
      const r = await send('churn', 'POST', path, mcpHeaders(c.token!, c.session), list.body);
      if (expectStatus('churn', path, r, 'tools/list on a deleted session', (s) => s === 404, '404')) churnStats.checkedGone++;
      return false;
    }
  }
}

// Expired tokens: every 5 s one that expired more than the clock skew ago must get 401 invalid_token.
async function expiredProbe(): Promise<void> {
  const now = Date.now() / 1000;
  const i = retiredTokens.findIndex((t) => t.exp + SKEW_S + 5 < now);
  if (i < 0) return;
  const [t] = retiredTokens.splice(i, 1);
  const list = rpc('tools/list');
  const r = await send('expired', 'POST', t!.path, mcpHeaders(t!.token), list.body);
  if (!r) return;
  if (r.status === 401 && /invalid_token/.test(String(r.headers['www-authenticate'] ?? ''))) good('expired');
  else bad('expired', `token expired ${Math.round(now - t!.exp)} s ago: ${httpReason(t!.path, r, '401 invalid_token')}`, sampleOf(r));
}

// ---------------------------------------------------------------------------------------------
// GET (SSE) streams on /mcp/notes: held 20-90 s, then closed; reopened on the same session or a new one.
const streamStats = { opened: 0, open: 0, reopenedSameSession: 0, newSessions: 0, conflicts: 0, triggers: 0, delivered: 0, undelivered: 0, events: 0, slowHeaders: 0, headsWithFirstEvent: 0, maxHeadersMs: 0, maxDeliveryMs: 0, brokeByServer: 0 };
const streamAborts = new Set<AbortController>();
let toolSeq = 0;
const letters = (n: number) => { let s = ''; do { s = String.fromCharCode(97 + (n % 26)) + s; n = Math.floor(n / 26); } while (n > 0); return s; };

async function streamSlot(slot: number): Promise<void> {
  const user = `sse-${slot}`;
  const { path, signer } = ROUTES.notes;
  let session: string | undefined;
  await sleep(slot * 500); // staggered
  while (running) {
    if (!session) {
      session = await openSession('sse', path, user, signer);
      if (!session) {
        await sleep(2000);
        continue;
      }
      streamStats.newSessions++;
    }
    const outcome = await holdStream(user, session, rand(20_000, 90_000));
    if (!running) break;
    if (outcome === 'gone') {
      session = undefined;
      continue;
    }
    if (outcome === 'ok' && Math.random() < 0.5) {
      streamStats.reopenedSameSession++;
      await sleep(300);
      continue;
    }
    const r = await send('sse', 'DELETE', path, mcpHeaders(await tokenFor(user, path, signer), session));
    expectStatus('sse', path, r, 'DELETE', (s) => s >= 200 && s < 300, '2xx');
    session = undefined;
  }
}

async function holdStream(user: string, session: string, holdMs: number): Promise<'ok' | 'gone' | 'failed'> {
  const { path, signer } = ROUTES.notes;
  const abort = new AbortController();
  streamAborts.add(abort);
  const pending: number[] = []; // trigger times of list_changed events not yet seen on the stream
  let triggerTimer: NodeJS.Timeout | undefined;
  const trigger = async () => {
    if (abort.signal.aborted || !running) return;
    const name = `soak_${letters(toolSeq++)}`;
    const call = rpc('tools/call', { name: 'register_tool', arguments: { name } });
    pending.push(performance.now());
    streamStats.triggers++;
    const r = await send('sse', 'POST', path, mcpHeaders(await tokenFor(user, path, signer), session), call.body);
    expectResult('sse', path, r, call.id, 'tools/call register_tool (to make the upstream notify)');
    if (!abort.signal.aborted) triggerTimer = setTimeout(trigger, 10_000);
  };
  try {
    for (let attempt = 0; ; attempt++) {
      const token = await tokenFor(user, path, signer);
      const opened = performance.now();
      // The first event is triggered 2-6 s after the GET: a head that arrives only then waited for it.
      const firstEventMs = rand(2000, 6000);
      triggerTimer = setTimeout(trigger, firstEventMs);
      counts.get('sse')!.sent++;
      let res;
      try {
        res = await streamPool.request({ method: 'GET', path, headers: { accept: 'text/event-stream', authorization: `Bearer ${token}`, 'mcp-session-id': session, 'mcp-protocol-version': VERSION }, signal: abort.signal });
      } catch (error) {
        if (!running) return 'failed';
        bad('sse', `GET ${path}: network error ${describe(error)}`, String((error as Error).message));
        return 'failed';
      }
      const headersMs = performance.now() - opened;
      streamStats.maxHeadersMs = Math.max(streamStats.maxHeadersMs, Math.round(headersMs));
      if (headersMs > 1500) streamStats.slowHeaders++;
      if (headersMs >= firstEventMs - 50) streamStats.headsWithFirstEvent++;
      const type = String(res.headers['content-type'] ?? '');
      if (res.statusCode === 409 && attempt < 3) {
        // The upstream still holds the previous stream of this session: Deputy has not closed it yet.
        streamStats.conflicts++;
        counts.get('sse')!.ok++; // retried below; only a persistent conflict is a failure
        clearTimeout(triggerTimer);
        pending.length = 0;
        await res.body.dump();
        await sleep(1000);
        continue;
      }
      if (res.statusCode !== 200 || !type.startsWith('text/event-stream')) {
        clearTimeout(triggerTimer);
        const r: Reply = { status: res.statusCode, headers: res.headers, body: await res.body.text().catch(() => '') };
        bad('sse', `GET stream: ${httpReason(path, r, '200 text/event-stream')}`, sampleOf(r));
        if (res.statusCode === 404) return 'gone';
        return 'failed';
      }
      good('sse');
      streamStats.opened++;
      streamStats.open++;
      const endTimer = setTimeout(() => abort.abort(), Math.max(0, holdMs - headersMs));
      let endedByServer = false;
      let buffer = '';
      try {
        res.body.setEncoding('utf8');
        for await (const chunk of res.body as AsyncIterable<string>) {
          buffer += chunk;
          let cut;
          while ((cut = buffer.search(/\r?\n\r?\n/)) >= 0) {
            const block = buffer.slice(0, cut);
            buffer = buffer.slice(cut).replace(/^\r?\n\r?\n/, '');
            const data = block.split(/\r?\n/).filter((l) => l.startsWith('data:')).map((l) => l.slice(5).trim()).join('\n');
            if (!data) continue;
            streamStats.events++;
            try {
              const m = JSON.parse(data) as { method?: string };
              if (m.method === 'notifications/tools/list_changed' && pending.length) {
                streamStats.delivered++;
                streamStats.maxDeliveryMs = Math.max(streamStats.maxDeliveryMs, Math.round(performance.now() - pending.shift()!));
              }
            } catch {}
          }
        }
        endedByServer = !abort.signal.aborted;
      } catch (error) {
        if (!abort.signal.aborted && running) bad('sse', `GET stream broke: ${describe(error)}`, String((error as Error).message));
      } finally {
        clearTimeout(endTimer);
        streamStats.open--;
      }
      if (endedByServer && running) {
        streamStats.brokeByServer++;
        bad('sse', 'GET stream ended by the server before the client closed it', `after ${Math.round((performance.now() - opened) / 1000)} s`);
        return 'failed';
      }
      return 'ok';
    }
  } finally {
    clearTimeout(triggerTimer);
    streamAborts.delete(abort);
    if (!abort.signal.aborted) abort.abort();
    // A notification triggered more than 5 s before the stream closed should have arrived.
    const now = performance.now();
    for (const at of pending) {
      if (now - at > 5000 && running) {
        streamStats.undelivered++;
        bad('sse', 'tools/list_changed not delivered on the GET stream within 5 s', `triggered ${Math.round((now - at) / 1000)} s before the stream closed`);
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Sampling: Deputy's RSS from /proc, fds, the probe's heap / handles / loop delay, /metrics.
interface Sample {
  atS: number;
  wallMs: number;
  rss: number;
  rssAnon: number;
  rssFile: number;
  hwm: number;
  threads: number;
  fds: number;
  probe?: ProbeSnapshot;
  /** Worker threads' V8 heaps (Deputy's SQLite audit writer), from their probe files. */
  workerHeap?: number;
  /** Deputy's established TCP connections by peer (`in` = clients; else the upstream / AS it talks to). */
  conns?: Record<string, number>;
  metrics?: Map<string, number>;
}
const samples: Sample[] = [];
let metricsNote = '';
const generatorDelay = monitorEventLoopDelay({ resolution: 10 });
generatorDelay.enable();

function procStatus(pid: number): { rss: number; rssAnon: number; rssFile: number; hwm: number; threads: number } {
  const s = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (k: string) => Number(new RegExp(`${k}:\\s+(\\d+) kB`).exec(s)?.[1] ?? 0) * 1024;
  return { rss: kb('VmRSS'), rssAnon: kb('RssAnon'), rssFile: kb('RssFile') + kb('RssShmem'), hwm: kb('VmHWM'), threads: Number(/Threads:\s+(\d+)/.exec(s)?.[1] ?? 0) };
}

const portOf = (url: string) => Number(new URL(url).port);
const peers = new Map<number, string>([[portOf(notesUpstream.url), 'notes'], [portOf(backendUpstream.url), 'backend'], [portOf(api.url), 'api'], [portOf(as.issuer), 'as'], [portOf(jwksUrl), 'jwks']]);
/** Deputy's sockets (from its fds) matched against /proc/<pid>/net/tcp: established connections by peer. */
function connections(pid: number): Record<string, number> {
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m) inodes.add(m[1]!);
    } catch {}
  }
  const out: Record<string, number> = {};
  for (const file of ['tcp', 'tcp6']) {
    let text = '';
    try {
      text = readFileSync(`/proc/${pid}/net/${file}`, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length < 10 || f[3] !== '01' || !inodes.has(f[9]!)) continue; // 01: ESTABLISHED
      const local = parseInt(f[1]!.split(':')[1]!, 16);
      const remote = parseInt(f[2]!.split(':')[1]!, 16);
      const peer = local === deputyPort ? 'in' : (peers.get(remote) ?? 'other');
      out[peer] = (out[peer] ?? 0) + 1;
    }
  }
  return out;
}

/** Prometheus text → sums by metric name, plus `deputy_requests_total` by outcome (`…{outcome}`). */
function parseMetrics(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][\w:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
    if (!m) continue;
    const v = Number(m[3]);
    if (!Number.isFinite(v)) continue;
    out.set(m[1]!, (out.get(m[1]!) ?? 0) + v);
    if (/heap_space_size_(used|total)_bytes$/.test(m[1]!)) {
      const space = /space="([^"]*)"/.exec(m[2] ?? '')?.[1] ?? '?';
      out.set(`${m[1]!.replace(/^deputy_/, '')}{${space}}`, v);
    }
    if (m[1] === 'deputy_requests_total') {
      const outcome = /outcome="([^"]*)"/.exec(m[2] ?? '')?.[1] ?? '?';
      out.set(`deputy_requests_total{${outcome}}`, (out.get(`deputy_requests_total{${outcome}}`) ?? 0) + v);
    }
  }
  return out;
}

async function takeSample(): Promise<Sample | undefined> {
  if (deputyExit || !deputy.pid) return undefined;
  let s: Sample;
  try {
    const st = procStatus(deputy.pid);
    s = { atS: elapsedS(), wallMs: Date.now(), ...st, fds: readdirSync(`/proc/${deputy.pid}/fd`).length, conns: connections(deputy.pid) };
  } catch {
    return undefined; // it just exited
  }
  if (useProbe && existsSync(probeFile)) {
    try {
      s.probe = JSON.parse(readFileSync(probeFile, 'utf8')) as ProbeSnapshot;
    } catch {}
    for (const f of readdirSync(work).filter((n) => n.startsWith('probe.json.worker-') && !n.endsWith('.tmp'))) {
      try {
        s.workerHeap = (s.workerHeap ?? 0) + (JSON.parse(readFileSync(join(work, f), 'utf8')) as ProbeSnapshot).heapUsed;
      } catch {}
    }
  }
  try {
    const res = await pool.request({ method: 'GET', path: '/metrics', headersTimeout: 5000, bodyTimeout: 5000 });
    const text = await res.body.text();
    if (res.statusCode === 200) s.metrics = parseMetrics(text);
    else metricsNote = `/metrics answered HTTP ${res.statusCode}`;
  } catch (error) {
    metricsNote = `/metrics failed: ${describe(error)}`;
  }
  samples.push(s);
  return s;
}

const median = (xs: number[]) => {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
/** Least-squares slope of y over x (per minute when x is in seconds). */
function slopePerMin(points: [number, number][]): number {
  if (points.length < 3) return NaN;
  const n = points.length;
  const mx = points.reduce((a, p) => a + p[0], 0) / n;
  const my = points.reduce((a, p) => a + p[1], 0) / n;
  const num = points.reduce((a, p) => a + (p[0] - mx) * (p[1] - my), 0);
  const den = points.reduce((a, p) => a + (p[0] - mx) ** 2, 0);
  return den ? (num / den) * 60 : NaN;
}
const samplesIn = (from: number, to: number) => samples.filter((s) => s.atS > from && s.atS <= to);
const heapAfterGc = (s: Sample) => s.probe?.heapAfterMajorGc || undefined;
/** Heap, handles and loop delay: prom-client's default metrics when /metrics has them, else the probe. */
/** A process metric of prom-client's defaults, which Deputy may register with its `deputy_` prefix. */
const processMetric = (s: Sample | undefined, name: string) => s?.metrics?.get(`deputy_${name}`) ?? s?.metrics?.get(name);
function processView(s: Sample | undefined): { heapUsed?: number; heapTotal?: number; handles?: number; source: string } {
  if (processMetric(s, 'nodejs_heap_size_used_bytes') !== undefined) return { heapUsed: processMetric(s, 'nodejs_heap_size_used_bytes'), heapTotal: processMetric(s, 'nodejs_heap_size_total_bytes'), handles: processMetric(s, 'nodejs_active_handles_total'), source: '/metrics' };
  if (s?.probe) return { heapUsed: s.probe.heapUsed, heapTotal: s.probe.heapTotal, handles: s.probe.handlesTotal, source: 'probe' };
  return { source: 'none' };
}
/**
 * Event-loop delay (ms) between two wall-clock times: the probe's one-second windows, else the figures
 * of each /metrics scrape (prom-client resets its histogram per scrape). Both histograms sample every
 * 10 ms and record the whole interval, so 10 ms is taken off: what remains is the delay itself.
 */
function loopDelay(from: number, to: number): { p50: number; p99: number; max: number; source: string } | undefined {
  const off = (ms: number) => Math.max(0, Math.round((ms - 10) * 100) / 100);
  const last = samples.at(-1)?.probe;
  const w = last ? last.windows.filter((x) => x.t > from && x.t <= to) : samples.filter((x) => x.wallMs > from && x.wallMs <= to && processMetric(x, 'nodejs_eventloop_lag_p99_seconds') !== undefined).map((x) => ({ p50: processMetric(x, 'nodejs_eventloop_lag_p50_seconds')! * 1000, p99: processMetric(x, 'nodejs_eventloop_lag_p99_seconds')! * 1000, max: processMetric(x, 'nodejs_eventloop_lag_max_seconds')! * 1000 }));
  if (!w.length) return undefined;
  return { p50: off(median(w.map((x) => x.p50))), p99: off(Math.max(...w.map((x) => x.p99))), max: off(Math.max(...w.map((x) => x.max))), source: last ? 'probe' : '/metrics' };
}

// ---------------------------------------------------------------------------------------------
// Pre-flight: one of each before the clock starts, so a broken setup fails in seconds, not minutes.
log(`Deputy pid ${deputy.pid} ready at ${deputyBase}; pre-flight…`);
t0 = performance.now();
await notesCall();
await backendCall();
for (let i = 0; i < 4; i++) await aggregateCall();
await tasksCall();
for (let i = 0; i < 12; i++) await churnTick();
if (failures.size) {
  console.error('pre-flight failed; nothing was soaked:');
  for (const f of failures.values()) console.error(`  ${f.kind}: ${f.reason} ×${f.count} — ${f.sample}`);
  console.error(`Deputy's log:\n${stderrTail.join('\n')}`);
  await shutdownAll();
  process.exit(2);
}
resetCounters();
Object.assign(churnStats, { started: 0, deleted: 0, abandoned: 0, checkedGone: 0 });
churnReady.length = 0;

// ---------------------------------------------------------------------------------------------
// The run.
const MIX: [Kind, number, () => Promise<void>][] = [['notes', 30, notesCall], ['backend', 20, backendCall], ['aggregate', 20, aggregateCall], ['tasks', 20, tasksCall], ['churn', 10, churnTick]];
const mixWeight = MIX.reduce((a, m) => a + m[1], 0);
const credit = MIX.map(() => 0);
/** Smooth weighted round-robin: the mix holds over any short stretch, not just on average. */
function pickOp(): [Kind, () => Promise<void>] {
  let best = 0;
  for (let i = 0; i < MIX.length; i++) {
    credit[i]! += MIX[i]![1];
    if (credit[i]! > credit[best]!) best = i;
  }
  credit[best]! -= mixWeight;
  return [MIX[best]![0], MIX[best]![2]];
}

let issued = 0;
let skipped = 0;
let baseline: { rss: number; rssAnon: number; heapUsed?: number; heapAfterGc?: number; handles?: number; fds: number; atS: number } | undefined;
process.once('SIGINT', () => stopRun('interrupted (SIGINT)'));

say(`soak: ${durationS} s at ${rate} req/s (mix: notes 30%, backend 20%, aggregate 20%, tasks 20%, churn 10%), ${streamCount} GET streams, ${userCount} users + ${churnUsers} churn users, token ttl ${ttlMin}-${ttlMax} s, key rotation every ${rotateEveryS || '∞'} s, session idle ${sessionIdleS ? `${sessionIdleS} s` : 'default'}, warm-up ${warmupS} s, Deputy pid ${deputy.pid}${useProbe ? ' (probe preloaded)' : ''}`);
t0 = performance.now();
generatorDelay.reset();
const started = performance.now();
const scheduler = setInterval(() => {
  if (!running) return;
  const due = Math.floor(((performance.now() - started) / 1000) * rate);
  while (issued < due) {
    issued++;
    if (inFlight >= maxInFlight) {
      skipped++;
      continue;
    }
    const [kind, op] = pickOp();
    op().catch((error: unknown) => bad(kind, `soak internal error: ${(error as Error).message}`, String((error as Error).stack)));
  }
}, 5);
const expiredTimer = setInterval(() => void expiredProbe().catch(() => {}), 5000);
const rotationTimer = rotateEveryS > 0 ? setInterval(() => {
  void rotate().then(rotationBurst).catch((error: unknown) => bad('notes', `soak internal error: ${(error as Error).message}`, String((error as Error).stack)));
}, rotateEveryS * 1000) : undefined;
const streamLoops = Array.from({ length: streamCount }, (_, i) => streamSlot(i).catch((error: unknown) => bad('sse', `soak internal error: ${(error as Error).message}`, String((error as Error).stack))));

let lastPrint = Date.now();
let lastLine = 0;
const sampler = setInterval(() => {
  void takeSample().then((s) => {
    if (!s) return;
    const at = elapsedS();
    if (!baseline && at >= warmupS) {
      const w = samplesIn(warmupS - 30, at);
      const pv = processView(s);
      baseline = {
        rss: median(w.map((x) => x.rss)), rssAnon: median(w.map((x) => x.rssAnon)), fds: median(w.map((x) => x.fds)), atS: Math.round(at),
        heapUsed: pv.heapUsed !== undefined ? median(w.map((x) => processView(x).heapUsed ?? NaN).filter(Number.isFinite)) : undefined,
        heapAfterGc: median(w.map(heapAfterGc).filter((x): x is number => x !== undefined)) || undefined,
        handles: pv.handles !== undefined ? median(w.map((x) => processView(x).handles ?? NaN).filter(Number.isFinite)) : undefined,
      };
      say(`[${clock(at)}] baseline (median of ${w.length} samples in the last 30 s of the warm-up): rss ${mib(baseline.rss)} MiB (anon ${mib(baseline.rssAnon)})${baseline.heapUsed !== undefined ? `, heap ${mib(baseline.heapUsed)} MiB` : ''}${baseline.heapAfterGc ? `, heap after major GC ${mib(baseline.heapAfterGc)} MiB` : ''}${baseline.handles !== undefined ? `, handles ${baseline.handles}` : ''}, fds ${baseline.fds}`);
    }
    if (Math.floor(at / intervalS) > lastLine) {
      lastLine = Math.floor(at / intervalS);
      say(progressLine(s, at));
      lastPrint = Date.now();
    }
  });
}, 5000);
const runTimer = setTimeout(() => stopRun('completed'), durationS * 1000);

function clock(s: number): string {
  const t = Math.round(s);
  return `${String(Math.floor(t / 60)).padStart(2, '0')}:${String(t % 60).padStart(2, '0')}`;
}
function totals(): Count {
  const t = { sent: 0, ok: 0, errors: 0 };
  for (const c of counts.values()) {
    t.sent += c.sent;
    t.ok += c.ok;
    t.errors += c.errors;
  }
  return t;
}
function progressLine(s: Sample, at: number): string {
  const t = totals();
  const kinds = KINDS.map((k) => {
    const c = counts.get(k)!;
    return `${k} ${c.sent}/${c.ok}/${c.errors}`;
  }).join(' ');
  const pv = processView(s);
  const heap = pv.heapUsed !== undefined ? ` heap ${mib(pv.heapUsed)}/${mib(pv.heapTotal ?? 0)} MiB${s.probe?.heapAfterMajorGc ? ` (after GC ${mib(s.probe.heapAfterMajorGc)})` : ''}${s.probe ? ` ext ${mib(s.probe.external)}` : ''}${s.workerHeap !== undefined ? ` workers ${mib(s.workerHeap)}` : ''}` : ' heap n/a';
  const handles = pv.handles !== undefined ? ` handles ${pv.handles}` : '';
  const eld = loopDelay(lastPrint, Date.now());
  const loop = eld ? ` | loop delay p50 ${eld.p50.toFixed(1)} p99 ${eld.p99.toFixed(1)} max ${eld.max.toFixed(1)} ms` : ' | loop n/a';
  const logs = [...deputyLog.values()];
  const warns = logs.filter((l) => l.level === 'warn').reduce((a, l) => a + l.count, 0);
  const errs = logs.filter((l) => l.level === 'error').reduce((a, l) => a + l.count, 0);
  const m = s.metrics;
  const sess = m?.has('deputy_sessions') ? ` | sessions ${m.get('deputy_sessions')} (principals ${m.get('deputy_session_principals') ?? '?'}, expired ${m.get('deputy_sessions_expired_total') ?? 0}, evicted ${m.get('deputy_sessions_evicted_total') ?? 0})` : '';
  return `[${clock(at)}] sent ${t.sent} ok ${t.ok} err ${t.errors} (${(t.sent / at).toFixed(0)} req/s) | ${kinds} | streams ${streamStats.open}${sess} | rss ${mib(s.rss)} MiB (anon ${mib(s.rssAnon)})${heap}${handles} fds ${s.fds}${s.conns ? ` (tcp ${Object.entries(s.conns).map(([k, v]) => `${k} ${v}`).join(' ')})` : ''}${loop} | log warn ${warns} error ${errs}${skipped ? ` | skipped ${skipped}` : ''}`;
}

await done;
const endAtS = elapsedS();
clearInterval(scheduler);
clearInterval(expiredTimer);
if (rotationTimer) clearInterval(rotationTimer);
clearTimeout(runTimer);
clearInterval(sampler);
const lastSample = (await takeSample()) ?? samples.at(-1);
for (const a of streamAborts) a.abort();
{
  const until = Date.now() + 15_000;
  while (inFlight > 0 && Date.now() < until) await sleep(100);
}
const leftInFlight = inFlight;
await Promise.race([Promise.all(streamLoops), sleep(5000)]);
if (lastSample) say(`${progressLine(lastSample, endAtS)} (end)`);

// ---------------------------------------------------------------------------------------------
// Verdict and summary.
const final = samplesIn(endAtS - 30, endAtS + 1);
const afterWarmup = samples.filter((s) => s.atS >= warmupS);
const finalRss = median(final.map((s) => s.rss));
const peakRss = Math.max(0, ...samples.map((s) => s.hwm));
const reasons: string[] = [];
let bound = NaN;
if (deputyExit && stopReason === 'Deputy exited') reasons.push(`Deputy exited during the run (code ${deputyExit.code}, signal ${deputyExit.signal}) at ${deputyExit.atS} s`);
if (!baseline) reasons.push(`the run ended (${stopReason}) before the warm-up did: no memory baseline`);
else {
  bound = baseline.rss + Math.max(maxGrowthMiB * MiB, (baseline.rss * maxGrowthPct) / 100);
  if (finalRss > bound) reasons.push(`RSS grew from ${mib(baseline.rss)} MiB to ${mib(finalRss)} MiB, past the bound of ${mib(bound)} MiB (baseline + max(${maxGrowthMiB} MiB, ${maxGrowthPct}%))`);
}
const total = totals();
const failureRate = total.sent ? total.errors / total.sent : 0;
if (failureRate > maxFailureRate) reasons.push(`${total.errors} unexpected answers of ${total.sent} requests (${(failureRate * 100).toFixed(2)}% > ${(maxFailureRate * 100).toFixed(2)}%)`);
const finalView = processView(lastSample);
const less10 = (x: { p50: number; p99: number; max: number }) => ({ p50: Math.max(0, Math.round((x.p50 - 10) * 100) / 100), p99: Math.max(0, Math.round((x.p99 - 10) * 100) / 100), max: Math.max(0, Math.round((x.max - 10) * 100) / 100) });
const runLoop = lastSample?.probe ? less10(lastSample.probe.total) : loopDelay(0, Date.now());
const worstLoop = lastSample?.probe ? less10(lastSample.probe.windows.reduce((a, w) => (w.max > a.max ? w : a), { t: 0, p50: 0, p99: 0, max: 0 })) : undefined;
const heapSpaces = (s: Sample | undefined) => (s?.metrics ? Object.fromEntries([...s.metrics].filter(([k]) => k.startsWith('nodejs_heap_space_size_total_bytes{')).map(([k, v]) => [k.slice(35, -1), mib(v)])) : null);
const baselineSample = baseline ? samples.find((x) => x.atS >= baseline!.atS - 5) : undefined;
const finalHeapAfterGc = median(final.map(heapAfterGc).filter((x): x is number => x !== undefined)) || undefined;
const missing: string[] = [];
if (!samples.some((s) => processMetric(s, 'process_resident_memory_bytes') !== undefined)) {
  missing.push(`Deputy's /metrics has no process metrics (prom-client collectDefaultMetrics is not registered in src/observability/metrics.ts): no heap, handles or event-loop lag there. RSS is read from /proc/<pid>/status${useProbe ? '; heap, handles and event-loop delay come from bench/soak-probe.ts, preloaded into Deputy' : '; with --no-probe there is no heap, handle or event-loop figure at all'}.`);
}
if (metricsNote) missing.push(metricsNote);
const m = lastSample?.metrics;
const metric = (name: string) => m?.get(name);
const summary = {
  verdict: reasons.length ? 'fail' : 'pass',
  reasons,
  stopped: stopReason,
  run: { seconds: Math.round(endAtS), plannedSeconds: durationS, rate, nodeFlags, achievedRate: Math.round((total.sent / endAtS) * 10) / 10, warmupSeconds: warmupS, users: userCount, churnUsers, streams: streamCount, tokenTtlSeconds: [ttlMin, ttlMax], rotateEverySeconds: rotateEveryS, sessionIdleSeconds: sessionIdleS || null, probe: useProbe, skippedForBacklog: skipped, leftInFlight },
  requests: { total, byKind: Object.fromEntries(counts) },
  failures: [...failures.values()].sort((a, b) => b.count - a.count),
  memory: {
    baselineRssMiB: baseline ? mib(baseline.rss) : null,
    finalRssMiB: mib(finalRss),
    boundRssMiB: Number.isFinite(bound) ? mib(bound) : null,
    growthMiB: baseline ? mib(finalRss - baseline.rss) : null,
    peakRssMiB: mib(peakRss),
    baselineRssAnonMiB: baseline ? mib(baseline.rssAnon) : null,
    finalRssAnonMiB: mib(median(final.map((s) => s.rssAnon))),
    finalRssFileMiB: mib(median(final.map((s) => s.rssFile))),
    finalExternalMiB: lastSample?.probe ? mib(lastSample.probe.external) : null,
    finalArrayBuffersMiB: lastSample?.probe ? mib(lastSample.probe.arrayBuffers) : null,
    finalWorkerHeapMiB: lastSample?.workerHeap !== undefined ? mib(lastSample.workerHeap) : null,
    rssSlopeMiBPerMin: Math.round(slopePerMin(afterWarmup.map((s) => [s.atS, s.rss / MiB])) * 100) / 100,
    heapSource: finalView.source,
    baselineHeapMiB: baseline?.heapUsed !== undefined ? mib(baseline.heapUsed) : null,
    finalHeapMiB: finalView.heapUsed !== undefined ? mib(median(final.map((s) => processView(s).heapUsed ?? NaN).filter(Number.isFinite))) : null,
    baselineHeapAfterMajorGcMiB: baseline?.heapAfterGc ? mib(baseline.heapAfterGc) : null,
    finalHeapAfterMajorGcMiB: finalHeapAfterGc ? mib(finalHeapAfterGc) : null,
    heapAfterMajorGcSlopeMiBPerMin: Math.round(slopePerMin(afterWarmup.filter((s) => heapAfterGc(s) !== undefined).map((s) => [s.atS, heapAfterGc(s)! / MiB])) * 100) / 100,
    heapSpacesTotalMiB: { baseline: heapSpaces(baselineSample), final: heapSpaces(lastSample) },
    /** RSS growth minus the growth of V8's committed young generation (which Node sizes from the machine's memory). */
    growthBeyondYoungGenMiB: baseline && heapSpaces(baselineSample)?.new !== undefined && heapSpaces(lastSample)?.new !== undefined ? Math.round((mib(finalRss - baseline.rss) - (heapSpaces(lastSample)!.new! - heapSpaces(baselineSample)!.new!)) * 10) / 10 : null,
    majorGcs: lastSample?.probe?.majorGcs ?? null,
    gcPauseMs: lastSample?.probe?.gcPauseMs ?? null,
    samples: samples.map((s) => ({ atS: Math.round(s.atS), rssMiB: mib(s.rss), rssAnonMiB: mib(s.rssAnon), heapMiB: s.probe ? mib(s.probe.heapUsed) : null, heapAfterGcMiB: s.probe?.heapAfterMajorGc ? mib(s.probe.heapAfterMajorGc) : null, fds: s.fds })),
  },
  handles: { finalConnectionsByPeer: lastSample?.conns ?? null, maxConnectionsByPeer: samples.reduce<Record<string, number>>((a, x) => { for (const [k, v] of Object.entries(x.conns ?? {})) a[k] = Math.max(a[k] ?? 0, v); return a; }, {}), baseline: baseline?.handles ?? null, final: finalView.handles ?? null, finalByType: lastSample?.probe?.handles ?? null, baselineFds: baseline?.fds ?? null, finalFds: lastSample?.fds ?? null, threads: lastSample?.threads ?? null },
  eventLoopDelayMs: runLoop ? { note: 'beyond the 10 ms sampling interval', run: runLoop, worstSecond: worstLoop } : null,
  generator: { eventLoopDelayP99Ms: Math.round(generatorDelay.percentile(99) / 1e4) / 100, eventLoopDelayMaxMs: Math.round(generatorDelay.max / 1e4) / 100 },
  sessions: churnStats,
  streams: streamStats,
  tokens: { minted, expiredChecked: counts.get('expired')!.sent },
  jwks: { rotations: rotations - 1, fetchesByDeputy: jwksFetches, events: keyEvents },
  authorizationServer: { tokenRequests: Object.fromEntries(as.tokenRequests), grantErrors: as.grantErrors.length, grantErrorSamples: [...new Set(as.grantErrors)].slice(0, 5) },
  deputyMetrics: m ? {
    requestsByOutcome: Object.fromEntries([...m].filter(([k]) => k.startsWith('deputy_requests_total{')).map(([k, v]) => [k.slice(22, -1), v])),
    tokenEndpointRequests: metric('deputy_token_endpoint_requests_total'), tokenEndpointFailures: metric('deputy_token_endpoint_failures_total'),
    tokenCacheEntries: metric('deputy_token_cache_entries'), jwtVerifications: metric('deputy_verifier_jwt_verifications_total'), verifierCacheHits: metric('deputy_verifier_cache_hits_total'),
    auditQueueDepth: metric('deputy_audit_queue_depth'), upstreamErrors: metric('deputy_upstream_errors_total'),
    sessions: metric('deputy_sessions'), sessionPrincipals: metric('deputy_session_principals'), sessionsExpired: metric('deputy_sessions_expired_total'),
    sessionsEvicted: metric('deputy_sessions_evicted_total'), sessionsRefused: metric('deputy_sessions_refused_total'),
    rssMiB: processMetric(lastSample, 'process_resident_memory_bytes') !== undefined ? mib(processMetric(lastSample, 'process_resident_memory_bytes')!) : undefined,
    maxSessions: Math.max(0, ...samples.map((x) => x.metrics?.get('deputy_sessions') ?? 0)),
  } : null,
  deputyLog: [...deputyLog.values()].filter((l) => l.level !== 'info' && l.level !== 'debug').sort((a, b) => b.count - a.count),
  deputyExit: deputyExit ?? null,
  missing,
};

stopping = true;
const shutdownStarted = performance.now();
deputy.kill('SIGTERM');
const exitedCleanly = await Promise.race([new Promise<boolean>((r) => (deputyExit ? r(true) : deputy.once('exit', () => r(true)))), sleep(20_000).then(() => false)]);
const shutdown = { seconds: Math.round((performance.now() - shutdownStarted) / 100) / 10, clean: exitedCleanly && deputyExit?.code === 0, exit: deputyExit ?? null };
if (!exitedCleanly) deputy.kill('SIGKILL');
await shutdownAll();

if (asJson) console.log(JSON.stringify({ ...summary, shutdown }, null, 2));
else {
  const out: string[] = [];
  out.push('', `Deputy soak — ${summary.verdict.toUpperCase()} — ${summary.run.seconds} s (${stopReason}), ${summary.run.achievedRate} req/s achieved of ${rate}`);
  out.push(`  requests: sent ${total.sent}, ok ${total.ok}, unexpected ${total.errors} (${(failureRate * 100).toFixed(3)}%)${skipped ? `, ${skipped} not sent (client backlog over ${maxInFlight})` : ''}`);
  for (const k of KINDS) {
    const c = counts.get(k)!;
    out.push(`    ${k.padEnd(10)} sent ${String(c.sent).padStart(7)}  ok ${String(c.ok).padStart(7)}  unexpected ${c.errors}`);
  }
  if (failures.size) {
    out.push('  unexpected answers (kind: reason ×count [first–last s] — one sample):');
    for (const f of summary.failures) out.push(`    ${f.kind}: ${f.reason} ×${f.count} [${f.firstAtS}–${f.lastAtS} s] — ${f.sample}`);
  }
  const mm = summary.memory;
  out.push(`  memory: baseline RSS ${mm.baselineRssMiB ?? 'n/a'} MiB (at ${baseline?.atS ?? '-'} s), final ${mm.finalRssMiB} MiB, growth ${mm.growthMiB ?? 'n/a'} MiB, bound ${mm.boundRssMiB ?? 'n/a'} MiB, peak (VmHWM) ${mm.peakRssMiB} MiB, trend after warm-up ${mm.rssSlopeMiBPerMin} MiB/min`);
  out.push(`  RSS breakdown at the end: anon ${mm.finalRssAnonMiB} MiB (baseline ${mm.baselineRssAnonMiB ?? 'n/a'}), file+shmem ${mm.finalRssFileMiB} MiB; main-thread external ${mm.finalExternalMiB ?? 'n/a'} MiB (array buffers ${mm.finalArrayBuffersMiB ?? 'n/a'}); worker-thread heaps ${mm.finalWorkerHeapMiB ?? 'n/a'} MiB`);
  out.push(`  heap (${mm.heapSource}, main thread): baseline ${mm.baselineHeapMiB ?? 'n/a'} MiB → final ${mm.finalHeapMiB ?? 'n/a'} MiB; after major GC ${mm.baselineHeapAfterMajorGcMiB ?? 'n/a'} → ${mm.finalHeapAfterMajorGcMiB ?? 'n/a'} MiB (trend ${mm.heapAfterMajorGcSlopeMiBPerMin} MiB/min, ${mm.majorGcs ?? '?'} major GCs, ${mm.gcPauseMs ?? '?'} ms paused)`);
  if (mm.growthBeyondYoungGenMiB !== null) out.push(`  RSS growth beyond the young generation's resizing (new space ${mm.heapSpacesTotalMiB.baseline?.new} → ${mm.heapSpacesTotalMiB.final?.new} MiB): ${mm.growthBeyondYoungGenMiB} MiB`);
  if (mm.heapSpacesTotalMiB.final) out.push(`  V8 heap spaces (committed MiB): baseline ${JSON.stringify(mm.heapSpacesTotalMiB.baseline)} → final ${JSON.stringify(mm.heapSpacesTotalMiB.final)}`);
  out.push(`  handles: ${summary.handles.baseline ?? 'n/a'} → ${summary.handles.final ?? 'n/a'}${summary.handles.finalByType ? ` ${JSON.stringify(summary.handles.finalByType)}` : ''}; fds ${summary.handles.baselineFds ?? 'n/a'} → ${summary.handles.finalFds ?? 'n/a'}; TCP by peer at the end ${JSON.stringify(summary.handles.finalConnectionsByPeer)}, max ${JSON.stringify(summary.handles.maxConnectionsByPeer)}; threads ${summary.handles.threads ?? 'n/a'}`);
  if (summary.eventLoopDelayMs) out.push(`  Deputy event-loop delay (beyond the 10 ms sampling interval): run p50 ${summary.eventLoopDelayMs.run.p50} p99 ${summary.eventLoopDelayMs.run.p99} max ${summary.eventLoopDelayMs.run.max} ms${summary.eventLoopDelayMs.worstSecond ? `; worst second p99 ${summary.eventLoopDelayMs.worstSecond.p99} max ${summary.eventLoopDelayMs.worstSecond.max} ms` : ''}`);
  out.push(`  generator (this process) event-loop delay: p99 ${summary.generator.eventLoopDelayP99Ms} ms, max ${summary.generator.eventLoopDelayMaxMs} ms`);
  out.push(`  sessions: churn started ${churnStats.started}, deleted ${churnStats.deleted} (${churnStats.checkedGone} checked gone), abandoned ${churnStats.abandoned}`);
  out.push(`  streams: opened ${streamStats.opened} (reopened on the same session ${streamStats.reopenedSameSession}, new sessions ${streamStats.newSessions}, 409 conflicts retried ${streamStats.conflicts}), list_changed triggered ${streamStats.triggers}, delivered ${streamStats.delivered} (max ${streamStats.maxDeliveryMs} ms), undelivered ${streamStats.undelivered}; response heads later than 1.5 s: ${streamStats.slowHeaders} (max ${streamStats.maxHeadersMs} ms), of which ${streamStats.headsWithFirstEvent} only once the first event (triggered 2-6 s after the GET) was sent; ended by server ${streamStats.brokeByServer}`);
  out.push(`  tokens: minted ${minted.as} by the AS + ${minted.rot} with the rotating key (${minted.failed} failed); expired-token checks ${counts.get('expired')!.sent}`);
  out.push(`  JWKS: ${summary.jwks.rotations} rotations, Deputy fetched the key set ${jwksFetches} times; ${keyEvents.map((e) => `${e.event} ${e.kid} @${e.atS}s`).join(', ') || 'no key events'}`);
  out.push(`  AS token endpoint: ${JSON.stringify(summary.authorizationServer.tokenRequests)}; grant errors ${summary.authorizationServer.grantErrors}${summary.authorizationServer.grantErrorSamples.length ? ` (${summary.authorizationServer.grantErrorSamples.join('; ')})` : ''}`);
  if (summary.deputyMetrics) out.push(`  Deputy /metrics: ${JSON.stringify(summary.deputyMetrics)}`);
  if (summary.deputyLog.length) {
    out.push('  Deputy log (warn/error):');
    for (const l of summary.deputyLog) out.push(`    ${l.level} ×${l.count} (first at ${l.firstAtS} s): ${l.msg} — ${l.sample}`);
  } else out.push('  Deputy log: no warnings or errors');
  out.push(`  shutdown: SIGTERM → exit in ${shutdown.seconds} s, ${shutdown.clean ? 'clean (code 0)' : `NOT clean (${JSON.stringify(shutdown.exit)})`}`);
  for (const note of missing) out.push(`  note: ${note}`);
  for (const r of reasons) out.push(`  FAIL: ${r}`);
  console.log(out.join('\n'));
}
process.exit(reasons.length ? 1 : 0);

// ---------------------------------------------------------------------------------------------
async function shutdownAll(): Promise<void> {
  clearInterval(trimRecords);
  for (const t of retireTimers) clearTimeout(t);
  if (deputy.exitCode === null && deputy.signalCode === null) deputy.kill('SIGKILL');
  await Promise.allSettled([
    pool.destroy(),
    streamPool.destroy(),
    notesUpstream.close(), backendUpstream.close(), api.close(), as.close(),
    new Promise<void>((r) => { jwksServer.close(() => r()); jwksServer.closeAllConnections(); }),
  ]);
  rmSync(work, { recursive: true, force: true });
}

function log(s: string): void {
  process.stderr.write(`${s}\n`);
}
