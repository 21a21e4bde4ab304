// Bad configs and the exact error each gives: the key path and how to fix it.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ConfigError } from '../../src/config/errors.ts';
import { parseConfigText } from '../../src/config/load.ts';
import { parseConfig } from '../../src/config/schema.ts';

const dir = mkdtempSync(join(tmpdir(), 'deputy-config-'));
writeFileSync(join(dir, 'secret.txt'), 'file-secret\n');
const env = { NOTES_AUTH: 'Bearer x', SECRET: 's' };
const issuer = { issuer: 'https://idp.example.com' };
const upstream = { name: 'notes', type: 'mcp', url: 'http://127.0.0.1:9001/mcp', credentials: { type: 'static', headers: { Authorization: { env: 'NOTES_AUTH' } } } };
const base = () => ({ auth: { issuers: [issuer] }, upstreams: [upstream] });

function issues(raw: unknown): string[] {
  try {
    parseConfig(raw, { baseDir: dir, env });
  } catch (error) {
    assert.ok(error instanceof ConfigError, String(error));
    return error.issues.map((i) => `${i.path}: ${i.message}`);
  }
  assert.fail('expected a ConfigError');
}

const table: [string, unknown, string][] = [
  ['unknown credential type', { ...base(), upstreams: [upstream, { ...upstream, name: 'crm', credentials: { type: 'magic' } }] },
    'upstreams[1].credentials.type: expected one of static, client_credentials, token_exchange, user_oauth, id_jag, passthrough, got "magic"'],
  ['missing env var', { ...base(), upstreams: [{ ...upstream, credentials: { type: 'static', headers: { Authorization: { env: 'NOPE_NOT_SET' } } } }] },
    'upstreams[0].credentials.headers.Authorization: environment variable NOPE_NOT_SET is not set; export it or use { file: PATH }'],
  ['missing secret file', { ...base(), upstreams: [{ ...upstream, credentials: { type: 'static', headers: { Authorization: { file: 'missing.txt' } } } }] },
    `upstreams[0].credentials.headers.Authorization: secret file ${join(dir, 'missing.txt')} cannot be read (no such file)`],
  ['literal secret in a credential header', { ...base(), upstreams: [{ ...upstream, credentials: { type: 'static', headers: { Authorization: 'Bearer abc' } } }] },
    'upstreams[0].credentials.headers.Authorization: literal secrets are not allowed in the config file; use { env: NAME } or { file: PATH }'],
  ['literal client secret', { ...base(), upstreams: [{ ...upstream, credentials: { type: 'client_credentials', token_endpoint: 'https://idp.example.com/token', client_id: 'd', client_secret: 'abc' } }] },
    'upstreams[0].credentials.client_secret: literal secrets are not allowed in the config file; use { env: NAME } or { file: PATH }'],
  ['passthrough without acknowledgement', { ...base(), upstreams: [{ ...upstream, credentials: { type: 'passthrough' } }] },
    "upstreams[0].credentials.acknowledge_spec_violation: passthrough forwards the client's token to the upstream, which the MCP specification forbids (MUST NOT: it makes Deputy a confused deputy and breaks audience binding). Prefer token_exchange (keeps the user's identity), client_credentials (service account, optionally with identity_assertion) or static. If you accept the risk, set acknowledge_spec_violation: true"],
  ['typo in a key', { ...base(), server: { prot: 8080 } },
    "server.prot: unknown key (did you mean 'port'?); allowed here: host, port, public_url, allowed_origins, max_body_bytes…"],
  ['HS256 allowed for an issuer', { ...base(), auth: { issuers: [{ ...issuer, algorithms: ['RS256', 'HS256'] }] } },
    'auth.issuers[0].algorithms[1]: "HS256" is not allowed (HMAC algorithms would let anyone holding the public key forge tokens); use one of RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384, ES512, EdDSA, Ed25519'],
  ['alg none', { ...base(), auth: { issuers: [{ ...issuer, algorithms: ['none'] }] } },
    'auth.issuers[0].algorithms[0]: "none" is not allowed (unsigned tokens are never accepted); use one of RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384, ES512, EdDSA, Ed25519'],
  ['no issuers', { ...base(), auth: { issuers: [] } },
    'auth.issuers: needs at least one issuer (the authorization server whose tokens Deputy accepts)'],
  ['missing auth', { upstreams: [upstream] }, 'auth: is required (a mapping)'],
  ['issuer not a URL', { ...base(), auth: { issuers: [{ issuer: 'idp' }] } }, 'auth.issuers[0].issuer: expected an absolute http(s) URL, got "idp"'],
  ['bad upstream name', { ...base(), upstreams: [{ ...upstream, name: 'no/slash' }] },
    'upstreams[0].name: must match [A-Za-z0-9][A-Za-z0-9_-]{0,31} (it becomes a URL path segment and a tool-name prefix)'],
  ['duplicate upstream', { ...base(), upstreams: [upstream, upstream] }, "upstreams[1].name: duplicate upstream name 'notes'"],
  ['port out of range', { ...base(), server: { port: 70000 } }, 'server.port: must be between 0 and 65535, got 70000'],
  ['port not a number', { ...base(), server: { port: '80' } }, 'server.port: expected an integer, got "80"'],
  ['mcp upstream without url', { ...base(), upstreams: [{ name: 'x', type: 'mcp', credentials: upstream.credentials }] },
    'upstreams[0].url: is required (the upstream MCP endpoint, e.g. http://127.0.0.1:9001/mcp)'],
  ['token_exchange without a target', { ...base(), upstreams: [{ ...upstream, credentials: { type: 'token_exchange', token_endpoint: 'https://idp.example.com/token', client_id: 'd', client_secret: { env: 'SECRET' } } }] },
    'upstreams[0].credentials.audience: needs at least one of audience, resource or scope so the exchanged token is bound to this upstream'],
  ['client_credentials without endpoint', { ...base(), upstreams: [{ ...upstream, credentials: { type: 'client_credentials', client_id: 'd', client_secret: { env: 'SECRET' } } }] },
    'upstreams[0].credentials.token_endpoint: give token_endpoint, or issuer to discover it from the authorization server metadata'],
  ['Host header in static credentials', { ...base(), upstreams: [{ ...upstream, credentials: { type: 'static', headers: { Host: 'evil' } } }] },
    'upstreams[0].credentials.headers.Host: is managed by Deputy and cannot be set here'],
  ['bad audit store', { ...base(), audit: { store: 'mysql://x' } }, 'audit.store: expected sqlite:PATH, postgres://…, stdout or none'],
  ['secret ref with both env and file', { ...base(), upstreams: [{ ...upstream, credentials: { type: 'static', headers: { Authorization: { env: 'SECRET', file: 'secret.txt' } } } }] },
    'upstreams[0].credentials.headers.Authorization: give either env or file, not both'],
  ['request timeout shorter than the headers timeout', { ...base(), server: { headers_timeout_ms: 5000, request_timeout_ms: 1000 } },
    'server.request_timeout_ms: must be at least headers_timeout_ms (5000): the whole request includes its headers'],
  ['a typo in limits', { ...base(), limits: { max_sesions: 3 } },
    "limits.max_sesions: unknown key (did you mean 'max_sessions'?); allowed here: max_in_flight, max_queued, queue_timeout_ms, max_streams_per_principal, session_idle_ms, max_sessions_per_principal, max_sessions"],
  ['a rate with an unknown unit', { ...base(), quotas: { per_user: '10/fortnight' } },
    'quotas.per_user: expected a rate such as "120/min" (units: s, min, h, day), or { rate: "120/min", burst: 20 }'],
  ['shared quotas without shared state', { ...base(), quotas: { shared: true } },
    'quotas.shared: needs shared state: set state.store to redis://host:port (or set quotas.shared: false for per-replica buckets)'],
  ['user_oauth without a vault', { ...base(), upstreams: [{ ...upstream, credentials: { type: 'user_oauth', issuer: 'https://auth.tracker.example', client_id: 'deputy', client_secret: { env: 'SECRET' } } }], login: { issuer: issuer.issuer, client_id: 'deputy-web', client_secret: { env: 'SECRET' } } },
    "vault: upstream 'notes' uses user_oauth: add vault: { store: sqlite:./deputy-vault.db, keys: [{ id: k1, secret: { env: DEPUTY_VAULT_KEY } }] } to hold the users' tokens encrypted"],
  ['user_oauth with a secret but no client_id', { ...base(), upstreams: [{ ...upstream, credentials: { type: 'user_oauth', client_secret: { env: 'SECRET' } } }] },
    "upstreams[0].credentials.client_secret: needs client_id (the client it belongs to); or remove it to let Deputy use its Client ID Metadata Document or register itself (RFC 7591) at the authorization server"],
  ['a short vault key', { ...base(), vault: { keys: [{ id: 'k1', secret: { env: 'SECRET' } }] } },
    'vault.keys[0].secret: must be at least 32 characters of random data (e.g. openssl rand -base64 48)'],
  ['a login IdP that does not issue the MCP tokens', { ...base(), login: { issuer: 'https://other.example.com', client_id: 'deputy-web', client_secret: { env: 'SECRET' } } },
    'login.issuer: must be one of auth.issuers (https://idp.example.com): the person who signs in must be the user the MCP token names'],
  ['a login client with a key and a secret', { ...base(), login: { issuer: 'https://idp.example.com', client_id: 'deputy-web', client_auth: 'private_key_jwt', private_key: { env: 'SECRET' }, client_secret: { env: 'SECRET' } } },
    'login.client_secret: not used with client_auth: private_key_jwt; remove it'],
  ['id_jag without the upstream token endpoint', { ...base(), upstreams: [{ ...upstream, credentials: { type: 'id_jag', idp_token_endpoint: 'https://idp.example.com/token', audience: 'https://auth.search.example', client_id: 'deputy', client_secret: { env: 'SECRET' } } }] },
    "upstreams[0].credentials.token_endpoint: is required (the upstream authorization server's token endpoint (RFC 7523 jwt-bearer there))"],
  ['an admin console open to anyone signed in', { ...base(), admin: { enabled: true } },
    'admin.claims: is required with enabled: true: the ID-token claims an admin must have, e.g. claims: { groups: [deputy-admins] }'],
  ['audit export without a store that keeps the chain', { ...base(), audit: { store: 'stdout', export: [{ sink: 'file', path: '-' }] } },
    'audit.export: needs audit.store sqlite:PATH or postgres://…: the exporters read the stored chain (it is also their spool)'],
  ['an otlp audit export without an endpoint', { ...base(), audit: { store: 'sqlite:./audit.db', export: [{ sink: 'otlp' }] } },
    "audit.export[0].endpoint: is required (the collector's OTLP/HTTP logs endpoint, e.g. http://collector:4318/v1/logs)"],
  ['an otlp endpoint written as host:port (the gRPC form)', { ...base(), audit: { store: 'sqlite:./audit.db', export: [{ sink: 'otlp', endpoint: 'collector:4317' }] } },
    'audit.export[0].endpoint: expected an absolute http(s) URL, got "collector:4317": Deputy sends OTLP/HTTP with JSON (not gRPC), e.g. http://collector:4318/v1/logs'],
  ['an otlp endpoint without the /v1/logs path', { ...base(), audit: { store: 'sqlite:./audit.db', export: [{ sink: 'otlp', endpoint: 'https://otel.example.com:4318' }] } },
    'audit.export[0].endpoint: has no path: Deputy POSTs to the endpoint as given and does not add /v1/logs; use https://otel.example.com:4318/v1/logs'],
  ['an otlp endpoint with credentials in it', { ...base(), audit: { store: 'sqlite:./audit.db', export: [{ sink: 'otlp', endpoint: 'https://user:pw@otel.example.com/v1/logs' }] } },
    'audit.export[0].endpoint: must not carry credentials (they would not be sent); use headers, e.g. headers: { Authorization: { env: OTLP_TOKEN } }'],
  ['a literal secret in an otlp header', { ...base(), audit: { store: 'sqlite:./audit.db', export: [{ sink: 'otlp', endpoint: 'https://otel.example.com/v1/logs', headers: { Authorization: 'Bearer abc' } }] } },
    'audit.export[0].headers.Authorization: literal secrets are not allowed in the config file; use { env: NAME } or { file: PATH }'],
  ['a zero burst on a tool quota', { ...base(), upstreams: [{ ...upstream, quotas: { tools: { add: { rate: '5/min', burst: 0 } } } }] },
    'upstreams[0].quotas.tools.add.burst: must be between 1 and 1000000, got 0'],
];

for (const [name, raw, expected] of table) {
  test(`config error: ${name}`, () => {
    // A trailing … means "starts with" (lists of allowed keys grow as features are added).
    const found = expected.endsWith('…') ? issues(raw).some((i) => i.startsWith(expected.slice(0, -1))) : issues(raw).includes(expected);
    assert.ok(found, `expected:\n  ${expected}\ngot:\n  ${issues(raw).join('\n  ')}`);
  });
}

test('all problems are reported at once', () => {
  const all = issues({ server: { port: -1, prot: 1 }, auth: { issuers: [{ issuer: 'x' }] }, upstreams: [{ name: 'a', type: 'grpc' }] });
  assert.ok(all.length >= 4, all.join('\n'));
});

test('YAML syntax errors are reported with a position', () => {
  assert.throws(() => parseConfigText('server:\n  port: [1,\n', { baseDir: dir }), (e: ConfigError) => e instanceof ConfigError && /YAML syntax/.test(e.issues[0]!.message));
});

test('a valid config loads: secrets from env and files, defaults, passthrough warning', () => {
  const cfg = parseConfig({
    server: { public_url: 'https://mcp.example.com/' },
    auth: { issuers: [issuer], required_scopes: 'mcp:tools mcp:read' },
    upstreams: [
      upstream,
      { name: 'files', type: 'mcp', url: 'https://files.internal/mcp', credentials: { type: 'static', headers: { 'X-Api-Key': { file: 'secret.txt' }, 'X-Tenant': 'acme' } } },
      { name: 'legacy', type: 'mcp', url: 'https://legacy.internal/mcp', credentials: { type: 'passthrough', acknowledge_spec_violation: true } },
    ],
  }, { baseDir: dir, env });
  assert.equal(cfg.server.publicUrl, 'https://mcp.example.com');
  assert.deepEqual(cfg.auth.requiredScopes, ['mcp:tools', 'mcp:read']);
  assert.deepEqual(cfg.auth.issuers[0]!.algorithms, ['RS256', 'PS256', 'ES256', 'EdDSA']);
  const files = cfg.upstreams[1]!.credentials;
  assert.equal(files.type === 'static' && files.headers['X-Api-Key']!.value(), 'file-secret');
  assert.equal(String(files.type === 'static' && files.headers['X-Api-Key']), '[secret file:' + join(dir, 'secret.txt') + ']');
  assert.ok(cfg.warnings.some((w) => /upstream 'legacy' uses token passthrough/.test(w.message)));
  for (const s of cfg.secrets) s.close();
});

test('user_oauth without client_id is valid: Deputy uses its Client ID Metadata Document or registers itself', () => {
  const cfg = parseConfig({
    auth: { issuers: [issuer] },
    upstreams: [{ name: 'tracker', type: 'mcp', url: 'https://tracker.example.com/mcp', credentials: { type: 'user_oauth', issuer: 'https://auth.tracker.example.com', scopes: ['issues:read'] } }],
    vault: { store: 'sqlite::memory:', keys: [{ id: 'k1', secret: { env: 'VAULT_KEY' } }] },
    login: { issuer: issuer.issuer, client_id: 'deputy-web', client_secret: { env: 'SECRET' } },
  }, { baseDir: dir, env: { ...env, VAULT_KEY: 'a-vault-key-of-at-least-thirty-two-characters' } });
  const c = cfg.upstreams[0]!.credentials;
  assert.equal(c.type === 'user_oauth' && c.client, undefined);
  for (const s of cfg.secrets) s.close();
});
