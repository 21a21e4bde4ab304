// Fuzzing the config loader: `parseConfig` (src/config/schema.ts) over random values and mutations of
// a valid config, and the YAML path (`parseConfigText` / `loadConfig`, src/config/load.ts) over
// mutated YAML, random text and bytes, anchors/aliases (alias bombs), tags and deep nesting.
// Property: a config comes back, or a ConfigError whose every issue has a path or a message; never
// another exception, never a hang. A returned config's public URL must parse (the listener and the
// metadata documents build URLs from it).
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, test } from 'node:test';
import fc from 'fast-check';
import { stringify } from 'yaml';
import { ConfigError } from '../../src/config/errors.ts';
import { loadConfig, parseConfigText } from '../../src/config/load.ts';
import { parseConfig, type DeputyConfig } from '../../src/config/schema.ts';
import { applyEdits, deepJson, edits, fuzzAsync, fuzzSync, preview, type Edit } from './support.ts';

/** A call taking longer than this counts as a hang (everything here is synchronous parsing). */
const SLOW_MS = 2000;

const dir = mkdtempSync(join(tmpdir(), 'deputy-fuzz-config-'));
after(() => rmSync(dir, { recursive: true, force: true }));
writeFileSync(join(dir, 'secret.txt'), 'file-secret-value\n');
writeFileSync(join(dir, 'empty.txt'), '');
mkdirSync(join(dir, 'a-directory'));
const env: NodeJS.ProcessEnv = {
  NOTES_AUTH: 'Bearer notes-service-token', INTROSPECT: 'introspection-secret', CC_SECRET: 'cc-secret', METRICS_TOKEN: 'metrics-token',
  STATE_KEY: 'MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=', INTROSPECT_SECRET: 's', NOTES_AUTHORIZATION: 'Bearer n', DEPUTY_CLIENT_SECRET: 'd',
  TRACKER_CLIENT_SECRET: 't', DEPUTY_WEB_SECRET: 'w', DEPUTY_VAULT_KEY: 'vault-key-of-at-least-thirty-two-chars',
};

/** A valid config touching most sections (the fuzzer starts from it and breaks it). */
const BASE = {
  server: { host: '127.0.0.1', port: 8080, public_url: 'https://mcp.example.com', allowed_origins: ['https://app.example.com'], max_body_bytes: 1_048_576, shutdown_grace_ms: 5000 },
  limits: { max_in_flight: 100, max_queued: 10 },
  auth: {
    issuers: [
      { issuer: 'https://idp.example.com', jwks_uri: 'https://idp.example.com/jwks', algorithms: ['RS256', 'ES256'], typ: 'at+jwt' },
      { issuer: 'https://other.example.com', introspection: { endpoint: 'https://other.example.com/introspect', client_id: 'deputy', client_secret: { env: 'INTROSPECT' }, cache_ttl_seconds: 30 } },
    ],
    required_scopes: ['mcp:tools'],
    audiences: ['api://deputy'],
    clock_skew_seconds: 30,
  },
  upstreams: [
    {
      name: 'notes', type: 'mcp', url: 'http://127.0.0.1:9001/mcp', timeout_ms: 5000, required_scopes: 'notes:read notes:write',
      credentials: { type: 'static', headers: { Authorization: { env: 'NOTES_AUTH' }, 'X-Tenant': 'acme', 'X-Key': { file: 'secret.txt' } } },
      policy: { scopes: ['notes:read'], claims: { tenant: 'acme' }, allow: ['list_*', 'add_note'], deny: ['delete_*'], tools: { add_note: { scopes: ['notes:write'], claims: { groups: ['finance', 'ops'] } } } },
    },
    {
      name: 'crm', type: 'mcp', url: 'https://crm.internal/mcp',
      credentials: { type: 'token_exchange', token_endpoint: 'https://idp.example.com/token', client_id: 'deputy', client_secret: { env: 'CC_SECRET' }, audience: 'https://crm.internal', scope: ['crm:read'], extra_params: { tenant: 'acme' } },
    },
    {
      name: 'svc', type: 'mcp', url: 'https://svc.internal/mcp',
      credentials: { type: 'client_credentials', issuer: 'https://idp.example.com', client_id: 'deputy', client_secret: { env: 'CC_SECRET' }, scope: 'svc', identity_assertion: { header: 'X-Deputy-Identity', ttl_seconds: 60 } },
    },
    { name: 'billing', type: 'openapi', spec: './billing.yaml', base_url: 'https://billing.internal', credentials: { type: 'static', token: { env: 'CC_SECRET' } }, include: ['get*'] },
    { name: 'legacy', type: 'mcp', url: 'https://legacy.internal/mcp', credentials: { type: 'passthrough', acknowledge_spec_violation: true, require_audience: 'https://legacy.internal' } },
  ],
  audit: { store: 'sqlite::memory:', replica_id: 'fuzz-1' },
  state: { store: 'memory' },
  metrics: { enabled: true, token: { env: 'METRICS_TOKEN' } },
  tracing: { enabled: false },
  aggregate: { separator: '__', unprefixed: 'notes' },
};
const EXAMPLE_YAML = readFileSync(resolve(import.meta.dirname, '../../deputy.example.yaml'), 'utf8');

function assertOutcome(run: () => DeputyConfig, what: () => string): void {
  const started = performance.now();
  let config: DeputyConfig | undefined;
  try {
    config = run();
  } catch (error) {
    assert.ok(error instanceof ConfigError, `${what()}: threw ${(error as Error)?.name}: ${preview(String((error as Error)?.message), 300)} instead of a ConfigError`);
    assert.ok(Array.isArray(error.issues) && error.issues.length > 0, `${what()}: a ConfigError without issues`);
    for (const issue of error.issues) {
      assert.ok(typeof issue.path === 'string' && typeof issue.message === 'string', `${what()}: malformed issue ${JSON.stringify(issue)}`);
      assert.ok(issue.path.trim() !== '' || issue.message.trim() !== '', `${what()}: an issue with neither path nor message`);
    }
  } finally {
    for (const s of config?.secrets ?? []) s.close();
    const ms = performance.now() - started;
    assert.ok(ms < SLOW_MS, `${what()}: took ${Math.round(ms)} ms (hang)`);
  }
  if (config) {
    assert.doesNotThrow(() => new URL(config.server.publicUrl), `${what()}: accepted, but server public URL ${preview(config.server.publicUrl)} does not parse`);
    assert.ok(config.auth.issuers.length > 0, `${what()}: accepted without issuers`);
  }
}

test('the base config is valid (the mutations below start from it)', () => {
  const config = parseConfig(structuredClone(BASE), { baseDir: dir, env });
  assert.equal(config.upstreams.length, 5);
  assert.doesNotThrow(() => parseConfigText(EXAMPLE_YAML, { baseDir: resolve(import.meta.dirname, '../..'), env }));
});

// ---------------------------------------------------------------------------------------------
// Mutations of the config object

type Path = (string | number)[];
type ObjEdit =
  | { op: 'set'; at: number; value: unknown }
  | { op: 'delete'; at: number }
  | { op: 'rename'; at: number; edits: Edit[] }
  | { op: 'add'; at: number; key: string; value: unknown }
  | { op: 'wrap'; at: number; how: 'list' | 'string' | 'mapping' };

/** Every path into plain arrays and mappings (not into Dates, Maps, typed arrays an edit put there). */
function paths(v: unknown, prefix: Path = [], out: Path[] = []): Path[] {
  out.push(prefix);
  if (Array.isArray(v)) v.forEach((x, i) => paths(x, [...prefix, i], out));
  else if (v && typeof v === 'object' && [Object.prototype, null].includes(Object.getPrototypeOf(v))) for (const [k, x] of Object.entries(v)) paths(x, [...prefix, k], out);
  return out;
}

function parentOf(root: unknown, path: Path): [Record<string | number, unknown>, string | number] | undefined {
  if (path.length === 0) return undefined;
  let cur = root as Record<string | number, unknown>;
  for (const k of path.slice(0, -1)) cur = cur[k] as Record<string | number, unknown>;
  return [cur, path[path.length - 1]!];
}

function applyObjEdits(base: unknown, script: readonly ObjEdit[]): unknown {
  let root = structuredClone(base);
  for (const e of script) {
    const all = paths(root);
    const path = all[e.at % all.length]!;
    const parent = parentOf(root, path);
    const get = () => (parent ? parent[0][parent[1]] : root);
    const put = (v: unknown) => (parent ? (parent[0][parent[1]] = v) : (root = v));
    switch (e.op) {
      // (Values are cloned: constantFrom hands out one shared instance, which edits must not alter.)
      case 'set': put(structuredClone(e.value)); break;
      case 'delete':
        if (!parent) root = undefined;
        else if (Array.isArray(parent[0])) (parent[0] as unknown as unknown[]).splice(parent[1] as number, 1);
        else delete parent[0][parent[1]];
        break;
      case 'rename':
        if (parent && !Array.isArray(parent[0])) {
          const v = parent[0][parent[1]];
          delete parent[0][parent[1]];
          parent[0][applyEdits(String(parent[1]), e.edits)] = v;
        }
        break;
      case 'add': {
        const target = get();
        if (target && typeof target === 'object' && !Array.isArray(target)) (target as Record<string, unknown>)[e.key] = structuredClone(e.value);
        else if (Array.isArray(target)) target.push(structuredClone(e.value));
        break;
      }
      case 'wrap': {
        const v = get();
        put(e.how === 'list' ? [v] : e.how === 'string' ? JSON.stringify(v) ?? '' : { value: v });
        break;
      }
    }
  }
  return root;
}

const secretRef = fc.constantFrom<unknown>({ env: 'NOTES_AUTH' }, { env: 'UNSET_VARIABLE' }, { env: '' }, { file: 'secret.txt' }, { file: 'empty.txt' }, { file: 'a-directory' }, { file: 'missing.txt' }, { file: '/dev/null' }, { file: '../../../../etc/hostname' }, { env: 'NOTES_AUTH', file: 'secret.txt' }, {}, { env: ['A'] }, 'literal-secret');
const oddValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom<unknown>(null, '', ' ', 0, -1, 0.5, 65536, 1e308, Number.MAX_SAFE_INTEGER + 2, true, false, [], {}, [[]], 'none', 'stdout', 'memory', 'mcp', 'openapi', 'static', 'passthrough', 'token_exchange', 'client_credentials', 'private_key_jwt', 'RS256', 'HS256', 'none', '*', '__proto__', 'constructor') },
  { weight: 3, arbitrary: fc.constantFrom<unknown>('http://', 'http:///x/', 'https:////', 'http://a b', 'http://[::1', 'http://127.0.0.1:99999', 'https://x.example/?q#f', 'ftp://x', 'javascript:alert(1)', 'sqlite:', 'sqlite::memory:', 'postgres://', 'redis://', 'rediss://x', 'a b', '::1', '[::1]', '0.0.0.0', 'localhost', 'ä', '\u0000', 'x'.repeat(10_000)) },
  { weight: 2, arbitrary: secretRef },
  { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 2 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 30 }) },
  { weight: 1, arbitrary: fc.constantFrom<unknown>(new Date(0), new Uint8Array([1, 2]), new Map([['a', 1]]), new Set(['a'])) },
);
const keyName = fc.oneof(fc.constantFrom('name', 'type', 'url', 'credentials', 'policy', 'tools', 'claims', 'limits', 'headers', 'token', 'issuer', 'env', 'file', '__proto__', 'constructor', 'toString', 'hasOwnProperty', ''), fc.string({ maxLength: 12 }));
const objEdit: fc.Arbitrary<ObjEdit> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ op: fc.constant('set' as const), at: fc.nat(), value: oddValue }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('delete' as const), at: fc.nat() }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('rename' as const), at: fc.nat(), edits: edits({ maxLength: 2 }) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('add' as const), at: fc.nat(), key: keyName, value: oddValue }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('wrap' as const), at: fc.nat(), how: fc.constantFrom('list' as const, 'string' as const, 'mapping' as const) }) },
);

test('parseConfig: mutations of a valid config give a config or a ConfigError with located issues', async () => {
  await fuzzSync('config: parseConfig(mutated object)', fc.array(objEdit, { minLength: 1, maxLength: 6 }), (script) => {
    const raw = applyObjEdits(BASE, script);
    assertOutcome(() => parseConfig(raw, { baseDir: dir, env }), () => `edits ${preview(JSON.stringify(script), 600)}`);
  }, { runs: 300 });
});

test('parseConfig: arbitrary values give a config or a ConfigError', async () => {
  const anything = fc.oneof(
    fc.anything({ maxDepth: 4, withMap: true, withSet: true, withDate: true, withTypedArray: true, withSparseArray: true }),
    fc.record({ server: fc.anything({ maxDepth: 2 }), auth: fc.anything({ maxDepth: 3 }), upstreams: fc.anything({ maxDepth: 3 }), audit: fc.anything({ maxDepth: 2 }), state: fc.anything({ maxDepth: 2 }), limits: fc.anything({ maxDepth: 2 }), aggregate: fc.anything({ maxDepth: 2 }), identity: fc.anything({ maxDepth: 2 }) }, { requiredKeys: [] }),
    fc.record({ auth: fc.record({ issuers: fc.array(fc.dictionary(fc.constantFrom('issuer', 'jwks_uri', 'algorithms', 'typ', 'introspection'), oddValue), { maxLength: 3 }) }), upstreams: fc.array(fc.dictionary(fc.constantFrom('name', 'type', 'url', 'credentials', 'policy', 'spec', 'base_url', 'limits', 'timeout_ms'), oddValue), { maxLength: 3 }) }),
    // The valid base with one section replaced by known keys set to odd values (denser than uniform edits).
    fc.record({
      section: fc.constantFrom('server', 'limits', 'audit', 'state', 'metrics', 'aggregate', 'identity'),
      keys: fc.dictionary(fc.constantFrom('host', 'port', 'public_url', 'allowed_origins', 'max_body_bytes', 'shutdown_grace_ms', 'headers_timeout_ms', 'request_timeout_ms', 'keep_alive_timeout_ms', 'max_header_bytes', 'max_connections', 'max_in_flight', 'max_queued', 'store', 'spool_dir', 'replica_id', 'encryption_key', 'previous_keys', 'enabled', 'token', 'separator', 'unprefixed', 'signing_keys', 'algorithm'), oddValue, { maxKeys: 3 }),
    }).map(({ section, keys }) => ({ ...structuredClone(BASE), [section]: structuredClone(keys) })),
  );
  await fuzzSync('config: parseConfig(anything)', anything, (raw) => {
    assertOutcome(() => parseConfig(raw, { baseDir: dir, env }), () => `value ${preview(fc.stringify(raw), 600)}`);
  }, { runs: 300, examples: [{ ...structuredClone(BASE), server: { host: 'http://' } }] });
});

// ---------------------------------------------------------------------------------------------
// YAML text

type LineEdit = { op: 'delete' | 'duplicate' | 'indent' | 'dedent'; line: number } | { op: 'insert'; line: number; text: string };
const YAML_SNIPPETS = [
  '&a', '*a', '<<: *a', 'x: &a [1, 2]', 'y: *a', 'z: *nope', '<<: *nope', 'key: !!binary aGVsbG8=', 'key: !!js/function "function () {}"', 'key: !custom x', '? [complex, key]\n: v',
  '- item', '---', '...', '%YAML 1.1', '%YAML 1.1\n---', '%TAG ! tag:example.com,2000:', '\t', '{', '[', '|', '>', '#', "'", '"', 'key: !!set {a, b}', 'key: !!omap [a: 1]',
  'key: 2001-12-14t21:59:43.10-05:00', 'key: 0x1F', 'key: 0o17', 'key: .inf', 'key: .nan', 'key: ~', 'key: 1e400', 'key: !!int "x"', 'key: !!float "x"', 'key: !!str', 'key: !!map []',
  '__proto__: {polluted: true}', 'constructor: {prototype: {x: 1}}', 'server: &s {port: 1}\nauth: *s', '\ufeffkey: 1', 'key: "\\u0000"', 'key: "\\ud800"',
];
const lineEdit: fc.Arbitrary<LineEdit> = fc.oneof(
  fc.record({ op: fc.constantFrom('delete' as const, 'duplicate' as const, 'indent' as const, 'dedent' as const), line: fc.nat() }),
  fc.record({ op: fc.constant('insert' as const), line: fc.nat(), text: fc.oneof(fc.constantFrom(...YAML_SNIPPETS), fc.string({ maxLength: 20 })) }),
);
function applyLineEdits(text: string, script: readonly LineEdit[]): string {
  const lines = text.split('\n');
  for (const e of script) {
    const i = e.line % (lines.length + 1);
    const line = lines[i] ?? '';
    switch (e.op) {
      case 'delete': lines.splice(i, 1); break;
      case 'duplicate': lines.splice(i, 0, line); break;
      case 'indent': lines[i] = `  ${line}`; break;
      case 'dedent': lines[i] = line.replace(/^ {1,2}/, ''); break;
      case 'insert': lines.splice(i, 0, ...e.text.split('\n').map((t) => `${/^\s*/.exec(line)?.[0] ?? ''}${t}`)); break;
    }
  }
  return lines.join('\n');
}

/** YAML alias bombs ("billion laughs"): `levels` anchors, each referring to the previous one `fanout` times. */
const aliasBomb = fc.record({ levels: fc.integer({ min: 1, max: 8 }), fanout: fc.integer({ min: 1, max: 12 }), at: fc.constantFrom('top', 'server', 'upstream') }).map(({ levels, fanout, at }) => {
  const lines = ['l0: &l0 [lol, lol, lol]'];
  for (let i = 1; i <= levels; i++) lines.push(`l${i}: &l${i} [${Array.from({ length: fanout }, () => `*l${i - 1}`).join(', ')}]`);
  const bomb = lines.join('\n');
  if (at === 'top') return bomb;
  if (at === 'server') return `${bomb}\nserver: {allowed_origins: *l${levels}}`;
  return `${bomb}\nupstreams: [{name: a, type: mcp, url: "http://x", credentials: {type: static, headers: {X-A: *l${levels}}}}]`;
});

const BASE_YAML = stringify(BASE);
const BASE_YAML_FLOW = stringify(BASE, { collectionStyle: 'flow' });
const yamlText: fc.Arbitrary<{ how: string; text: string }> = fc.oneof(
  { weight: 4, arbitrary: fc.tuple(fc.constantFrom(['base', BASE_YAML], ['example', EXAMPLE_YAML], ['flow', BASE_YAML_FLOW]), fc.array(lineEdit, { minLength: 1, maxLength: 4 })).map(([[name, t], e]) => ({ how: `${name} + line edits ${JSON.stringify(e)}`, text: applyLineEdits(t, e) })) },
  { weight: 3, arbitrary: fc.tuple(fc.constantFrom(['base', BASE_YAML], ['example', EXAMPLE_YAML], ['flow', BASE_YAML_FLOW]), edits({ maxLength: 4 })).map(([[name, t], e]) => ({ how: `${name} + edits ${JSON.stringify(e)}`, text: applyEdits(t, e) })) },
  { weight: 2, arbitrary: aliasBomb.map((t) => ({ how: 'alias bomb', text: t })) },
  { weight: 1, arbitrary: fc.array(fc.constantFrom(...YAML_SNIPPETS), { minLength: 1, maxLength: 6 }).map((s) => ({ how: 'snippets', text: s.join('\n') })) },
  // (At most 20,000 levels, ≤ 160 KB: the YAML parser is linear, ~1.5 µs a byte, so multi-megabyte
  // files would trip the hang threshold without being a hang.)
  { weight: 1, arbitrary: deepJson(20_000).map((t) => ({ how: 'deep nesting', text: `server: ${t}` })) },
  { weight: 1, arbitrary: fc.integer({ min: 1, max: 2000 }).map((n) => ({ how: 'deep block nesting', text: Array.from({ length: n }, (_, i) => `${' '.repeat(i)}k${i}:`).join('\n') })) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 200 }).map((t) => ({ how: 'random text', text: t })) },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }).map((v) => ({ how: 'random JSON (YAML is a superset)', text: JSON.stringify(v) ?? '' })) },
);

test('parseConfigText: mutated and hostile YAML gives a config or a ConfigError', async () => {
  await fuzzSync('config: parseConfigText(YAML)', yamlText, ({ how, text }) => {
    assertOutcome(() => parseConfigText(text, { baseDir: dir, env }), () => `${preview(how, 400)}: ${preview(text, 300)}`);
  }, {
    runs: 300,
    // Minimal counterexamples found by longer runs: each made the loader throw something else than a ConfigError.
    examples: [
      { how: 'alias bomb', text: 'a: &a [x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b, *b]' },
      { how: 'alias to an anchor that does not exist', text: 'x: *nope' },
      { how: 'YAML 1.1 merge key from a non-mapping', text: '%YAML 1.1\n---\n<<: *a' },
    ],
  });
});

test('loadConfig: arbitrary file contents (bytes, not only UTF-8) give a config or a ConfigError', async () => {
  const file = join(dir, 'deputy.yaml');
  const contents = fc.oneof(
    fc.uint8Array({ maxLength: 400 }).map((b) => Buffer.from(b)),
    fc.tuple(fc.constantFrom(BASE_YAML, EXAMPLE_YAML), fc.array(fc.record({ at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }), { minLength: 1, maxLength: 4 })).map(([t, sets]) => {
      const b = Buffer.from(t);
      for (const s of sets) b[s.at % b.length] = s.byte;
      return b;
    }),
    fc.constantFrom(Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from([0xff, 0xfe, 0x73, 0x00]), Buffer.alloc(0), Buffer.from('\0\0\0')),
  );
  await fuzzAsync('config: loadConfig(file bytes)', contents, async (bytes) => {
    writeFileSync(file, bytes);
    const started = performance.now();
    try {
      const config = await loadConfig(file, env);
      for (const s of config.secrets) s.close();
    } catch (error) {
      assert.ok(error instanceof ConfigError, `file bytes ${preview(bytes.toString('latin1'), 300)}: threw ${(error as Error)?.name}: ${(error as Error)?.message} instead of a ConfigError`);
      for (const issue of error.issues) assert.ok(issue.path.trim() !== '' || issue.message.trim() !== '', 'an issue with neither path nor message');
    }
    assert.ok(performance.now() - started < SLOW_MS, 'hang');
  }, { runs: 100 });
  for (const path of [join(dir, 'missing.yaml'), join(dir, 'a-directory')]) {
    await assert.rejects(loadConfig(path, env), ConfigError, `loadConfig(${path})`);
  }
});
