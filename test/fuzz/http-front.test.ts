// Fuzzing Deputy's HTTP front: a real gateway (real authorization server, real SDK-built upstreams,
// one upstream that is down) hit over raw TCP (node:net: duplicate headers, odd methods and framing,
// clients hanging up mid-request) and through fetch, with random and mutated methods, paths,
// headers, bodies and tokens. Valid and mutated tokens are placed in the Authorization header and in
// odd spots: a second Authorization header, ?access_token= and ?token=, Cookie, X-Api-Key,
// Proxy-Authorization, Mcp-Session-Id, MCP-Protocol-Version and the JSON-RPC body.
// Properties, for every request:
//   - the gateway stays up (/healthz answers afterwards) and every answer arrives within 5 s (no
//     hang); a connection closed without an answer only for CONNECT/Upgrade;
//   - no 5xx except 502/503/504 (upstream down, overload, keys unavailable); a 500 is a bug;
//   - every 4xx JSON body names a specific error (`error` code, or a JSON-RPC `error.code`);
//   - no credential (a token sent, any 20+ character piece of one, Deputy's own upstream credential)
//     appears in the log lines, the audit rows or the response (headers and body; for a token sent
//     in the body only logs and audit, since the upstream's tools may echo what they were sent);
//   - nothing a client does is logged at level error;
//   - two Authorization headers on an MCP endpoint are never accepted (400 invalid_request);
//   - a request that reached an MCP endpoint leaves exactly one audit event, within 1 s of the
//     exchange ending (also when the client hung up).
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import fc from 'fast-check';
import type { AuditEvent } from '../../src/audit/event.ts';
import type { Gateway } from '../../src/gateway.ts';
import { freePort } from '../support/ports.ts';
import { initializeMessage, logLines, mcpPost, startAs, startDeputy, startUpstream, userToken } from '../support/stack.ts';
import { applyEdits, around, deepJson, edits, fuzzAsync, preview, rawHttp, sharedPiece, sleep, tally, within, type Edit, type RawResult } from './support.ts';

const ANSWER_MS = 5000;
const LEAK_MIN = 20;
const UPSTREAM_CREDENTIAL = 'Bearer deputy-own-upstream-credential-5f2a9c';
const ALLOWED_5XX = new Set([502, 503, 504]);

let gw: Gateway;
let port: number;
/** Tokens by kind: for /mcp/notes, for the whole gateway, without the needed scope, for another resource. */
const tokens: Record<TokenKind, string> = { notes: '', gateway: '', noscope: '', other: '' };
/** A real session id on /mcp/stateful, created by the `gateway` principal. */
let sessionId = '';

type TokenKind = 'notes' | 'gateway' | 'noscope' | 'other';

before(async () => {
  const as = await startAs();
  const stateless = await startUpstream({ stateless: true });
  const stateful = await startUpstream();
  const dead = await freePort();
  const creds = { type: 'static', headers: { Authorization: { env: 'UP' } } };
  gw = await startDeputy(as, {
    auth: { required_scopes: ['mcp:tools'] },
    upstreams: [
      { name: 'notes', type: 'mcp', url: stateless.url, credentials: creds },
      { name: 'stateful', type: 'mcp', url: stateful.url, credentials: creds },
      { name: 'dead', type: 'mcp', url: `http://127.0.0.1:${dead}/mcp`, timeout_ms: 2000, credentials: creds },
    ],
    env: { UP: UPSTREAM_CREDENTIAL },
  });
  port = Number(new URL(gw.url).port);
  tokens.notes = await userToken(as, `${gw.url}/mcp/notes`);
  tokens.gateway = await userToken(as, gw.url, { sub: 'bob' });
  tokens.noscope = await userToken(as, `${gw.url}/mcp/notes`, { sub: 'carol', scope: 'notes:read' });
  tokens.other = await userToken(as, 'http://127.0.0.1:1/elsewhere', { sub: 'dave' });
  const init = await mcpPost(`${gw.url}/mcp/stateful`, initializeMessage(), { authorization: `Bearer ${tokens.gateway}` });
  const initBody = await init.text();
  assert.equal(init.status, 200, initBody);
  sessionId = init.headers.get('mcp-session-id') ?? '';
  assert.ok(sessionId, 'the stateful upstream issued a session');
});

// ---------------------------------------------------------------------------------------------
// What a case is made of. Tokens and the session id are placeholders (resolved when the case
// runs), so counterexamples stay readable.

interface TokenRef { kind: TokenKind; edits: Edit[] | null }
type Spot = 'authorization' | 'query:access_token' | 'query:token' | 'cookie' | 'x-api-key' | 'proxy-authorization' | 'mcp-session-id' | 'mcp-protocol-version' | 'body';
interface Placement { spot: Spot; token: TokenRef; scheme: string }
type BodySpec =
  | { kind: 'none' }
  | { kind: 'json'; value: unknown }
  | { kind: 'mutated'; value: unknown; edits: Edit[] }
  | { kind: 'text'; text: string }
  | { kind: 'bytes'; bytes: number[] }
  | { kind: 'deep'; text: string }
  | { kind: 'big'; bytes: number; valid: boolean };
interface Case {
  via: 'raw' | 'fetch';
  method: string;
  path: string;
  placements: Placement[];
  headers: [string, string][];
  body: BodySpec;
  /** Raw only: send the body with chunked transfer encoding. */
  chunked: boolean;
  /** Raw only: hang up after this fraction of the request bytes. */
  abortAt: number | null;
}

const MCP_PATHS = ['/mcp', '/mcp/notes', '/mcp/stateful', '/mcp/dead'];
const OTHER_PATHS = ['/', '/healthz', '/readyz', '/metrics', '/.well-known/oauth-protected-resource', '/.well-known/oauth-protected-resource/mcp/notes', '/.well-known/jwks.json', '/mcp/unknown', '*', '/favicon.ico'];

const tokenRef: fc.Arbitrary<TokenRef> = fc.record({
  kind: fc.constantFrom<TokenKind>('notes', 'gateway', 'noscope', 'other'),
  edits: fc.oneof({ weight: 3, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: edits({ maxLength: 2 }) }),
});
const placement: fc.Arbitrary<Placement> = fc.record({
  spot: fc.oneof(
    { weight: 8, arbitrary: fc.constant<Spot>('authorization') },
    { weight: 1, arbitrary: fc.constantFrom<Spot>('query:access_token', 'query:token', 'cookie', 'x-api-key', 'proxy-authorization', 'mcp-session-id', 'mcp-protocol-version', 'body') },
  ),
  token: tokenRef,
  scheme: fc.oneof({ weight: 6, arbitrary: fc.constant('Bearer ') }, { weight: 1, arbitrary: fc.constantFrom('bearer ', 'BEARER ', 'Bearer  ', 'Bearer\t', 'Bearer', 'Basic ', 'DPoP ', '') }),
});

const printable = (max: number) => fc.string({ maxLength: max }).map((s) => s.replace(/[\r\n]/g, ''));
const headerValue = fc.oneof(printable(40), fc.string({ unit: 'grapheme', maxLength: 12 }), fc.constantFrom('', ' ', 'x'.repeat(9000), '\u0000', 'ä', '\t'));
const garbageHeader: fc.Arbitrary<[string, string]> = fc.oneof(
  fc.tuple(fc.constant('content-type'), fc.oneof(fc.constantFrom('application/json', 'application/json; charset=utf-8', 'APPLICATION/JSON', 'application/json; charset=utf-16', 'application/jsonx', 'application/json-seq', 'text/plain', 'multipart/form-data; boundary=x', 'application/x-www-form-urlencoded', '*/*', ''), headerValue)),
  fc.tuple(fc.constant('accept'), fc.oneof(fc.constantFrom('application/json, text/event-stream', 'text/event-stream', 'application/json', '*/*', ''), headerValue)),
  fc.tuple(fc.constantFrom('mcp-session-id', 'Mcp-Session-Id'), fc.oneof(fc.constant('SESSION'), fc.constantFrom('', 'null', '../', '%00', 'x'.repeat(300)), headerValue)),
  fc.tuple(fc.constantFrom('mcp-protocol-version', 'MCP-Protocol-Version'), fc.oneof(fc.constantFrom('2025-03-26', '2025-06-18', '2025-11-25', '2026-07-28', '2024-11-05', '', 'latest', '2025-06-18, 2025-03-26'), headerValue)),
  fc.tuple(fc.constant('origin'), fc.oneof(fc.constantFrom('GATEWAY', 'http://evil.example', 'null', 'GATEWAY/', 'http://127.0.0.1'), headerValue)),
  fc.tuple(fc.constantFrom('x-request-id', 'last-event-id', 'traceparent', 'expect', 'accept-encoding', 'content-encoding', 'x-forwarded-for', 'forwarded', 'upgrade', 'te'), headerValue),
  fc.tuple(fc.constant('content-length'), fc.constantFrom('abc', '-1', '1e3', '0x10', ' 5', '99999999999999999999')),
  fc.tuple(fc.constant('transfer-encoding'), fc.constantFrom('chunked', 'gzip', 'identity', 'chunked, chunked', 'x')),
  fc.tuple(fc.constantFrom('x-pad', 'cookie'), fc.constantFrom('a'.repeat(40_000), 'b'.repeat(20_000))),
  fc.tuple(fc.string({ unit: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz-_0123456789!#$%&*+.^`|~'.split('')), minLength: 1, maxLength: 12 }), headerValue),
);

/** MCP messages the sample upstream understands, and some it does not. */
const mcpValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.constant(initializeMessage()),
  fc.record({ jsonrpc: fc.constant('2.0'), method: fc.constantFrom('notifications/initialized', 'notifications/cancelled') }),
  fc.record({ jsonrpc: fc.constant('2.0'), id: fc.oneof(fc.integer(), fc.string({ maxLength: 10 })), method: fc.constantFrom('tools/list', 'prompts/list', 'resources/list', 'ping', 'resources/templates/list', 'completion/complete', 'unknown/method') }),
  fc.record({ jsonrpc: fc.constant('2.0'), id: fc.nat(), method: fc.constant('tools/call'), params: fc.oneof(
    fc.record({ name: fc.constant('echo'), arguments: fc.record({ text: fc.string({ maxLength: 40 }) }) }),
    fc.record({ name: fc.constant('add'), arguments: fc.record({ a: fc.double(), b: fc.oneof(fc.integer(), fc.string()) }) }),
    fc.record({ name: fc.constant('count_down'), arguments: fc.record({ from: fc.integer({ min: 0, max: 3 }), delay_ms: fc.integer({ min: 0, max: 20 }) }) }),
    fc.record({ name: fc.constantFrom('notes__echo', 'stateful__add', 'nope', ''), arguments: fc.jsonValue({ maxDepth: 2 }) }),
  ) }),
  fc.record({ jsonrpc: fc.constant('2.0'), id: fc.nat(), method: fc.constantFrom('resources/read', 'prompts/get'), params: fc.record({ uri: fc.string(), name: fc.string() }, { requiredKeys: [] }) }),
  fc.record({ jsonrpc: fc.constant('2.0'), id: fc.nat(), result: fc.jsonValue({ maxDepth: 1 }) }),
  fc.jsonValue({ maxDepth: 3 }),
);
const bodySpec: fc.Arbitrary<BodySpec> = fc.oneof(
  { weight: 2, arbitrary: fc.constant<BodySpec>({ kind: 'none' }) },
  { weight: 6, arbitrary: mcpValue.map((value): BodySpec => ({ kind: 'json', value })) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('mutated' as const), value: mcpValue, edits: edits({ maxLength: 3 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('text' as const), text: fc.string({ unit: 'binary', maxLength: 200 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('bytes' as const), bytes: fc.array(fc.integer({ min: 0, max: 255 }), { maxLength: 200 }) }) },
  { weight: 1, arbitrary: deepJson(50_000).map((t): BodySpec => ({ kind: 'deep', text: `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"text":${t}}}}` })) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('big' as const), bytes: fc.constantFrom(900_000, 1_048_576, 1_048_577, 2_000_000), valid: fc.boolean() }) },
);
const method = fc.oneof(
  { weight: 8, arbitrary: fc.constantFrom('POST', 'GET', 'DELETE') },
  { weight: 3, arbitrary: fc.constantFrom('PUT', 'PATCH', 'OPTIONS', 'HEAD', 'TRACE', 'CONNECT', 'post', 'Get', 'PROPFIND', 'M-SEARCH', 'QUERY', 'FOO', '', 'GET /x') },
);
const path = fc.oneof(
  { weight: 8, arbitrary: fc.constantFrom(...MCP_PATHS) },
  { weight: 2, arbitrary: fc.constantFrom(...OTHER_PATHS) },
  { weight: 2, arbitrary: fc.tuple(fc.constantFrom(...MCP_PATHS, ...OTHER_PATHS), edits({ maxLength: 2, text: fc.constantFrom('/', '//', '..', '%2e', '%2F', '%00', '?', '#', ';', '%', 'é', ' ', 'x'.repeat(5000), '?x=1', '?access_token=', '&') })).map(([p, e]) => applyEdits(p, e)) },
  { weight: 1, arbitrary: fc.constantFrom('http://127.0.0.1/mcp/notes', '/mcp/notes/', '/MCP/notes', '/mcp//notes', '/mcp/notes?', '/mcp/notes#x', `/mcp/notes?${'a=1&'.repeat(2000)}`) },
);
/** Anything at all: most of these are refused at the gate (parser, method, Origin, token, version). */
const wildCase: fc.Arbitrary<Case> = fc.record({
  via: fc.constantFrom<Case['via']>('raw', 'raw', 'fetch'),
  method,
  path,
  placements: fc.array(placement, { maxLength: 3 }),
  headers: fc.array(garbageHeader, { maxLength: 4 }),
  body: bodySpec,
  chunked: fc.oneof({ weight: 5, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
  abortAt: fc.oneof({ weight: 8, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: fc.double({ min: 0.05, max: 0.95, noNaN: true }) }),
});
/** Headers a well-behaved client sends, with plausible and implausible values. */
const benignHeader: fc.Arbitrary<[string, string]> = fc.oneof(
  fc.tuple(fc.constant('mcp-session-id'), fc.oneof({ weight: 3, arbitrary: fc.constant('SESSION') }, { weight: 1, arbitrary: printable(40) })),
  fc.tuple(fc.constant('mcp-protocol-version'), fc.oneof({ weight: 3, arbitrary: fc.constantFrom('2025-03-26', '2025-06-18', '2025-11-25') }, { weight: 1, arbitrary: printable(20) })),
  fc.tuple(fc.constant('accept'), fc.constantFrom('application/json, text/event-stream', 'text/event-stream', 'application/json')),
  fc.tuple(fc.constantFrom('origin'), fc.constantFrom('GATEWAY', 'GATEWAY/')),
  fc.tuple(fc.constantFrom('last-event-id', 'traceparent', 'user-agent', 'accept-encoding'), printable(60)),
);
/** A request a real client could send (valid token, MCP endpoint, MCP body), lightly perturbed: it gets past the gate. */
const plausibleCase: fc.Arbitrary<Case> = fc.record({
  via: fc.constantFrom<Case['via']>('raw', 'fetch'),
  method: fc.oneof({ weight: 6, arbitrary: fc.constant('POST') }, { weight: 1, arbitrary: fc.constantFrom('GET', 'DELETE') }),
  path: fc.constantFrom(...MCP_PATHS),
  placements: fc.tuple(
    fc.record({ spot: fc.constant<Spot>('authorization'), token: fc.record({ kind: fc.constantFrom<TokenKind>('gateway', 'gateway', 'notes', 'noscope'), edits: fc.oneof({ weight: 6, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: edits({ maxLength: 1 }) }) }), scheme: fc.constant('Bearer ') }),
    fc.array(placement.filter((p) => p.spot !== 'authorization'), { maxLength: 1 }),
  ).map(([a, rest]) => [a, ...rest]),
  headers: fc.array(benignHeader, { maxLength: 2 }),
  body: fc.oneof({ weight: 8, arbitrary: mcpValue.map((value): BodySpec => ({ kind: 'json', value })) }, { weight: 2, arbitrary: bodySpec }),
  chunked: fc.oneof({ weight: 5, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
  abortAt: fc.oneof({ weight: 12, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: fc.double({ min: 0.05, max: 0.95, noNaN: true }) }),
});
const httpCase: fc.Arbitrary<Case> = fc.oneof({ weight: 1, arbitrary: wildCase }, { weight: 1, arbitrary: plausibleCase });

// ---------------------------------------------------------------------------------------------
// Running a case

interface Built {
  method: string;
  path: string;
  headers: [string, string][];
  body: Buffer | undefined;
  /** Credentials placed in the request; `inBody` ones may be echoed by the upstream's tools. */
  secrets: { value: string; inBody: boolean }[];
  requestId: string | undefined;
}

let counter = 0;
const outcomes = tally('http: outcomes of random requests');

/** The token a reference names, edited; without CR/LF (in a header they would end the line: header injection, a different test). */
function tokenOf(ref: TokenRef): string {
  const t = tokens[ref.kind];
  return ref.edits ? applyEdits(t, ref.edits).replace(/[\r\n]/g, '') : t;
}

function resolvePlaceholder(v: string): string {
  return v === 'SESSION' ? sessionId : v === 'GATEWAY' ? gw.url : v === 'GATEWAY/' ? `${gw.url}/` : v;
}

function bodyBytes(spec: BodySpec, inject: string[]): Buffer | undefined {
  const withTokens = (value: unknown): unknown => {
    if (inject.length === 0 || !value || typeof value !== 'object' || Array.isArray(value)) return value;
    const v = value as Record<string, unknown>;
    const params = v.params && typeof v.params === 'object' && !Array.isArray(v.params) ? v.params as Record<string, unknown> : {};
    return { ...v, params: { ...params, _meta: { token: inject[0], tokens: inject } } };
  };
  switch (spec.kind) {
    case 'none': return inject.length ? Buffer.from(JSON.stringify({ token: inject[0] })) : undefined;
    case 'json': return Buffer.from(JSON.stringify(withTokens(spec.value)) ?? 'null');
    case 'mutated': return Buffer.from(applyEdits(JSON.stringify(withTokens(spec.value)) ?? 'null', spec.edits));
    case 'text': return Buffer.from(spec.text + inject.join(' '));
    case 'bytes': return Buffer.concat([Buffer.from(spec.bytes), Buffer.from(inject.join(' '))]);
    case 'deep': return Buffer.from(spec.text);
    case 'big': {
      const pad = Math.max(0, spec.bytes - 80);
      return Buffer.from(spec.valid ? `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"text":"${'x'.repeat(pad)}"}}}` : 'x'.repeat(spec.bytes));
    }
  }
}

function build(c: Case): Built {
  const secrets: Built['secrets'] = [{ value: UPSTREAM_CREDENTIAL, inBody: false }, { value: UPSTREAM_CREDENTIAL.slice('Bearer '.length), inBody: false }];
  const headers: [string, string][] = [];
  const query: string[] = [];
  const inject: string[] = [];
  for (const p of c.placements) {
    const t = tokenOf(p.token);
    secrets.push({ value: t, inBody: p.spot === 'body' });
    switch (p.spot) {
      case 'authorization': headers.push(['authorization', `${p.scheme}${t}`]); break;
      case 'proxy-authorization': headers.push(['proxy-authorization', `${p.scheme}${t}`]); break;
      case 'query:access_token': query.push(`access_token=${t}`); break;
      case 'query:token': query.push(`token=${t}`); break;
      case 'cookie': headers.push(['cookie', `access_token=${t}`]); break;
      case 'x-api-key': headers.push(['x-api-key', t]); break;
      case 'mcp-session-id': headers.push(['mcp-session-id', t]); break;
      case 'mcp-protocol-version': headers.push(['mcp-protocol-version', t]); break;
      case 'body': inject.push(t); break;
    }
  }
  for (const [n, v] of c.headers) headers.push([n, resolvePlaceholder(v)]);
  let requestId: string | undefined;
  if (!headers.some(([n]) => n.toLowerCase() === 'x-request-id')) {
    requestId = `fuzz-${process.pid}-${++counter}`;
    headers.push(['x-request-id', requestId]);
  }
  if (!headers.some(([n]) => n.toLowerCase() === 'content-type') && c.body.kind !== 'none') headers.push(['content-type', 'application/json']);
  if (!headers.some(([n]) => n.toLowerCase() === 'accept')) headers.push(['accept', 'application/json, text/event-stream']);
  const p = query.length ? `${c.path}${c.path.includes('?') ? '&' : '?'}${query.join('&')}` : c.path;
  return { method: c.method, path: p, headers, body: bodyBytes(c.body, inject), secrets, requestId };
}

function rawBytes(b: Built, chunked: boolean): Buffer {
  const lines = [`${b.method} ${b.path} HTTP/1.1`, `host: 127.0.0.1:${port}`];
  for (const [n, v] of b.headers) lines.push(`${n}: ${v}`);
  const framing = b.headers.some(([n]) => /^(content-length|transfer-encoding)$/i.test(n));
  let body = b.body ?? Buffer.alloc(0);
  if (b.body && !framing) {
    if (chunked) {
      lines.push('transfer-encoding: chunked');
      const parts: Buffer[] = [];
      for (let i = 0; i < body.length; i += 4096) {
        const piece = body.subarray(i, i + 4096);
        parts.push(Buffer.from(`${piece.length.toString(16)}\r\n`), piece, Buffer.from('\r\n'));
      }
      parts.push(Buffer.from('0\r\n\r\n'));
      body = Buffer.concat(parts);
    } else lines.push(`content-length: ${body.length}`);
  }
  lines.push('connection: close');
  return Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'utf8'), body]);
}

interface Answer { status: number; headers: [string, string][]; body: string; streamed: boolean; rawAuthorizations: number }

async function viaFetch(b: Built): Promise<Answer | undefined> {
  let request: Request;
  try {
    const headers = new Headers();
    for (const [n, v] of b.headers) headers.append(n, v);
    const hasBody = b.body !== undefined && b.method !== 'GET' && b.method !== 'HEAD';
    request = new Request(`http://127.0.0.1:${port}${b.path}`, { method: b.method, headers, body: hasBody ? new Uint8Array(b.body!) : undefined, redirect: 'manual' });
  } catch {
    return undefined; // fetch cannot send this (forbidden method, invalid header): the raw client will
  }
  const res = await within(ANSWER_MS, `fetch ${b.method} ${preview(b.path, 80)}`, fetch(request, { signal: AbortSignal.timeout(ANSWER_MS + 1000) }).catch((error: Error) => error));
  if (res instanceof Error) {
    if (res.name === 'TimeoutError' || res.name === 'AbortError') throw res;
    return undefined; // refused client-side (e.g. a header undici will not send)
  }
  const streamed = /text\/event-stream/i.test(res.headers.get('content-type') ?? '');
  const body = streamed ? (await res.body?.cancel(), '') : await within(ANSWER_MS, 'fetch body', res.text());
  return { status: res.status, headers: [...res.headers], body, streamed, rawAuthorizations: 1 };
}

async function viaRaw(b: Built, chunked: boolean, abortAt: number | null): Promise<RawResult> {
  const bytes = rawBytes(b, chunked);
  return rawHttp(port, bytes, { timeoutMs: ANSWER_MS, head: b.method === 'HEAD', abortAfter: abortAt === null ? undefined : Math.floor(bytes.length * abortAt) });
}

const routeOf = (p: string) => {
  const q = p.indexOf('?');
  const bare = q === -1 ? p : p.slice(0, q);
  const trimmed = bare.length > 1 && bare.endsWith('/') ? bare.slice(0, -1) : bare;
  return MCP_PATHS.includes(trimmed) ? trimmed : undefined;
};

async function healthy(what: string): Promise<void> {
  const res = await within(ANSWER_MS, `GET /healthz after ${what}`, fetch(`http://127.0.0.1:${port}/healthz`));
  assert.equal(res.status, 200, `the gateway stopped answering /healthz after ${what}`);
  await res.body?.cancel();
}

/** Audit rows of earlier cases (a failed case never got to look at its own, and times are only ms). */
const earlierRows = new Set<string>();
const rowKey = (e: AuditEvent) => `${e.requestId} ${e.time} ${e.status}`;

/** Marks what is in the audit trail now as not this case's. */
async function startCase(): Promise<number> {
  const since = Date.now();
  await gw.audit.flush();
  for (const e of await gw.audit.query({ since: new Date(since - 5000), limit: 100_000 })) earlierRows.add(rowKey(e));
  return since;
}

/** Audit rows written since `since` by this case. */
async function auditRows(since: number): Promise<AuditEvent[]> {
  await gw.audit.flush();
  return (await gw.audit.query({ since: new Date(since - 1000), limit: 100_000 })).filter((e) => !earlierRows.has(rowKey(e)));
}

function checkAnswer(a: Answer, b: Built, what: string): void {
  assert.ok(a.status >= 100 && a.status <= 599, `${what}: no valid status line (${a.status})`);
  if (a.status >= 500) assert.ok(ALLOWED_5XX.has(a.status), `${what}: HTTP ${a.status}: ${preview(a.body, 300)}`);
  const type = a.headers.find(([n]) => n.toLowerCase() === 'content-type')?.[1] ?? '';
  if (a.status >= 400 && a.status < 500 && /json/i.test(type) && !a.streamed && a.body.length > 0) {
    let parsed: unknown;
    assert.doesNotThrow(() => { parsed = JSON.parse(a.body); }, `${what}: HTTP ${a.status} with a JSON content type but not JSON: ${preview(a.body, 200)}`);
    const e = (parsed as { error?: unknown } | null)?.error;
    const specific = (typeof e === 'string' && e !== '' && e !== 'internal_error') || (!!e && typeof e === 'object' && Number.isInteger((e as { code?: unknown }).code) && (e as { code: number }).code !== -32603);
    assert.ok(specific, `${what}: HTTP ${a.status} without a specific error: ${preview(a.body, 300)}`);
  }
  const route = routeOf(b.path);
  if (route && a.rawAuthorizations > 1 && b.method !== 'OPTIONS') {
    assert.ok(a.status >= 400, `${what}: ${a.rawAuthorizations} Authorization headers on ${route} were accepted (HTTP ${a.status})`);
  }
  const responseText = `${a.headers.map(([n, v]) => `${n}: ${v}`).join('\n')}\n${a.body}`;
  for (const s of b.secrets) {
    if (s.inBody) continue; // the upstream's tools may echo what the body carried
    const leaked = sharedPiece(s.value, responseText, LEAK_MIN);
    assert.equal(leaked, undefined, `${what}: the response contains a piece of a credential (${preview(leaked ?? '')}): ${around(responseText, leaked ?? '')}`);
  }
}

async function checkAfter(b: Built, what: string, since: number, logFrom: number, answer: Answer | undefined): Promise<void> {
  await healthy(what);
  // The audit event is written when the response closes, just after the client has it.
  let rows = await auditRows(since);
  if (answer && b.requestId && answer.headers.some(([n, v]) => n.toLowerCase() === 'x-request-id' && v === b.requestId)) {
    // A streamed answer was cut by us: the gateway must notice the hang-up promptly, too.
    for (let i = 0; i < 40 && !rows.some((r) => r.requestId === b.requestId); i++) {
      await sleep(25);
      rows = await auditRows(since);
    }
    const mine = rows.filter((r) => r.requestId === b.requestId);
    assert.equal(mine.length, 1, `${what}: ${mine.length} audit events within 1 s of the exchange ending, for a request that reached an MCP endpoint (expected exactly one${answer.streamed ? '; the client had hung up on the stream' : ''})`);
  }
  const logs = logLines.slice(logFrom);
  const errors = logs.filter((l) => {
    try {
      return JSON.parse(l).level === 'error';
    } catch {
      return true;
    }
  });
  assert.deepEqual(errors, [], `${what}: the request caused error-level log lines`);
  const logText = logs.join('\n');
  const auditText = JSON.stringify(rows);
  for (const s of b.secrets) {
    const inLog = sharedPiece(s.value, logText, LEAK_MIN);
    assert.equal(inLog, undefined, `${what}: a piece of a credential is in the log (${preview(inLog ?? '')}): ${around(logText, inLog ?? '')}`);
    const inAudit = sharedPiece(s.value, auditText, LEAK_MIN);
    assert.equal(inAudit, undefined, `${what}: a piece of a credential is in the audit trail (${preview(inAudit ?? '')}): ${around(auditText, inAudit ?? '')}`);
  }
}

function describeCase(c: Case, b: Built): string {
  const body = b.body === undefined ? 'no body' : `${b.body.length}-byte body ${preview(b.body.toString('utf8'), 80)}`;
  return `${c.via} ${preview(b.method, 20)} ${preview(b.path, 80)} [${b.headers.map(([n, v]) => `${n}: ${preview(v, 40)}`).join(', ')}] ${body}${c.chunked ? ' (chunked)' : ''}${c.abortAt !== null ? ` (client hangs up after ${Math.round(c.abortAt * 100)}%)` : ''}`;
}

async function runCase(c: Case): Promise<void> {
  const b = build(c);
  const what = describeCase(c, b);
  const since = await startCase();
  const logFrom = logLines.length;
  let answer: Answer | undefined;
  const rawAuthorizations = b.headers.filter(([n]) => n.toLowerCase() === 'authorization').length;
  if (c.via === 'fetch' && c.abortAt === null) answer = await viaFetch(b);
  if (!answer) {
    const r = await viaRaw(b, c.chunked, c.abortAt);
    if (r.kind === 'response') answer = { status: r.response.status, headers: r.response.headers, body: r.response.body.toString('utf8'), streamed: r.response.streamed, rawAuthorizations };
    else if (r.kind === 'closed') {
      // A connection closed without an answer is acceptable only where HTTP has none to give.
      const noAnswerExpected = b.method === 'CONNECT' || b.headers.some(([n]) => /^upgrade$/i.test(n));
      assert.ok(noAnswerExpected, `${what}: the connection was closed without an answer (received ${preview(r.received.toString('latin1'), 120)})`);
    }
  }
  outcomes(answer ? `${c.via === 'fetch' && answer.rawAuthorizations === 1 && c.abortAt === null ? 'fetch' : 'raw'} ${answer.status}${answer.streamed ? ' (stream)' : ''}` : c.abortAt !== null ? 'client hung up' : 'closed');
  if (answer) checkAnswer(answer, b, what);
  else if (c.abortAt !== null) await sleep(30); // let the server notice the hang-up
  await checkAfter(b, what, since, logFrom, answer);
}

test('HTTP front: random requests never crash, hang, 500, leak a credential or log an error', async () => {
  await fuzzAsync('http: random requests', httpCase, runCase, {
    runs: 40,
    perRunTimeoutMs: 30_000,
    timeLimitMs: 90_000,
    // Minimal counterexamples found by longer runs.
    examples: [
      // A token sent as MCP-Protocol-Version.
      { via: 'raw', method: 'POST', path: '/mcp/notes', placements: [{ spot: 'authorization', token: { kind: 'gateway', edits: null }, scheme: 'Bearer ' }, { spot: 'mcp-protocol-version', token: { kind: 'notes', edits: null }, scheme: '' }], headers: [], body: { kind: 'json', value: initializeMessage() }, chunked: false, abortAt: null },
      // A GET with a large body whose stream the client then leaves.
      { via: 'raw', method: 'GET', path: '/mcp/notes', placements: [{ spot: 'authorization', token: { kind: 'notes', edits: null }, scheme: 'Bearer ' }], headers: [], body: { kind: 'big', bytes: 900_000, valid: false }, chunked: false, abortAt: null },
    ],
  });
});

test('HTTP front: two Authorization headers on an MCP endpoint get 400 invalid_request', async () => {
  const arb = fc.record({
    path: fc.constantFrom('/mcp', '/mcp/notes', '/mcp/stateful'),
    method: fc.constantFrom('POST', 'GET', 'DELETE'),
    first: fc.record({ kind: fc.constantFrom<TokenKind>('notes', 'gateway'), edits: fc.constant(null) }),
    second: fc.oneof(tokenRef, fc.constant('garbage' as const)),
    names: fc.constantFrom(['authorization', 'authorization'], ['Authorization', 'authorization'], ['AUTHORIZATION', 'Authorization']),
    // Between the two: headers a client sends anyway (not framing, Expect or Origin: Node or the
    // Origin check would answer before the Authorization check is reached).
    between: fc.array(benignHeader.filter(([n]) => n !== 'origin'), { maxLength: 2 }),
  });
  await fuzzAsync('http: duplicate Authorization', arb, async ({ path: p, method: m, first, second, names, between }) => {
    const t1 = tokenOf(first);
    // (Control characters would make Node's parser refuse the request before Deputy sees it.)
    const t2 = second === 'garbage' ? 'not-a-token' : tokenOf(second).replace(/[\x00-\x1f\x7f]/g, '');
    const headers: [string, string][] = [[names[0]!, `Bearer ${t1}`], ...between.map(([n, v]): [string, string] => [n, resolvePlaceholder(v)]), [names[1]!, `Bearer ${t2}`], ['content-type', 'application/json'], ['accept', 'application/json, text/event-stream']];
    const b: Built = { method: m, path: p, headers, body: m === 'POST' ? Buffer.from(JSON.stringify(initializeMessage())) : undefined, secrets: [{ value: t1, inBody: false }, { value: t2, inBody: false }], requestId: undefined };
    const what = `${m} ${p} with ${names.join(' + ')} (${first.kind}, ${typeof second === 'string' ? second : second.kind})`;
    const since = await startCase();
    const logFrom = logLines.length;
    const r = await viaRaw(b, false, null);
    assert.equal(r.kind, 'response', `${what}: no answer`);
    const res = (r as Extract<RawResult, { kind: 'response' }>).response;
    const answer: Answer = { status: res.status, headers: res.headers, body: res.body.toString('utf8'), streamed: res.streamed, rawAuthorizations: 2 };
    checkAnswer(answer, b, what);
    assert.equal(res.status, 400, `${what}: HTTP ${res.status} ${preview(answer.body, 200)}`);
    assert.equal(JSON.parse(answer.body).error, 'invalid_request', `${what}: ${answer.body}`);
    assert.match(res.header('www-authenticate') ?? '', /error="invalid_request"/, `${what}: challenge`);
    await checkAfter(b, what, since, logFrom, answer);
  }, { runs: 12, perRunTimeoutMs: 30_000, examples: [{ path: '/mcp/notes', method: 'POST', first: { kind: 'notes', edits: null }, second: { kind: 'notes', edits: null }, names: ['authorization', 'authorization'], between: [] }] });
});

test('HTTP front: a client hanging up mid-request is no error of Deputy’s', async () => {
  const arb = fc.record({
    path: fc.constantFrom('/mcp', '/mcp/notes', '/mcp/stateful', '/mcp/dead'),
    size: fc.integer({ min: 10, max: 300_000 }),
    cut: fc.double({ min: 0, max: 0.99, noNaN: true }),
    chunked: fc.boolean(),
  });
  await fuzzAsync('http: client aborts mid-body', arb, async ({ path: p, size, cut, chunked }) => {
    const token: TokenKind = 'gateway'; // valid on every endpoint, so the gateway reads the body
    const body = Buffer.from(`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"text":"${'y'.repeat(size)}"}}}`);
    const b: Built = { method: 'POST', path: p, headers: [['authorization', `Bearer ${tokens[token]}`], ['content-type', 'application/json'], ['accept', 'application/json, text/event-stream'], ['x-request-id', `fuzz-abort-${++counter}`]], body, secrets: [{ value: tokens[token], inBody: false }], requestId: undefined };
    const bytes = rawBytes(b, chunked);
    const headEnd = bytes.indexOf('\r\n\r\n') + 4;
    const abortAfter = headEnd + Math.floor((bytes.length - headEnd) * cut); // the headers are complete: the body is cut
    const what = `POST ${p}, ${chunked ? 'chunked' : 'content-length'} body of ${body.length} bytes cut after ${abortAfter - headEnd}`;
    const since = await startCase();
    const logFrom = logLines.length;
    const r = await rawHttp(port, bytes, { timeoutMs: ANSWER_MS, abortAfter });
    assert.equal(r.kind, 'aborted');
    // The gateway notices the hang-up and writes its audit event: wait for it (it must come).
    let rows: AuditEvent[] = [];
    for (let i = 0; i < 40 && !rows.some((e) => e.requestId === b.headers[3]![1]); i++) {
      await sleep(25);
      rows = await auditRows(since);
    }
    const mine = rows.filter((e) => e.requestId === b.headers[3]![1]);
    assert.equal(mine.length, 1, `${what}: ${mine.length} audit events (expected exactly one)`);
    await checkAfter(b, what, since, logFrom, undefined);
  }, { runs: 12, perRunTimeoutMs: 30_000 });
});
