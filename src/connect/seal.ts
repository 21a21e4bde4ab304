// Connect links and the connect flow's cookie carry who the flow is for (issuer, subject, upstream)
// and its OAuth state, PKCE verifier and nonce. Both are sealed (AES-256-GCM, keys derived from the
// vault keys), so they are tamper-proof and show nothing of the person in the URL or the cookie;
// every replica with the same vault keys opens them. Each has a purpose bound in, so a cookie can
// never pass for a link, and an expiry.
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';

export type Purpose = 'connect-link' | 'connect-flow' | 'connect-session' | 'admin-flow' | 'admin-session';

export class Sealer {
  /** The first key seals; all keys open (rotation). */
  readonly #keys: Buffer[];

  constructor(secrets: string[]) {
    if (secrets.length === 0) throw new Error('the connect sealer needs at least one key');
    this.#keys = secrets.map((s) => Buffer.from(hkdfSync('sha256', s, 'deputy connect', 'connect links and flow cookies', 32)));
  }

  seal(purpose: Purpose, value: object, ttlMs: number, now = Date.now()): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.#keys[0]!, iv);
    cipher.setAAD(Buffer.from(purpose));
    const body = Buffer.concat([cipher.update(JSON.stringify({ v: value, e: now + ttlMs }), 'utf8'), cipher.final()]);
    return Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64url');
  }

  /** The sealed value; `invalid` when it is not ours, was altered or is for another purpose; `expired` after its time. */
  open<T>(purpose: Purpose, sealed: unknown, now = Date.now()): { value: T } | { refused: 'invalid' | 'expired' } {
    if (typeof sealed !== 'string' || sealed.length > 4096 || !/^[\w-]+$/.test(sealed)) return { refused: 'invalid' };
    const raw = Buffer.from(sealed, 'base64url');
    if (raw.length < 29) return { refused: 'invalid' };
    for (const key of this.#keys) {
      let text: string;
      try {
        const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, 12));
        decipher.setAAD(Buffer.from(purpose));
        decipher.setAuthTag(raw.subarray(12, 28));
        text = Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8');
      } catch {
        continue; // not this key
      }
      const { v, e } = JSON.parse(text) as { v: T; e: number };
      return typeof e === 'number' && e > now ? { value: v } : { refused: 'expired' };
    }
    return { refused: 'invalid' };
  }
}
