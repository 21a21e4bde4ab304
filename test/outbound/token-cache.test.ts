// The token cache on its own: freshness, single-flight, failures not cached, bounded size.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { freshUntilFor, MemoryTokenStore, TokenCache, type CachedToken } from '../../src/outbound/token-cache.ts';

const token = (value: string, freshForMs: number): CachedToken => ({ accessToken: value, expiresAt: Date.now() + freshForMs * 2, freshUntil: Date.now() + freshForMs });

test('refresh margin: 30 s before expiry, at most 20% of the lifetime', () => {
  assert.equal(freshUntilFor(0, 3_600_000), 3_570_000);
  assert.equal(freshUntilFor(0, 120_000), 96_000);
  assert.equal(freshUntilFor(0, 2_000), 1_600);
  assert.equal(freshUntilFor(1000, 500), 500, 'already expired: never fresh');
});

test('a fresh entry is reused; a stale one is fetched again', async () => {
  const cache = new TokenCache();
  let calls = 0;
  const fetch = async () => token(`t${++calls}`, 40);
  assert.equal((await cache.get('k', fetch)).accessToken, 't1');
  assert.equal((await cache.get('k', fetch)).accessToken, 't1');
  await new Promise((r) => setTimeout(r, 60));
  assert.equal((await cache.get('k', fetch)).accessToken, 't2');
  assert.deepEqual(cache.stats(), { hits: 1, misses: 2, failures: 0, size: 1, coalesced: 0 });
});

test('concurrent callers share one fetch; a failure reaches all of them and is not cached', async () => {
  const cache = new TokenCache();
  let calls = 0;
  let fail = true;
  const fetch = async () => {
    calls++;
    await new Promise((r) => setTimeout(r, 10));
    if (fail) throw new Error('token endpoint down');
    return token('ok', 10_000);
  };
  const results = await Promise.allSettled(Array.from({ length: 20 }, () => cache.get('k', fetch)));
  assert.equal(calls, 1);
  assert.ok(results.every((r) => r.status === 'rejected' && (r.reason as Error).message === 'token endpoint down'));
  fail = false;
  const ok = await Promise.all(Array.from({ length: 20 }, () => cache.get('k', fetch)));
  assert.equal(calls, 2, 'the failure was not cached; the retry is single-flight too');
  assert.ok(ok.every((t) => t.accessToken === 'ok'));
  assert.equal(cache.stats().failures, 1);
  assert.equal(cache.stats().coalesced, 38);
});

test('a token that is already stale is handed out once but not stored', async () => {
  const cache = new TokenCache();
  let calls = 0;
  const fetch = async () => ({ accessToken: `t${++calls}`, expiresAt: Date.now() + 1000, freshUntil: Date.now() - 1 });
  await cache.get('k', fetch);
  await cache.get('k', fetch);
  assert.equal(calls, 2);
  assert.equal(cache.stats().size, 0);
});

test('the store is bounded: oldest entries are evicted first', async () => {
  const store = new MemoryTokenStore({ maxEntries: 3 });
  for (const k of ['a', 'b', 'c', 'd']) await store.set(k, token(k, 10_000));
  assert.equal(store.size, 3);
  assert.equal(await store.get('a'), undefined);
  assert.equal((await store.get('d'))?.accessToken, 'd');
});
