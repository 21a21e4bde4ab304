// Sealing for the token vault: AES-256-GCM under a key derived with HKDF-SHA256 from a configured
// secret, with the account's identity tuple as additional data, so a sealed row copied to another
// account does not open. The key id travels inside the blob: the first configured key seals, every
// configured key opens, and the vault re-seals rows it finds under an older key (lazy rotation).
// A key id must always name the same secret: changing the secret behind an id makes its rows unreadable.
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';

export interface VaultKeyConfig {
  id: string;
  secret: { value(): string };
}

/** Whose tokens a blob holds; bound into every blob as its additional authenticated data. */
export interface SealIdentity {
  issuer: string;
  subject: string;
  upstream: string;
}

export type VaultErrorCode =
  | 'ERR_VAULT_CONFIG'
  /** Not a blob this code wrote (wrong format byte, truncated, or its plaintext is not tokens). */
  | 'ERR_VAULT_MALFORMED'
  /** Sealed under a key id that is not configured (any more). */
  | 'ERR_VAULT_UNKNOWN_KEY'
  /** Authentication failed: copied from another account, tampered with, or the key's secret changed. */
  | 'ERR_VAULT_DECRYPT'
  /** PostgreSQL: another replica held the account's lock for longer than the lock timeout. */
  | 'ERR_VAULT_LOCK_TIMEOUT';

/** Vault failures. Messages name key ids and accounts, never token values or secrets. */
export class VaultError extends Error {
  readonly code: VaultErrorCode;
  constructor(code: VaultErrorCode, message: string) {
    super(message);
    this.name = 'VaultError';
    this.code = code;
  }
}

/** Layout: FORMAT | id length (1 byte) | id (UTF-8) | IV (12) | tag (16) | ciphertext. */
const FORMAT = 0x01;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const SALT = 'deputy vault';

/** The additional data: UTF-8 of JSON.stringify([issuer, subject, upstream]) (unambiguous for any strings). */
export function identityAad(who: SealIdentity): Buffer {
  return Buffer.from(JSON.stringify([who.issuer, who.subject, who.upstream]), 'utf8');
}

/**
 * The additional data of a client registration row: a JSON object, so it can never equal an account's
 * (a JSON array), and a registration moved to another upstream or authorization server does not open.
 */
export function clientAad(who: { upstream: string; issuer: string }): Buffer {
  return Buffer.from(JSON.stringify({ client: [who.upstream, who.issuer] }), 'utf8');
}

/** The key id a blob was sealed under (throws ERR_VAULT_MALFORMED when it is not a vault blob). */
export function sealedKeyId(sealed: Uint8Array): string {
  return parse(sealed).keyId;
}

export class VaultCipher {
  readonly #keys: VaultKeyConfig[];
  /** Derived keys by id, with the secret value they came from (file secrets can change under us). */
  readonly #derived = new Map<string, { value: string; key: Buffer }>();

  constructor(keys: VaultKeyConfig[]) {
    if (!keys.length) throw new VaultError('ERR_VAULT_CONFIG', 'the vault needs at least one key');
    const ids = new Set<string>();
    for (const { id } of keys) {
      const bytes = Buffer.byteLength(id, 'utf8');
      if (bytes === 0 || bytes > 255) throw new VaultError('ERR_VAULT_CONFIG', 'a vault key id must be 1 to 255 bytes');
      if (ids.has(id)) throw new VaultError('ERR_VAULT_CONFIG', `vault key id ${id} is configured twice`);
      ids.add(id);
    }
    this.#keys = [...keys];
  }

  /** The id new blobs are sealed under (the first configured key). */
  get currentKeyId(): string {
    return this.#keys[0]!.id;
  }

  /** `who`: an account's identity, or the additional data of another kind of row (see clientAad). */
  seal(plaintext: string, who: SealIdentity | Buffer): Buffer {
    const id = this.currentKeyId;
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.#key(id)!, iv);
    cipher.setAAD(Buffer.isBuffer(who) ? who : identityAad(who));
    const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    const idBytes = Buffer.from(id, 'utf8');
    return Buffer.concat([Buffer.from([FORMAT, idBytes.length]), idBytes, iv, cipher.getAuthTag(), ciphertext]);
  }

  /** The plaintext, or a VaultError (wrong identity, unknown key id, tampering). */
  open(sealed: Uint8Array, who: SealIdentity | Buffer): string {
    const { keyId, iv, tag, ciphertext } = parse(sealed);
    const key = this.#key(keyId);
    if (!key) throw new VaultError('ERR_VAULT_UNKNOWN_KEY', `sealed under vault key ${keyId}, which is not configured`);
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
      decipher.setAAD(Buffer.isBuffer(who) ? who : identityAad(who));
      decipher.setAuthTag(tag);
      return Buffer.concat([decipher.update(ciphertext), decipher.final()]).toString('utf8');
    } catch {
      throw new VaultError('ERR_VAULT_DECRYPT', `sealed tokens do not open under vault key ${keyId} for this account (copied from another account, tampered with, or the key's secret changed)`);
    }
  }

  #key(id: string): Buffer | undefined {
    const config = this.#keys.find((k) => k.id === id);
    if (!config) return undefined;
    const value = config.secret.value();
    const cached = this.#derived.get(id);
    if (cached?.value === value) return cached.key;
    if (!value) throw new VaultError('ERR_VAULT_CONFIG', `vault key ${id} has an empty secret`);
    const key = Buffer.from(hkdfSync('sha256', value, SALT, `key:${id}`, 32));
    this.#derived.set(id, { value, key });
    return key;
  }
}

function parse(sealed: Uint8Array): { keyId: string; iv: Buffer; tag: Buffer; ciphertext: Buffer } {
  const b = Buffer.from(sealed.buffer, sealed.byteOffset, sealed.byteLength);
  const idLength = b.length >= 2 ? b[1]! : 0;
  const ivAt = 2 + idLength;
  if (b[0] !== FORMAT || idLength === 0 || b.length < ivAt + IV_BYTES + TAG_BYTES) throw new VaultError('ERR_VAULT_MALFORMED', 'not a sealed vault blob (unknown format or truncated)');
  return {
    keyId: b.subarray(2, ivAt).toString('utf8'),
    iv: b.subarray(ivAt, ivAt + IV_BYTES),
    tag: b.subarray(ivAt + IV_BYTES, ivAt + IV_BYTES + TAG_BYTES),
    ciphertext: b.subarray(ivAt + IV_BYTES + TAG_BYTES),
  };
}
