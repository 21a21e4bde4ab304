// `npm start`: a self-contained demo on 127.0.0.1 — a development authorization server, a sample MCP
// server that only accepts Deputy's own credential, a REST API, a third-party service with its own
// authorization server (connected accounts), a second one that trusts the IdP's identity assertions
// (ID-JAG), and Deputy in front with its admin console and an audit export — plus copy-paste commands.
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseConfig } from '../config/schema.ts';
import { startGateway, type Gateway } from '../gateway.ts';
import { JWT_BEARER_GRANT, startAuthorizationServer, TOKEN_EXCHANGE_GRANT } from './authorization-server.ts';
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
  /** The service that trusts the IdP's identity assertions (ID-JAG), and alice's token for /mcp/search. */
  search: Tracker;
  aliceSearchToken: string;
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
    // The enterprise IdP also mints identity assertions (ID-JAG) for other authorization servers.
    idJag: {},
    scopes: ['mcp:tools', 'tasks'],
    clients: [
      { client_id: 'demo-client', client_secret: 'demo-secret', grant_types: ['client_credentials'], scope: 'mcp:tools' },
      // Deputy's own client: it exchanges users' tokens for tokens to the tasks API (RFC 8693).
      { client_id: 'deputy', client_secret: deputySecret, grant_types: ['client_credentials', TOKEN_EXCHANGE_GRANT], scope: 'tasks' },
      // Deputy's sign-in for its connect pages (OIDC at the same IdP as the MCP tokens).
      { client_id: 'deputy-web', client_secret: webSecret, grant_types: ['authorization_code'], response_types: ['code'], redirect_uris: [`${base}/connect/login/callback`, `${base}/admin/callback`], scope: 'openid' },
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
  // Another third-party service whose AS trusts the IdP's identity assertions (ID-JAG): Deputy gets
  // each user a token there with no consent screen at all.
  let searchUrl = '';
  const searchAs = await startAuthorizationServer({
    scopes: ['search'],
    clients: [{ client_id: 'deputy', client_secret: deputySecret, grant_types: [JWT_BEARER_GRANT], token_endpoint_auth_method: 'client_secret_basic' }],
    trustIdJagFrom: [{ issuer: as.issuer }],
    defaultResource: (r) => (r === searchUrl ? { scope: 'search', format: 'jwt', ttlSeconds: 600 } : undefined),
  });
  const search = await startTracker({ issuer: searchAs.issuer });
  searchUrl = search.url;
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
      {
        // ID-JAG: an identity assertion from the IdP (RFC 8693 there), redeemed at the service's AS (RFC 7523).
        name: 'search', type: 'mcp', url: search.url, protocol: '2025-11-25',
        credentials: { type: 'id_jag', idp_token_endpoint: `${as.issuer}/token`, client_id: 'deputy', client_secret: { env: 'DEPUTY_DEMO_CLIENT_SECRET' }, audience: searchAs.issuer, token_endpoint: `${searchAs.issuer}/token`, resource: search.url, scope: 'search' },
      },
    ],
    // Every event, hash-chained in SQLite, and shipped as OCSF JSON lines (a SIEM would read this file).
    audit: { store: `sqlite:${resolve(opts.dataDir, 'audit.db')}`, export: [{ sink: 'file', path: resolve(opts.dataDir, 'audit-ocsf.jsonl'), format: 'ocsf' }] },
    // The admin console, for alice (the demo IdP signs everyone in as alice).
    admin: { enabled: true, claims: { sub: ['alice'] }, scope: ['openid'] },
    vault: { store: `sqlite:${resolve(opts.dataDir, 'vault.db')}`, keys: [{ id: 'demo', secret: { env: 'DEPUTY_DEMO_VAULT_KEY' } }] },
    login: { issuer: as.issuer, client_id: 'deputy-web', client_secret: { env: 'DEPUTY_DEMO_WEB_SECRET' } },
  }, { baseDir: opts.dataDir, env: { ...process.env, DEPUTY_DEMO_UPSTREAM_AUTHORIZATION: `Bearer ${upstreamSecret}`, DEPUTY_DEMO_CLIENT_SECRET: deputySecret, DEPUTY_DEMO_TRACKER_SECRET: trackerSecret, DEPUTY_DEMO_WEB_SECRET: webSecret, DEPUTY_DEMO_VAULT_KEY: vaultKey } });
  const gateway = await startGateway(config);
  const aliceToken = await as.issueUserToken({ accountId: 'alice', clientId: 'demo-client', resource: `${base}/mcp/tracker`, scope: 'mcp:tools', ttlSeconds: 3600 });
  const aliceSearchToken = await as.issueUserToken({ accountId: 'alice', clientId: 'demo-client', resource: `${base}/mcp/search`, scope: 'mcp:tools', ttlSeconds: 3600 });
  return {
    gateway, issuer: as.issuer, upstreamUrl: upstream.url, api, tracker, trackerIssuer: trackerAs.issuer, aliceToken, search, aliceSearchToken,
    async close() {
      await gateway.close();
      await search.close();
      await searchAs.close();
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
  Search (third party)   ${demo.search.url}   (its authorization server trusts the IdP's identity assertions)
  Deputy endpoints       ${notes}   → the MCP server, static credential
                         ${tasks}   → the REST API as MCP tools, RFC 8693 token exchange per user
                         ${base}/mcp/tracker → the tracker, with each user's own connected account
                         ${base}/mcp/search  → a second service, reached as the user through ID-JAG
                         ${base}/mcp         → everything, tools named notes__…, tasks__…, tracker__…
                         ${base}/admin       → the admin console

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

7) ID-JAG: the search service's AS trusts the IdP's identity assertions, so Deputy gets alice a
   token there with no consent screen (an assertion from the IdP, redeemed at the service's AS):

  ALICE_SEARCH=${demo.aliceSearchToken}

${call(`${base}/mcp/search`, 'ALICE_SEARCH', 'whoami', '{}')}

   The service answers "alice". Its AS saw only the assertion, never alice's Deputy token.

8) The admin console: open ${base}/admin (the demo IdP signs you in as alice, the configured admin).
   Upstreams with their credential mode and protocol era, token cache and quotas, connected accounts
   (Revoke), pinned tool definitions waiting for approval, and the audit trail with its hash-chain
   status. Tool definitions are pinned on first sight: if an upstream later changes a description,
   the tool is withheld until approved there or with

  npm run deputy -- tools diff --config <your deputy.yaml>

9) See the audit trail (who, what, which credential — never a token; the 429s are "throttled",
   the first tracker call "consent_required", then "connected" under route accounts):

  npm run deputy -- audit --store sqlite:${resolve(dataDir, 'audit.db')}

   The same events, exported as OCSF API Activity records with their chain fields (seq, hash), as a
   SIEM would receive them:

  tail -n 3 ${resolve(dataDir, 'audit-ocsf.jsonl')}
`;
}
