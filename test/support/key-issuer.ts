// A minimal issuer whose keys the test controls: serves OIDC discovery and a JWKS on 127.0.0.1 and
// signs arbitrary tokens, so tests can forge every kind of bad token with a *valid* signature.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { onCleanup } from './cleanup.ts';
import * as jose from 'jose';

export interface KeyIssuer {
  issuer: string;
  jwksUri: string;
  jwksFetches: number;
  /** Keys currently published. */
  published: string[];
  sign(claims: Record<string, unknown>, opts?: { kid?: string; alg?: 'RS256' | 'ES256'; typ?: string; key?: CryptoKey }): Promise<string>;
  /** Publishes a new key (and by default un-publishes the old ones). */
  rotate(opts?: { keep?: boolean }): Promise<string>;
  rsaPublicJwk(): Promise<jose.JWK>;
  setAvailable(up: boolean): void;
  close(): Promise<void>;
}

export async function startKeyIssuer(): Promise<KeyIssuer> {
  const keys = new Map<string, { alg: 'RS256' | 'ES256'; pair: CryptoKeyPair }>();
  const add = async (kid: string, alg: 'RS256' | 'ES256') => keys.set(kid, { alg, pair: (await jose.generateKeyPair(alg, { extractable: true })) as CryptoKeyPair });
  await add('rsa-1', 'RS256');
  await add('ec-1', 'ES256');
  let published = ['rsa-1', 'ec-1'];
  let available = true;
  let rotations = 0;
  const state = { jwksFetches: 0 };

  const server = createServer(async (req, res) => {
    if (!available) return void res.writeHead(503).end();
    if (req.url === '/.well-known/openid-configuration') {
      return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ issuer, jwks_uri: `${issuer}/jwks` }));
    }
    if (req.url === '/jwks') {
      state.jwksFetches++;
      const jwks = await Promise.all(published.map(async (kid) => ({ ...(await jose.exportJWK(keys.get(kid)!.pair.publicKey)), kid, alg: keys.get(kid)!.alg, use: 'sig' })));
      return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: jwks }));
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const ki: KeyIssuer = {
    issuer,
    jwksUri: `${issuer}/jwks`,
    get jwksFetches() { return state.jwksFetches; },
    get published() { return published; },
    async sign(claims, opts = {}) {
      const kid = opts.kid ?? published[0]!;
      const entry = keys.get(kid);
      const alg = opts.alg ?? entry?.alg ?? 'RS256';
      const key = opts.key ?? entry?.pair.privateKey;
      if (!key) throw new Error(`no key ${kid}; pass opts.key`);
      const now = Math.floor(Date.now() / 1000);
      return new jose.SignJWT({ iss: issuer, iat: now, exp: now + 300, sub: 'alice', client_id: 'test-client', scope: 'mcp:tools', ...claims })
        .setProtectedHeader({ alg, kid, typ: opts.typ ?? 'at+jwt' })
        .sign(key);
    },
    async rotate(opts = {}) {
      const kid = `rsa-rot-${++rotations}`;
      await add(kid, 'RS256');
      published = opts.keep ? [kid, ...published] : [kid];
      return kid;
    },
    async rsaPublicJwk() {
      return jose.exportJWK(keys.get('rsa-1')!.pair.publicKey);
    },
    setAvailable(up) { available = up; },
    close: () => new Promise<void>((r) => { server.close(() => r()); server.closeAllConnections(); }),
  };
  onCleanup(() => ki.close());
  return ki;
}
