// Access-token verification for every configured issuer: JWTs (RFC 9068) via the issuer's JWKS, opaque
// tokens via RFC 7662 introspection. Results are cached (never beyond the token's `exp`) so the hot
// path does a map lookup instead of a signature check. The audience is checked per endpoint, outside
// the cache, because one token may be presented at several endpoints.
import { decodeJwt, decodeProtectedHeader, errors as joseErrors, jwtVerify, type JWTPayload } from 'jose';
import * as oauth from 'oauth4webapi';
import type { AuthConfig, IssuerConfig } from '../config/schema.ts';
import { clientAuthFor, requestOptions } from '../outbound/client-auth.ts';
import { describeNetworkError } from '../client/fetch-json.ts';
import { discover } from './discovery.ts';
import { AuthError, invalidToken, verifierUnavailable } from './errors.ts';
import { JwksCache, JwksUnavailableError } from './jwks.ts';
import type { Principal } from './principal.ts';

const MAX_CACHE_ENTRIES = 10_000;

interface CacheEntry {
  principal: Principal;
  until: number;
}

/** Introspection results shared between replicas (Redis); the verifier's own map stays the first level. */
export interface IntrospectionStore {
  get(token: string): Promise<{ principal: Principal; until: number } | undefined>;
  set(token: string, entry: { principal: Principal; until: number }): Promise<void>;
}

export class TokenVerifier {
  readonly #auth: AuthConfig;
  readonly #jwks = new Map<string, JwksCache>();
  readonly #cache = new Map<string, CacheEntry>();
  /** Counters for tests, metrics and the benchmark. */
  readonly stats = { verifications: 0, cacheHits: 0, introspections: 0, sharedHits: 0 };
  /** Optional second-level cache for introspection results (set by the gateway when `state` is configured). */
  introspectionStore?: IntrospectionStore;

  constructor(auth: AuthConfig) {
    this.#auth = auth;
    for (const is of auth.issuers) {
      this.#jwks.set(is.issuer, new JwksCache(async () => is.jwksUri ?? requireField(await discover(is.issuer), 'jwks_uri', is.issuer)));
    }
  }

  /** Fetch every issuer's keys once; returns the issuers whose keys could not be loaded. */
  async warm(): Promise<string[]> {
    const failed: string[] = [];
    await Promise.all(this.#auth.issuers.map(async (is) => {
      if (is.introspection && !is.jwksUri) return; // opaque-token issuer: keys are optional
      if (!(await this.#jwks.get(is.issuer)!.warm())) failed.push(is.issuer);
    }));
    return failed;
  }

  async verify(token: string): Promise<Principal> {
    const now = Date.now();
    const hit = this.#cache.get(token);
    if (hit) {
      if (hit.until > now) {
        this.stats.cacheHits++;
        return hit.principal;
      }
      this.#cache.delete(token);
    }
    const { principal, cacheUntil } = looksLikeJwt(token) ? await this.#verifyJwt(token) : await this.#introspectShared(token, now);
    const until = Math.min(cacheUntil, now + this.#auth.cacheTtlSeconds * 1000);
    if (until > now) {
      if (this.#cache.size >= MAX_CACHE_ENTRIES) this.#cache.delete(this.#cache.keys().next().value!);
      // Entries go in roughly in expiry order: dropping expired ones from the front as new ones arrive
      // keeps the cache at the live tokens, without a timer.
      for (let i = 0; i < 2; i++) {
        const first = this.#cache.entries().next().value;
        if (!first || first[1].until > now) break;
        this.#cache.delete(first[0]);
      }
      this.#cache.set(token, { principal, until });
    }
    return principal;
  }

  /** Forget cached results (for tests and config reloads). */
  clearCache(): void {
    this.#cache.clear();
  }

  async #verifyJwt(token: string): Promise<{ principal: Principal; cacheUntil: number }> {
    let unverified: JWTPayload;
    try {
      decodeProtectedHeader(token);
      unverified = decodeJwt(token);
    } catch {
      throw invalidToken('the access token is not a well-formed JWT');
    }
    const iss = unverified.iss;
    const issuer = this.#auth.issuers.find((i) => i.issuer === iss);
    if (!issuer) throw invalidToken(typeof iss === 'string' ? `tokens issued by ${truncate(iss)} are not accepted here` : 'the access token has no iss claim');
    this.stats.verifications++;
    try {
      const { payload } = await jwtVerify(token, this.#jwks.get(issuer.issuer)!.getKey, {
        issuer: issuer.issuer,
        algorithms: issuer.algorithms,
        clockTolerance: this.#auth.clockSkewSeconds,
        typ: issuer.typ,
        requiredClaims: ['exp'],
      });
      const principal = toPrincipal(payload, issuer.issuer, 'jwt');
      return { principal, cacheUntil: (payload.exp! + this.#auth.clockSkewSeconds) * 1000 };
    } catch (error) {
      throw describeJoseError(error, issuer);
    }
  }

  async #introspectShared(token: string, now: number): Promise<{ principal: Principal; cacheUntil: number }> {
    const store = this.introspectionStore;
    if (!store) return this.#introspect(token, undefined);
    const shared = await store.get(token);
    if (shared && shared.until > now) {
      this.stats.sharedHits++;
      return { principal: shared.principal, cacheUntil: shared.until };
    }
    const result = await this.#introspect(token, undefined);
    const until = Math.min(result.cacheUntil, now + this.#auth.cacheTtlSeconds * 1000);
    if (until > now) await store.set(token, { principal: result.principal, until });
    return result;
  }

  async #introspect(token: string, only: IssuerConfig | undefined): Promise<{ principal: Principal; cacheUntil: number }> {
    const candidates = only ? [only] : this.#auth.issuers.filter((i) => i.introspection);
    if (candidates.length === 0) throw invalidToken('the access token is not a JWT and no introspection endpoint is configured for opaque tokens');
    let lastError: AuthError | undefined;
    for (const is of candidates) {
      const cfg = is.introspection!;
      const as: oauth.AuthorizationServer = { issuer: is.issuer, introspection_endpoint: cfg.endpoint };
      const client: oauth.Client = { client_id: cfg.client.clientId };
      this.stats.introspections++;
      let result: oauth.IntrospectionResponse;
      try {
        const res = await oauth.introspectionRequest(as, client, await clientAuthFor(cfg.client), token, requestOptions(cfg.endpoint, 5000));
        result = await oauth.processIntrospectionResponse(as, client, res);
      } catch (error) {
        lastError = verifierUnavailable(`token introspection at ${cfg.endpoint} failed: ${introspectionFailure(error)}`);
        continue;
      }
      if (!result.active) {
        lastError = invalidToken('the access token is not active (revoked, expired or unknown to the authorization server)');
        continue;
      }
      if (result.iss !== undefined && result.iss !== is.issuer) {
        lastError = invalidToken('the introspection response names another issuer');
        continue;
      }
      const now = Date.now() / 1000;
      if (typeof result.exp === 'number' && result.exp + this.#auth.clockSkewSeconds < now) throw invalidToken('the access token has expired');
      if (typeof result.nbf === 'number' && result.nbf - this.#auth.clockSkewSeconds > now) throw invalidToken('the access token is not yet valid');
      const principal = toPrincipal(result as unknown as JWTPayload, is.issuer, 'opaque');
      const ttlEnd = (now + cfg.cacheTtlSeconds) * 1000;
      return { principal, cacheUntil: typeof result.exp === 'number' ? Math.min(result.exp * 1000, ttlEnd) : ttlEnd };
    }
    throw lastError!;
  }
}

function looksLikeJwt(token: string): boolean {
  const first = token.indexOf('.');
  return first > 0 && token.indexOf('.', first + 1) > first && token.startsWith('eyJ');
}

function toPrincipal(claims: JWTPayload & Record<string, unknown>, issuer: string, tokenKind: Principal['tokenKind']): Principal {
  const clientId = str(claims.client_id) ?? str(claims.azp) ?? str(claims.appid);
  const subject = str(claims.sub) ?? clientId;
  if (!subject) throw invalidToken('the access token names no subject (sub) or client (client_id)');
  const rawScopes = claims.scope ?? claims.scp;
  const scopes = Array.isArray(rawScopes) ? rawScopes.filter((s): s is string => typeof s === 'string') : typeof rawScopes === 'string' ? rawScopes.split(' ').filter(Boolean) : [];
  const audience = Array.isArray(claims.aud) ? claims.aud.filter((a): a is string => typeof a === 'string') : typeof claims.aud === 'string' ? [claims.aud] : [];
  return { issuer, subject, clientId, scopes, audience, expiresAt: typeof claims.exp === 'number' ? claims.exp : undefined, claims, tokenKind };
}

const str = (v: unknown) => (typeof v === 'string' && v !== '' ? v : undefined);
const truncate = (s: string) => (s.length > 80 ? `${s.slice(0, 80)}…` : s);

function requireField(meta: Record<string, unknown>, field: string, issuer: string): string {
  const v = meta[field];
  if (typeof v !== 'string') throw new Error(`authorization server metadata of ${issuer} has no ${field}`);
  return v;
}

function describeJoseError(error: unknown, issuer: IssuerConfig): AuthError {
  if (error instanceof AuthError) return error;
  if (error instanceof JwksUnavailableError) return verifierUnavailable(`cannot verify tokens of ${issuer.issuer}: its signing keys are unavailable (${error.message})`);
  if (error instanceof joseErrors.JWTExpired) return invalidToken('the access token has expired');
  if (error instanceof joseErrors.JWTClaimValidationFailed) {
    if (error.claim === 'nbf' || error.claim === 'iat') return invalidToken('the access token is not yet valid');
    if (error.claim === 'typ') return invalidToken(`the access token's typ header must be ${issuer.typ}`);
    if (error.claim === 'exp') return invalidToken('the access token has no expiry (exp)');
    return invalidToken(`the access token's ${error.claim} claim is invalid`);
  }
  if (error instanceof joseErrors.JOSEAlgNotAllowed) return invalidToken(`the access token's signing algorithm is not allowed (accepted: ${issuer.algorithms.join(', ')})`);
  if (error instanceof joseErrors.JWKSNoMatchingKey) return invalidToken("no key in the issuer's key set matches the token's kid");
  if (error instanceof joseErrors.JWSSignatureVerificationFailed) return invalidToken('the access token signature is invalid');
  if (error instanceof joseErrors.JWSInvalid || error instanceof joseErrors.JWTInvalid) return invalidToken('the access token is not a well-formed JWT');
  if (error instanceof joseErrors.JOSENotSupported) return invalidToken("the access token's algorithm or key type is not supported");
  if (error instanceof TypeError) return invalidToken("the access token's key does not match its algorithm");
  return invalidToken('the access token could not be verified');
}

function introspectionFailure(error: unknown): string {
  if (error instanceof oauth.ResponseBodyError) return `${error.error}${error.error_description ? `: ${error.error_description}` : ''}`;
  if (error instanceof oauth.OperationProcessingError) return error.message;
  return describeNetworkError(error);
}
