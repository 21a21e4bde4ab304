// Both halves of the Identity Assertion JWT Authorization Grant on the demo AS, which Deputy's id_jag
// credential mode drives: the enterprise IdP exchanges a user's token for an ID-JAG (RFC 8693), and the
// upstream's AS redeems it with the jwt-bearer grant (RFC 7523) only when it comes from an IdP it
// trusts, is meant for it and for the presenting client, and has not expired.
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import * as jose from 'jose';
import * as oauth from 'oauth4webapi';
import {
  ACCESS_TOKEN_TYPE, ID_JAG_GRANTS, ID_JAG_REQUESTS, ID_JAG_TOKEN_TYPE, ID_JAG_TYP, JWT_BEARER_GRANT, TOKEN_EXCHANGE_GRANT,
  startAuthorizationServer, type AuthorizationServer,
} from '../../src/demo/authorization-server.ts';
import { onCleanup } from '../support/cleanup.ts';

const DEPUTY_URL = 'https://deputy.example/mcp'; // the resource the user's token is for
const CRM = 'https://crm.example/mcp'; // the upstream resource behind the second AS
const SECRET = 'deputy-secret-0123456789';
const OTHER_SECRET = 'other-secret-0123456789';

let idp: AuthorizationServer; // the enterprise IdP, ID-JAGs valid 300 s
let idpExpired: AuthorizationServer; // a trusted IdP whose ID-JAGs are expired when minted
let rogue: AuthorizationServer; // an IdP the upstream AS does not trust
let upstreamAs: AuthorizationServer;

before(async () => {
  const idpOptions = (lifetimeSeconds?: number) => ({
    idJag: { lifetimeSeconds },
    resources: { [DEPUTY_URL]: { scope: 'mcp' } },
    clients: [{ client_id: 'deputy', client_secret: SECRET, grant_types: [TOKEN_EXCHANGE_GRANT], token_endpoint_auth_method: 'client_secret_basic' }],
  });
  [idp, idpExpired, rogue] = await Promise.all([startAuthorizationServer(idpOptions()), startAuthorizationServer(idpOptions(0)), startAuthorizationServer(idpOptions())]);
  for (const as of [idp, idpExpired, rogue]) onCleanup(() => as.close());
  upstreamAs = await startAuthorizationServer({
    resources: { [CRM]: { scope: 'notes:read notes:write' } },
    clients: [
      { client_id: 'deputy', client_secret: SECRET, grant_types: [JWT_BEARER_GRANT, TOKEN_EXCHANGE_GRANT], token_endpoint_auth_method: 'client_secret_basic' },
      { client_id: 'other', client_secret: OTHER_SECRET, grant_types: [JWT_BEARER_GRANT], token_endpoint_auth_method: 'client_secret_basic' },
    ],
    // idp by discovery, idpExpired by an explicit jwks_uri.
    trustIdJagFrom: [{ issuer: idp.issuer }, { issuer: idpExpired.issuer, jwksUri: `${idpExpired.issuer}/jwks` }],
  });
  onCleanup(() => upstreamAs.close());
});

/** A raw token request with client_secret_basic. */
async function tokenRequest(as: AuthorizationServer, params: Record<string, string>, client = 'deputy', secret = SECRET) {
  const res = await fetch(`${as.issuer}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`${client}:${secret}`).toString('base64')}` },
    body: new URLSearchParams(params),
  });
  return { status: res.status, body: await res.json() as Record<string, any> };
}

const userToken = (as: AuthorizationServer, accountId = 'alice') => as.issueUserToken({ accountId, clientId: 'deputy', resource: DEPUTY_URL, scope: 'mcp' });

const idJagParams = (subjectToken: string, extra: Record<string, string> = {}) => ({
  grant_type: TOKEN_EXCHANGE_GRANT,
  subject_token: subjectToken,
  subject_token_type: ACCESS_TOKEN_TYPE,
  requested_token_type: ID_JAG_TOKEN_TYPE,
  audience: upstreamAs.issuer,
  resource: CRM,
  scope: 'notes:read notes:admin',
  ...extra,
});

async function mintIdJag(as: AuthorizationServer, extra: Record<string, string> = {}): Promise<string> {
  const r = await tokenRequest(as, idJagParams(await userToken(as), extra));
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return r.body.access_token;
}

const redeem = (assertion: string, extra: Record<string, string> = {}, client?: string, secret?: string) =>
  tokenRequest(upstreamAs, { grant_type: JWT_BEARER_GRANT, assertion, ...extra }, client, secret);

async function assertRefused(r: { status: number; body: Record<string, any> }, error: string, as: AuthorizationServer, detail: RegExp) {
  assert.equal(r.status, 400, JSON.stringify(r.body));
  assert.equal(r.body.error, error);
  assert.match(as.grantErrors.at(-1) ?? '', detail);
}

test('id-jag: user token → ID-JAG at the IdP (oauth4webapi) → access token for the resource at the upstream AS', async () => {
  const before = { ex: idp.tokenRequests.get(TOKEN_EXCHANGE_GRANT) ?? 0, jag: idp.tokenRequests.get(ID_JAG_REQUESTS) ?? 0, jb: upstreamAs.tokenRequests.get(JWT_BEARER_GRANT) ?? 0, redeemed: upstreamAs.tokenRequests.get(ID_JAG_GRANTS) ?? 0 };
  const subject = await userToken(idp);

  // Exchange as Deputy does it: oauth4webapi needs to be told that token_type N_A is fine.
  const as: oauth.AuthorizationServer = { issuer: idp.issuer, token_endpoint: `${idp.issuer}/token` };
  const client: oauth.Client = { client_id: 'deputy' };
  const { grant_type, ...params } = idJagParams(subject);
  const response = await oauth.genericTokenEndpointRequest(as, client, oauth.ClientSecretBasic(SECRET), grant_type, params, { [oauth.allowInsecureRequests]: true });
  const body = await oauth.processGenericTokenEndpointResponse(as, client, response, { recognizedTokenTypes: { n_a: () => {} } });
  assert.equal(body.issued_token_type, ID_JAG_TOKEN_TYPE);
  assert.equal(body.token_type, 'n_a'); // oauth4webapi lowercases N_A
  assert.equal(body.expires_in, 300);

  const idJag = body.access_token;
  const { payload, protectedHeader } = await jose.jwtVerify(idJag, jose.createRemoteJWKSet(new URL(`${idp.issuer}/jwks`)), { issuer: idp.issuer, typ: ID_JAG_TYP });
  assert.equal(protectedHeader.typ, ID_JAG_TYP);
  assert.equal(payload.aud, upstreamAs.issuer);
  assert.equal(payload.sub, 'alice');
  assert.equal(payload.client_id, 'deputy');
  assert.equal(payload.resource, CRM);
  assert.equal(payload.scope, 'notes:read notes:admin');
  assert.equal(typeof payload.jti, 'string');
  assert.equal(payload.exp! - payload.iat!, 300);
  assert.equal(idp.tokenRequests.get(TOKEN_EXCHANGE_GRANT), before.ex + 1);
  assert.equal(idp.tokenRequests.get(ID_JAG_REQUESTS), before.jag + 1);

  // Redeem: scopes are those asserted that the resource has (notes:admin is not one of CRM's).
  const r = await redeem(idJag);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.equal(r.body.token_type, 'Bearer');
  assert.equal(r.body.scope, 'notes:read');
  assert.ok(r.body.expires_in > 0 && r.body.expires_in <= 300);
  const { payload: at } = await jose.jwtVerify(r.body.access_token, jose.createRemoteJWKSet(new URL(`${upstreamAs.issuer}/jwks`)), { issuer: upstreamAs.issuer, typ: 'at+jwt' });
  assert.deepEqual([at.aud].flat(), [CRM]);
  assert.equal(at.sub, 'alice');
  assert.equal(at.client_id, 'deputy');
  assert.equal(at.scope, 'notes:read');
  assert.equal(upstreamAs.tokenRequests.get(JWT_BEARER_GRANT), before.jb + 1);
  assert.equal(upstreamAs.tokenRequests.get(ID_JAG_GRANTS), before.redeemed + 1);

  // A requested scope narrows further; one never asserted is not granted.
  const narrowed = await redeem(idJag, { scope: 'notes:write' });
  assert.equal(narrowed.status, 200, JSON.stringify(narrowed.body));
  assert.equal(narrowed.body.scope, '');
});

test('id-jag: the IdP wants exactly one audience, and only when ID-JAGs are enabled', async () => {
  const subject = await userToken(idp);
  const { audience: _, ...noAudience } = idJagParams(subject);
  await assertRefused(await tokenRequest(idp, noAudience), 'invalid_request', idp, /audience/);
  // The upstream AS has no idJag option: requested_token_type id-jag stays unsupported there.
  await assertRefused(await tokenRequest(upstreamAs, idJagParams(subject)), 'invalid_request', upstreamAs, /unsupported requested_token_type/);
});

test('id-jag: an ID-JAG for another authorization server is refused', async () => {
  const idJag = await mintIdJag(idp, { audience: 'https://other-as.example' });
  await assertRefused(await redeem(idJag), 'invalid_grant', upstreamAs, /aud/);
});

test('id-jag: an ID-JAG presented by a client other than the one it was issued to is refused', async () => {
  const idJag = await mintIdJag(idp);
  await assertRefused(await redeem(idJag, {}, 'other', OTHER_SECRET), 'invalid_grant', upstreamAs, /another client/);
});

test('id-jag: an expired ID-JAG is refused', async () => {
  const idJag = await mintIdJag(idpExpired);
  assert.equal(jose.decodeJwt(idJag).exp, jose.decodeJwt(idJag).iat);
  await assertRefused(await redeem(idJag), 'invalid_grant', upstreamAs, /exp/);
});

test('id-jag: ID-JAGs from an untrusted issuer, or forged in a trusted one\'s name, are refused', async () => {
  await assertRefused(await redeem(await mintIdJag(rogue)), 'invalid_grant', upstreamAs, /not trusted/);

  const key = (await jose.generateKeyPair('ES256')).privateKey;
  const now = Math.floor(Date.now() / 1000);
  const forged = await new jose.SignJWT({ client_id: 'deputy', resource: CRM, scope: 'notes:read' })
    .setProtectedHeader({ alg: 'ES256', kid: 'es-1', typ: ID_JAG_TYP })
    .setIssuer(idp.issuer).setSubject('mallory').setAudience(upstreamAs.issuer).setJti('forged').setIssuedAt(now).setExpirationTime(now + 60)
    .sign(key);
  await assertRefused(await redeem(forged), 'invalid_grant', upstreamAs, /signature/);
});

test('id-jag: an ID-JAG for a resource the upstream AS does not know is refused', async () => {
  const idJag = await mintIdJag(idp, { resource: 'https://unknown.example/mcp' });
  await assertRefused(await redeem(idJag), 'invalid_target', upstreamAs, /unknown resource/);
});
