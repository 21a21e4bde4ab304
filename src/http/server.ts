// Step 1 of the request path: listen and route. Every /mcp request passes the same gate in order:
// Origin → bearer token → audience → scopes → protocol version → body size → JSON-RPC envelope, and
// leaves exactly one audit event behind, whatever happens.
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AuditEvent, AuditSink } from '../audit/event.ts';
import type { DeputyConfig } from '../config/schema.ts';
import { authenticate } from '../inbound/authenticate.ts';
import { AuthError, insufficientScope } from '../inbound/errors.ts';
import { protectedResourceMetadata, WELL_KNOWN_PRM } from '../inbound/metadata.ts';
import type { TokenVerifier } from '../inbound/verifier.ts';
import { log } from '../log.ts';
import { requireScopes } from '../policy/scopes.ts';
import { INVALID_REQUEST, JsonRpcError, parseMessage } from '../protocol/jsonrpc.ts';
import { originAllowed } from '../protocol/origin.ts';
import { checkProtocolVersion } from '../protocol/versions.ts';
import { BodyTooLargeError, readBody } from './body.ts';
import type { McpExchange, McpHandler } from './exchange.ts';
import { sendAuthError, sendJson, sendRpcError } from './respond.ts';

/** An MCP endpoint: `/mcp` (aggregated) or `/mcp/<upstream>`. */
export interface McpRoute {
  /** Upstream name, or `*` for the aggregated endpoint. */
  name: string;
  path: string;
  /** Canonical resource URI: the audience tokens must carry (RFC 8707). */
  resource: string;
  metadataUrl: string;
  acceptedAudiences: ReadonlySet<string>;
  requiredScopes: string[];
  scopesSupported: string[];
  handler: McpHandler;
}

export interface HttpDeps {
  config: DeputyConfig;
  verifier: TokenVerifier;
  audit: AuditSink;
  routes: Map<string, McpRoute>;
  /** Extra GET endpoints (e.g. Deputy's own JWKS for identity assertions). */
  extraGet?: Map<string, (req: IncomingMessage, res: ServerResponse) => void>;
}

const CORS_ALLOW_HEADERS = 'authorization, content-type, accept, mcp-session-id, mcp-protocol-version, last-event-id';
const CORS_EXPOSE_HEADERS = 'mcp-session-id, www-authenticate, x-request-id';
const REQUEST_ID = /^[\w.:-]{1,64}$/;

export function createRequestListener(deps: HttpDeps): (req: IncomingMessage, res: ServerResponse) => void {
  const allowedOrigins = new Set([new URL(deps.config.server.publicUrl).origin, ...deps.config.server.allowedOrigins]);
  const metadataDocs = new Map<string, string>();
  const root = deps.config.server.publicUrl;
  const allScopes = [...new Set([...deps.config.auth.requiredScopes, ...[...deps.routes.values()].flatMap((r) => r.scopesSupported)])];
  metadataDocs.set(WELL_KNOWN_PRM, JSON.stringify(protectedResourceMetadata(deps.config, root, allScopes, 'Deputy MCP gateway')));
  for (const r of deps.routes.values()) {
    metadataDocs.set(`${WELL_KNOWN_PRM}${new URL(r.resource).pathname}`, JSON.stringify(protectedResourceMetadata(deps.config, r.resource, r.scopesSupported, r.name === '*' ? 'Deputy (all upstreams)' : `Deputy: ${r.name}`)));
  }

  const listener = (req: IncomingMessage, res: ServerResponse) => {
    handle(req, res).catch((error) => {
      log.error('unhandled error while serving a request', { error: (error as Error).message });
      if (!res.headersSent) sendJson(res, 500, { error: 'internal_error', error_description: 'internal error' });
      else res.destroy();
    });
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q === -1 ? url : url.slice(0, q);
    const route = deps.routes.get(path.endsWith('/') && path.length > 1 ? path.slice(0, -1) : path);
    if (route) return handleMcp(route, req, res, url);
    if (req.method === 'GET' || req.method === 'HEAD') {
      const doc = metadataDocs.get(path);
      if (doc !== undefined) return sendJson(res, 200, doc, { 'access-control-allow-origin': '*', 'cache-control': 'max-age=300' });
      if (path === '/healthz') return sendJson(res, 200, { status: 'ok' });
      const extra = deps.extraGet?.get(path);
      if (extra) return extra(req, res);
    }
    if (req.method === 'OPTIONS' && path.startsWith(WELL_KNOWN_PRM)) return void res.writeHead(204, { 'access-control-allow-origin': '*', 'access-control-allow-methods': 'GET' }).end();
    sendJson(res, 404, { error: 'not_found', error_description: `no route for ${req.method} ${path}; MCP endpoints: ${[...deps.routes.keys()].join(', ')}` });
  }

  async function handleMcp(route: McpRoute, req: IncomingMessage, res: ServerResponse, url: string): Promise<void> {
    const started = performance.now();
    const incomingId = req.headers['x-request-id'];
    const requestId = typeof incomingId === 'string' && REQUEST_ID.test(incomingId) ? incomingId : randomUUID();
    const event: AuditEvent = { time: new Date().toISOString(), requestId, route: route.path, httpMethod: req.method ?? '?', outcome: 'ok', status: 0, latencyMs: 0 };
    let outcomeSet = false;
    res.setHeader('x-request-id', requestId);
    res.once('close', () => {
      event.status = res.statusCode;
      event.latencyMs = Math.round((performance.now() - started) * 1000) / 1000;
      if (!outcomeSet && event.outcome === 'ok') event.outcome = classify(res.statusCode);
      if (!res.writableFinished && event.outcome === 'ok') event.detail = 'client disconnected before the response completed';
      deps.audit.write(event);
    });
    const reject = (outcome: AuditEvent['outcome'], detail: string) => {
      event.outcome = outcome;
      event.detail = detail;
      outcomeSet = true;
    };

    const origin = req.headers.origin;
    if (!originAllowed(origin, allowedOrigins)) {
      reject('rejected', 'origin not allowed');
      return sendJson(res, 403, { error: 'forbidden', error_description: `Origin ${origin} is not allowed; add it to server.allowed_origins` });
    }
    if (origin !== undefined) {
      res.setHeader('access-control-allow-origin', origin);
      res.setHeader('access-control-expose-headers', CORS_EXPOSE_HEADERS);
      res.setHeader('vary', 'Origin');
    }
    if (req.method === 'OPTIONS') {
      res.writeHead(204, { 'access-control-allow-methods': 'GET, POST, DELETE', 'access-control-allow-headers': CORS_ALLOW_HEADERS, 'access-control-max-age': '600' });
      return void res.end();
    }
    if (req.method !== 'POST' && req.method !== 'GET' && req.method !== 'DELETE') {
      reject('rejected', `method ${req.method} not allowed`);
      return sendJson(res, 405, { error: 'method_not_allowed', error_description: 'MCP endpoints accept POST, GET and DELETE' }, { allow: 'GET, POST, DELETE' });
    }

    let x: McpExchange;
    try {
      const { principal, bearer } = await authenticate(deps.verifier, req.headers, url, route.acceptedAudiences);
      event.issuer = principal.issuer;
      event.subject = principal.subject;
      event.clientId = principal.clientId;
      requireScopes(principal, route.requiredScopes);
      x = { req, res, requestId, principal, bearer, event };
    } catch (error) {
      if (!(error instanceof AuthError)) throw error;
      reject(error.status === 403 ? 'denied' : error.status === 503 ? 'error' : 'unauthenticated', error.message);
      return sendAuthError(res, error, route.metadataUrl, route.requiredScopes);
    }

    const versionProblem = checkProtocolVersion(req.headers['mcp-protocol-version']);
    if (versionProblem) {
      reject('rejected', versionProblem);
      return sendRpcError(res, 400, INVALID_REQUEST, versionProblem);
    }

    if (req.method === 'POST') {
      const type = req.headers['content-type'] ?? '';
      if (!/^application\/json\b/i.test(type)) {
        reject('rejected', 'content-type is not application/json');
        return sendRpcError(res, 415, INVALID_REQUEST, 'Content-Type must be application/json');
      }
      try {
        x.body = await readBody(req, deps.config.server.maxBodyBytes);
        const { summary } = parseMessage(x.body);
        x.rpc = summary;
        event.rpcMethod = summary.method;
        event.target = summary.target;
      } catch (error) {
        if (error instanceof BodyTooLargeError) {
          reject('rejected', error.message);
          res.setHeader('connection', 'close');
          return sendRpcError(res, 413, INVALID_REQUEST, error.message);
        }
        if (error instanceof JsonRpcError) {
          reject('rejected', error.message.slice(0, 200));
          return sendRpcError(res, 400, error.code, error.message, error.id);
        }
        throw error;
      }
    }
    try {
      await route.handler.handle(x);
    } catch (error) {
      // A handler may refuse after authentication, e.g. per-tool policy needing a scope (step-up):
      // the same challenge as the gate above, rendered with this route's metadata.
      if (!(error instanceof AuthError) || res.headersSent) throw error;
      reject(error.status === 403 ? 'denied' : 'error', event.detail ?? error.message);
      // The challenge names everything needed (RFC 6750 §3): the route's scopes and the tool's.
      const needed = error.error === 'insufficient_scope' ? insufficientScope([...new Set([...route.requiredScopes, ...(error.scopes ?? [])])]) : error;
      return sendAuthError(res, needed, route.metadataUrl, route.requiredScopes);
    }
  }

  return listener;
}

/** The HTTP server: 32 KiB header limit (bigger tokens get 431), no request timeout (SSE streams are long-lived). */
export function createBareServer(): Server {
  return createServer({ maxHeaderSize: 32 * 1024, requestTimeout: 0, keepAliveTimeout: 65_000 });
}

function classify(status: number): AuditEvent['outcome'] {
  if (status < 400) return 'ok';
  if (status === 401) return 'unauthenticated';
  if (status === 403) return 'denied';
  if (status === 502 || status === 504) return 'upstream_error';
  return status >= 500 ? 'error' : 'rejected';
}
