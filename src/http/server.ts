// Step 1 of the request path: listen and route. Every /mcp request passes the same gate in order:
// Origin → bearer token → audience → scopes → protocol version → body size → JSON-RPC envelope, and
// leaves exactly one audit event behind, whatever happens.
import { randomUUID } from 'node:crypto';
import { createServer, STATUS_CODES, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { clip, clipEvent, type AuditSink, type Outcome } from '../audit/event.ts';
import { AuditRecord } from '../audit/record.ts';
import { ConcurrencyLimiter, KeyedCounter, OverloadedError } from '../admission/concurrency.ts';
import { QuotaExceededError, type Quotas } from '../admission/quota.ts';
import type { GatewayLimits } from '../config/limits.ts';
import type { DeputyConfig, ServerConfig } from '../config/schema.ts';
import { authenticate } from '../inbound/authenticate.ts';
import { AuthError, insufficientScope } from '../inbound/errors.ts';
import { protectedResourceMetadata, WELL_KNOWN_PRM } from '../inbound/metadata.ts';
import { principalKey } from '../inbound/principal.ts';
import type { TokenVerifier } from '../inbound/verifier.ts';
import { log, throttledWarning } from '../log.ts';
import { requireScopes } from '../policy/scopes.ts';
import { INVALID_REQUEST, JsonRpcError, parseMessage } from '../protocol/jsonrpc.ts';
import { originAllowed } from '../protocol/origin.ts';
import { decideEra, EraError } from '../protocol/era.ts';
import { BodyTooLargeError, ClientAbortedError, readBody } from './body.ts';
import type { McpExchange, McpHandler } from './exchange.ts';
import { sendAuthError, sendError, sendJson, sendRpcError } from './respond.ts';

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
  /** Extra POST endpoints (the connected-accounts page's forms). */
  extraPost?: Map<string, (req: IncomingMessage, res: ServerResponse) => void>;
  /** Gateway-wide admission: requests in flight, and GET streams per principal. */
  admission: Admission;
  /** Rate limits per user/client (here) and per upstream/tool (in the handlers, after policy). */
  quotas: Quotas;
}

export interface Admission {
  requests: ConcurrencyLimiter;
  streams: KeyedCounter;
}

export function createAdmission(limits: GatewayLimits): Admission {
  return {
    requests: new ConcurrencyLimiter('gateway', limits.maxInFlight, { maxQueued: limits.maxQueued, queueTimeoutMs: limits.queueTimeoutMs }),
    streams: new KeyedCounter(limits.maxStreamsPerPrincipal),
  };
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
    const post = req.method === 'POST' ? deps.extraPost?.get(path) : undefined;
    if (post) return post(req, res);
    if (req.method === 'OPTIONS' && path.startsWith(WELL_KNOWN_PRM)) return void res.writeHead(204, { 'access-control-allow-origin': '*', 'access-control-allow-methods': 'GET' }).end();
    sendJson(res, 404, { error: 'not_found', error_description: `no route for ${clip(req.method ?? '', 16)} ${clip(path, 100)}; MCP endpoints: ${[...deps.routes.keys()].join(', ')}` });
  }

  async function handleMcp(route: McpRoute, req: IncomingMessage, res: ServerResponse, url: string): Promise<void> {
    const started = performance.now();
    const incomingId = req.headers['x-request-id'];
    const requestId = typeof incomingId === 'string' && REQUEST_ID.test(incomingId) ? incomingId : randomUUID();
    const audit = new AuditRecord({ requestId, route: route.path, httpMethod: req.method ?? '?' });
    res.setHeader('x-request-id', requestId);
    res.once('close', () => audit.close(deps.audit, res, performance.now() - started));
    const reject = (outcome: Outcome, detail: string) => audit.decide(outcome, detail);

    const origin = req.headers.origin;
    if (!originAllowed(origin, allowedOrigins)) {
      reject('rejected', 'origin not allowed');
      const shown = origin && origin.length <= 200 && /^[a-z][a-z0-9+.-]*:\/\/[^\s/]+$/i.test(origin) ? origin : 'of this request';
      return sendJson(res, 403, { error: 'forbidden', error_description: `the Origin ${shown} is not allowed; add it to server.allowed_origins` });
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

    // Requests take one of the gateway's slots (a short queue, then 503) before any work is done on
    // them; GET streams are long-lived and counted per principal instead, once the principal is known.
    let releaseSlot: (() => void) | undefined;
    if (req.method !== 'GET') {
      let release = deps.admission.requests.tryAcquire();
      if (!release) {
        try {
          release = await deps.admission.requests.acquire();
        } catch (error) {
          if (!(error instanceof OverloadedError)) throw error;
          return sendError(res, audit, error, null);
        }
        if (res.destroyed) return release();
      }
      res.once('close', release);
      releaseSlot = release;
    }

    let x: McpExchange;
    try {
      const { principal, bearer } = await authenticate(deps.verifier, req, route.acceptedAudiences);
      audit.principal(principal);
      requireScopes(principal, route.requiredScopes);
      x = { req, res, requestId, principal, bearer, audit, era: 'handshake' };
    } catch (error) {
      if (!(error instanceof AuthError)) throw error;
      audit.refuse(error);
      return sendAuthError(res, error, route.metadataUrl, route.requiredScopes);
    }

    if (req.method !== 'POST' && (req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0)) {
      // An unread body would hide the client's disconnect (and hold a stream) until request_timeout_ms.
      reject('rejected', `${req.method} with a request body`);
      res.setHeader('connection', 'close');
      return sendRpcError(res, 400, INVALID_REQUEST, `${req.method} requests on MCP endpoints take no body`);
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
        audit.rpc(summary.method, summary.target);
      } catch (error) {
        if (error instanceof BodyTooLargeError) {
          reject('rejected', error.message);
          res.setHeader('connection', 'close');
          return sendRpcError(res, 413, INVALID_REQUEST, error.message);
        }
        if (error instanceof JsonRpcError) {
          reject('rejected', error.message);
          return sendRpcError(res, 400, error.code, error.message, error.id);
        }
        if (error instanceof ClientAbortedError) {
          reject('aborted', error.message);
          return void res.destroy();
        }
        throw error;
      }
    }
    // The era (handshake or 2026-07-28) and, for 2026, the header/body agreement: before any policy.
    try {
      x.era = decideEra(req.method!, req.headers, x.rpc);
    } catch (error) {
      if (!(error instanceof EraError)) throw error;
      return sendError(res, audit, error, error.id);
    }
    if (req.method === 'GET' || (x.era === 'modern' && x.rpc?.method === 'subscriptions/listen')) {
      // GET streams and 2026 listens are long-lived: a listen gives back its request slot, and both
      // count against the principal's streams instead.
      releaseSlot?.();
      const release = deps.admission.streams.tryAcquire(principalKey(x.principal));
      if (!release) return sendError(res, audit, new OverloadedError('streams', `this principal already holds ${deps.admission.streams.max} open streams (limits.max_streams_per_principal); close one first`, 5, 'ERR_STREAM_LIMIT'), x.rpc?.id ?? null);
      res.once('close', release);
    }
    if (x.rpc?.kind === 'request' && deps.quotas.active) {
      try {
        await deps.quotas.checkRequest(x.principal);
      } catch (error) {
        if (!(error instanceof QuotaExceededError)) throw error;
        return sendError(res, audit, error, x.rpc.id);
      }
    }
    try {
      await route.handler.handle(x);
    } catch (error) {
      // A handler may refuse after authentication, e.g. per-tool policy needing a scope (step-up):
      // the same challenge as the gate above, rendered with this route's metadata.
      if (!(error instanceof AuthError) || res.headersSent) throw error;
      audit.refuse(error); // policy has already recorded the denial with its reason: the first outcome stands
      // The challenge names everything needed (RFC 6750 §3): the route's scopes and the tool's.
      const needed = error.error === 'insufficient_scope' ? insufficientScope([...new Set([...route.requiredScopes, ...(error.scopes ?? [])])]) : error;
      return sendAuthError(res, needed, route.metadataUrl, route.requiredScopes);
    }
  }

  return listener;
}

/**
 * The HTTP server with the listener limits from `server.*`: a client must send its headers within
 * headers_timeout_ms and its whole request within request_timeout_ms (slow-loris and never-ending
 * bodies are cut), idle keep-alive connections close after keep_alive_timeout_ms, and headers larger
 * than max_header_bytes get 431. Responses (SSE streams) are not limited here: upstream deadlines are.
 */
export function createBareServer(limits: ServerConfig): Server {
  const server = createServer({
    maxHeaderSize: limits.maxHeaderBytes,
    headersTimeout: limits.headersTimeoutMs,
    requestTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    // How often Node checks the two timeouts above: a tenth of the shorter one, at most every second.
    connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(Math.min(limits.headersTimeoutMs, limits.requestTimeoutMs) / 10))),
  });
  if (limits.maxConnections > 0) server.maxConnections = limits.maxConnections;
  return server;
}

/** Answers for requests that arrive before the pipeline is ready: alive, not ready, come back shortly. */
export function startingListener(req: IncomingMessage, res: ServerResponse): void {
  const path = (req.url ?? '/').split('?')[0];
  if (path === '/healthz') return sendJson(res, 200, { status: 'ok', phase: 'starting' });
  if (path === '/readyz') return sendJson(res, 503, { status: 'not_ready', components: { server: { status: 'starting' } } }, { 'cache-control': 'no-store', 'retry-after': '1' });
  sendJson(res, 503, { error: 'temporarily_unavailable', error_description: 'Deputy is starting (loading keys and upstream specs); retry shortly' }, { 'retry-after': '1' });
}

const PARSER_REFUSALS: Record<string, [number, string]> = {
  HPE_HEADER_OVERFLOW: [431, 'request headers too large'],
  ERR_HTTP_REQUEST_TIMEOUT: [408, 'request not received in time'],
  ERR_HTTP_HEADERS_TIMEOUT: [408, 'request headers not received in time'],
};

/**
 * Requests the HTTP parser refuses (oversized or malformed headers, slow clients) never reach a
 * route: they are answered here, recorded in the audit trail like any other refusal, and counted in
 * one throttled log line so a flood of them is visible without flooding the log.
 */
export function handleClientErrors(server: Server, audit: () => AuditSink): void {
  const note = throttledWarning('HTTP requests refused before routing (malformed, oversized or too slow)');
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) => {
    const code = error.code ?? '';
    if (code === 'ECONNRESET' || !socket.writable) return void socket.destroy(); // the client is gone: nothing to answer
    const [status, detail] = PARSER_REFUSALS[code] ?? [400, 'malformed HTTP request'];
    const body = JSON.stringify({ error: status === 408 ? 'request_timeout' : 'invalid_request', error_description: detail });
    socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\nconnection: close\r\n\r\n${body}`);
    audit().write(clipEvent({ time: new Date().toISOString(), requestId: randomUUID(), route: '-', httpMethod: '-', outcome: 'rejected', status, latencyMs: 0, detail: `${detail} (${code || 'parse error'})` }));
    note(code || 'parse error');
  });
}
