// `npm start`: a self-contained demo on 127.0.0.1 — a development authorization server, a sample MCP
// server that only accepts Deputy's own credential, a REST API, a third-party service with its own
// authorization server (connected accounts), and Deputy in front — plus copy-paste commands.
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseConfig } from '../config/schema.ts';
import { startGateway, type Gateway } from '../gateway.ts';
import { startAuthorizationServer, TOKEN_EXCHANGE_GRANT } from './authorization-server.ts';
import { startSampleRestApi, type SampleRestApi } from './sample-rest-api.ts';
import { startSampleMcpServer } from './sample-mcp-server.ts';
import { startTracker, type Tracker } from './tracker.ts';

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
  /** The third-party service (its own authorization server, which knows only its own users). */
  tracker: Tracker;
  trackerIssuer: string;
  /** A token for alice at /mcp/tracker, as her MCP client would hold after logging in. */
  aliceToken: string;
  close(): Promise<void>;
}

export async function startDemo(opts: DemoOptions): Promise<Demo> {
  const base = `http://127.0.0.1:${opts.port}`;
  const upstreamSecret = `demo-upstream-${randomBytes(12).toString('hex')}`;
  const deputySecret = randomBytes(16).toString('hex');
  const apiBase = `http://127.0.0.1:${opts.apiPort}`;
  const webSecret = randomBytes(16).toString('hex');
  const vaultKey = randomBytes(32).toString('base64');
  const as = await startAuthorizationServer({
    port: opts.asPort,
    scopes: ['mcp:tools', 'tasks'],
    clients: [
      { client_id: 'demo-client', client_secret: 'demo-secret', grant_types: ['client_credentials'], scope: 'mcp:tools' },
      // Deputy's own client: it exchanges users' tokens for tokens to the tasks API (RFC 8693).
      { client_id: 'deputy', client_secret: deputySecret, grant_types: ['client_credentials', TOKEN_EXCHANGE_GRANT], scope: 'tasks' },
      // Deputy's sign-in for its connect pages (OIDC at the same IdP as the MCP tokens).
      { client_id: 'deputy-web', client_secret: webSecret, grant_types: ['authorization_code'], response_types: ['code'], redirect_uris: [`${base}/connect/login/callback`], scope: 'openid' },
    ],
    resources: { [apiBase]: { scope: 'tasks', format: 'jwt', ttlSeconds: 600 } },
    // Every Deputy endpoint is a resource server of this AS; tokens are at+jwt for that endpoint.
    defaultResource: (r) => (r === base || r.startsWith(`${base}/`) ? { scope: 'mcp:tools', format: 'jwt', ttlSeconds: 600 } : undefined),
    fallbackResource: () => `${base}/mcp/notes`,
  });
  // A third-party service: its own AS (interactive sign-in and consent, rotating refresh tokens; it
  // knows only its own users) and a remote MCP server that accepts only that AS's tokens.
  const trackerSecret = randomBytes(16).toString('hex');
  let trackerUrl = '';
  const trackerAs = await startAuthorizationServer({
    interactive: true,
    refreshTokens: { rotate: true },
    scopes: ['issues:read', 'issues:write'],
    clients: [{ client_id: 'deputy', client_secret: trackerSecret, redirect_uris: [`${base}/connect/callback`], grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'] }],
    defaultResource: (r) => (r === trackerUrl ? { scope: 'issues:read issues:write', format: 'jwt', ttlSeconds: 900 } : undefined),
  });
  const tracker = await startTracker({ issuer: trackerAs.issuer });
  trackerUrl = tracker.url;
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
      {
        // Connected accounts: each user connects their own tracker account once; Deputy then calls the
        // tracker with that user's token, held encrypted in the vault and refreshed there.
        name: 'tracker', type: 'mcp', url: tracker.url, protocol: '2025-11-25',
        credentials: { type: 'user_oauth', issuer: trackerAs.issuer, client_id: 'deputy', client_secret: { env: 'DEPUTY_DEMO_TRACKER_SECRET' }, scopes: ['issues:read', 'issues:write'] },
      },
    ],
    audit: { store: `sqlite:${resolve(opts.dataDir, 'audit.db')}` },
    vault: { store: `sqlite:${resolve(opts.dataDir, 'vault.db')}`, keys: [{ id: 'demo', secret: { env: 'DEPUTY_DEMO_VAULT_KEY' } }] },
    login: { issuer: as.issuer, client_id: 'deputy-web', client_secret: { env: 'DEPUTY_DEMO_WEB_SECRET' } },
  }, { baseDir: opts.dataDir, env: { ...process.env, DEPUTY_DEMO_UPSTREAM_AUTHORIZATION: `Bearer ${upstreamSecret}`, DEPUTY_DEMO_CLIENT_SECRET: deputySecret, DEPUTY_DEMO_TRACKER_SECRET: trackerSecret, DEPUTY_DEMO_WEB_SECRET: webSecret, DEPUTY_DEMO_VAULT_KEY: vaultKey } });
  const gateway = await startGateway(config);
  const aliceToken = await as.issueUserToken({ accountId: 'alice', clientId: 'demo-client', resource: `${base}/mcp/tracker`, scope: 'mcp:tools', ttlSeconds: 3600 });
  return {
    gateway, issuer: as.issuer, upstreamUrl: upstream.url, api, tracker, trackerIssuer: trackerAs.issuer, aliceToken,
    async close() {
      await gateway.close();
      await tracker.close();
      await trackerAs.close();
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
  Tracker (third party)  ${demo.tracker.url}   (its own authorization server ${demo.trackerIssuer},
                         which knows only its own users)
  Deputy endpoints       ${notes}   → the MCP server, static credential
                         ${tasks}   → the REST API as MCP tools, RFC 8693 token exchange per user
                         ${base}/mcp/tracker → the tracker, with each user's own connected account
                         ${base}/mcp         → everything, tools named notes__…, tasks__… and tracker__…

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

6) Connected accounts: the tracker wants its own OAuth login, per user. Here is a token for alice,
   as her MCP client would hold after logging in:

  ALICE=${demo.aliceToken}

${call(`${base}/mcp/tracker`, 'ALICE', 'whoami', '{}')}

   curl cannot open a browser, so the answer is a tool error with a connect link (clients with URL
   elicitation get the link as -32042 or a 2026 input_required instead). Open the link in a browser:
   you sign in at the IdP (it logs you in as alice), then at the tracker's own authorization server
   (any name, e.g. ada) and allow access. Run the same curl again: the tracker answers "ada" — it sees
   its own user, never alice's Deputy token. Manage connections at ${base}/connections, or:

  npm run deputy -- connections list --config <your deputy.yaml>   (the demo's vault: ${resolve(dataDir, 'vault.db')})

7) See the audit trail (who, what, which credential — never a token; the 429s are "throttled",
   the first tracker call "consent_required", then "connected" under route accounts):

  npm run deputy -- audit --store sqlite:${resolve(dataDir, 'audit.db')}
`;
}
