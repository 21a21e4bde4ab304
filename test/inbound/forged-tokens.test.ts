// The forged-token battery: every bad token gets the exact status and RFC 6750 challenge, never a
// crash and never an accept. Tokens are signed with keys the test controls (test/support/key-issuer.ts).
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import * as jose from 'jose';
import type { Gateway } from '../../src/gateway.ts';
import { startKeyIssuer, type KeyIssuer } from '../support/key-issuer.ts';
import { initializeMessage, logLines, mcpPost, startDeputy, startUpstream } from '../support/stack.ts';

let ki: KeyIssuer;
let deputy: Gateway;
let endpoint: string;
let metadata: string;

before(async () => {
  ki = await startKeyIssuer();
  const upstream = await startUpstream();
  deputy = await startDeputy(undefined, {
    issuers: [{ issuer: ki.issuer, algorithms: ['RS256', 'ES256'] }],
    auth: { required_scopes: ['mcp:tools'] },
    upstreams: [
      { name: 'notes', type: 'mcp', url: upstream.url, credentials: { type: 'static', headers: { Authorization: { env: 'UP' } } } },
      { name: 'other', type: 'mcp', url: upstream.url, credentials: { type: 'static', headers: { Authorization: { env: 'UP' } } } },
    ],
    env: { UP: 'Bearer service' },
  });
  endpoint = `${deputy.url}/mcp/notes`;
  metadata = `${deputy.url}/.well-known/oauth-protected-resource/mcp/notes`;
});

const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
const now = () => Math.floor(Date.now() / 1000);
const invalid = (description: string) => `Bearer error="invalid_token", error_description="${description}", resource_metadata="${metadata}", scope="mcp:tools"`;

async function attempt(authorization: string | undefined, url = endpoint) {
  const res = await mcpPost(url, initializeMessage(), authorization === undefined ? {} : { authorization });
  const body = await res.text();
  return { status: res.status, challenge: res.headers.get('www-authenticate'), body };
}

test('a valid token passes (control case)', async () => {
  const r = await attempt(`Bearer ${await ki.sign({ aud: endpoint })}`);
  assert.equal(r.status, 200, r.body);
});

test('no token: 401 with a challenge that has no error code', async () => {
  const r = await attempt(undefined);
  assert.equal(r.status, 401);
  assert.equal(r.challenge, `Bearer resource_metadata="${metadata}", scope="mcp:tools"`);
});

test('another auth scheme counts as no bearer token', async () => {
  const r = await attempt('Basic dXNlcjpwYXNz');
  assert.equal(r.status, 401);
  assert.equal(r.challenge, `Bearer resource_metadata="${metadata}", scope="mcp:tools"`);
});

const cases: [string, () => Promise<string>, number, () => string | null][] = [
  ['alg none', async () => `${b64({ alg: 'none', typ: 'at+jwt' })}.${b64({ iss: ki.issuer, aud: endpoint, sub: 'mallory', exp: now() + 300, scope: 'mcp:tools' })}.`, 401,
    () => invalid("the access token's signing algorithm is not allowed (accepted: RS256, ES256)")],
  ['HS256 signed with the RSA public key (algorithm confusion)', async () => {
    const pem = await jose.exportSPKI((await jose.importJWK(await ki.rsaPublicJwk(), 'RS256')) as CryptoKey);
    return new jose.SignJWT({ iss: ki.issuer, aud: endpoint, sub: 'mallory', scope: 'mcp:tools' }).setProtectedHeader({ alg: 'HS256', kid: 'rsa-1', typ: 'at+jwt' }).setExpirationTime('5m').sign(new TextEncoder().encode(pem));
  }, 401, () => invalid("the access token's signing algorithm is not allowed (accepted: RS256, ES256)")],
  ['unknown kid', async () => ki.sign({ aud: endpoint }, { kid: 'nope', key: (await jose.generateKeyPair('RS256')).privateKey }), 401,
    () => invalid("no key in the issuer's key set matches the token's kid")],
  ['known kid, foreign key', async () => ki.sign({ aud: endpoint }, { kid: 'rsa-1', key: (await jose.generateKeyPair('RS256')).privateKey }), 401,
    () => invalid('the access token signature is invalid')],
  ['wrong issuer', async () => ki.sign({ aud: endpoint, iss: 'https://evil.example' }), 401,
    () => invalid('tokens issued by https://evil.example are not accepted here')],
  ['issuer differing only by a trailing slash', async () => ki.sign({ aud: endpoint, iss: `${ki.issuer}/` }), 401,
    () => invalid(`tokens issued by ${ki.issuer}/ are not accepted here`)],
  ['wrong audience (a token for another API)', async () => ki.sign({ aud: 'https://api.other.example' }), 401,
    () => invalid(`the access token was not issued for this resource (its audience must include ${endpoint})`)],
  ['audience of another Deputy endpoint', async () => ki.sign({ aud: `${deputy.url}/mcp/other` }), 401,
    () => invalid(`the access token was not issued for this resource (its audience must include ${endpoint})`)],
  ['no audience at all', async () => ki.sign({}), 401,
    () => invalid(`the access token was not issued for this resource (its audience must include ${endpoint})`)],
  ['expired', async () => ki.sign({ aud: endpoint, exp: now() - 120 }), 401, () => invalid('the access token has expired')],
  ['not yet valid', async () => ki.sign({ aud: endpoint, nbf: now() + 600 }), 401, () => invalid('the access token is not yet valid')],
  ['no exp claim', async () => ki.sign({ aud: endpoint, exp: undefined }), 401, () => invalid('the access token has no expiry (exp)')],
  ['tampered payload (scope escalation)', async () => {
    const [h, p, s] = (await ki.sign({ aud: endpoint, scope: 'read' })).split('.');
    const claims = JSON.parse(Buffer.from(p!, 'base64url').toString());
    return `${h}.${b64({ ...claims, scope: 'mcp:tools admin' })}.${s}`;
  }, 401, () => invalid('the access token signature is invalid')],
  ['garbage', async () => 'not-a-jwt-at-all', 401, () => invalid('the access token is not a JWT and no introspection endpoint is configured for opaque tokens')],
  ['garbage base64 in a JWT shape', async () => 'eyJ!!!.###.$$$', 401, () => invalid('the access token contains characters not allowed in a bearer token')],
  ['three segments of junk', async () => 'eyJhbGciOi.bm9wZQ.c2ln', 401, () => invalid('the access token is not a well-formed JWT')],
  ['20 KB token', async () => `eyJ${'A'.repeat(20_000)}`, 401, () => invalid('the access token is longer than 16384 bytes')],
  ['100 KB token (beyond the header limit)', async () => `eyJ${'A'.repeat(100_000)}`, 431, () => null],
];

for (const [name, make, status, challenge] of cases) {
  test(`forged: ${name} → ${status}`, async () => {
    const token = await make();
    const r = await attempt(`Bearer ${token}`);
    assert.equal(r.status, status, r.body);
    assert.equal(r.challenge, challenge());
    if (token.length < 10_000) {
      assert.ok(!r.body.includes(token), 'the token must not be echoed in the error body');
      assert.ok(!logLines.join('\n').includes(token), 'the token must not be logged');
    }
  });
}

test('empty bearer → 400 invalid_request', async () => {
  const r = await attempt('Bearer ');
  assert.equal(r.status, 400);
  assert.equal(r.challenge, `Bearer error="invalid_request", error_description="the Authorization header has the Bearer scheme but no token", resource_metadata="${metadata}", scope="mcp:tools"`);
});

test('a token in the query string is refused even alongside a valid header', async () => {
  const token = await ki.sign({ aud: endpoint });
  const r = await attempt(`Bearer ${token}`, `${endpoint}?access_token=${token}`);
  assert.equal(r.status, 400);
  assert.match(r.challenge!, /^Bearer error="invalid_request", error_description="access tokens in the query string are not accepted/);
});

test('missing scope → 403 insufficient_scope naming the scope to request', async () => {
  const r = await attempt(`Bearer ${await ki.sign({ aud: endpoint, scope: 'profile' })}`);
  assert.equal(r.status, 403);
  assert.equal(r.challenge, `Bearer error="insufficient_scope", error_description="this request needs the scope mcp:tools", resource_metadata="${metadata}", scope="mcp:tools"`);
});

test('a token for the gateway as a whole (aud = public base URL) is accepted at every endpoint', async () => {
  const r = await attempt(`Bearer ${await ki.sign({ aud: [deputy.url] })}`);
  assert.equal(r.status, 200, r.body);
});

test('every rejected attempt is audited without the token', async () => {
  await deputy.audit.flush();
  const events = await deputy.audit.query({ limit: 1000 });
  assert.ok(events.filter((e) => e.outcome === 'unauthenticated').length >= 10);
  const text = JSON.stringify(events);
  assert.ok(!/eyJ[\w-]{20,}\.[\w-]{20,}/.test(text), 'no JWT-looking string in audit rows');
});
