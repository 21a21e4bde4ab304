// WWW-Authenticate values per RFC 6750 §3 and the MCP authorization spec: always point the client at
// the RFC 9728 metadata and say which scope to ask for; add `error` only when a token was presented.
import type { AuthError } from './errors.ts';

export function challenge(err: AuthError | undefined, opts: { resourceMetadata: string; scopes: string[] }): string {
  const params: [string, string][] = [];
  if (err?.error) params.push(['error', err.error]);
  if (err?.error && err.message) params.push(['error_description', err.message]);
  params.push(['resource_metadata', opts.resourceMetadata]);
  const scopes = err?.error === 'insufficient_scope' && err.scopes?.length ? err.scopes : opts.scopes;
  if (scopes.length) params.push(['scope', scopes.join(' ')]);
  return `Bearer ${params.map(([k, v]) => `${k}="${quote(v)}"`).join(', ')}`;
}

/** RFC 9110 quoted-string: escape backslash and double quote; drop characters that cannot appear. */
export function quote(value: string): string {
  return value.replace(/[\\"]/g, '\\$&').replace(/[^\t\x20-\x7e\x80-\xff]/g, '');
}
