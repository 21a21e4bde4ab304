/**
 * Why a request was not authorized, in RFC 6750 terms. `error` is the RFC 6750 §3.1 code; it is
 * undefined when the request carried no credentials at all (the challenge then has no `error`).
 * Descriptions are written for humans and never contain token material.
 */
export class AuthError extends Error {
  override name = 'AuthError';
  readonly status: 400 | 401 | 403 | 503;
  readonly error?: 'invalid_request' | 'invalid_token' | 'insufficient_scope';
  /** Scopes that would satisfy the request (for `insufficient_scope`). */
  readonly scopes?: string[];
  constructor(status: AuthError['status'], error: AuthError['error'], description: string, scopes?: string[]) {
    super(description);
    this.status = status;
    this.error = error;
    this.scopes = scopes;
  }
}

export const missingToken = () => new AuthError(401, undefined, 'authentication required: send an access token for this resource in the Authorization header (Bearer)');
export const invalidToken = (why: string) => new AuthError(401, 'invalid_token', why);
export const invalidRequest = (why: string) => new AuthError(400, 'invalid_request', why);
export const insufficientScope = (scopes: string[]) => new AuthError(403, 'insufficient_scope', `this request needs the scope${scopes.length > 1 ? 's' : ''} ${scopes.join(' ')}`, scopes);
export const verifierUnavailable = (why: string) => new AuthError(503, undefined, why);
