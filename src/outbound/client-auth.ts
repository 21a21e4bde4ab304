// How Deputy authenticates as an OAuth client (token, exchange and introspection endpoints):
// client_secret_basic, client_secret_post, or private_key_jwt (RFC 7523 assertion signed with a key
// from a secret reference). Built per call so rotated secret files take effect immediately.
import { importJWK, importPKCS8 } from 'jose';
import * as oauth from 'oauth4webapi';
import type { ClientAuthConfig } from '../config/schema.ts';

const keyCache = new Map<string, Promise<{ key: CryptoKey; kid?: string }>>();

export interface ClientAuthOptions {
  /** `aud` of the private_key_jwt assertion when it must not be the issuer (e.g. only a token endpoint is known). */
  assertionAudience?: string;
}

export async function clientAuthFor(cfg: ClientAuthConfig, opts: ClientAuthOptions = {}): Promise<oauth.ClientAuth> {
  switch (cfg.method) {
    case 'client_secret_basic':
      return oauth.ClientSecretBasic(cfg.clientSecret!.value());
    case 'client_secret_post':
      return oauth.ClientSecretPost(cfg.clientSecret!.value());
    case 'private_key_jwt': {
      const material = cfg.privateKey!.value();
      let p = keyCache.get(material);
      if (!p) {
        p = importSigningKey(material, cfg.signingAlg, cfg.keyId);
        keyCache.set(material, p);
        p.catch(() => keyCache.delete(material));
      }
      const audience = opts.assertionAudience;
      return oauth.PrivateKeyJwt(await p, audience ? { [oauth.modifyAssertion]: (_header, payload) => { payload.aud = audience; } } : undefined);
    }
  }
}

/** Accepts a PKCS#8 PEM or a private JWK (JSON); the algorithm comes from the config, the JWK, or the key type. */
export async function importSigningKey(material: string, alg?: string, kid?: string): Promise<{ key: CryptoKey; kid?: string }> {
  const text = material.trim();
  if (text.startsWith('{')) {
    const jwk = JSON.parse(text) as { alg?: string; kid?: string; kty?: string; crv?: string };
    const algorithm = alg ?? jwk.alg ?? (jwk.kty === 'EC' ? 'ES256' : jwk.kty === 'OKP' ? 'EdDSA' : 'RS256');
    return { key: (await importJWK(jwk, algorithm)) as CryptoKey, kid: kid ?? jwk.kid };
  }
  if (!text.includes('BEGIN PRIVATE KEY')) throw new Error('private key must be a PKCS#8 PEM (BEGIN PRIVATE KEY) or a private JWK');
  const algorithm = alg ?? guessPemAlg(text);
  return { key: await importPKCS8(text, algorithm), kid };
}

function guessPemAlg(pem: string): string {
  // PKCS#8 DER for EC keys contains the id-ecPublicKey OID; RSA keys the rsaEncryption OID.
  const der = Buffer.from(pem.replace(/-----[^-]+-----|\s/g, ''), 'base64').toString('hex');
  if (der.includes('2a8648ce3d0201')) return der.includes('2b81040022') ? 'ES384' : 'ES256';
  if (der.includes('2b6570')) return 'EdDSA';
  return 'RS256';
}

/** oauth4webapi refuses http:// by default; loopback and explicit http URLs in config are allowed (check warns). */
export function requestOptions(url: string, timeoutMs: number): { [oauth.allowInsecureRequests]?: boolean; signal: AbortSignal } {
  return { ...(url.startsWith('http:') ? { [oauth.allowInsecureRequests]: true } : {}), signal: AbortSignal.timeout(timeoutMs) };
}
