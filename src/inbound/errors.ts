// Why a request was not authorized, in RFC 6750 terms, as typed refusals: each has a stable code in
// src/errors.ts (status, audit outcome) and the RFC 6750 §3.1 `error` for the challenge. Descriptions
// are written for humans and never contain token material.
import { DeputyError, type ErrorCode } from '../errors.ts';

type AuthCode = Extract<ErrorCode, 'ERR_TOKEN_MISSING' | 'ERR_TOKEN_INVALID' | 'ERR_AUTH_REQUEST_INVALID' | 'ERR_INSUFFICIENT_SCOPE' | 'ERR_VERIFIER_UNAVAILABLE'>;

const RFC6750: Record<AuthCode, AuthError['error']> = {
  ERR_TOKEN_MISSING: undefined, // no credentials at all: the challenge carries no `error` (RFC 6750 §3.1)
  ERR_TOKEN_INVALID: 'invalid_token',
  ERR_AUTH_REQUEST_INVALID: 'invalid_request',
  ERR_INSUFFICIENT_SCOPE: 'insufficient_scope',
  ERR_VERIFIER_UNAVAILABLE: undefined,
};

export class AuthError extends DeputyError {
  declare readonly code: AuthCode;
  /** Scopes that would satisfy the request (for `insufficient_scope`). */
  readonly scopes?: string[];
  constructor(code: AuthCode, description: string, scopes?: string[]) {
    super(code, description, code === 'ERR_VERIFIER_UNAVAILABLE' ? { headers: { 'retry-after': '5' } } : {});
    this.scopes = scopes;
  }

  /** The RFC 6750 §3.1 error code, if any. */
  get error(): 'invalid_request' | 'invalid_token' | 'insufficient_scope' | undefined {
    return RFC6750[this.code];
  }
}

export const missingToken = () => new AuthError('ERR_TOKEN_MISSING', 'authentication required: send an access token for this resource in the Authorization header (Bearer)');
export const invalidToken = (why: string) => new AuthError('ERR_TOKEN_INVALID', why);
export const invalidRequest = (why: string) => new AuthError('ERR_AUTH_REQUEST_INVALID', why);
export const insufficientScope = (scopes: string[]) => new AuthError('ERR_INSUFFICIENT_SCOPE', `this request needs the scope${scopes.length > 1 ? 's' : ''} ${scopes.join(' ')}`, scopes);
export const verifierUnavailable = (why: string) => new AuthError('ERR_VERIFIER_UNAVAILABLE', why);
