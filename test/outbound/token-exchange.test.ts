import { decodeJwt } from 'jose';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { after, test } from 'node:test';
import { connectClient, startAs, startDeputy, startUpstream, userToken } from '../support/stack.ts';
import { assertCanaryNowhere, clients, DEPUTY_SECRET, deputyClient, JWT_BEARER_GRANT, lastUpstreamToken, post, sleep, TOKEN_EXCHANGE_GRANT, tokenRequests, verifyAsToken } from './helpers.ts';

const exchangeCredentials = (as: { issuer: string }, audience: string, extra: Record<string, unknown> = {}) => ({
  type: 'token_exchange',
  token_endpoint: `${as.issuer}/token`,
  client_id: 'deputy',
  client_secret: { env: 'DEPUTY_SECRET' },
  audience,
  scope: 'notes:read',
  ...extra,
});

async function stack(opts: { credentials?: (as: { issuer: string }, upstreamUrl: string) => Record<string, unknown>; asOptions?: Parameters<typeof startAs>[0] } = {}) {
  const as = await startAs({ clients: clients(deputyClient()), ...opts.asOptions });
  const upstream = await startUpstream({ stateless: true });
  const credentials = opts.credentials?.(as, upstream.url) ?? exchangeCredentials(as, upstream.url);
  const deputy = await startDeputy(as, { upstreams: [{ name: 'crm', type: 'mcp', url: upstream.url, credentials }], env: { DEPUTY_SECRET }, auth: { clock_skew_seconds: 0 } });
  const endpoint = `${deputy.url}/mcp/crm`;
  return { as, upstream, deputy, endpoint };
}

test('token_exchange: the upstream gets a token for itself that names the user and Deputy as actor; the client token goes nowhere else', async () => {
  const { as, upstream, deputy, endpoint } = await stack();
  const token = await userToken(as, endpoint, { sub: 'alice' });
  const client = await connectClient(endpoint, token);
  const r = await client.callTool({ name: 'add', arguments: { a: 2, b: 3 } });
  assert.equal((r.content as { text: string }[])[0]!.text, '5');

  const exchanged = lastUpstreamToken(upstream);
  assert.notEqual(exchanged, token);
  const claims = await verifyAsToken(as, exchanged);
  assert.equal(claims.sub, 'alice');
  assert.deepEqual([claims.aud].flat(), [upstream.url]);
  assert.deepEqual(claims.act, { sub: 'deputy' });
  assert.equal(claims.scope, 'notes:read');
  for (const rec of upstream.requests) assert.equal(rec.headers.authorization, `Bearer ${exchanged}`);

  await assertCanaryNowhere(token, { upstreams: [upstream], deputy });
  const events = await deputy.audit.query({});
  assert.ok(events.some((e) => e.target === 'add' && e.subject === 'alice' && e.credentialMode === 'token_exchange' && e.outcome === 'ok'));
});

test('token_exchange caching: 100 calls by one user → 1 exchange, a second user → 1 more, after the user token expires → a new one', async () => {
  const { as, deputy, endpoint } = await stack();
  const before = tokenRequests(as, TOKEN_EXCHANGE_GRANT);
  // Long enough for 100 calls on a loaded CI machine; the test then waits for this exact expiry.
  const alice = await userToken(as, endpoint, { sub: 'alice', ttlSeconds: 8 });
  const aliceClient = await connectClient(endpoint, alice);
  for (let i = 0; i < 100; i++) await aliceClient.callTool({ name: 'add', arguments: { a: i, b: 1 } });
  const afterAlice = tokenRequests(as, TOKEN_EXCHANGE_GRANT) - before;
  assert.equal(afterAlice, 1, '100 calls (plus initialize) by one user made one exchange');

  const bob = await userToken(as, endpoint, { sub: 'bob' });
  for (let i = 0; i < 10; i++) assert.equal((await post(endpoint, bob, i)).status, 200);
  const afterBob = tokenRequests(as, TOKEN_EXCHANGE_GRANT) - before;
  assert.equal(afterBob, 2, 'a second user gets an exchange of their own');

  // The cached exchange never outlives the user token it came from.
  await sleep(Math.max(0, (decodeJwt(alice).exp as number) * 1000 + 150 - Date.now()));
  const alice2 = await userToken(as, endpoint, { sub: 'alice' });
  assert.equal((await post(endpoint, alice2)).status, 200);
  assert.equal((await post(endpoint, alice2, 2)).status, 200);
  const afterExpiry = tokenRequests(as, TOKEN_EXCHANGE_GRANT) - before;
  assert.equal(afterExpiry, 3, 'after the user token expired, one new exchange');
  const stats = deputy.outbound.cache.stats();
  assert.equal(stats.misses, 3);
  assert.ok(stats.hits >= 110);
  console.log(`token-exchange requests: one user × 100 calls → ${afterAlice}; two users → ${afterBob}; after expiry → ${afterExpiry}; cache ${JSON.stringify(stats)}`);
});

test('token_exchange single-flight: 50 concurrent first calls by one user make 1 token request', async () => {
  const { as, upstream, deputy, endpoint } = await stack();
  const before = tokenRequests(as, TOKEN_EXCHANGE_GRANT);
  const token = await userToken(as, endpoint, { sub: 'carol' });
  const results = await Promise.all(Array.from({ length: 50 }, (_, i) => post(endpoint, token, i)));
  assert.deepEqual(results.map((r) => r.status), Array(50).fill(200));
  const made = tokenRequests(as, TOKEN_EXCHANGE_GRANT) - before;
  assert.equal(made, 1);
  const stats = deputy.outbound.cache.stats();
  assert.equal(stats.misses, 1);
  assert.equal(stats.hits, 49);
  console.log(`token-exchange requests: 50 concurrent first calls → ${made}; cache ${JSON.stringify(stats)}`);
  await assertCanaryNowhere(token, { upstreams: [upstream], deputy, bodies: results.map((r) => r.body) });
});

test('token_exchange refuses an exchanged token whose audience is not the expected one', async () => {
  const { as, upstream, deputy, endpoint } = await stack({ credentials: (a, url) => exchangeCredentials(a, url, { expected_audience: 'https://crm.example.com' }) });
  const token = await userToken(as, endpoint);
  const r = await post(endpoint, token);
  assert.equal(r.status, 502);
  const body = JSON.parse(r.body);
  assert.equal(body.error.code, -32011);
  assert.match(body.error.message, /upstream 'crm'/);
  assert.match(body.error.message, /audience .* does not include "https:\/\/crm\.example\.com"/);
  assert.equal(upstream.requests.length, 0, 'nothing reached the upstream');
  await deputy.audit.flush();
  const events = await deputy.audit.query({});
  assert.ok(events.some((e) => e.outcome === 'credential_error' && e.credentialMode === 'token_exchange' && /does not include/.test(e.detail ?? '')));
  await assertCanaryNowhere(token, { upstreams: [upstream], deputy, bodies: [r.body] });
});

test('token_exchange with the authorization server down: a clear error naming the upstream, Deputy stays up, the next call succeeds once it is back', async () => {
  const { as, upstream, deputy, endpoint } = await stack();
  const token = await userToken(as, endpoint);
  await as.stop();
  const failed = await post(endpoint, token);
  assert.equal(failed.status, 502);
  const body = JSON.parse(failed.body);
  assert.equal(body.error.code, -32011);
  assert.match(body.error.message, /could not obtain a credential for upstream 'crm': the token endpoint http:\/\/127\.0\.0\.1:\d+\/token is unreachable \(.*ECONNREFUSED/);
  assert.equal((await fetch(`${deputy.url}/healthz`)).status, 200, 'Deputy is still up');

  await as.restart();
  const ok = await post(endpoint, token, 2);
  assert.equal(ok.status, 200, 'failures are not cached: the next call retries');
  assert.ok(lastUpstreamToken(upstream));
  await deputy.audit.flush();
  const events = await deputy.audit.query({});
  assert.ok(events.some((e) => e.outcome === 'credential_error' && /unreachable/.test(e.detail ?? '')));
  assert.ok(events.some((e) => e.outcome === 'ok' && e.credentialMode === 'token_exchange'));
  await assertCanaryNowhere(token, { upstreams: [upstream], deputy, bodies: [failed.body] });
});

test('token_exchange with a slow token endpoint: bounded by timeout_ms, clear error', async () => {
  // A TCP server that accepts connections and never answers.
  const sockets = new Set<import('node:net').Socket>();
  const hang = createServer((s) => sockets.add(s));
  await new Promise<void>((r) => hang.listen(0, '127.0.0.1', () => r()));
  after(() => { for (const s of sockets) s.destroy(); hang.close(); });
  const port = (hang.address() as AddressInfo).port;
  const { as, upstream, deputy, endpoint } = await stack({ credentials: (_a, url) => exchangeCredentials({ issuer: `http://127.0.0.1:${port}` }, url, { timeout_ms: 300 }) });
  const token = await userToken(as, endpoint);
  const r = await post(endpoint, token);
  assert.equal(r.status, 502);
  assert.match(JSON.parse(r.body).error.message, /upstream 'crm': the token endpoint http:\/\/127\.0\.0\.1:\d+\/token did not answer within 300 ms/);
  await assertCanaryNowhere(token, { upstreams: [upstream], deputy, bodies: [r.body] });
});

test('token_exchange: invalid_grant and invalid_client are reported with the OAuth error, never the subject token, and not cached', async () => {
  let accept = false;
  const { as, upstream, deputy, endpoint } = await stack({ asOptions: { exchangeAcceptsAudience: () => accept } });
  const token = await userToken(as, endpoint);
  const r = await post(endpoint, token);
  assert.equal(r.status, 502);
  assert.match(JSON.parse(r.body).error.message, /upstream 'crm': the token endpoint refused the request: invalid_grant .*\[HTTP 400\]/);
  assert.ok(as.grantErrors.some((e) => e.includes('subject_token was not issued for this client')));
  accept = true;
  assert.equal((await post(endpoint, token, 2)).status, 200, 'the failure was not cached');
  await assertCanaryNowhere(token, { upstreams: [upstream], deputy, bodies: [r.body] });

  // Wrong client secret → invalid_client; the secret is not echoed either.
  const bad = await startDeputy(as, { upstreams: [{ name: 'crm', type: 'mcp', url: upstream.url, credentials: exchangeCredentials(as, upstream.url) }], env: { DEPUTY_SECRET: 'wrong-secret-value' } });
  const badEndpoint = `${bad.url}/mcp/crm`;
  const token2 = await userToken(as, badEndpoint);
  const r2 = await post(badEndpoint, token2);
  assert.equal(r2.status, 502);
  const message = JSON.parse(r2.body).error.message as string;
  assert.match(message, /upstream 'crm'.*invalid_client/);
  assert.ok(!message.includes('wrong-secret-value'));
  await assertCanaryNowhere(token2, { upstreams: [upstream], deputy: bad, bodies: [r2.body] });
});

test('token_exchange grant jwt_bearer_obo (Entra-style on-behalf-of) sends the user token as the assertion', async () => {
  const { as, upstream, deputy, endpoint } = await stack({ credentials: (a, url) => exchangeCredentials(a, url, { grant: 'jwt_bearer_obo', audience: undefined, resource: url }) });
  const before = tokenRequests(as, JWT_BEARER_GRANT);
  const token = await userToken(as, endpoint, { sub: 'dave' });
  assert.equal((await post(endpoint, token)).status, 200);
  assert.equal((await post(endpoint, token, 2)).status, 200);
  assert.equal(tokenRequests(as, JWT_BEARER_GRANT) - before, 1);
  const claims = await verifyAsToken(as, lastUpstreamToken(upstream));
  assert.equal(claims.sub, 'dave');
  assert.deepEqual([claims.aud].flat(), [upstream.url]);
  await assertCanaryNowhere(token, { upstreams: [upstream], deputy });
});

test('token_exchange discovers the token endpoint from the issuer and authenticates with client_secret_post', async () => {
  const { as, upstream, endpoint, deputy } = await stack({
    asOptions: { clients: clients(deputyClient({ token_endpoint_auth_method: 'client_secret_post' })) },
    credentials: (a, url) => ({ ...exchangeCredentials(a, url), token_endpoint: undefined, issuer: a.issuer, client_auth: 'client_secret_post' }),
  });
  const token = await userToken(as, endpoint, { sub: 'erin' });
  assert.equal((await post(endpoint, token)).status, 200);
  assert.equal((await verifyAsToken(as, lastUpstreamToken(upstream))).sub, 'erin');
  await assertCanaryNowhere(token, { upstreams: [upstream], deputy });
});
