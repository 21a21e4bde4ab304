// Sealing for the vault: a blob opens only for the identity it was sealed to, under a configured key,
// and untouched; any altered byte, another tuple or an unknown key id is a typed VaultError.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sealedKeyId, VaultCipher, VaultError, type VaultErrorCode } from '../../src/vault/crypto.ts';

const secret = (value: string) => ({ value: () => value });
const k1 = { id: 'k1', secret: secret('first secret') };
const k2 = { id: 'k2', secret: secret('second secret') };
const alice = { issuer: 'https://as.example', subject: 'alice', upstream: 'notes' };
const PLAINTEXT = JSON.stringify({ accessToken: 'at-0123456789', refreshToken: 'rt-0123456789' });

const fails = (code: VaultErrorCode) => (e: unknown) => e instanceof VaultError && e.code === code && !e.message.includes('0123456789');

test('seal/open round trip; the blob names its key id and holds no plaintext; IVs differ', () => {
  const cipher = new VaultCipher([k1]);
  const sealed = cipher.seal(PLAINTEXT, alice);
  assert.equal(sealed[0], 1, 'format byte');
  assert.equal(sealedKeyId(sealed), 'k1');
  assert.ok(!sealed.includes('0123456789'));
  assert.equal(cipher.open(sealed, alice), PLAINTEXT);
  assert.notDeepEqual(cipher.seal(PLAINTEXT, alice), sealed, 'a fresh IV each time');
  assert.equal(new VaultCipher([k1]).open(sealed, alice), PLAINTEXT, 'the key is derived, not random');
});

test('another identity tuple does not open it (the tuple is the AAD, unambiguously)', () => {
  const cipher = new VaultCipher([k1]);
  const sealed = cipher.seal(PLAINTEXT, alice);
  for (const who of [{ ...alice, subject: 'bob' }, { ...alice, upstream: 'calendar' }, { ...alice, issuer: 'https://other.example' }]) {
    assert.throws(() => cipher.open(sealed, who), fails('ERR_VAULT_DECRYPT'));
  }
  const split = cipher.seal(PLAINTEXT, { issuer: 'a', subject: 'b","c', upstream: 'd' });
  assert.throws(() => cipher.open(split, { issuer: 'a', subject: 'b', upstream: 'c","d' }), fails('ERR_VAULT_DECRYPT'));
});

test('any altered byte is refused: IV, tag, ciphertext (decrypt), format or length (malformed)', () => {
  const cipher = new VaultCipher([k1]);
  const sealed = cipher.seal(PLAINTEXT, alice);
  const headerEnd = 2 + 'k1'.length;
  for (let i = headerEnd; i < sealed.length; i++) {
    const tampered = Buffer.from(sealed);
    tampered[i]! ^= 0x01;
    assert.throws(() => cipher.open(tampered, alice), fails('ERR_VAULT_DECRYPT'), `byte ${i}`);
  }
  const badFormat = Buffer.from(sealed);
  badFormat[0] = 2;
  assert.throws(() => cipher.open(badFormat, alice), fails('ERR_VAULT_MALFORMED'));
  assert.throws(() => cipher.open(sealed.subarray(0, headerEnd + 20), alice), fails('ERR_VAULT_MALFORMED'));
  assert.throws(() => cipher.open(Buffer.alloc(0), alice), fails('ERR_VAULT_MALFORMED'));
  assert.throws(() => cipher.open(sealed.subarray(0, sealed.length - 1), alice), fails('ERR_VAULT_DECRYPT'));
});

test('rotation: the first key seals, every key opens; an unknown key id and a changed secret are refused', () => {
  const old = new VaultCipher([k1]).seal(PLAINTEXT, alice);
  const rotating = new VaultCipher([k2, k1]);
  assert.equal(rotating.currentKeyId, 'k2');
  assert.equal(rotating.open(old, alice), PLAINTEXT);
  const fresh = rotating.seal(PLAINTEXT, alice);
  assert.equal(sealedKeyId(fresh), 'k2');
  assert.throws(() => new VaultCipher([k1]).open(fresh, alice), fails('ERR_VAULT_UNKNOWN_KEY'));
  // Another secret behind the same id does not open; nor does the same secret under another id (the
  // id is part of the derivation), even with the blob's key id rewritten to match.
  assert.throws(() => new VaultCipher([{ id: 'k1', secret: k2.secret }]).open(old, alice), fails('ERR_VAULT_DECRYPT'));
  const relabelled = Buffer.from(old);
  relabelled.write('k9', 2, 'utf8');
  assert.equal(sealedKeyId(relabelled), 'k9');
  assert.throws(() => new VaultCipher([{ id: 'k9', secret: k1.secret }]).open(relabelled, alice), fails('ERR_VAULT_DECRYPT'));
});

test('a file secret that changes is re-derived; configuration errors are typed and name no secret', () => {
  let value = 'before';
  const cipher = new VaultCipher([{ id: 'file', secret: { value: () => value } }]);
  const sealed = cipher.seal(PLAINTEXT, alice);
  value = 'after';
  assert.throws(() => cipher.open(sealed, alice), fails('ERR_VAULT_DECRYPT'));
  assert.equal(cipher.open(cipher.seal(PLAINTEXT, alice), alice), PLAINTEXT);
  assert.throws(() => new VaultCipher([]), fails('ERR_VAULT_CONFIG'));
  assert.throws(() => new VaultCipher([k1, { id: 'k1', secret: secret('x') }]), fails('ERR_VAULT_CONFIG'));
  assert.throws(() => new VaultCipher([{ id: '', secret: secret('x') }]), fails('ERR_VAULT_CONFIG'));
  assert.throws(() => new VaultCipher([{ id: 'empty', secret: secret('') }]).seal(PLAINTEXT, alice), fails('ERR_VAULT_CONFIG'));
});
