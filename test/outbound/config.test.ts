// Outbound credential configuration: every mistake names the exact key and the fix.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { exportJWK, exportPKCS8, generateKeyPair } from 'jose';
import { ConfigError } from '../../src/config/errors.ts';
import { parseConfig } from '../../src/config/schema.ts';
import { IdentitySigner } from '../../src/outbound/identity-assertion.ts';

const env = { SECRET: 's3cret' };
const exchange = { type: 'token_exchange', token_endpoint: 'https://idp.example.com/token', client_id: 'deputy', client_secret: { env: 'SECRET' }, audience: 'https://crm.internal' };

function config(credentials: unknown, extra: Record<string, unknown> = {}) {
  return parseConfig({
    auth: { issuers: [{ issuer: 'https://idp.example.com' }] },
    upstreams: [{ name: 'crm', type: 'mcp', url: 'http://127.0.0.1:9001/mcp', credentials }],
    ...extra,
  }, { baseDir: process.cwd(), env });
}

function issues(credentials: unknown, extra?: Record<string, unknown>): string[] {
  try {
    config(credentials, extra);
  } catch (error) {
    assert.ok(error instanceof ConfigError, String(error));
    return error.issues.map((i) => `${i.path}: ${i.message}`);
  }
  assert.fail('expected a ConfigError');
}

const table: [string, unknown, string][] = [
  ['token_exchange without audience, resource or scope', { ...exchange, audience: undefined },
    'upstreams[0].credentials.audience: needs at least one of audience, resource or scope so the exchanged token is bound to this upstream'],
  ['token_exchange without token endpoint or issuer', { ...exchange, token_endpoint: undefined },
    'upstreams[0].credentials.token_endpoint: give token_endpoint, or issuer to discover it from the authorization server metadata'],
  ['token_exchange with an unknown grant', { ...exchange, grant: 'obo' },
    'upstreams[0].credentials.grant: expected one of rfc8693, jwt_bearer_obo, got "obo"'],
  ['token_exchange without client_id', { ...exchange, client_id: undefined },
    "upstreams[0].credentials.client_id: is required (Deputy's own client id at the authorization server)"],
  ['token_exchange with a literal client secret', { ...exchange, client_secret: 's3cret' },
    'upstreams[0].credentials.client_secret: literal secrets are not allowed in the config file; use { env: NAME } or { file: PATH }'],
  ['token_exchange with a non-URL resource', { ...exchange, resource: 'crm' },
    'upstreams[0].credentials.resource: expected an absolute http(s) URL, got "crm"'],
  ['token_exchange timeout out of range', { ...exchange, timeout_ms: 5 },
    'upstreams[0].credentials.timeout_ms: must be between 100 and 120000, got 5'],
  ['token_exchange with a typo', { ...exchange, audiance: 'x' },
    'upstreams[0].credentials.audiance: unknown key (did you mean \'audience\'?)'],
  ['extra_params overriding a parameter Deputy sets', { ...exchange, extra_params: { subject_token: 'x' } },
    'upstreams[0].credentials.extra_params.subject_token: is set by Deputy; remove it'],
  ['extra_params carrying scope', { ...exchange, extra_params: { scope: 'a' } },
    'upstreams[0].credentials.extra_params.scope: is set by Deputy; use the scope key of these credentials instead'],
  ['client_credentials with both key and secret', { type: 'client_credentials', token_endpoint: 'https://idp.example.com/token', client_id: 'd', private_key: { env: 'SECRET' }, client_secret: { env: 'SECRET' } },
    'upstreams[0].credentials.client_secret: not used with client_auth: private_key_jwt; remove it'],
  ['identity assertion replacing Authorization', { type: 'client_credentials', token_endpoint: 'https://idp.example.com/token', client_id: 'd', client_secret: { env: 'SECRET' }, identity_assertion: { header: 'Authorization' } },
    'upstreams[0].credentials.identity_assertion.header: would replace a header Deputy manages; use e.g. X-Deputy-Identity'],
  ['identity assertion ttl too long', { type: 'client_credentials', token_endpoint: 'https://idp.example.com/token', client_id: 'd', client_secret: { env: 'SECRET' }, identity_assertion: { ttl_seconds: 86400 } },
    'upstreams[0].credentials.identity_assertion.ttl_seconds: must be between 5 and 3600, got 86400'],
];

for (const [name, credentials, expected] of table) {
  test(`config: ${name}`, () => {
    const got = issues(credentials);
    assert.ok(got.some((m) => m.startsWith(expected)), `expected ${JSON.stringify(expected)}\n got ${JSON.stringify(got, null, 1)}`);
  });
}

test('config: identity signing keys must be secret references and the algorithm asymmetric', () => {
  const cc = { type: 'client_credentials', token_endpoint: 'https://idp.example.com/token', client_id: 'd', client_secret: { env: 'SECRET' } };
  const got = issues(cc, { identity: { signing_keys: ['-----BEGIN PRIVATE KEY-----'], algorithm: 'HS256' } });
  assert.ok(got.includes('identity.signing_keys[0]: literal secrets are not allowed in the config file; use { env: NAME } or { file: PATH }'), got.join('\n'));
  assert.ok(got.some((m) => m.startsWith('identity.algorithm: expected one of RS256')), got.join('\n'));
});

test('config: token_exchange defaults (rfc8693, access_token types, expected audience from audience)', () => {
  const c = config(exchange).upstreams[0]!.credentials;
  assert.equal(c.type, 'token_exchange');
  if (c.type !== 'token_exchange') return;
  assert.equal(c.grant, 'rfc8693');
  assert.equal(c.subjectTokenType, 'urn:ietf:params:oauth:token-type:access_token');
  assert.equal(c.requestedTokenType, 'urn:ietf:params:oauth:token-type:access_token');
  assert.equal(c.timeoutMs, 10_000);
  assert.equal(c.client.method, 'client_secret_basic');
});

test('identity signer: PEM and JWK keys, first signs, all published without private parts', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'deputy-idsigner-'));
  const ec = await generateKeyPair('ES256', { extractable: true });
  const ed = await generateKeyPair('Ed25519', { extractable: true });
  writeFileSync(join(dir, 'ec.pem'), await exportPKCS8(ec.privateKey));
  writeFileSync(join(dir, 'ed.jwk'), JSON.stringify({ ...(await exportJWK(ed.privateKey)), kid: 'ed-1' }));
  const cfg = config({ type: 'static', headers: { 'X-Tenant': 'acme' }, identity_assertion: {} }, { identity: { signing_keys: [{ file: join(dir, 'ec.pem') }, { file: join(dir, 'ed.jwk') }] } });
  const signer = await IdentitySigner.create(cfg.identity);
  assert.equal(signer.ephemeral, false);
  const { keys } = await signer.jwks();
  assert.deepEqual(keys.map((k) => [k.kty, k.alg]), [['EC', 'ES256'], ['OKP', 'EdDSA']]);
  assert.equal(keys[1]!.kid, 'ed-1');
  assert.ok(keys.every((k) => !('d' in k)));
  const jwt = await signer.sign({ sub: 'x' }, 10);
  assert.equal(JSON.parse(Buffer.from(jwt.split('.')[0]!, 'base64url').toString()).kid, keys[0]!.kid);
  for (const s of cfg.secrets) s.close();
});

test('identity signer: an unusable key fails start-up with the key named', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'deputy-idsigner-'));
  writeFileSync(join(dir, 'bad.pem'), 'not a key');
  const cfg = config({ type: 'static', headers: { 'X-Tenant': 'acme' } }, { identity: { signing_keys: [{ file: join(dir, 'bad.pem') }] } });
  await assert.rejects(IdentitySigner.create(cfg.identity), /identity\.signing_keys\[0\] \(file:.*bad\.pem\): private key must be a PKCS#8 PEM/);
});
