import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { createRemoteJWKSet, decodeProtectedHeader, exportJWK, exportPKCS8, generateKeyPair, jwtVerify } from 'jose';
import { connectClient, startAs, startDeputy, startUpstream, userToken } from '../support/stack.ts';
import { assertCanaryNowhere, clients, DEPUTY_SECRET, deputyClient, lastUpstreamToken, post, sleep, tokenRequests, verifyAsToken } from './helpers.ts';

const CC = 'client_credentials';

const ccCredentials = (as: { issuer: string }, resource: string, extra: Record<string, unknown> = {}) => ({
  type: 'client_credentials',
  token_endpoint: `${as.issuer}/token`,
  client_id: 'deputy',
  client_secret: { env: 'DEPUTY_SECRET' },
  scope: 'notes:read',
  resource,
  ...extra,
});

async function privateKeyClient() {
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  const dir = mkdtempSync(join(tmpdir(), 'deputy-pkjwt-'));
  const keyFile = join(dir, 'deputy-client.pem');
  writeFileSync(keyFile, `${await exportPKCS8(privateKey)}\n`);
  const jwk = { ...(await exportJWK(publicKey)), kid: 'deputy-1', alg: 'ES256', use: 'sig' };
  return { keyFile, jwk };
}

for (const method of ['client_secret_basic', 'client_secret_post', 'private_key_jwt'] as const) {
  test(`client_credentials with ${method}: the upstream gets Deputy's service token for its own audience, cached across users`, async () => {
    const upstream = await startUpstream({ stateless: true });
    const pk = method === 'private_key_jwt' ? await privateKeyClient() : undefined;
    const client = pk
      ? deputyClient({ client_secret: undefined, token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [pk.jwk] } })
      : deputyClient({ token_endpoint_auth_method: method });
    const as = await startAs({ clients: clients(client) });
    const auth = pk ? { client_secret: undefined, private_key: { file: pk.keyFile }, key_id: 'deputy-1' } : { client_auth: method };
    const deputy = await startDeputy(as, { upstreams: [{ name: 'billing', type: 'mcp', url: upstream.url, credentials: ccCredentials(as, upstream.url, auth) }], env: { DEPUTY_SECRET } });
    const endpoint = `${deputy.url}/mcp/billing`;
    const before = tokenRequests(as, CC);

    const alice = await userToken(as, endpoint, { sub: 'alice' });
    const bob = await userToken(as, endpoint, { sub: 'bob' });
    const c = await connectClient(endpoint, alice);
    for (let i = 0; i < 5; i++) await c.callTool({ name: 'add', arguments: { a: i, b: i } });
    assert.equal((await post(endpoint, bob)).status, 200);
    assert.equal(tokenRequests(as, CC) - before, 1, 'one service token for every user and call');

    const service = lastUpstreamToken(upstream);
    const claims = await verifyAsToken(as, service);
    assert.equal(claims.client_id, 'deputy');
    assert.deepEqual([claims.aud].flat(), [upstream.url]);
    assert.equal(claims.scope, 'notes:read');
    for (const rec of upstream.requests) assert.equal(rec.headers.authorization, `Bearer ${service}`);
    await assertCanaryNowhere(alice, { upstreams: [upstream], deputy });
    await assertCanaryNowhere(bob, { upstreams: [upstream], deputy });
    await deputy.audit.flush();
    assert.ok((await deputy.audit.query({})).some((e) => e.subject === 'alice' && e.target === 'add' && e.credentialMode === 'client_credentials' && e.outcome === 'ok'));
  });
}

test('client_credentials refreshes the service token shortly before it expires; concurrent first calls make one request', async () => {
  const upstream = await startUpstream({ stateless: true });
  const as = await startAs({ clients: clients(deputyClient()), resources: { [upstream.url]: { scope: 'notes:read', ttlSeconds: 2 } } });
  const deputy = await startDeputy(as, { upstreams: [{ name: 'billing', type: 'mcp', url: upstream.url, credentials: ccCredentials(as, upstream.url) }], env: { DEPUTY_SECRET } });
  const endpoint = `${deputy.url}/mcp/billing`;
  const before = tokenRequests(as, CC);
  const tokens = await Promise.all(['u1', 'u2', 'u3', 'u4', 'u5'].map((sub) => userToken(as, endpoint, { sub })));
  const results = await Promise.all(Array.from({ length: 50 }, (_, i) => post(endpoint, tokens[i % 5]!, i)));
  assert.deepEqual(results.map((r) => r.status), Array(50).fill(200));
  const concurrent = tokenRequests(as, CC) - before;
  assert.equal(concurrent, 1);
  const first = lastUpstreamToken(upstream);

  await sleep(1800); // 2 s token: refreshed after 80% of its lifetime
  assert.equal((await post(endpoint, tokens[0]!)).status, 200);
  const afterRefresh = tokenRequests(as, CC) - before;
  assert.equal(afterRefresh, 2);
  assert.notEqual(lastUpstreamToken(upstream), first);
  console.log(`client_credentials requests: 50 concurrent first calls by 5 users → ${concurrent}; after 80% of a 2 s lifetime → ${afterRefresh}`);
});

test('client_credentials with a wrong client secret: invalid_client named in the error, no secret in it, Deputy up, audited', async () => {
  const upstream = await startUpstream({ stateless: true });
  const as = await startAs({ clients: clients(deputyClient()) });
  const deputy = await startDeputy(as, { upstreams: [{ name: 'billing', type: 'mcp', url: upstream.url, credentials: ccCredentials(as, upstream.url) }], env: { DEPUTY_SECRET: 'not-the-secret-42' } });
  const endpoint = `${deputy.url}/mcp/billing`;
  const token = await userToken(as, endpoint);
  const r = await post(endpoint, token);
  assert.equal(r.status, 502);
  const { error } = JSON.parse(r.body);
  assert.equal(error.code, -32011);
  assert.match(error.message, /^could not obtain a credential for upstream 'billing': .*invalid_client/);
  assert.ok(!r.body.includes('not-the-secret-42'));
  assert.equal(upstream.requests.length, 0);
  assert.equal((await fetch(`${deputy.url}/healthz`)).status, 200);
  await deputy.audit.flush();
  const ev = (await deputy.audit.query({})).find((e) => e.outcome === 'credential_error');
  assert.ok(ev && ev.credentialMode === 'client_credentials' && /invalid_client/.test(ev.detail ?? ''));
  await assertCanaryNowhere(token, { upstreams: [upstream], deputy, bodies: [r.body] });
});

test('identity assertion: the upstream gets the service token and a Deputy-signed JWT naming the user, verifiable with Deputy\'s JWKS', async () => {
  const upstream = await startUpstream({ stateless: true });
  const as = await startAs({ clients: clients(deputyClient()) });
  const deputy = await startDeputy(as, {
    upstreams: [{ name: 'billing', type: 'mcp', url: upstream.url, credentials: ccCredentials(as, upstream.url, { identity_assertion: { ttl_seconds: 30 } }) }],
    env: { DEPUTY_SECRET },
  });
  assert.ok(deputy.config.warnings.some((w) => w.path === 'identity.signing_keys' && /ephemeral/.test(w.message)), 'ephemeral key is warned about');
  const endpoint = `${deputy.url}/mcp/billing`;
  const token = await userToken(as, endpoint, { sub: 'alice', scope: 'mcp:tools' });
  assert.equal((await post(endpoint, token)).status, 200);

  const rec = upstream.requests.at(-1)!;
  const service = await verifyAsToken(as, lastUpstreamToken(upstream));
  assert.equal(service.client_id, 'deputy');
  const assertion = rec.headers['x-deputy-identity'];
  assert.equal(typeof assertion, 'string');
  const { payload, protectedHeader } = await jwtVerify(assertion as string, createRemoteJWKSet(new URL(`${deputy.url}/.well-known/jwks.json`)), {
    issuer: deputy.url, audience: upstream.url, typ: 'deputy-identity+jwt', algorithms: ['ES256'],
  });
  assert.equal(payload.sub, 'alice');
  assert.equal(payload.user_iss, as.issuer);
  assert.equal(payload.client_id, 'test-client');
  assert.equal(payload.scope, 'mcp:tools');
  assert.equal(payload.exp! - payload.iat!, 30);
  assert.ok(payload.jti);
  assert.ok(protectedHeader.kid);
  await assertCanaryNowhere(token, { upstreams: [upstream], deputy });
});

test('identity assertion with configured keys: the first key signs, every key is published (rotation); works for static too', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'deputy-idkeys-'));
  const files: string[] = [];
  for (const alg of ['ES256', 'RS256'] as const) {
    const { privateKey } = await generateKeyPair(alg, { extractable: true });
    const f = join(dir, `${alg}.pem`);
    writeFileSync(f, await exportPKCS8(privateKey));
    files.push(f);
  }
  const upstream = await startUpstream({ stateless: true });
  const as = await startAs();
  const { parseConfig } = await import('../../src/config/schema.ts');
  const { startGateway } = await import('../../src/gateway.ts');
  const config = parseConfig({
    server: { host: '127.0.0.1', port: 0 },
    auth: { issuers: [{ issuer: as.issuer }] },
    identity: { signing_keys: files.map((file) => ({ file })) },
    upstreams: [{ name: 'legacy', type: 'mcp', url: upstream.url, credentials: { type: 'static', headers: { Authorization: { env: 'LEGACY' } }, identity_assertion: { header: 'X-User-Assertion' } } }],
    audit: { store: 'sqlite::memory:' },
  }, { baseDir: process.cwd(), env: { LEGACY: 'Bearer legacy-service' } });
  assert.ok(!config.warnings.some((w) => w.path === 'identity.signing_keys'));
  const deputy = await startGateway(config);
  try {
    const jwks = await (await fetch(`${deputy.url}/.well-known/jwks.json`)).json() as { keys: { kty: string; kid: string; alg: string; d?: string }[] };
    assert.deepEqual(jwks.keys.map((k) => [k.kty, k.alg]), [['EC', 'ES256'], ['RSA', 'RS256']]);
    assert.ok(jwks.keys.every((k) => k.kid && k.d === undefined), 'public keys only, each with a kid');
    const endpoint = `${deputy.url}/mcp/legacy`;
    const token = await userToken(as, endpoint, { sub: 'zoe' });
    assert.equal((await post(endpoint, token)).status, 200);
    const rec = upstream.requests.at(-1)!;
    assert.equal(rec.headers.authorization, 'Bearer legacy-service');
    const assertion = rec.headers['x-user-assertion'] as string;
    assert.equal(decodeProtectedHeader(assertion).kid, jwks.keys[0]!.kid);
    const { payload } = await jwtVerify(assertion, createRemoteJWKSet(new URL(`${deputy.url}/.well-known/jwks.json`)), { issuer: deputy.url, audience: upstream.url });
    assert.equal(payload.sub, 'zoe');
    await deputy.audit.flush();
    assert.ok((await deputy.audit.query({})).some((e) => e.credentialMode === 'static' && e.subject === 'zoe' && e.outcome === 'ok'));
    await assertCanaryNowhere(token, { upstreams: [upstream], deputy });
  } finally {
    await deputy.close();
  }
});
