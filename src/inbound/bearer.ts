// RFC 6750 §2.1: the token comes from the Authorization header only. Query-string (§2.3) and
// form-body (§2.2) tokens are refused: they leak into logs, proxies and browser history.
import type { IncomingHttpHeaders } from 'node:http';
import { invalidRequest, invalidToken, missingToken } from './errors.ts';

export const MAX_TOKEN_BYTES = 16_384;
/** RFC 6750 b64token. */
const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;

/**
 * The bearer token of a request. `rawHeaders`, when given, is checked for a repeated Authorization
 * header: Node keeps the first and drops the rest, and two credentials on one request is ambiguous
 * (a smuggling shape), so it is refused rather than resolved.
 */
export function extractBearer(headers: IncomingHttpHeaders, url: string, rawHeaders?: readonly string[]): string {
  if (rawHeaders && countHeader(rawHeaders, 'authorization') > 1) throw invalidRequest('the request has more than one Authorization header; send exactly one');
  if (hasQueryToken(url)) throw invalidRequest('access tokens in the query string are not accepted; send them in the Authorization header');
  const header = headers.authorization;
  if (header === undefined) throw missingToken();
  const space = header.indexOf(' ');
  const scheme = space === -1 ? header : header.slice(0, space);
  if (scheme.toLowerCase() !== 'bearer') throw missingToken(); // another scheme is not a bearer token: challenge again
  const token = header.slice(space + 1).trim();
  if (token === '' || space === -1) throw invalidRequest('the Authorization header has the Bearer scheme but no token');
  if (token.length > MAX_TOKEN_BYTES) throw invalidToken(`the access token is longer than ${MAX_TOKEN_BYTES} bytes`);
  if (!B64TOKEN.test(token)) throw invalidToken('the access token contains characters not allowed in a bearer token');
  return token;
}

function hasQueryToken(url: string): boolean {
  const q = url.indexOf('?');
  return q !== -1 && new URLSearchParams(url.slice(q + 1)).has('access_token');
}

function countHeader(raw: readonly string[], name: string): number {
  let n = 0;
  for (let i = 0; i < raw.length; i += 2) if (raw[i]!.length === name.length && raw[i]!.toLowerCase() === name) n++;
  return n;
}
