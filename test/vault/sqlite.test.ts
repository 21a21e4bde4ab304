// The vault over a real SQLite file in a temp dir: the shared contract, plus what only a file can show:
// neither the database nor its WAL holds a token in plaintext, and the file is private to its owner.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { test } from 'node:test';
import { Vault, VaultError } from '../../src/vault/vault.ts';
import { onCleanup } from '../support/cleanup.ts';
import { account, K1, opened, token, vaultContract, type Harness } from './contract.ts';

const dir = mkdtempSync(join(tmpdir(), 'deputy-vault-'));
onCleanup(() => rmSync(dir, { recursive: true, force: true }));
const file = join(dir, 'data', 'vault.db');

/** A second connection to the file, as an operator with sqlite3 would have. */
function sql(): DatabaseSync {
  const db = new DatabaseSync(file);
  onCleanup(() => db.isOpen && db.close());
  return db;
}

const harness: Harness = {
  open: (keys = [K1]) => Vault.open({ store: 'sqlite:data/vault.db', keys }, { baseDir: dir }),
  async stored(key) {
    const r = sql().prepare('SELECT key_id, version FROM vault_accounts WHERE issuer = ? AND subject = ? AND upstream = ?').get(key.issuer, key.subject, key.upstream);
    return r && { keyId: String(r.key_id), version: Number(r.version) };
  },
  async moveSubject(key, subject) {
    sql().prepare('UPDATE vault_accounts SET subject = ? WHERE issuer = ? AND subject = ? AND upstream = ?').run(subject, key.issuer, key.subject, key.upstream);
  },
};

vaultContract('sqlite', () => harness);

test('sqlite: neither the database file nor its WAL holds a token in plaintext; the file is owner-only', async () => {
  const vault = await opened(harness);
  const key = account('plaintext-check');
  const first = { accessToken: token('access'), refreshToken: token('refresh'), scope: 'notes:read canary-scope' };
  const second = { accessToken: token('access'), refreshToken: token('refresh'), scope: 'notes:read canary-scope' };
  await vault.put(key, first);
  await vault.put(key, second);
  await vault.get(key);
  const secrets = [first.accessToken, first.refreshToken, second.accessToken, second.refreshToken];
  const contents = () => Buffer.concat([file, `${file}-wal`].filter(existsSync).map((f) => readFileSync(f)));
  const check = (when: string) => {
    const bytes = contents();
    assert.ok(bytes.includes('canary-scope'), `the scope is plaintext (the check can see data) ${when}`);
    for (const s of secrets) assert.ok(!bytes.includes(s), `no token bytes ${when}`);
  };
  assert.ok(existsSync(`${file}-wal`) && statSync(`${file}-wal`).size > 0, 'WAL mode');
  check('before a checkpoint');
  sql().exec('PRAGMA wal_checkpoint(TRUNCATE)');
  check('after a checkpoint');
  await vault.close();
  check('after close');
  assert.equal(statSync(file).mode & 0o777, 0o600);
});

test('sqlite: sqlite::memory: works; an unknown store is refused without echoing it', async () => {
  const vault = await Vault.open({ store: 'sqlite::memory:', keys: [K1] });
  onCleanup(() => vault.close());
  await vault.put(account('memory'), { accessToken: token('access') });
  assert.equal((await vault.get(account('memory')))?.version, 1);
  await assert.rejects(Vault.open({ store: 'mysql://user:hunter2@db/x', keys: [K1] }), (e: unknown) => e instanceof VaultError && e.code === 'ERR_VAULT_CONFIG' && !e.message.includes('hunter2'));
  await assert.rejects(Vault.open({ store: 'sqlite::memory:', keys: [] }), (e: unknown) => e instanceof VaultError && e.code === 'ERR_VAULT_CONFIG');
});
