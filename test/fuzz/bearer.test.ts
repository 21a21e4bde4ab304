// Fuzzing the bearer/JWT path: `extractBearer` (src/inbound/bearer.ts) over random Authorization
// headers and URLs, and a real TokenVerifier (src/inbound/verifier.ts) over mutations of validly
// signed JWTs (header/payload/signature edits, alg none, kid games, re-signing with foreign keys,
// truncation, huge and non-ASCII tokens). A real key issuer serves the JWKS on 127.0.0.1, and a
// second configured issuer is unreachable (keys and introspection), so 503 paths are covered too.
// Properties: a rejection is always an AuthError with status 400/401/403/503 (never a crash, never
// a hang), its message never contains the token or a 16+ character piece of it, and a mutated
// token that is accepted names exactly the principal of the token it was made from.
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import fc from 'fast-check';
import * as jose from 'jose';
import { parseConfig } from '../../src/config/schema.ts';
import { extractBearer } from '../../src/inbound/bearer.ts';
import { AuthError } from '../../src/inbound/errors.ts';
import type { Principal } from '../../src/inbound/principal.ts';
import { TokenVerifier } from '../../src/inbound/verifier.ts';
import { startKeyIssuer, type KeyIssuer } from '../support/key-issuer.ts';
import { freePort } from '../support/ports.ts';
import { applyEdits, B64URL_CHARS, edits, fuzzAsync, fuzzSync, preview, sharedPiece, within, type Edit } from './support.ts';

const STATUSES = new Set([400, 401, 403, 503]);
const LEAK_MIN = 16;
const RESOURCE = 'https://deputy.example/mcp/notes';

function assertSafeRejection(error: unknown, secret: string, what: string): asserts error is AuthError {
  assert.ok(error instanceof AuthError, `${what}: threw ${(error as Error)?.name}: ${(error as Error)?.message} instead of an AuthError`);
  assert.ok(STATUSES.has(error.status), `${what}: status ${error.status}`);
  assert.ok(typeof error.message === 'string' && error.message.length > 0, `${what}: empty description`);
  // (Whole-token containment only from 8 characters: a token like " " or "a" is in every sentence.)
  if (secret.trim().length >= 8) assert.ok(!error.message.includes(secret.trim()), `${what}: the message contains the token: ${preview(error.message, 300)}`);
  const leaked = sharedPiece(secret, error.message, LEAK_MIN);
  assert.equal(leaked, undefined, `${what}: the message contains a piece of the token (${preview(leaked ?? '')}): ${preview(error.message, 300)}`);
}

// ---------------------------------------------------------------------------------------------
// extractBearer

const SAMPLE_JWT = 'eyJhbGciOiJSUzI1NiIsImtpZCI6InJzYS0xIiwidHlwIjoiYXQrand0In0.eyJpc3MiOiJodHRwczovL2lkcC5leGFtcGxlIiwic3ViIjoiYWxpY2UifQ.c2lnbmF0dXJlLWJ5dGVzLWhlcmUtYW5kLW1vcmU';
const tokenText = fc.oneof(
  { weight: 3, arbitrary: fc.constant(SAMPLE_JWT) },
  { weight: 3, arbitrary: fc.tuple(fc.constant(SAMPLE_JWT), edits()).map(([t, e]) => applyEdits(t, e)) },
  { weight: 2, arbitrary: fc.string({ unit: fc.constantFrom(...`${B64URL_CHARS}.~+/=`.split('')), minLength: 1, maxLength: 64 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
  { weight: 1, arbitrary: fc.integer({ min: 16_000, max: 17_000 }).map((n) => `eyJ${'A'.repeat(n)}`) },
  { weight: 1, arbitrary: fc.constantFrom('', ' ', '=', 'a=b', 'a, Bearer b', 'abc def', 'é', '\u0000', 'eyJ\r\nX-Injected: 1') },
);
const scheme = fc.oneof({ weight: 6, arbitrary: fc.constant('Bearer') }, { weight: 4, arbitrary: fc.constantFrom('bearer', 'BEARER', 'BeArEr', 'Basic', 'DPoP', 'Token', 'Bearerx', 'Bearer:', '') });
const separator = fc.oneof({ weight: 6, arbitrary: fc.constant(' ') }, { weight: 4, arbitrary: fc.constantFrom('  ', '\t', '', ' \t ') });
/** Percent-encoding of the UTF-8 bytes (lone surrogates become U+FFFD, where encodeURIComponent would throw). */
const pct = (s: string) => [...Buffer.from(s, 'utf8')].map((b) => (/[A-Za-z0-9\-._~]/.test(String.fromCharCode(b)) ? String.fromCharCode(b) : `%${b.toString(16).toUpperCase().padStart(2, '0')}`)).join('');
const authorizationValue = fc.oneof(
  { weight: 5, arbitrary: fc.tuple(scheme, separator, tokenText, fc.constantFrom('', ' ', '  ', '\t')).map(([s, sep, t, tail]) => `${s}${sep}${t}${tail}`) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 64 }) },
);
const queryPart = fc.oneof(
  fc.constant(''),
  fc.tuple(fc.constantFrom('access_token', 'Access_Token', 'access%5Ftoken', '%61ccess_token', 'token', 'access_token[]', 'x'), tokenText).map(([k, v]) => `?${k}=${pct(v)}`),
  fc.string({ maxLength: 40 }).map((q) => `?${q}`),
);
/** Headers as sent (name/value pairs, in order); duplicates allowed. */
const headerList = fc.array(
  fc.oneof(
    { weight: 4, arbitrary: fc.tuple(fc.constantFrom('authorization', 'Authorization', 'AUTHORIZATION'), authorizationValue) },
    { weight: 1, arbitrary: fc.tuple(fc.constantFrom('x-api-key', 'cookie', 'proxy-authorization', 'content-type'), fc.string({ maxLength: 30 })) },
  ),
  { maxLength: 3 },
);

/** What Node makes of a header list: `headers` (first Authorization wins) and `rawHeaders`. */
function nodeHeaders(list: [string, string][]): { headers: Record<string, string>; rawHeaders: string[] } {
  const headers: Record<string, string> = {};
  const rawHeaders: string[] = [];
  for (const [name, value] of list) {
    rawHeaders.push(name, value);
    const key = name.toLowerCase();
    if (key === 'authorization' || key === 'proxy-authorization' || key === 'content-type') headers[key] ??= value;
    else headers[key] = headers[key] === undefined ? value : `${headers[key]}${key === 'cookie' ? '; ' : ', '}${value}`;
  }
  return { headers, rawHeaders };
}

test('extractBearer: a b64token or an AuthError (400/401/403/503) that quotes nothing of the header or URL', async () => {
  await fuzzSync('bearer: extractBearer', fc.record({ list: headerList, path: fc.constantFrom('/mcp/notes', '/mcp', '/'), query: queryPart }), ({ list, path, query }) => {
    const { headers, rawHeaders } = nodeHeaders(list);
    const url = `${path}${query}`;
    const authorizations = list.filter(([n]) => n.toLowerCase() === 'authorization');
    const secrets = [...authorizations.map(([, v]) => v), query];
    let token: string;
    try {
      token = extractBearer(headers, url, rawHeaders);
    } catch (error) {
      for (const s of secrets) assertSafeRejection(error, s, `headers ${preview(JSON.stringify(list), 200)}, url ${preview(url)}`);
      if (authorizations.length > 1) assert.equal((error as AuthError).status, 400, 'two Authorization headers must be refused with 400 invalid_request');
      return;
    }
    assert.equal(authorizations.length, 1, `a token was extracted from ${authorizations.length} Authorization headers`);
    assert.ok(!new URLSearchParams(query.slice(1)).has('access_token'), 'a query-string access_token must be refused');
    assert.match(token, /^[A-Za-z0-9\-._~+/]+=*$/, 'not an RFC 6750 b64token');
    assert.ok(token.length <= 16_384, `token of ${token.length} characters`);
    assert.ok(authorizations[0]![1].includes(token), 'the token is not from the Authorization header');
  }, { runs: 300, examples: [{ list: [['Authorization', `Bearer ${SAMPLE_JWT}`], ['authorization', 'Bearer other']], path: '/mcp/notes', query: '' }] });
});

// ---------------------------------------------------------------------------------------------
// TokenVerifier

let ki: KeyIssuer;
let verifier: TokenVerifier;
let deadIssuer: string;
/** Valid tokens the mutations start from, with the principal each one verifies to. */
const bases: { token: string; principal: Principal }[] = [];
let attacker: { rsa: CryptoKeyPair; ec: CryptoKeyPair; rsaPublicPem: string };

before(async () => {
  ki = await startKeyIssuer();
  // A port nothing listens on: the second issuer's keys and introspection endpoint are unreachable.
  deadIssuer = `http://127.0.0.1:${await freePort()}`;

  const config = parseConfig({
    server: { host: '127.0.0.1', port: 0 },
    auth: {
      issuers: [
        { issuer: ki.issuer, algorithms: ['RS256', 'ES256'] },
        { issuer: deadIssuer, jwks_uri: `${deadIssuer}/jwks`, introspection: { endpoint: `${deadIssuer}/introspect`, client_id: 'deputy', client_secret: { env: 'INTROSPECT' } } },
      ],
    },
    upstreams: [],
    audit: { store: 'none' },
  }, { baseDir: process.cwd(), env: { INTROSPECT: 'introspection-secret' } });
  verifier = new TokenVerifier(config.auth);

  const tokens = [
    await ki.sign({ aud: RESOURCE }),
    await ki.sign({ aud: [RESOURCE, 'https://other.example'], sub: 'bob', scope: 'mcp:tools notes:read' }, { kid: 'ec-1' }),
    await ki.sign({ aud: RESOURCE, sub: 'carol', client_id: 'c', groups: ['finance'], nbf: Math.floor(Date.now() / 1000) - 10 }),
  ];
  for (const token of tokens) bases.push({ token, principal: await verifier.verify(token) });
  const rsa = (await jose.generateKeyPair('RS256', { extractable: true })) as CryptoKeyPair;
  const ec = (await jose.generateKeyPair('ES256', { extractable: true })) as CryptoKeyPair;
  attacker = { rsa, ec, rsaPublicPem: await jose.exportSPKI((await jose.importJWK(await ki.rsaPublicJwk(), 'RS256')) as CryptoKey) };
});

const b64 = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');
const unb64 = (s: string): Record<string, unknown> => {
  try {
    const v = JSON.parse(Buffer.from(s, 'base64url').toString());
    return v && typeof v === 'object' ? v : {};
  } catch {
    return {};
  }
};

/** Values a header or claim is set to. */
const oddValue = fc.oneof(
  fc.constantFrom<unknown>(null, '', 0, -1, 1e308, true, [], {}, 'none', 'RS256', 'ES256', 'HS256', 'PS256', 'EdDSA', 'RSA-OAEP', 'rsa-1', 'ec-1', 'at+jwt', 'JWT', '../../etc/passwd', 'x'.repeat(5000)),
  fc.string({ maxLength: 20 }),
  fc.integer(),
);
const claimValue = (field: 'iss' | 'aud' | 'exp' | 'nbf' | 'iat' | 'sub' | 'scope' | 'client_id') =>
  field === 'iss' ? fc.oneof(fc.constantFrom('ISSUER', 'DEAD', 'https://evil.example', 'ISSUER/'), oddValue)
    : field === 'aud' ? fc.oneof(fc.constantFrom<unknown>(RESOURCE, [RESOURCE], 'https://evil.example', [], [1, 2]), oddValue)
      : field === 'exp' || field === 'nbf' || field === 'iat' ? fc.oneof(fc.constantFrom<unknown>('NOW-600', 'NOW+600', 'NOW+99999999', 'NaN', 1e308, -1), oddValue)
        : oddValue;

type JwtMutation =
  | { kind: 'edit-segment'; segment: 0 | 1 | 2; edits: Edit[] }
  | { kind: 'header'; set: Record<string, unknown>; drop: string[] }
  | { kind: 'claims'; set: Record<string, unknown>; drop: string[] }
  | { kind: 'alg-none'; alg: string; signature: 'empty' | 'keep' | 'garbage' }
  | { kind: 'signed-claims'; set: Record<string, unknown>; drop: string[]; typ: string }
  | { kind: 'resign'; key: 'foreign-rsa' | 'foreign-ec' | 'embedded-jwk' | 'hs256-public-pem'; kid: string | null; set: Record<string, unknown> }
  | { kind: 'structure'; op: 'drop-segment' | 'extra-segment' | 'jwe-shape' | 'swap' | 'empty-segment' | 'std-base64' | 'padding' | 'double-dot' | 'whitespace' | 'lowercase' | 'prefix-bearer' | 'json-header'; at: 0 | 1 | 2 }
  | { kind: 'huge'; where: 0 | 1 | 2 | 'whole'; size: number }
  | { kind: 'random'; token: string };

const HEADER_FIELDS = ['alg', 'kid', 'typ', 'crit', 'b64', 'jku', 'x5u', 'jwk', 'zip', 'enc', 'cty'] as const;
const CLAIM_FIELDS = ['iss', 'aud', 'exp', 'nbf', 'iat', 'sub', 'scope', 'client_id'] as const;

const jwtMutation: fc.Arbitrary<JwtMutation> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('edit-segment' as const), segment: fc.constantFrom(0 as const, 1 as const, 2 as const), edits: edits({ maxLength: 3 }) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('header' as const), set: fc.dictionary(fc.constantFrom(...HEADER_FIELDS), oddValue, { maxKeys: 3 }), drop: fc.subarray(['alg', 'kid', 'typ']) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('claims' as const), set: fc.uniqueArray(fc.constantFrom(...CLAIM_FIELDS), { maxLength: 3 }).chain((fields) => fc.tuple(...fields.map((f) => claimValue(f).map((v) => [f, v] as const))).map((pairs) => Object.fromEntries(pairs))), drop: fc.subarray(['iss', 'aud', 'exp', 'sub']) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('signed-claims' as const), set: fc.uniqueArray(fc.constantFrom(...CLAIM_FIELDS, 'scp', 'azp', 'groups'), { maxLength: 3 }).chain((fields) => fc.tuple(...fields.map((f) => (f === 'scp' || f === 'azp' || f === 'groups' ? oddValue : claimValue(f)).map((v) => [f, v] as const))).map((pairs) => Object.fromEntries(pairs))), drop: fc.subarray(['exp', 'sub', 'client_id', 'scope', 'iat']), typ: fc.constantFrom('at+jwt', 'JWT', 'application/at+jwt', '') }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('alg-none' as const), alg: fc.constantFrom('none', 'None', 'NONE', 'nOnE', ''), signature: fc.constantFrom('empty' as const, 'keep' as const, 'garbage' as const) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('resign' as const), key: fc.constantFrom('foreign-rsa' as const, 'foreign-ec' as const, 'embedded-jwk' as const, 'hs256-public-pem' as const), kid: fc.constantFrom('rsa-1', 'ec-1', 'other', null), set: fc.dictionary(fc.constantFrom(...CLAIM_FIELDS), oddValue, { maxKeys: 2 }) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('structure' as const), op: fc.constantFrom('drop-segment' as const, 'extra-segment' as const, 'jwe-shape' as const, 'swap' as const, 'empty-segment' as const, 'std-base64' as const, 'padding' as const, 'double-dot' as const, 'whitespace' as const, 'lowercase' as const, 'prefix-bearer' as const, 'json-header' as const), at: fc.constantFrom(0 as const, 1 as const, 2 as const) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('huge' as const), where: fc.constantFrom(0 as const, 1 as const, 2 as const, 'whole' as const), size: fc.oneof(fc.integer({ min: 1, max: 20_000 }), fc.constant(200_000)) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('random' as const), token: fc.oneof(fc.string({ maxLength: 60 }), fc.string({ unit: 'binary', maxLength: 60 }), fc.string({ unit: fc.constantFrom(...`${B64URL_CHARS}.`.split('')), maxLength: 120 }).map((s) => `eyJ${s}`)) }) },
);

const now = () => Math.floor(Date.now() / 1000);
function resolveClaim(v: unknown): unknown {
  if (v === 'ISSUER') return ki.issuer;
  if (v === 'ISSUER/') return `${ki.issuer}/`;
  if (v === 'DEAD') return deadIssuer;
  if (typeof v === 'string' && /^NOW[+-]\d+$/.test(v)) return now() + Number(v.slice(3));
  return v;
}

async function mutate(base: string, m: JwtMutation): Promise<string> {
  const [h = '', p = '', s = ''] = base.split('.');
  switch (m.kind) {
    case 'edit-segment': {
      const parts = [h, p, s];
      parts[m.segment] = applyEdits(parts[m.segment]!, m.edits);
      return parts.join('.');
    }
    case 'header': {
      const header = { ...unb64(h), ...m.set };
      for (const k of m.drop) delete header[k];
      return `${b64(header)}.${p}.${s}`;
    }
    case 'claims': {
      const claims: Record<string, unknown> = { ...unb64(p) };
      for (const [k, v] of Object.entries(m.set)) claims[k] = resolveClaim(v);
      for (const k of m.drop) delete claims[k];
      return `${h}.${b64(claims)}.${s}`;
    }
    case 'signed-claims': {
      // Validly signed by the trusted issuer, with odd claims: exercises claim validation, not signatures.
      const claims: Record<string, unknown> = { ...unb64(p) };
      for (const [k, v] of Object.entries(m.set)) claims[k] = resolveClaim(v);
      for (const k of m.drop) claims[k] = undefined;
      try {
        return await ki.sign(claims, { typ: m.typ });
      } catch {
        return base; // jose refused to sign these claims: nothing to test
      }
    }
    case 'alg-none':
      return `${b64({ ...unb64(h), alg: m.alg })}.${p}.${m.signature === 'empty' ? '' : m.signature === 'keep' ? s : 'c2lnbmF0dXJl'}`;
    case 'resign': {
      const claims: Record<string, unknown> = { ...unb64(p) };
      for (const [k, v] of Object.entries(m.set)) claims[k] = resolveClaim(v);
      const kid = m.kid ?? undefined;
      if (m.key === 'hs256-public-pem') return new jose.SignJWT(claims).setProtectedHeader({ alg: 'HS256', kid, typ: 'at+jwt' }).sign(new TextEncoder().encode(attacker.rsaPublicPem));
      if (m.key === 'foreign-ec') return new jose.SignJWT(claims).setProtectedHeader({ alg: 'ES256', kid, typ: 'at+jwt' }).sign(attacker.ec.privateKey);
      const jwk = m.key === 'embedded-jwk' ? await jose.exportJWK(attacker.rsa.publicKey) : undefined;
      return new jose.SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid, typ: 'at+jwt', ...(jwk ? { jwk } : {}) }).sign(attacker.rsa.privateKey);
    }
    case 'structure': {
      const parts = [h, p, s];
      switch (m.op) {
        case 'drop-segment': parts.splice(m.at, 1); return parts.join('.');
        case 'extra-segment': parts.splice(m.at, 0, parts[m.at]!); return parts.join('.');
        case 'jwe-shape': return `${b64({ alg: 'RSA-OAEP', enc: 'A256GCM', kid: 'rsa-1' })}.${p}.${s}.${p}.${s}`;
        case 'swap': return [parts[1], parts[0], parts[2]].join('.');
        case 'empty-segment': parts[m.at] = ''; return parts.join('.');
        case 'std-base64': parts[m.at] = Buffer.from(parts[m.at]!, 'base64url').toString('base64'); return parts.join('.');
        case 'padding': parts[m.at] = `${parts[m.at]}==`; return parts.join('.');
        case 'double-dot': return parts.join('..');
        case 'whitespace': parts[m.at] = `${parts[m.at]} `; return parts.join('.');
        case 'lowercase': parts[m.at] = parts[m.at]!.toLowerCase(); return parts.join('.');
        case 'prefix-bearer': return `Bearer ${base}`;
        case 'json-header': return `${JSON.stringify(unb64(h))}.${p}.${s}`;
      }
      return base;
    }
    case 'huge': {
      if (m.where === 'whole') return base.repeat(Math.max(1, Math.ceil(m.size / base.length)));
      const parts = [h, p, s];
      parts[m.where] = parts[m.where] + 'A'.repeat(m.size);
      return parts.join('.');
    }
    case 'random':
      return m.token;
  }
}

function assertPrincipalShape(p: Principal, what: string): void {
  assert.equal(p.issuer, ki.issuer, `${what}: accepted for issuer ${p.issuer}`);
  assert.ok(typeof p.subject === 'string' && p.subject !== '', `${what}: accepted without a subject`);
  assert.ok(Array.isArray(p.scopes) && p.scopes.every((x) => typeof x === 'string' && x !== ''), `${what}: scopes ${JSON.stringify(p.scopes)}`);
  assert.ok(Array.isArray(p.audience) && p.audience.every((x) => typeof x === 'string'), `${what}: audience ${JSON.stringify(p.audience)}`);
  assert.ok(p.expiresAt === undefined || Number.isFinite(p.expiresAt), `${what}: expiresAt ${p.expiresAt}`);
}

const samePrincipal = (a: Principal, b: Principal) =>
  a.issuer === b.issuer && a.subject === b.subject && a.clientId === b.clientId && JSON.stringify(a.scopes) === JSON.stringify(b.scopes) && JSON.stringify(a.audience) === JSON.stringify(b.audience);

test('TokenVerifier: mutated tokens are rejected with an AuthError that quotes nothing of them, or verify to the same principal', async () => {
  const arb = fc.record({ base: fc.nat({ max: 2 }), mutation: jwtMutation, then: fc.oneof({ weight: 4, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: edits({ maxLength: 2 }) }) });
  await fuzzAsync('bearer: TokenVerifier.verify', arb, async ({ base, mutation, then }) => {
    const original = bases[base]!;
    let token = await mutate(original.token, mutation);
    if (then) token = applyEdits(token, then);
    const what = `${JSON.stringify(mutation).slice(0, 300)} → ${preview(token)}`;
    let principal: Principal;
    try {
      principal = await within(5000, `verify(${what})`, verifier.verify(token));
    } catch (error) {
      assertSafeRejection(error, token, what);
      return;
    }
    assertPrincipalShape(principal, what);
    // Only the trusted issuer's signature makes new claims acceptable; any other mutation that is
    // accepted must not have changed who the token names.
    if (mutation.kind !== 'signed-claims') assert.ok(samePrincipal(principal, original.principal), `${what}: accepted as a different principal ${JSON.stringify({ ...principal, claims: undefined })}`);
  }, { runs: 300, perRunTimeoutMs: 10_000 });
});

test('extractBearer + TokenVerifier: whatever arrives in one Authorization header is refused cleanly or verifies to a known principal', async () => {
  const arb = fc.record({ base: fc.nat({ max: 2 }), mutation: fc.option(jwtMutation, { freq: 3 }), scheme, sep: separator });
  await fuzzAsync('bearer: Authorization header → verify', arb, async ({ base, mutation, scheme: sch, sep }) => {
    const original = bases[base]!;
    const token = mutation ? await mutate(original.token, mutation) : original.token;
    const authorization = `${sch}${sep}${token}`;
    const what = `${JSON.stringify({ mutation, scheme: sch, sep }).slice(0, 300)} → ${preview(authorization)}`;
    let principal: Principal;
    try {
      const extracted = extractBearer({ authorization }, '/mcp/notes', ['Authorization', authorization]);
      principal = await within(5000, `verify(${what})`, verifier.verify(extracted));
    } catch (error) {
      assertSafeRejection(error, token, what);
      return;
    }
    assertPrincipalShape(principal, what);
    if (mutation?.kind !== 'signed-claims') assert.ok(samePrincipal(principal, original.principal), `${what}: accepted as a different principal`);
  }, { runs: 200, perRunTimeoutMs: 10_000 });
});
