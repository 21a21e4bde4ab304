// Test harness: a real authorization server, real SDK-built upstreams and Deputy in front, all on
// 127.0.0.1 with ephemeral ports. Logs are captured so tests can assert nothing sensitive is written.
import { onCleanup } from './cleanup.ts';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { parseConfig } from '../../src/config/schema.ts';
import { startAuthorizationServer, type AuthorizationServer, type AuthorizationServerOptions } from '../../src/demo/authorization-server.ts';
import { startSampleMcpServer, type SampleServer, type SampleServerOptions } from '../../src/demo/sample-mcp-server.ts';
import { startGateway, type Gateway } from '../../src/gateway.ts';
import { setLogSink } from '../../src/log.ts';

export const logLines: string[] = [];
setLogSink((line) => logLines.push(line));

export const TEST_CLIENT = { client_id: 'test-client', client_secret: 'test-client-secret', grant_types: ['client_credentials', 'authorization_code'], redirect_uris: ['http://127.0.0.1/cb'], response_types: ['code'], scope: 'mcp:tools mcp:admin' };

export async function startAs(opts: AuthorizationServerOptions = {}): Promise<AuthorizationServer> {
  const as = await startAuthorizationServer({
    scopes: ['mcp:tools', 'mcp:admin', 'notes:read'],
    clients: [TEST_CLIENT],
    // Any loopback resource is a JWT resource server (Deputy's endpoints get random ports).
    defaultResource: (r) => (r.startsWith('http://127.0.0.1:') ? { scope: 'mcp:tools mcp:admin notes:read', format: 'jwt' } : undefined),
    ...opts,
  });
  onCleanup(() => as.close());
  return as;
}

export async function startUpstream(opts: SampleServerOptions = {}): Promise<SampleServer> {
  const s = await startSampleMcpServer(opts);
  onCleanup(() => s.close());
  return s;
}

export interface DeputyOptions {
  issuers?: unknown[];
  upstreams: unknown[];
  auth?: Record<string, unknown>;
  server?: Record<string, unknown>;
  env?: Record<string, string>;
  audit?: string;
  /** Top-level `aggregate:` (naming on /mcp). */
  aggregate?: Record<string, unknown>;
  /** Top-level `limits:` (overload protection). */
  limits?: Record<string, unknown>;
  /** Top-level `quotas:`. */
  quotas?: Record<string, unknown>;
  state?: Record<string, unknown>;
  /** `audit.export` entries. */
  auditExport?: unknown[];
  /** Connected accounts: `vault:` and `login:`. */
  vault?: Record<string, unknown>;
  login?: Record<string, unknown>;
  admin?: Record<string, unknown>;
}

export async function startDeputy(as: AuthorizationServer | undefined, opts: DeputyOptions): Promise<Gateway> {
  const config = parseConfig({
    server: { host: '127.0.0.1', port: 0, ...opts.server },
    auth: { issuers: opts.issuers ?? [{ issuer: as!.issuer }], ...opts.auth },
    upstreams: opts.upstreams,
    audit: { store: opts.audit ?? 'sqlite::memory:', ...(opts.auditExport ? { export: opts.auditExport } : {}) },
    ...(opts.aggregate ? { aggregate: opts.aggregate } : {}),
    ...(opts.limits ? { limits: opts.limits } : {}),
    ...(opts.quotas ? { quotas: opts.quotas } : {}),
    ...(opts.state ? { state: opts.state } : {}),
    ...(opts.vault ? { vault: opts.vault } : {}),
    ...(opts.login ? { login: opts.login } : {}),
    ...(opts.admin ? { admin: opts.admin } : {}),
  }, { baseDir: process.cwd(), env: { ...process.env, ...opts.env } });
  const gw = await startGateway(config);
  onCleanup(() => gw.close());
  return gw;
}

/** A user token for a Deputy endpoint, minted by the AS exactly as the authorization-code flow would. */
export function userToken(as: AuthorizationServer, resource: string, opts: { sub?: string; scope?: string; ttlSeconds?: number; claims?: Record<string, unknown> } = {}): Promise<string> {
  return as.issueUserToken({ accountId: opts.sub ?? 'alice', clientId: TEST_CLIENT.client_id, resource, scope: opts.scope ?? 'mcp:tools', ttlSeconds: opts.ttlSeconds, claims: opts.claims });
}

export async function connectClient(url: string, token: string): Promise<Client> {
  const client = new Client({ name: 'test-client', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers: { authorization: `Bearer ${token}` } } }));
  onCleanup(() => client.close().catch(() => {}));
  return client;
}

/** Raw MCP POST, for protocol-level assertions. */
export async function mcpPost(url: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

export const initializeMessage = (id: number | string = 1) => ({
  jsonrpc: '2.0', id, method: 'initialize',
  params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '0' } },
});
