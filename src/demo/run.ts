// `npm start`: a self-contained demo on 127.0.0.1 — a development authorization server, a sample MCP
// server that only accepts Deputy's own credential, and Deputy in front — plus copy-paste commands.
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseConfig } from '../config/schema.ts';
import { startGateway, type Gateway } from '../gateway.ts';
import { startAuthorizationServer, TOKEN_EXCHANGE_GRANT } from './authorization-server.ts';
import { startSampleRestApi, type SampleRestApi } from './sample-rest-api.ts';
import { startSampleMcpServer } from './sample-mcp-server.ts';

export interface DemoOptions {
  port: number;
  asPort: number;
  upstreamPort: number;
  apiPort: number;
  dataDir: string;
  quiet?: boolean;
}

export interface Demo {
  gateway: Gateway;
  issuer: string;
  upstreamUrl: string;
  api: SampleRestApi;
  close(): Promise<void>;
}

export async function startDemo(opts: DemoOptions): Promise<Demo> {
  const base = `http://127.0.0.1:${opts.port}`;
  const upstreamSecret = `demo-upstream-${randomBytes(12).toString('hex')}`;
  const deputySecret = randomBytes(16).toString('hex');
  const apiBase = `http://127.0.0.1:${opts.apiPort}`;
  const as = await startAuthorizationServer({
    port: opts.asPort,
    scopes: ['mcp:tools', 'tasks'],
    clients: [
      { client_id: 'demo-client', client_secret: 'demo-secret', grant_types: ['client_credentials'], scope: 'mcp:tools' },
      // Deputy's own client: it exchanges users' tokens for tokens to the tasks API (RFC 8693).
      { client_id: 'deputy', client_secret: deputySecret, grant_types: ['client_credentials', TOKEN_EXCHANGE_GRANT], scope: 'tasks' },
    ],
    resources: { [apiBase]: { scope: 'tasks', format: 'jwt', ttlSeconds: 600 } },
    // Every Deputy endpoint is a resource server of this AS; tokens are at+jwt for that endpoint.
    defaultResource: (r) => (r === base || r.startsWith(`${base}/`) ? { scope: 'mcp:tools', format: 'jwt', ttlSeconds: 600 } : undefined),
    fallbackResource: () => `${base}/mcp/notes`,
  });
  const upstream = await startSampleMcpServer({ port: opts.upstreamPort, name: 'demo-notes', stateless: true, requireAuthorization: `Bearer ${upstreamSecret}` });
  const api = await startSampleRestApi({ issuer: as.issuer, port: opts.apiPort });
  mkdirSync(opts.dataDir, { recursive: true });
  const config = parseConfig({
    server: { host: '127.0.0.1', port: opts.port, public_url: base },
    auth: { issuers: [{ issuer: as.issuer }], required_scopes: ['mcp:tools'] },
    upstreams: [
      {
        name: 'notes', type: 'mcp', url: upstream.url, credentials: { type: 'static', headers: { Authorization: { env: 'DEPUTY_DEMO_UPSTREAM_AUTHORIZATION' } } },
        // Each user may add 5 notes a minute; the sixth gets 429 with Retry-After.
        quotas: { tools: { add_note: '5/min' } },
      },
      {
        name: 'tasks', type: 'openapi', spec: `${api.url}/openapi.json`, base_url: api.url,
        credentials: { type: 'token_exchange', token_endpoint: `${as.issuer}/token`, client_id: 'deputy', client_secret: { env: 'DEPUTY_DEMO_CLIENT_SECRET' }, resource: api.url, scope: 'tasks' },
      },
    ],
    audit: { store: `sqlite:${resolve(opts.dataDir, 'audit.db')}` },
  }, { baseDir: opts.dataDir, env: { ...process.env, DEPUTY_DEMO_UPSTREAM_AUTHORIZATION: `Bearer ${upstreamSecret}`, DEPUTY_DEMO_CLIENT_SECRET: deputySecret } });
  const gateway = await startGateway(config);
  return {
    gateway, issuer: as.issuer, upstreamUrl: upstream.url, api,
    async close() {
      await gateway.close();
      await api.close();
      await upstream.close();
      await as.close();
    },
  };
}

export function instructions(demo: Demo, dataDir: string): string {
  const base = demo.gateway.config.server.publicUrl;
  const notes = `${base}/mcp/notes`;
  const tasks = `${base}/mcp/tasks`;
  const token = (resource: string, name: string) => `  ${name}=$(curl -s -u demo-client:demo-secret -d grant_type=client_credentials \\
    -d resource=${resource} -d scope=mcp:tools ${demo.issuer}/token \\
    | node -e 'process.stdin.on("data",d=>console.log(JSON.parse(d).access_token))')`;
  const call = (url: string, name: string, tool: string, args: string) => `  curl -s ${url} -H "authorization: Bearer $${name}" \\
    -H 'content-type: application/json' -H 'accept: application/json, text/event-stream' \\
    -d '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"${tool}","arguments":${args}}}'`;
  return `
Deputy demo is running (Ctrl-C stops everything)

  Authorization server   ${demo.issuer}   (development only: logs in anyone as "alice")
  Sample MCP server      ${demo.upstreamUrl}   (accepts only Deputy's own static credential)
  Sample REST API        ${demo.api.url}   (OpenAPI at /openapi.json; accepts only tokens issued for it)
  Deputy endpoints       ${notes}   → the MCP server, static credential
                         ${tasks}   → the REST API as MCP tools, RFC 8693 token exchange per user
                         ${base}/mcp         → everything, tools named notes__… and tasks__…

1) Get an access token for Deputy's notes endpoint (client credentials + RFC 8707 resource):

${token(notes, 'TOKEN')}

2) Call a tool through Deputy:

${call(notes, 'TOKEN', 'add_note', '{"text":"hello from the demo"}')}

   Without the token you get 401 with a WWW-Authenticate challenge pointing at
   ${demo.gateway.routes.get('/mcp/notes')!.metadataUrl}

3) The REST API through token exchange: Deputy swaps your token for one issued to the API, so the API
   sees you (sub) and Deputy as the actor (act) — and never your original token:

${token(tasks, 'TASKS_TOKEN')}
${call(tasks, 'TASKS_TOKEN', 'whoami', '{}')}

   Any MCP client with OAuth support (e.g. MCP Inspector) can connect to ${base}/mcp: it discovers
   the authorization server, registers itself and logs in headlessly.

4) Quotas and limits: each user may add 5 notes a minute. Run the call from step 2 six times; the
   sixth answers HTTP 429 with Retry-After and a JSON-RPC error saying when to retry:

  for i in 1 2 3 4 5 6; do curl -s -o /dev/null -w '%{http_code} ' ${notes} -H "authorization: Bearer $TOKEN" \
    -H 'content-type: application/json' -H 'accept: application/json, text/event-stream' \
    -d '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"add_note","arguments":{"text":"x"}}}'; done; echo

5) MCP 2026-07-28 (stateless: no initialize, no session) on the same endpoints. The mirrored headers
   must agree with the body; try changing Mcp-Name to get 400 -32020:

  curl -s ${notes} -H "authorization: Bearer $TOKEN" \
    -H 'content-type: application/json' -H 'accept: application/json, text/event-stream' \
    -H 'mcp-protocol-version: 2026-07-28' -H 'mcp-method: tools/call' -H 'mcp-name: list_notes' \
    -d '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"list_notes","arguments":{},"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}}}'

6) See the audit trail (who, what, which credential — never a token; the 429s are "throttled"):

  npm run deputy -- audit --store sqlite:${resolve(dataDir, 'audit.db')}
`;
}
