// JWKS behaviour (rotation, rate-limited refetch, outages) and RFC 7662 introspection of opaque
// tokens against the real authorization server.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as jose from 'jose';
import { startKeyIssuer } from '../support/key-issuer.ts';
import { waitFor } from '../support/ports.ts';
import { initializeMessage, mcpPost, startAs, startDeputy, startUpstream, userToken } from '../support/stack.ts';

const staticUp = (url: string, name = 'notes') => ({ name, type: 'mcp', url, credentials: { type: 'static', headers: { Authorization: { env: 'UP' } } } });
const env = { UP: 'Bearer service', INTROSPECT: 'deputy-introspect-secret' };
const call = async (url: string, token: string) => {
  const res = await mcpPost(url, initializeMessage(), { authorization: `Bearer ${token}` });
  return { status: res.status, body: await res.text(), challenge: res.headers.get('www-authenticate') };
};

test('JWKS: key rotation is picked up with one refetch; unknown-kid storms are rate-limited', async () => {
  const ki = await startKeyIssuer();
  const up = await startUpstream({ stateless: true });
  const deputy = await startDeputy(undefined, { issuers: [{ issuer: ki.issuer }], upstreams: [staticUp(up.url)], env });
  const url = `${deputy.url}/mcp/notes`;
  assert.equal((await call(url, await ki.sign({ aud: url }))).status, 200);
  const fetchesBefore = ki.jwksFetches;

  await ki.rotate(); // the IdP now signs with a new key and no longer publishes the old one
  assert.equal((await call(url, await ki.sign({ aud: url }))).status, 200);
  assert.equal(ki.jwksFetches, fetchesBefore + 1, 'exactly one refetch for the new kid');

  const stranger = (await jose.generateKeyPair('RS256')).privateKey;
  for (let i = 0; i < 20; i++) {
    const r = await call(url, await ki.sign({ aud: url }, { kid: `random-${i}`, key: stranger }));
    assert.equal(r.status, 401);
  }
  assert.equal(ki.jwksFetches, fetchesBefore + 1, 'unknown kids within the cooldown cause no refetch');
});

test('JWKS: an outage keeps serving with cached keys', async () => {
  const ki = await startKeyIssuer();
  const up = await startUpstream({ stateless: true });
  const deputy = await startDeputy(undefined, { issuers: [{ issuer: ki.issuer }], upstreams: [staticUp(up.url)], env });
  const url = `${deputy.url}/mcp/notes`;
  assert.equal((await call(url, await ki.sign({ aud: url, sub: 'first' }))).status, 200);
  ki.setAvailable(false);
  const r = await call(url, await ki.sign({ aud: url, sub: 'second' }));
  assert.equal(r.status, 200, r.body);
});

test('JWKS: no keys at all → 503 with a clear message, then recovery', async () => {
  const ki = await startKeyIssuer();
  ki.setAvailable(false);
  const up = await startUpstream({ stateless: true });
  const deputy = await startDeputy(undefined, { issuers: [{ issuer: ki.issuer, jwks_uri: ki.jwksUri }], upstreams: [staticUp(up.url)], env });
  const url = `${deputy.url}/mcp/notes`;
  const token = await ki.sign({ aud: url });
  const down = await call(url, token);
  assert.equal(down.status, 503);
  assert.match(JSON.parse(down.body).error_description, new RegExp(`cannot verify tokens of ${ki.issuer}: its signing keys are unavailable \\(GET ${ki.jwksUri}: HTTP 503\\)`));
  assert.ok(!down.body.includes(token));
  ki.setAvailable(true);
  // After a failed fetch the next one waits out a short cooldown (no fetch storm), then keys load.
  await waitFor(async () => (await call(url, token)).status === 200, 'recovery once the JWKS is back', 5000);
});

test('JWKS: jwks_uri discovered from issuer metadata', async () => {
  const ki = await startKeyIssuer();
  const up = await startUpstream({ stateless: true });
  const deputy = await startDeputy(undefined, { issuers: [{ issuer: ki.issuer }], upstreams: [staticUp(up.url)], env });
  const url = `${deputy.url}/mcp/notes`;
  assert.equal((await call(url, await ki.sign({ aud: url }))).status, 200);
  assert.ok(ki.jwksFetches >= 1);
});

test('RFC 9068 typ: at+jwt is enforced when configured', async () => {
  const ki = await startKeyIssuer();
  const up = await startUpstream({ stateless: true });
  const deputy = await startDeputy(undefined, { issuers: [{ issuer: ki.issuer, typ: 'at+jwt' }], upstreams: [staticUp(up.url)], env });
  const url = `${deputy.url}/mcp/notes`;
  assert.equal((await call(url, await ki.sign({ aud: url }))).status, 200);
  const idToken = await call(url, await ki.sign({ aud: url }, { typ: 'JWT' }));
  assert.equal(idToken.status, 401);
  assert.match(idToken.challenge!, /error_description="the access token's typ header must be at\+jwt"/);
});

test('several issuers at once: each token is checked against its own issuer keys', async () => {
  const a = await startKeyIssuer();
  const b = await startKeyIssuer();
  const up = await startUpstream({ stateless: true });
  const deputy = await startDeputy(undefined, { issuers: [{ issuer: a.issuer }, { issuer: b.issuer }], upstreams: [staticUp(up.url)], env });
  const url = `${deputy.url}/mcp/notes`;
  assert.equal((await call(url, await a.sign({ aud: url }))).status, 200);
  assert.equal((await call(url, await b.sign({ aud: url }))).status, 200);
  // B's token claiming to be from A, signed with B's key (same kid name) → rejected
  assert.equal((await call(url, await b.sign({ aud: url, iss: a.issuer }))).status, 401);
});

test('opaque tokens: RFC 7662 introspection with a cache bounded by exp', async () => {
  let opaqueBase = '';
  const as = await startAs({
    clients: [
      { client_id: 'test-client', client_secret: 'test-client-secret', grant_types: ['client_credentials', 'authorization_code'], redirect_uris: ['http://127.0.0.1/cb'], response_types: ['code'], scope: 'mcp:tools' },
      { client_id: 'deputy', client_secret: 'deputy-introspect-secret', grant_types: ['client_credentials'] },
    ],
    defaultResource: (r) => (r.startsWith(opaqueBase) ? { scope: 'mcp:tools', format: 'opaque', ttlSeconds: 300 } : r.startsWith('http://127.0.0.1:') ? { scope: 'mcp:tools', format: 'jwt' } : undefined),
  });
  const up = await startUpstream({ stateless: true });
  const deputy = await startDeputy(as, {
    issuers: [{ issuer: as.issuer, introspection: { endpoint: `${as.issuer}/token/introspection`, client_id: 'deputy', client_secret: { env: 'INTROSPECT' } } }],
    upstreams: [staticUp(up.url), staticUp(up.url, 'other')],
    env,
  });
  opaqueBase = deputy.url;
  const url = `${deputy.url}/mcp/notes`;
  const token = await userToken(as, url, { sub: 'carol' });
  assert.ok(!token.startsWith('eyJ'), 'an opaque token');
  const r1 = await call(url, token);
  assert.equal(r1.status, 200, r1.body);
  const n = deputy.verifier.stats.introspections;
  for (let i = 0; i < 5; i++) assert.equal((await call(url, token)).status, 200);
  assert.equal(deputy.verifier.stats.introspections, n, 'cached: no further introspection calls');

  const other = await call(`${deputy.url}/mcp/other`, token);
  assert.equal(other.status, 401, 'an opaque token for /mcp/notes is not accepted at /mcp/other');

  const revoked = await call(url, 'definitely-not-a-real-token');
  assert.equal(revoked.status, 401);
  assert.match(revoked.challenge!, /error_description="the access token is not active \(revoked, expired or unknown to the authorization server\)"/);

  const short = await userToken(as, url, { sub: 'dave', ttlSeconds: 1 });
  assert.equal((await call(url, short)).status, 200);
  await new Promise((r) => setTimeout(r, 2100));
  const expired = await call(url, short);
  assert.equal(expired.status, 401, 'the cache must not outlive the token');
});

test('introspection endpoint down → 503, not an accept', async () => {
  const as = await startAs();
  const up = await startUpstream({ stateless: true });
  const deputy = await startDeputy(as, {
    issuers: [{ issuer: as.issuer, introspection: { endpoint: 'http://127.0.0.1:9/introspect', client_id: 'deputy', client_secret: { env: 'INTROSPECT' } } }],
    upstreams: [staticUp(up.url)],
    env,
  });
  const r = await call(`${deputy.url}/mcp/notes`, 'some-opaque-token');
  assert.equal(r.status, 503);
  assert.match(JSON.parse(r.body).error_description, /token introspection at http:\/\/127.0.0.1:9\/introspect failed/);
});

test('JWKS: with no keys loaded yet, a burst of tokens makes one fetch, not one each (cooldown after a failure)', async () => {
  const ki = await startKeyIssuer();
  let jwksHits = 0;
  const { createServer } = await import('node:http');
  const broken = createServer((_req, res) => (jwksHits++, res.writeHead(503).end()));
  await new Promise<void>((r) => broken.listen(0, '127.0.0.1', () => r()));
  const jwksUri = `http://127.0.0.1:${(broken.address() as import('node:net').AddressInfo).port}/jwks`;
  const up = await startUpstream({ stateless: true });
  const deputy = await startDeputy(undefined, { issuers: [{ issuer: ki.issuer, jwks_uri: jwksUri }], upstreams: [staticUp(up.url)], env });
  const url = `${deputy.url}/mcp/notes`;
  const token = await ki.sign({ aud: url });
  const hitsAfterStart = jwksHits;
  const answers = await Promise.all(Array.from({ length: 200 }, () => call(url, token)));
  assert.ok(answers.every((a) => a.status === 503), `statuses: ${[...new Set(answers.map((a) => a.status))]}`);
  assert.ok(jwksHits - hitsAfterStart <= 1, `${jwksHits - hitsAfterStart} JWKS fetches for 200 requests`);
  broken.close();
  await deputy.close();
});

test('JWKS: after a key rotation, concurrent first tokens with the new kid all pass on one refetch', async () => {
  const ki = await startKeyIssuer();
  const up = await startUpstream({ stateless: true });
  const deputy = await startDeputy(undefined, { issuers: [{ issuer: ki.issuer }], upstreams: [staticUp(up.url)], env });
  const url = `${deputy.url}/mcp/notes`;
  assert.equal((await call(url, await ki.sign({ aud: url }))).status, 200);
  const before = ki.jwksFetches;
  await ki.rotate();
  const tokens = await Promise.all(Array.from({ length: 10 }, (_, i) => ki.sign({ aud: url, sub: `user-${i}` })));
  const statuses = await Promise.all(tokens.map(async (t) => (await call(url, t)).status));
  assert.deepEqual(statuses, Array(10).fill(200));
  assert.equal(ki.jwksFetches, before + 1);
});
