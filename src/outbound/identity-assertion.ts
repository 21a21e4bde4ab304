// Identity assertions: when an upstream only sees Deputy's service account (client_credentials or
// static), Deputy can add a short-lived JWT it signs itself, stating which user acts, so the backend
// can still authorize and audit per user. Backends verify it with the keys Deputy publishes at
// /.well-known/jwks.json. Keys come from `identity.signing_keys` (the first signs, all are published,
// so rotation is: prepend the new key, wait for JWKS caches to refresh, remove the old one); with
// none configured, an ephemeral key is generated at start-up (config warns about it).
import { createPublicKey, randomUUID } from 'node:crypto';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, SignJWT, type JWK } from 'jose';
import type { IdentityAssertionConfig, IdentityConfig, UpstreamConfig } from '../config/schema.ts';
import type { Principal } from '../inbound/principal.ts';
import type { Secret } from '../config/secrets.ts';
import { importSigningKey } from './client-auth.ts';

export const IDENTITY_JWKS_PATH = '/.well-known/jwks.json';
/** Explicit JWT type (RFC 8725 §3.11) so an identity assertion cannot be mistaken for an access token. */
export const IDENTITY_ASSERTION_TYP = 'deputy-identity+jwt';

interface SigningKey {
  key: CryptoKey;
  alg: string;
  kid: string;
  publicJwk: JWK;
}

export class IdentitySigner {
  readonly #sources: Secret[];
  readonly #algorithm?: string;
  readonly #ephemeral?: SigningKey;
  /** Imported keys by their material, so a rotated key file is imported once. */
  readonly #imported = new Map<string, Promise<SigningKey>>();

  private constructor(sources: Secret[], algorithm: string | undefined, ephemeral: SigningKey | undefined) {
    this.#sources = sources;
    this.#algorithm = algorithm;
    this.#ephemeral = ephemeral;
  }

  /** Loads the configured keys (failing start-up if one is unusable), or generates an ephemeral ES256 key. */
  static async create(cfg: IdentityConfig | undefined): Promise<IdentitySigner> {
    const sources = cfg?.signingKeys ?? [];
    if (sources.length === 0) {
      const { privateKey, publicKey } = await generateKeyPair('ES256');
      const publicJwk = await exportJWK(publicKey);
      const kid = await calculateJwkThumbprint(publicJwk);
      return new IdentitySigner([], undefined, { key: privateKey, alg: 'ES256', kid, publicJwk: { ...publicJwk, kid, alg: 'ES256', use: 'sig' } });
    }
    const signer = new IdentitySigner(sources, cfg?.algorithm, undefined);
    for (const [i, s] of sources.entries()) {
      await signer.#load(s).catch((error: Error) => {
        throw new Error(`identity.signing_keys[${i}] (${s.describe()}): ${error.message}`);
      });
    }
    return signer;
  }

  get ephemeral(): boolean {
    return this.#ephemeral !== undefined;
  }

  /** The public keys to publish (all configured keys, current first). */
  async jwks(): Promise<{ keys: JWK[] }> {
    const keys = await this.#keys();
    return { keys: keys.map((k) => k.publicJwk) };
  }

  async sign(claims: Record<string, unknown>, ttlSeconds: number): Promise<string> {
    const [k] = await this.#keys();
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT(claims)
      .setProtectedHeader({ alg: k!.alg, kid: k!.kid, typ: IDENTITY_ASSERTION_TYP })
      .setIssuedAt(now)
      .setExpirationTime(now + ttlSeconds)
      .setJti(randomUUID())
      .sign(k!.key);
  }

  #keys(): Promise<SigningKey[]> {
    if (this.#ephemeral) return Promise.resolve([this.#ephemeral]);
    return Promise.all(this.#sources.map((s) => this.#load(s)));
  }

  #load(source: Secret): Promise<SigningKey> {
    // Secret files are re-read when they change, so the material (and the key) may differ per call.
    const material = source.value();
    let p = this.#imported.get(material);
    if (!p) {
      p = importKey(material, this.#algorithm);
      this.#imported.set(material, p);
      p.catch(() => this.#imported.delete(material));
    }
    return p;
  }
}

async function importKey(material: string, algorithm: string | undefined): Promise<SigningKey> {
  const { key, kid } = await importSigningKey(material, algorithm);
  const alg = algorithm ?? algorithmOf(key);
  // The public half comes from the material itself (the imported CryptoKey is not extractable).
  const text = material.trim();
  const publicKey = text.startsWith('{') ? createPublicKey({ key: JSON.parse(text) as import('node:crypto').JsonWebKey, format: 'jwk' }) : createPublicKey(text);
  const pub = publicKey.export({ format: 'jwk' }) as JWK;
  const id = kid ?? (await calculateJwkThumbprint(pub));
  return { key, alg, kid: id, publicJwk: { ...pub, kid: id, alg, use: 'sig' } };
}

function algorithmOf(key: CryptoKey): string {
  const a = key.algorithm as { name: string; namedCurve?: string; hash?: { name: string } };
  const bits = a.hash?.name.replace('SHA-', '') ?? '256';
  switch (a.name) {
    case 'ECDSA':
      return a.namedCurve === 'P-384' ? 'ES384' : a.namedCurve === 'P-521' ? 'ES512' : 'ES256';
    case 'RSASSA-PKCS1-v1_5':
      return `RS${bits}`;
    case 'RSA-PSS':
      return `PS${bits}`;
    default:
      return 'EdDSA';
  }
}

/** Signs identity assertions for one upstream. */
export interface IdentityAsserter {
  /** Lower-case header name. */
  readonly header: string;
  assert(principal: Principal): Promise<string>;
}

/**
 * Claims: `iss` Deputy's public URL, `aud` the upstream's URL, `sub` the user's subject, `user_iss` the
 * issuer that authenticated the user (subjects are only unique per issuer), `client_id` the MCP client,
 * `scope` the scopes the user granted it, and `iat`/`exp`/`jti`.
 */
export function identityAsserter(upstream: UpstreamConfig, cfg: IdentityAssertionConfig, signer: IdentitySigner, deputyUrl: string): IdentityAsserter {
  const audience = upstream.type === 'mcp' ? upstream.url : upstream.baseUrl;
  return {
    header: cfg.header.toLowerCase(),
    assert(principal) {
      const claims: Record<string, unknown> = { iss: deputyUrl, aud: audience, sub: principal.subject, user_iss: principal.issuer, scope: principal.scopes.join(' ') };
      if (principal.clientId) claims.client_id = principal.clientId;
      return signer.sign(claims, cfg.ttlSeconds);
    },
  };
}
