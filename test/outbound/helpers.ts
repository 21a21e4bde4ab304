// Shared pieces of the outbound tests: Deputy's own client at the AS, verification of what the
// upstream received, and the canary check (the client's token must appear nowhere).
import assert from 'node:assert/strict';
import { createRemoteJWKSet, jwtVerify, type JWTPayload } from 'jose';
import type { AuthorizationServer, StaticClient } from '../../src/demo/authorization-server.ts';
import { TOKEN_EXCHANGE_GRANT, JWT_BEARER_GRANT } from '../../src/demo/authorization-server.ts';
import type { SampleServer } from '../../src/demo/sample-mcp-server.ts';
import type { Gateway } from '../../src/gateway.ts';
import { initializeMessage, logLines, mcpPost, TEST_CLIENT } from '../support/stack.ts';

export { TOKEN_EXCHANGE_GRANT, JWT_BEARER_GRANT };
export const DEPUTY_SECRET = 'deputy-client-secret-0123456789';

/** Deputy as a client of the AS: may run client credentials, token exchange and jwt-bearer OBO. */
export function deputyClient(overrides: Partial<StaticClient> = {}): StaticClient {
  return {
    client_id: 'deputy',
    client_secret: DEPUTY_SECRET,
    grant_types: ['client_credentials', TOKEN_EXCHANGE_GRANT, JWT_BEARER_GRANT],
    scope: 'notes:read',
    ...overrides,
  };
}

export const clients = (...extra: StaticClient[]) => [TEST_CLIENT, ...extra];

/** The bearer token the upstream received on its last request. */
export function lastUpstreamToken(upstream: SampleServer): string {
  const auth = upstream.requests.at(-1)?.headers.authorization;
  assert.ok(typeof auth === 'string' && auth.startsWith('Bearer '), 'upstream got no bearer token');
  return auth.slice('Bearer '.length);
}

/** Verifies a token the AS issued (signature, issuer) and returns its claims. */
export async function verifyAsToken(as: AuthorizationServer, token: string): Promise<JWTPayload> {
  const { payload } = await jwtVerify(token, createRemoteJWKSet(new URL(`${as.issuer}/jwks`)), { issuer: as.issuer });
  return payload;
}

export function tokenRequests(as: AuthorizationServer, grant: string): number {
  return as.tokenRequests.get(grant) ?? 0;
}

/** The client's token (the canary) reached neither the upstream, a log line, the audit trail nor the given bodies. */
export async function assertCanaryNowhere(canary: string, where: { upstreams: SampleServer[]; deputy: Gateway; bodies?: string[] }): Promise<void> {
  for (const u of where.upstreams) assert.ok(!JSON.stringify(u.requests).includes(canary), 'client token reached the upstream');
  assert.ok(!logLines.join('\n').includes(canary), 'client token appears in a log line');
  await where.deputy.audit.flush();
  assert.ok(!JSON.stringify(await where.deputy.audit.query({})).includes(canary), 'client token appears in the audit trail');
  for (const b of where.bodies ?? []) assert.ok(!b.includes(canary), 'client token appears in an error body');
}

export const callTool = (id: number, name = 'add', args: Record<string, unknown> = { a: 1, b: 2 }) => ({ jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: args } });

/** One raw MCP request (initialize: works without a session) with the user's token. */
export async function post(url: string, token: string, id = 1): Promise<{ status: number; body: string }> {
  const res = await mcpPost(url, initializeMessage(id), { authorization: `Bearer ${token}` });
  return { status: res.status, body: await res.text() };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
