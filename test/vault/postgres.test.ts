// The vault over a real PostgreSQL: the shared contract, plus what only shared storage can show:
// two Vault instances (two pools, as two replicas) serialise withLock on the advisory lock and share
// single-use tickets; bytea columns hold no token in plaintext; the schema version is recorded.
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { PostgresVaultStore } from '../../src/vault/postgres.ts';
import { Vault, VaultError } from '../../src/vault/vault.ts';
import { onCleanup } from '../support/cleanup.ts';
import { startPostgres, type PostgresServer } from '../support/postgres.ts';
import { account, K1, lockedIncrements, lockedRegistrations, opened, sleep, token, vaultContract, type Harness } from './contract.ts';

let server: PostgresServer;
let harness: Harness;

before(async () => {
  server = await startPostgres();
  harness = {
    open: (keys = [K1]) => Vault.open({ store: server.url, keys }),
    async stored(key) {
      const [r] = await server.query<{ key_id: string; version: number }>('SELECT key_id, version FROM vault_accounts WHERE issuer = $1 AND subject = $2 AND upstream = $3', [key.issuer, key.subject, key.upstream]);
      return r && { keyId: r.key_id, version: r.version };
    },
    async moveSubject(key, subject) {
      await server.query('UPDATE vault_accounts SET subject = $4 WHERE issuer = $1 AND subject = $2 AND upstream = $3', [key.issuer, key.subject, key.upstream, subject]);
    },
  };
});

vaultContract('postgres', () => harness);

test('postgres: withLock serialises across two replicas (two pools, two in-process mutexes)', async () => {
  const [a, b] = [await opened(harness), await opened(harness)];
  const { maxActive, version } = await lockedIncrements([a, b], account('replicated'));
  assert.equal(maxActive, 1, 'never two holders at once');
  assert.equal(version, 21, 'no read-modify-write lost');
  const [{ n }] = await server.query<{ n: string }>("SELECT count(*) AS n FROM pg_locks WHERE locktype = 'advisory'") as [{ n: string }];
  assert.equal(n, '0', 'every advisory lock released');
});

test('postgres: two replicas registering a client at once: one registration, which both read', async () => {
  const [a, b] = [await opened(harness), await opened(harness)];
  const key = { upstream: 'notes', issuer: 'https://replicated-as.example' };
  const { maxActive, ids } = await lockedRegistrations([a, b], key);
  assert.equal(maxActive, 1);
  assert.equal(ids.length, 1);
  assert.equal((await a.getClient(key))?.clientId, ids[0]);
  assert.equal((await b.getClient(key))?.clientId, ids[0]);
});

test('postgres: a replica waiting longer than the lock timeout gets ERR_VAULT_LOCK_TIMEOUT, and can lock once it is free', async () => {
  const holder = await opened(harness);
  const waiter = new PostgresVaultStore(server.url, { lockTimeoutMs: 150 });
  onCleanup(() => waiter.close());
  const key = account('contended');
  let release!: () => void;
  let held!: () => void;
  const isHeld = new Promise<void>((r) => (held = r));
  const holding = holder.withLock(key, () => (held(), new Promise<void>((r) => (release = r))));
  await isHeld;
  await assert.rejects(waiter.lock(key, async () => 'never'), (e: unknown) => e instanceof VaultError && e.code === 'ERR_VAULT_LOCK_TIMEOUT');
  release();
  await holding;
  assert.equal(await waiter.lock(key, async () => (await sleep(1), 'ran')), 'ran');
  const [{ n }] = await server.query<{ n: string }>("SELECT count(*) AS n FROM pg_locks WHERE locktype = 'advisory'") as [{ n: string }];
  assert.equal(n, '0', 'no lock left behind by the connection that timed out');
});

test('postgres: a ticket used on one replica is a replay on the other, also when both race', async () => {
  const [a, b] = [await opened(harness), await opened(harness)];
  assert.equal(await a.useTicket('ticket-1', Date.now() + 60_000), true);
  assert.equal(await b.useTicket('ticket-1', Date.now() + 60_000), false);
  const raced = await Promise.all([a.useTicket('ticket-2', Date.now() + 60_000), b.useTicket('ticket-2', Date.now() + 60_000)]);
  assert.deepEqual(raced.sort(), [false, true]);
  const ids = await server.query<{ id: string }>('SELECT id FROM vault_tickets');
  assert.ok(ids.every((r) => /^[0-9a-f]{64}$/.test(r.id)), 'ticket ids are stored hashed');
});

test('postgres: the stored row holds no token in plaintext; the schema version is recorded', async () => {
  const vault = await opened(harness);
  const tokens = { accessToken: token('access'), refreshToken: token('refresh'), scope: 'notes:read' };
  await vault.put(account('bytes'), tokens);
  const rows = await server.query<Record<string, unknown>>('SELECT * FROM vault_accounts');
  const dump = JSON.stringify(rows) + Buffer.concat(rows.map((r) => r.sealed as Buffer)).toString('latin1');
  assert.ok(!dump.includes(tokens.accessToken) && !dump.includes(tokens.refreshToken));
  assert.deepEqual(await server.query("SELECT version FROM deputy_schema_version WHERE component = 'vault'"), [{ version: 2 }]);
});
