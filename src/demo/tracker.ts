// A small third-party remote MCP server (an issue tracker) for the connected-accounts demo and tests.
// It trusts only its own authorization server: every request needs a JWT access token from that AS
// whose audience is the tracker's URL, and it records every request's headers so tests can prove
// which user's token arrived (and that no foreign token, e.g. one for Deputy, ever did).
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import * as jose from 'jose';
import { z } from 'zod';

export interface TrackerOptions {
  /** The authorization server whose tokens the tracker accepts (its RFC 9728 metadata names it). */
  issuer: string;
  port?: number;
  /** Advertised as scopes_supported in the protected-resource metadata (not enforced). */
  scopes?: string[];
}

export interface Tracker {
  /** The MCP endpoint, `http://127.0.0.1:<port>/mcp`: also the resource (audience) tokens must name. */
  url: string;
  /** Every request received, including rejected ones. */
  requests: { headers: IncomingHttpHeaders; body: string }[];
  /** Access tokens the tracker treats as revoked (401 invalid_token), as if its AS had revoked them. */
  revoked: Set<string>;
  close(): Promise<void>;
}

/** `admin_report` needs this scope beyond the usual ones: without it the tracker answers 403 insufficient_scope. */
export const ADMIN_SCOPE = 'issues:admin';

const METADATA_PATH = '/.well-known/oauth-protected-resource/mcp';

function buildServer(issues: Map<string, string[]>): McpServer {
  const server = new McpServer({ name: 'tracker', version: '1.0.0' });
  const subOf = (extra: { authInfo?: { extra?: Record<string, unknown> } }) => String(extra.authInfo?.extra?.sub);
  server.registerTool('whoami', { description: 'Who the tracker thinks you are', annotations: { readOnlyHint: true } }, async (extra) => ({
    content: [{ type: 'text', text: subOf(extra) }],
  }));
  server.registerTool('create_issue', { description: 'Create an issue', inputSchema: { title: z.string().min(1).max(200) } }, async ({ title }, extra) => {
    const sub = subOf(extra);
    const mine = issues.get(sub) ?? [];
    mine.push(title);
    issues.set(sub, mine);
    return { content: [{ type: 'text', text: `created issue #${mine.length} for ${sub}` }] };
  });
  server.registerTool('admin_report', { description: `A report for admins (needs the ${ADMIN_SCOPE} scope)`, annotations: { readOnlyHint: true } }, async (extra) => ({
    content: [{ type: 'text', text: `report for ${subOf(extra)}: ${[...issues.values()].flat().length} issues in all` }],
  }));
  server.registerTool('list_issues', { description: 'List your issues', annotations: { readOnlyHint: true } }, async (extra) => {
    const mine = issues.get(subOf(extra)) ?? [];
    return { content: [{ type: 'text', text: mine.length ? mine.map((t, i) => `#${i + 1} ${t}`).join('\n') : '(no issues)' }] };
  });
  return server;
}

export async function startTracker(opts: TrackerOptions): Promise<Tracker> {
  const issuer = opts.issuer.replace(/\/$/, '');
  const requests: Tracker['requests'] = [];
  const issues = new Map<string, string[]>();
  let url = '';
  let metadataUrl = '';

  // The AS's keys, found through its discovery document on first use (retried after a failure).
  let keys: Promise<ReturnType<typeof jose.createRemoteJWKSet>> | undefined;
  const jwks = () => (keys ??= (async () => {
    const res = await fetch(`${issuer}/.well-known/openid-configuration`);
    if (!res.ok) throw new Error(`discovery failed: ${res.status}`);
    const { jwks_uri } = (await res.json()) as { jwks_uri?: string };
    if (!jwks_uri) throw new Error('discovery has no jwks_uri');
    return jose.createRemoteJWKSet(new URL(jwks_uri));
  })().catch((e) => { keys = undefined; throw e; }));

  const revoked = new Set<string>();
  const http: Server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    requests.push({ headers: req.headers, body: raw });
    const path = (req.url ?? '').split('?')[0];
    if (path === METADATA_PATH && req.method === 'GET') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({
        resource: url, authorization_servers: [issuer], bearer_methods_supported: ['header'], resource_name: 'Tracker',
        ...(opts.scopes ? { scopes_supported: opts.scopes } : {}),
      }));
      return;
    }
    if (path !== '/mcp') return void res.writeHead(404).end();

    const challenge = (error?: string) => {
      res.writeHead(401, { 'content-type': 'application/json', 'www-authenticate': `Bearer resource_metadata="${metadataUrl}"${error ? `, error="${error}"` : ''}` })
        .end(JSON.stringify({ error: error ?? 'unauthorized' }));
    };
    const m = /^Bearer ([A-Za-z0-9._~+/-]+=*)$/i.exec(req.headers.authorization ?? '');
    if (!m) return challenge();
    let payload: jose.JWTPayload;
    try {
      ({ payload } = await jose.jwtVerify(m[1], await jwks(), { issuer, audience: url, typ: 'at+jwt' }));
    } catch {
      return challenge('invalid_token');
    }
    if (!payload.sub || revoked.has(m[1])) return challenge('invalid_token');
    const scopes = String(payload.scope ?? '').split(' ').filter(Boolean);
    if (!scopes.includes(ADMIN_SCOPE) && /"name"\s*:\s*"admin_report"/.test(raw)) {
      // Step-up (RFC 6750 §3.1): this tool needs a scope the token lacks; the challenge names what is needed.
      res.writeHead(403, { 'content-type': 'application/json', 'www-authenticate': `Bearer error="insufficient_scope", scope="${[...scopes, ADMIN_SCOPE].join(' ')}", resource_metadata="${metadataUrl}"` }).end('{"error":"insufficient_scope"}');
      return;
    }

    // Stateless: one SDK server per request; the verified subject reaches the tools as authInfo.
    Object.assign(req, { auth: { token: m[1], clientId: String(payload.client_id ?? ''), scopes: String(payload.scope ?? '').split(' ').filter(Boolean), extra: { sub: payload.sub } } });
    try {
      const server = buildServer(issues);
      const t = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
      res.on('close', () => { void t.close(); void server.close(); });
      await server.connect(t);
      await t.handleRequest(req, res, raw ? JSON.parse(raw) : undefined);
    } catch (error) {
      if (!res.headersSent) res.writeHead(500).end(String(error));
    }
  });
  await new Promise<void>((r) => http.listen(opts.port ?? 0, '127.0.0.1', () => r()));
  const port = (http.address() as AddressInfo).port;
  url = `http://127.0.0.1:${port}/mcp`;
  metadataUrl = `http://127.0.0.1:${port}${METADATA_PATH}`;
  return {
    url,
    requests,
    revoked,
    async close() {
      await new Promise<void>((r) => { http.close(() => r()); http.closeAllConnections(); });
    },
  };
}
