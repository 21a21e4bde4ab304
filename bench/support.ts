// Pieces the memory and reload benches share: a local token issuer (ES256, JWKS over HTTP), a free
// port for `deputy serve`, and waiting for it to be ready. Bench-only.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as jose from 'jose';

export interface LocalIssuer {
  issuer: string;
  /** Deputy's `auth.issuers[]` entry for it. */
  yaml: string;
  token(sub: string, audience: string): Promise<string>;
  close(): void;
}

export async function startLocalIssuer(): Promise<LocalIssuer> {
  const { privateKey, publicKey } = await jose.generateKeyPair('ES256');
  const jwk = { ...(await jose.exportJWK(publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' };
  const idp = createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [jwk] })));
  await new Promise<void>((r) => idp.listen(0, '127.0.0.1', () => r()));
  const issuer = `http://127.0.0.1:${(idp.address() as AddressInfo).port}`;
  return {
    issuer,
    yaml: `{ issuer: ${issuer}, jwks_uri: ${issuer}/jwks, algorithms: [ES256] }`,
    token: (sub, audience) => new jose.SignJWT({ scope: 'mcp:tools' }).setProtectedHeader({ alg: 'ES256', kid: 'k1' }).setIssuer(issuer).setSubject(sub).setAudience(audience).setIssuedAt().setExpirationTime('2h').sign(privateKey),
    close: () => idp.close(),
  };
}

/** A port the OS considers free right now. */
export function freePort(): Promise<number> {
  return new Promise((r) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as AddressInfo).port;
      s.close(() => r(p));
    });
  });
}

/** Polls `<base>/readyz` every 100 ms until 200, failing after `timeoutMs`. */
export async function waitUntilReady(base: string, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    try {
      if ((await fetch(`${base}/readyz`)).status === 200) return;
    } catch {}
    if (Date.now() > until) throw new Error('deputy did not become ready');
    await new Promise((r) => setTimeout(r, 100));
  }
}
