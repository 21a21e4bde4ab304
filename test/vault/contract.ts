// What both vault stores must do alike, registered as tests by sqlite.test.ts and postgres.test.ts
// against a real database: round trips and versions, compare-and-swap, lazy key rotation, the
// identity binding of sealed rows, per-account locking, single-use tickets, listing and touch.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { setLogSink } from '../../src/log.ts';
import { Vault, VaultError, type AccountKey, type VaultKeyConfig } from '../../src/vault/vault.ts';
import { onCleanup } from '../support/cleanup.ts';

export interface Harness {
  /** A new Vault on the same database (another "process" for SQLite, another replica for PostgreSQL). */
  open(keys?: VaultKeyConfig[]): Promise<Vault>;
  /** key_id and version of the stored row, read with SQL. */
  stored(key: AccountKey): Promise<{ keyId: string; version: number } | undefined>;
  /** Moves the stored row to another subject with SQL (as someone with database access could). */
  moveSubject(key: AccountKey, subject: string): Promise<void>;
}

export const secret = (value: string) => ({ value: () => value });
export const K1: VaultKeyConfig = { id: 'k1', secret: secret('the first vault secret') };
export const K2: VaultKeyConfig = { id: 'k2', secret: secret('the second vault secret') };

/** Every token value a test stored, so the log can be checked for all of them. */
export const tokensUsed: string[] = [];
export function token(label: string): string {
  const t = `${label}-${randomBytes(12).toString('hex')}`;
  tokensUsed.push(t);
  return t;
}

export const logLines: string[] = [];
setLogSink((line) => logLines.push(line));

export const account = (subject: string, upstream = 'notes'): AccountKey => ({ issuer: 'https://as.example', subject, upstream });
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function opened(h: Harness, keys?: VaultKeyConfig[]): Promise<Vault> {
  const vault = await h.open(keys);
  onCleanup(() => vault.close());
  return vault;
}

/** 20 concurrent withLock calls, each a read-modify-write (as a token refresh is), spread over `vaults`. */
export async function lockedIncrements(vaults: Vault[], key: AccountKey): Promise<{ maxActive: number; version: number }> {
  await vaults[0]!.put(key, { accessToken: token('locked') });
  let active = 0;
  let maxActive = 0;
  await Promise.all(Array.from({ length: 20 }, (_, i) => {
    const vault = vaults[i % vaults.length]!;
    return vault.withLock(key, async () => {
      maxActive = Math.max(maxActive, ++active);
      try {
        const current = (await vault.get(key))!;
        await sleep(2);
        const next = await vault.compareAndSwap(key, current.version, { accessToken: token('locked') });
        assert.ok(next, 'nobody wrote between read and write');
      } finally {
        active--;
      }
    });
  }));
  return { maxActive, version: (await vaults[0]!.get(key))!.version };
}

/** 8 concurrent "register unless registered" runs under withClientLock, spread over `vaults`. */
export async function lockedRegistrations(vaults: Vault[], key: { upstream: string; issuer: string }): Promise<{ maxActive: number; ids: string[] }> {
  let active = 0;
  let maxActive = 0;
  const ids: string[] = [];
  await Promise.all(Array.from({ length: 8 }, (_, i) => {
    const vault = vaults[i % vaults.length]!;
    return vault.withClientLock(key, async () => {
      maxActive = Math.max(maxActive, ++active);
      try {
        if (await vault.getClient(key)) return;
        await sleep(5);
        ids.push(`c${i}`);
        await vault.putClient(key, { clientId: `c${i}`, clientSecret: token('client-secret'), authMethod: 'client_secret_basic', redirectUri: 'https://deputy.example/connect/callback' });
      } finally {
        active--;
      }
    });
  }));
  return { maxActive, ids };
}

export function vaultContract(name: string, harness: () => Harness): void {
  test(`${name}: put/get round trip; versions count writes; connectedAt is kept`, async () => {
    const vault = await opened(harness());
    const key = account('alice');
    assert.equal(await vault.get(key), undefined);
    const tokens = { accessToken: token('access'), refreshToken: token('refresh'), expiresAt: Date.now() + 3_600_000, scope: 'notes:read', tokenType: 'Bearer' };
    const first = await vault.put(key, tokens);
    assert.equal(first.version, 1);
    assert.deepEqual(await vault.get(key), { ...tokens, version: 1, connectedAt: first.connectedAt, updatedAt: first.updatedAt });
    await sleep(3);
    const second = await vault.put(key, { accessToken: token('access') });
    assert.equal(second.version, 2);
    assert.equal(second.connectedAt, first.connectedAt, 'connectedAt kept on update');
    assert.ok(second.updatedAt > first.updatedAt);
    const read = (await vault.get(key))!;
    assert.equal(read.refreshToken, undefined, 'put replaces the tokens');
    assert.equal(read.version, 2);
    assert.equal(await vault.get(account('alice', 'other')), undefined, 'accounts are per upstream');
  });

  test(`${name}: compareAndSwap writes at the expected version only`, async () => {
    const vault = await opened(harness());
    const key = account('bob');
    assert.equal(await vault.compareAndSwap(key, 1, { accessToken: token('a') }), undefined, 'no row: nothing to swap');
    const created = await vault.compareAndSwap(key, 0, { accessToken: token('a') });
    assert.equal(created?.version, 1, 'expected version 0 creates');
    assert.equal(await vault.compareAndSwap(key, 0, { accessToken: token('a') }), undefined, 'but only once');
    const refreshed = await vault.compareAndSwap(key, 1, { accessToken: token('a'), refreshToken: token('r') });
    assert.equal(refreshed?.version, 2);
    assert.equal(await vault.compareAndSwap(key, 1, { accessToken: token('stale') }), undefined, 'a stale version loses');
    assert.equal((await vault.get(key))!.refreshToken, refreshed!.refreshToken, 'the stale write changed nothing');
  });

  test(`${name}: rotation: [k1] writes, [k2, k1] reads and re-seals under k2 (version kept), [k2] alone reads`, async () => {
    const h = harness();
    const key = account('rotating');
    const tokens = { accessToken: token('access'), refreshToken: token('refresh') };
    const old = await opened(h, [K1]);
    const written = await old.put(key, tokens);
    await old.close();
    assert.equal((await h.stored(key))?.keyId, 'k1');

    const rotating = await opened(h, [K2, K1]);
    assert.deepEqual(await rotating.get(key), { ...tokens, version: 1, connectedAt: written.connectedAt, updatedAt: written.updatedAt });
    assert.deepEqual(await h.stored(key), { keyId: 'k2', version: 1 }, 're-sealed under the first key, version unchanged');
    await rotating.close();

    const rotated = await opened(h, [K2]);
    assert.equal((await rotated.get(key))?.accessToken, tokens.accessToken);
    await rotated.close();

    const stale = await opened(h, [K1]);
    await assert.rejects(stale.get(key), (e: unknown) => e instanceof VaultError && e.code === 'ERR_VAULT_UNKNOWN_KEY' && /k2/.test(e.message));
  });

  test(`${name}: a row moved to another account does not open (get throws ERR_VAULT_DECRYPT, naming no token)`, async () => {
    const h = harness();
    const vault = await opened(h);
    const key = account('victim');
    const tokens = { accessToken: token('access'), refreshToken: token('refresh') };
    await vault.put(key, tokens);
    await h.moveSubject(key, 'mallory');
    const error = await vault.get(account('mallory')).then(() => undefined, (e: unknown) => e);
    assert.ok(error instanceof VaultError, 'a typed error, not undefined');
    assert.equal(error.code, 'ERR_VAULT_DECRYPT');
    for (const t of Object.values(tokens)) assert.ok(!String(error.stack).includes(t));
    assert.equal(await vault.get(key), undefined, 'nothing left under the original account');
  });

  test(`${name}: withLock: 20 concurrent read-modify-writes on one account never overlap`, async () => {
    const vault = await opened(harness());
    const { maxActive, version } = await lockedIncrements([vault], account('locked'));
    assert.equal(maxActive, 1);
    assert.equal(version, 21, 'one put and 20 swaps, none lost');
    // A throwing fn releases the lock; other accounts are not held up by a held one.
    await assert.rejects(vault.withLock(account('locked'), async () => { throw new Error('refresh failed'); }), /refresh failed/);
    let release!: () => void;
    const held = vault.withLock(account('held'), () => new Promise<void>((r) => (release = r)));
    assert.equal(await vault.withLock(account('locked'), async () => 'ran'), 'ran');
    assert.equal(await Promise.race([vault.withLock(account('held'), async () => 'second'), sleep(50).then(() => 'waiting')]), 'waiting');
    release();
    await held;
  });

  test(`${name}: useTicket: true once, false on replay and when already expired`, async () => {
    const vault = await opened(harness());
    const id = randomBytes(16).toString('base64url');
    assert.equal(await vault.useTicket(id, Date.now() + 60_000), true);
    assert.equal(await vault.useTicket(id, Date.now() + 60_000), false);
    assert.equal(await vault.useTicket(randomBytes(16).toString('base64url'), Date.now() - 1), false);
  });

  test(`${name}: list returns summaries without token fields; touch records use at most once a minute`, async () => {
    const vault = await opened(harness());
    await vault.put(account('lister', 'notes'), { accessToken: token('a'), refreshToken: token('r'), expiresAt: Date.now() + 1000, scope: 'notes:read', tokenType: 'Bearer' });
    await vault.put(account('lister', 'calendar'), { accessToken: token('a') });
    await vault.touch(account('lister', 'notes'));
    const touched = (await vault.get(account('lister', 'notes')))!.lastUsedAt!;
    assert.ok(touched > 0);
    await sleep(3);
    await vault.touch(account('lister', 'notes'));
    assert.equal((await vault.get(account('lister', 'notes')))!.lastUsedAt, touched, 'a second touch within the minute is skipped');

    const mine = await vault.list({ subject: 'lister' });
    assert.deepEqual(mine.map((s) => Object.keys(s).sort()), [
      ['connectedAt', 'issuer', 'subject', 'updatedAt', 'upstream', 'version'],
      ['connectedAt', 'issuer', 'lastUsedAt', 'scope', 'subject', 'updatedAt', 'upstream', 'version'],
    ]);
    assert.deepEqual(mine.map((s) => [s.upstream, s.scope, s.lastUsedAt]), [['calendar', undefined, undefined], ['notes', 'notes:read', touched]]);
    assert.deepEqual((await vault.list({ subject: 'lister', upstream: 'notes' })).map((s) => s.upstream), ['notes']);
    assert.deepEqual(await vault.list({ issuer: 'https://elsewhere.example' }), []);
    assert.ok((await vault.list()).length >= 2);
    assert.equal(await vault.delete(account('lister', 'calendar')), true);
    assert.equal(await vault.delete(account('lister', 'calendar')), false);
    assert.deepEqual((await vault.list({ subject: 'lister' })).map((s) => s.upstream), ['notes']);
  });

  test(`${name}: invalid input is refused naming the field, not the value`, async () => {
    const vault = await opened(harness());
    const leaked = token('leak');
    await assert.rejects(vault.put(account('x'), { accessToken: leaked, expiresAt: 'soon' as unknown as number }), (e: Error) => /expiresAt/.test(e.message) && !e.message.includes(leaked));
    await assert.rejects(vault.put({ issuer: '', subject: 'x', upstream: 'y' }, { accessToken: leaked }), /issuer/);
  });

  test(`${name}: client registrations: round trip per (upstream, issuer), rotation re-seals, one lock holder at a time`, async () => {
    const h = harness();
    const key = { upstream: 'notes', issuer: `https://as-${randomBytes(4).toString('hex')}.example` };
    const client = { clientId: 'registered-1', clientSecret: token('client-secret'), authMethod: 'client_secret_basic' as const, redirectUri: 'https://deputy.example/connect/callback', registrationAccessToken: token('rat') };
    const old = await opened(h, [K1]);
    assert.equal(await old.getClient(key), undefined);
    await old.putClient(key, client);
    assert.deepEqual(await old.getClient(key), client);
    assert.equal(await old.getClient({ ...key, upstream: 'other' }), undefined, 'per upstream');
    assert.equal(await old.get(account('x', 'notes')), undefined, 'not an account');
    await old.close();
    const rotating = await opened(h, [K2, K1]);
    assert.deepEqual(await rotating.getClient(key), client, 'a row under k1 opens');
    await rotating.close();
    const rotated = await opened(h, [K2]);
    assert.deepEqual(await rotated.getClient(key), client, 're-sealed under k2 when read');
    // Registering at once: one at a time under the lock, the later ones see the first's row.
    await rotated.deleteClient(key);
    const registered = await lockedRegistrations([rotated], key);
    assert.equal(registered.maxActive, 1);
    assert.equal(registered.ids.length, 1);
    assert.equal((await rotated.getClient(key))?.clientId, registered.ids[0]);
    assert.equal(await rotated.deleteClient(key), true);
    assert.equal(await rotated.getClient(key), undefined);
  });

  test(`${name}: no token value was logged`, () => {
    for (const t of tokensUsed) assert.ok(!logLines.some((l) => l.includes(t)));
  });
}
