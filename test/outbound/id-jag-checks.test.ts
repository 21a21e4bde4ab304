// Deputy's own checks in id_jag mode, against token endpoints that answer wrongly on purpose: the IdP
// issuing something that is not an ID-JAG, an ID-JAG for another audience or already expired, and the
// upstream AS issuing a token for another resource. Each is a credential error that says what is
// wrong, and none quotes the user's token. (The happy path runs against real servers in
// test/connect/id-jag-gateway.test.ts.)
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { parseConfig } from '../../src/config/schema.ts';
import { createCredentialProvider, createOutboundContext } from '../../src/outbound/index.ts';
import { CredentialError } from '../../src/outbound/provider.ts';
import { BearerToken, type Principal } from '../../src/inbound/principal.ts';
import { onCleanup } from '../support/cleanup.ts';

const unsigned = (header: object, claims: object) => `${Buffer.from(JSON.stringify(header)).toString('base64url')}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.c2ln`;
const now = () => Math.floor(Date.now() / 1000);

/** A token endpoint answering the IdP's leg with `jag()` and the AS's leg with `access()`. */
async function endpoints(jag: () => Record<string, unknown>, access: () => Record<string, unknown>): Promise<string> {
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const p = new URLSearchParams(body);
      const answer = p.get('grant_type') === 'urn:ietf:params:oauth:grant-type:token-exchange' ? jag() : access();
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(JSON.stringify(answer));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  onCleanup(() => new Promise<void>((r) => server.close(() => r())));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function provider(base: string) {
  const config = parseConfig({
    auth: { issuers: [{ issuer: 'https://idp.example.com' }] },
    upstreams: [{ name: 'search', type: 'mcp', url: 'https://search.example/mcp', credentials: { type: 'id_jag', idp_token_endpoint: `${base}/idp/token`, client_id: 'deputy', client_secret: { env: 'S' }, audience: 'https://auth.search.example', token_endpoint: `${base}/as/token`, scope: 'search' } }],
  }, { baseDir: process.cwd(), env: { S: 'secret' } });
  return createCredentialProvider(config.upstreams[0]!, await createOutboundContext(config));
}

const USER_TOKEN = 'the-users-own-token-must-never-be-quoted';
const principal = { issuer: 'https://idp.example.com', subject: 'alice', scopes: [], audience: [], claims: {}, tokenKind: 'jwt' } as Principal;
const goodJag = () => ({ access_token: unsigned({ typ: 'oauth-id-jag+jwt', alg: 'ES256' }, { aud: 'https://auth.search.example', sub: 'alice', exp: now() + 300 }), issued_token_type: 'urn:ietf:params:oauth:token-type:id-jag', token_type: 'N_A', expires_in: 300 });
const goodAccess = () => ({ access_token: unsigned({ typ: 'at+jwt', alg: 'ES256' }, { aud: 'https://search.example/mcp', sub: 'alice', exp: now() + 600 }), token_type: 'Bearer', expires_in: 600 });

test('id_jag: a good pair of answers gives the upstream token', async () => {
  const p = await provider(await endpoints(goodJag, goodAccess));
  const c = await p.get({ principal, bearer: new BearerToken(USER_TOKEN) });
  assert.match(c.headers.authorization!, /^Bearer ey/);
});

for (const [name, jag, access, message] of [
  ['the IdP issues an access token instead of an ID-JAG', () => ({ ...goodJag(), issued_token_type: 'urn:ietf:params:oauth:token-type:access_token' }), goodAccess, /not an ID-JAG/],
  ['the ID-JAG is for another authorization server', () => ({ ...goodJag(), access_token: unsigned({ typ: 'oauth-id-jag+jwt' }, { aud: 'https://evil.example', exp: now() + 300 }) }), goodAccess, /audience does not include "https:\/\/auth.search.example"/],
  ['the ID-JAG is already expired', () => ({ ...goodJag(), access_token: unsigned({ typ: 'oauth-id-jag+jwt' }, { aud: 'https://auth.search.example', exp: now() - 10 }) }), goodAccess, /expired ID-JAG/],
  ['the ID-JAG is not a JWT', () => ({ ...goodJag(), access_token: 'opaque-thing' }), goodAccess, /not a JWT/],
  ['the upstream AS issues a token for another resource', goodJag, () => ({ ...goodAccess(), access_token: unsigned({ typ: 'at+jwt' }, { aud: 'https://elsewhere.example', exp: now() + 600 }) }), /audience .* does not include "https:\/\/search.example\/mcp"/],
] as const) {
  test(`id_jag refuses: ${name}`, async () => {
    const p = await provider(await endpoints(jag as () => Record<string, unknown>, access as () => Record<string, unknown>));
    const error = await p.get({ principal, bearer: new BearerToken(USER_TOKEN) }).then(() => undefined, (e: unknown) => e);
    assert.ok(error instanceof CredentialError, `expected a CredentialError, got ${String(error)}`);
    assert.match(error.message, message);
    assert.ok(!error.message.includes(USER_TOKEN));
  });
}
