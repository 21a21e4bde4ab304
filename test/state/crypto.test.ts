// Encryption of shared state: round trip, key rotation (previous keys still read), tampering and
// key-binding refused; and introspection results shared between replicas through Redis.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Secret } from '../../src/config/secrets.ts';
import { StateCipher } from '../../src/state/crypto.ts';
import { SharedState } from '../../src/state/redis.ts';
import { RedisTokenStore } from '../../src/state/tokens.ts';
import { startRedis } from '../support/redis.ts';
import { startAs, startUpstream, userToken } from '../support/stack.ts';
import { rpc, initialize, startReplica } from './helpers.ts';

const secret = (v: string) => new Secret({ kind: 'literal' }, v);

test('AES-256-GCM with key ids: rotation keeps old values readable; altered or moved values are refused', () => {
  const old = new StateCipher(secret('old key material'));
  const stored = old.encrypt('{"accessToken":"t0ken"}', 'deputy:token:k1');
  assert.ok(!stored.includes('t0ken'));
  assert.match(stored, new RegExp(`^v1\\.${old.keyId}\\.`), 'the key id travels with the value');

  const rotated = new StateCipher(secret('new key material'), [secret('old key material')]);
  assert.notEqual(rotated.keyId, old.keyId);
  assert.equal(rotated.decrypt(stored, 'deputy:token:k1'), '{"accessToken":"t0ken"}', 'previous keys still decrypt');
  assert.match(rotated.encrypt('x', 'k'), new RegExp(`^v1\\.${rotated.keyId}\\.`), 'new values use the current key');

  const retired = new StateCipher(secret('new key material'));
  assert.equal(retired.decrypt(stored, 'deputy:token:k1'), undefined, 'once a key is dropped, its values read as absent');
  assert.equal(rotated.decrypt(stored, 'deputy:token:OTHER'), undefined, 'a value copied under another key is refused');
  const parts = stored.split('.');
  const body = Buffer.from(parts[3]!, 'base64url');
  body[0]! ^= 1;
  assert.equal(rotated.decrypt([...parts.slice(0, 3), body.toString('base64url')].join('.'), 'deputy:token:k1'), undefined, 'tampering is detected');
  assert.equal(rotated.decrypt('garbage', 'k'), undefined);
});

test('token store: Redis down → local only, no waiting, no throwing; back → shared again', async () => {
  const redis = await startRedis();
  const cipher = new StateCipher(secret('k'));
  const s1 = new SharedState(redis.url, cipher);
  const s2 = new SharedState(redis.url, cipher);
  try {
    assert.ok(await s1.waitUntilReady());
    assert.ok(await s2.waitUntilReady());
    const one = new RedisTokenStore(s1);
    const two = new RedisTokenStore(s2);
    const token = { accessToken: 'abc', expiresAt: Date.now() + 60_000, freshUntil: Date.now() + 50_000 };
    await one.set('k', token);
    assert.deepEqual(await two.get('k'), token, 'visible to the other replica');
    await redis.kill();
    await new Promise((r) => setTimeout(r, 100));
    await one.set('k2', token); // must not throw
    assert.deepEqual(await one.get('k2'), token, 'kept locally');
    assert.equal(await two.get('k2'), undefined);
    let calls = 0;
    const t = await two.fetchOnce('k3', async () => (calls++, token));
    assert.equal(calls, 1, 'with Redis down the replica fetches for itself');
    assert.deepEqual(t, token);
    assert.equal(s1.status().status, 'degraded');
    await redis.start();
    await new Promise<void>((resolve) => s1.redis.once('ready', () => resolve()));
    assert.equal(s1.status().status, 'up');
    await one.set('k4', token);
    if (!s2.up) await new Promise<void>((resolve) => s2.redis.once('ready', () => resolve()));
    assert.deepEqual(await two.get('k4'), token);
  } finally {
    await s1.close();
    await s2.close();
  }
});

test('introspection results are shared: a token introspected by one replica is not introspected again by the other', async () => {
  const PUBLIC = 'http://127.0.0.1:10';
  const as = await startAs({
    clients: [
      { client_id: 'test-client', client_secret: 'test-client-secret', grant_types: ['client_credentials', 'authorization_code'], redirect_uris: ['http://127.0.0.1/cb'], response_types: ['code'], scope: 'mcp:tools' },
      { client_id: 'deputy', client_secret: 'deputy-introspect-secret', grant_types: ['client_credentials'] },
    ],
    defaultResource: (r) => (r.startsWith(PUBLIC) ? { scope: 'mcp:tools', format: 'opaque', ttlSeconds: 300 } : undefined),
  });
  const up = await startUpstream({ stateless: true });
  const redis = await startRedis();
  const issuers = [{ issuer: as.issuer, introspection: { endpoint: `${as.issuer}/token/introspection`, client_id: 'deputy', client_secret: { env: 'INTROSPECT' } } }];
  const upstreams = [{ name: 'notes', type: 'mcp', url: up.url, credentials: { type: 'static', headers: { Authorization: { env: 'NOTES_AUTH' } } } }];
  const env = { INTROSPECT: 'deputy-introspect-secret', NOTES_AUTH: 'Bearer upstream-static' };
  const a = await startReplica({ publicUrl: PUBLIC, upstreams, issuers, redisUrl: redis.url, env });
  const b = await startReplica({ publicUrl: PUBLIC, upstreams, issuers, redisUrl: redis.url, env });
  const token = await userToken(as, `${PUBLIC}/mcp/notes`, { sub: 'ivan' });
  assert.ok(!token.startsWith('eyJ'));
  assert.equal((await rpc(a.url, '/mcp/notes', token, initialize())).status, 200);
  assert.equal(a.verifier.stats.introspections, 1);
  assert.equal((await rpc(b.url, '/mcp/notes', token, initialize())).status, 200);
  assert.equal(b.verifier.stats.introspections, 0, 'B used the result A stored');
  assert.equal(b.verifier.stats.sharedHits, 1);
  const keys = redis.cli('--scan').trim().split('\n');
  assert.ok(keys.every((k) => !k.includes(token)) && keys.some((k) => k.startsWith('deputy:introspection:')), 'keyed by a hash of the token');
  assert.ok(!keys.map((k) => redis.cli('GET', k)).join('').includes('ivan'), 'claims are encrypted');
});
