// Encryption of everything Deputy puts in shared state (tokens, sessions, introspection results):
// AES-256-GCM with a random 96-bit IV, the storage key as additional data (a value copied under
// another key fails to decrypt), and a key id in front so keys rotate: the current key encrypts,
// previous keys still decrypt until their entries have expired.
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import type { Secret } from '../config/secrets.ts';

const VERSION = 'v1';

interface StateKey {
  id: string;
  key: Buffer;
}

export class StateCipher {
  readonly #current: () => StateKey;
  readonly #all: () => StateKey[];

  /** `current` encrypts; `previous` only decrypt. Secrets are re-read on every use, so a rotated file secret takes effect without a restart. */
  constructor(current: Secret, previous: Secret[] = []) {
    const cache = new Map<string, StateKey>();
    const derive = (s: Secret): StateKey => {
      const value = s.value();
      let k = cache.get(value);
      if (!k) {
        // Any string works as key material: it is hashed to 32 bytes. The id is a hash of the key, so
        // it identifies the key without revealing it.
        const key = createHash('sha256').update('deputy-state-key\u0000').update(value).digest();
        k = { id: createHash('sha256').update(key).digest('base64url').slice(0, 8), key };
        cache.set(value, k);
      }
      return k;
    };
    this.#current = () => derive(current);
    this.#all = () => [current, ...previous].map(derive);
  }

  encrypt(plaintext: string, aad: string): string {
    const { id, key } = this.#current();
    const iv = randomBytes(12);
    const c = createCipheriv('aes-256-gcm', key, iv);
    c.setAAD(Buffer.from(aad));
    const body = Buffer.concat([c.update(plaintext, 'utf8'), c.final(), c.getAuthTag()]);
    return `${VERSION}.${id}.${iv.toString('base64url')}.${body.toString('base64url')}`;
  }

  /** Undefined when the value was written with an unknown key, altered, or stored under another key. */
  decrypt(stored: string, aad: string): string | undefined {
    const [version, id, ivText, bodyText] = stored.split('.');
    if (version !== VERSION || !id || !ivText || !bodyText) return undefined;
    const k = this.#all().find((x) => x.id === id);
    if (!k) return undefined;
    try {
      const body = Buffer.from(bodyText, 'base64url');
      const d = createDecipheriv('aes-256-gcm', k.key, Buffer.from(ivText, 'base64url'));
      d.setAAD(Buffer.from(aad));
      d.setAuthTag(body.subarray(body.length - 16));
      return Buffer.concat([d.update(body.subarray(0, body.length - 16)), d.final()]).toString('utf8');
    } catch {
      return undefined;
    }
  }

  /** Id of the key new values are encrypted with (for logs and /readyz; not secret). */
  get keyId(): string {
    return this.#current().id;
  }
}

/** Storage keys derived from values that may be secret themselves (an opaque token, a session id). */
export function hashKey(value: string): string {
  return createHash('sha256').update(value).digest('base64url');
}
