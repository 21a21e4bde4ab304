// Replica events over Redis pub/sub (src/state/broadcast.ts) with a real redis-server: heard by every
// replica, and still heard by a replica that started while Redis was down
// (it subscribes when Redis comes up). While Redis is down, publish says so: the caller delivers locally.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Broadcast } from '../../src/state/broadcast.ts';
import { StateCipher } from '../../src/state/crypto.ts';
import { SharedState } from '../../src/state/redis.ts';
import { onCleanup } from '../support/cleanup.ts';
import { waitFor } from '../support/ports.ts';
import { startRedis } from '../support/redis.ts';

const KEY = Buffer.alloc(32, 5).toString('base64');
const replica = (url: string) => {
  const state = new SharedState(url, new StateCipher({ value: () => KEY } as never));
  const broadcast = new Broadcast(state);
  onCleanup(async () => (broadcast.close(), await state.close()));
  return { state, broadcast };
};

test('a replica started while Redis was down hears events once Redis is up; publish reports when this replica will hear it', async () => {
  const redis = await startRedis();
  await redis.kill();
  const a = replica(redis.url);
  const heardA: unknown[] = [];
  a.broadcast.on('account-connected', (b) => void heardA.push(b));
  assert.equal(await a.broadcast.publish('account-connected', { n: 0 }), false, 'Redis down: deliver locally');

  await redis.start();
  await waitFor(() => a.state.up, 'the first replica to reconnect', 10_000);
  const b = replica(redis.url);
  const heardB: unknown[] = [];
  b.broadcast.on('account-connected', (m) => void heardB.push(m));
  await waitFor(async () => (await b.broadcast.publish('probe', {})) && (await a.broadcast.publish('probe', {})), 'both replicas subscribed', 10_000);

  assert.equal(await b.broadcast.publish('account-connected', { n: 1 }), true);
  await waitFor(() => heardA.length === 1 && heardB.length === 1, 'both replicas to hear it', 5000);
  assert.deepEqual(heardA, [{ n: 1 }]);
  // Both replicas are subscribed to the one channel.
  const raw = redis.cli('PUBSUB', 'NUMSUB', 'deputy:events');
  assert.match(raw, /deputy:events\s+2/);
});
