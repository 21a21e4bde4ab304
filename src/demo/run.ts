// `npm start`: a self-contained demo on 127.0.0.1 — a development authorization server, a sample MCP
// server that only accepts Deputy's own credential, and Deputy in front — plus copy-paste commands.
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseConfig } from '../config/schema.ts';
import { startGateway, type Gateway } from '../gateway.ts';
import { startAuthorizationServer } from './authorization-server.ts';
import { startSampleMcpServer } from './sample-mcp-server.ts';

export interface DemoOptions {
  port: number;
  asPort: number;
  upstreamPort: number;
  dataDir: string;
  quiet?: boolean;
}

export interface Demo {
  gateway: Gateway;
  issuer: string;
  upstreamUrl: string;
  close(): Promise<void>;
}

export async function startDemo(opts: DemoOptions): Promise<Demo> {
  const base = `http://127.0.0.1:${opts.port}`;
  const upstreamSecret = `demo-upstream-${randomBytes(12).toString('hex')}`;
  const as = await startAuthorizationServer({
    port: opts.asPort,
    scopes: ['mcp:tools'],
    clients: [{ client_id: 'demo-client', client_secret: 'demo-secret', grant_types: ['client_credentials'], scope: 'mcp:tools' }],
    // Every Deputy endpoint is a resource server of this AS; tokens are at+jwt for that endpoint.
    defaultResource: (r) => (r === base || r.startsWith(`${base}/`) ? { scope: 'mcp:tools', format: 'jwt', ttlSeconds: 600 } : undefined),
    fallbackResource: () => `${base}/mcp/notes`,
  });
  const upstream = await startSampleMcpServer({ port: opts.upstreamPort, name: 'demo-notes', stateless: true, requireAuthorization: `Bearer ${upstreamSecret}` });
  mkdirSync(opts.dataDir, { recursive: true });
  const config = parseConfig({
    server: { host: '127.0.0.1', port: opts.port, public_url: base },
    auth: { issuers: [{ issuer: as.issuer }], required_scopes: ['mcp:tools'] },
    upstreams: [{ name: 'notes', type: 'mcp', url: upstream.url, credentials: { type: 'static', headers: { Authorization: { env: 'DEPUTY_DEMO_UPSTREAM_AUTHORIZATION' } } } }],
    audit: { store: `sqlite:${resolve(opts.dataDir, 'audit.db')}` },
  }, { baseDir: opts.dataDir, env: { ...process.env, DEPUTY_DEMO_UPSTREAM_AUTHORIZATION: `Bearer ${upstreamSecret}` } });
  const gateway = await startGateway(config);
  return {
    gateway, issuer: as.issuer, upstreamUrl: upstream.url,
    async close() {
      await gateway.close();
      await upstream.close();
      await as.close();
    },
  };
}

export function instructions(demo: Demo, dataDir: string): string {
  const mcp = `${demo.gateway.config.server.publicUrl}/mcp/notes`;
  return `
Deputy demo is running (Ctrl-C stops everything)

  Authorization server   ${demo.issuer}   (development only: logs in anyone as "alice")
  Sample MCP server      ${demo.upstreamUrl}   (accepts only Deputy's own credential)
  Deputy                 ${mcp}
  Protected resource metadata  ${demo.gateway.routes.get('/mcp/notes')!.metadataUrl}

1) Get an access token for Deputy (client credentials, RFC 8707 resource):

  TOKEN=$(curl -s -u demo-client:demo-secret -d grant_type=client_credentials \\
    -d resource=${mcp} -d scope=mcp:tools ${demo.issuer}/token \\
    | node -e 'process.stdin.on("data",d=>console.log(JSON.parse(d).access_token))')

2) Call a tool through Deputy:

  curl -s ${mcp} -H "authorization: Bearer $TOKEN" \\
    -H 'content-type: application/json' -H 'accept: application/json, text/event-stream' \\
    -d '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"add_note","arguments":{"text":"hello from the demo"}}}'

   Without the token you get 401 with a WWW-Authenticate challenge pointing at the metadata above.
   Any MCP client with OAuth support (e.g. MCP Inspector) can connect to ${mcp}:
   it discovers the authorization server, registers itself and logs in headlessly.

3) See the audit trail (who, what, which credential — never a token):

  npm run deputy -- audit --store sqlite:${resolve(dataDir, 'audit.db')}
`;
}
