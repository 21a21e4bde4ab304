// An MCP Streamable HTTP endpoint served by Deputy itself (OpenAPI upstreams, the aggregated /mcp).
// It speaks the 2025-era lifecycle (initialize, sessions bound to the principal, ping) and delegates
// everything else to an McpService. Responses are JSON, switching to SSE only when the service emits
// notifications (progress, list_changed) before the result and the client accepts a stream.
import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { AuditRecord } from '../audit/record.ts';
import { DeputyError } from '../errors.ts';
import type { McpExchange, McpHandler } from '../http/exchange.ts';
import { sendError, sendJson, sendRpcError, sendSessionNotFound } from '../http/respond.ts';
import { META_CAPABILITIES, META_SERVER_INFO, META_VERSION, META_SUBSCRIPTION, methodNotFound, MODERN_VERSIONS, REMOVED_IN_MODERN, type EraError } from './era.ts';
import { ParkedCalls, type Step } from './parked-calls.ts';
import { ConsentRequiredError } from '../outbound/provider.ts';
import type { RequestStateSealer } from './request-state.ts';
import { QuotaExceededError } from '../admission/quota.ts';
import { AuthError } from '../inbound/errors.ts';
import { principalKey, type BearerToken, type Principal } from '../inbound/principal.ts';
import { log } from '../log.ts';
import { INTERNAL_ERROR, JsonRpcError, METHOD_NOT_FOUND, type JsonRpcId } from './jsonrpc.ts';
import { findOwnSession, newSessionId, SessionLimitError, type SessionStore } from './sessions.ts';
import { LATEST_VERSION, STREAMABLE_HTTP_VERSIONS } from './versions.ts';

export interface ServiceContext {
  principal: Principal;
  bearer: BearerToken;
  requestId: string;
  sessionId?: string;
  signal: AbortSignal;
  /** Send a JSON-RPC notification to the client ahead of the result (SSE). */
  notify(method: string, params: Record<string, unknown>): void;
  /** The client's progress token for this request, if it sent one. */
  progressToken?: string | number;
  /**
   * Send a request to the client (sampling, elicitation, roots) on this request's SSE stream and wait
   * for the client's response, which it POSTs on the same session. Rejects with a JsonRpcError when
   * the client cannot receive it (no session, or no text/event-stream in Accept).
   */
  request(method: string, params: Record<string, unknown>): Promise<unknown>;
  /** This request's audit record: services add the upstream and notes, and decide refusals (first wins). */
  audit: AuditRecord;
}

export interface McpService {
  readonly serverInfo: { name: string; version: string; title?: string };
  /** May connect upstreams (the aggregated endpoint unions theirs), hence the bearer for credential modes that need it. */
  capabilities(principal: Principal, bearer?: BearerToken): Record<string, unknown> | Promise<Record<string, unknown>>;
  instructions?: string;
  /** MCP 2026-07-28 server/discover: the versions and ttlMs of what the service merges (after capabilities()). */
  discovery?(principal: Principal): { supportedVersions: string[]; ttlMs: number };
  /** The result of a request, or a JsonRpcError. */
  request(method: string, params: Record<string, unknown>, ctx: ServiceContext): Promise<unknown>;
  sessionClosed?(sessionId: string): void;
  /**
   * MCP 2026-07-28 `subscriptions/listen`: list changes and resource updates for this principal, as
   * they arrive from the upstreams, until the returned function is called.
   */
  subscribe?(principal: Principal, listener: (method: string, params: Record<string, unknown>) => void): () => void;
  close?(): Promise<void>;
}

const supported = new Set<string>(STREAMABLE_HTTP_VERSIONS);

export class LocalMcpEndpoint implements McpHandler {
  readonly #route: string;
  readonly #service: McpService;
  readonly #sessions: SessionStore;
  /** Server→client requests awaiting the client's response, by the id Deputy gave them. */
  readonly #pending = new Map<string, { sessionId: string; resolve(message: Record<string, unknown>): void }>();

  readonly #unsubscribe: () => void;
  /** 2026 calls waiting for the client's input (a handshake-era upstream asked mid-call), and the seal on their requestState. */
  readonly #parked = new ParkedCalls<Waiter>();
  readonly #sealer: RequestStateSealer;
  /** Open listens per (principal, resource URI): the upstream subscription lives while any does. */
  readonly #resourceInterest = new Map<string, number>();

  constructor(route: string, service: McpService, sessions: SessionStore, sealer: RequestStateSealer) {
    this.#route = route;
    this.#service = service;
    this.#sessions = sessions;
    this.#sealer = sealer;
    // Sessions that expire or are evicted take the service's per-session state with them.
    this.#unsubscribe = sessions.onEnd((rec) => {
      if (rec.route === route) this.#service.sessionClosed?.(rec.id);
    });
  }

  async handle(x: McpExchange): Promise<void> {
    if (x.era === 'modern') return this.#handleModern(x);
    const { req, res } = x;
    const id = x.rpc?.id ?? null;
    const sessionId = typeof req.headers['mcp-session-id'] === 'string' ? req.headers['mcp-session-id'] : undefined;
    let urlElicitation = false;
    if (sessionId !== undefined) {
      const rec = await findOwnSession(this.#sessions, sessionId, principalKey(x.principal), this.#route);
      if (!rec) return sendSessionNotFound(res, x.audit, id);
      urlElicitation = rec.urlElicitation === true;
      res.setHeader('mcp-session-id', sessionId);
    }

    if (req.method === 'GET') {
      // No server-initiated stream outside of requests; list changes arrive on request streams.
      return sendJson(res, 405, { error: 'method_not_allowed', error_description: 'this endpoint does not offer a GET stream' }, { allow: 'POST, DELETE' });
    }
    if (req.method === 'DELETE') {
      if (sessionId === undefined) return sendRpcError(res, 400, -32600, 'DELETE needs an Mcp-Session-Id header');
      await this.#sessions.delete(sessionId);
      this.#service.sessionClosed?.(sessionId);
      return void res.writeHead(200).end();
    }

    const rpc = x.rpc!;
    if (rpc.kind === 'response' && typeof rpc.id === 'string') {
      // The client answering a request Deputy relayed (sampling, elicitation): only on the session it was sent on.
      const waiting = this.#pending.get(rpc.id);
      if (waiting && waiting.sessionId === sessionId) {
        this.#pending.delete(rpc.id);
        waiting.resolve(JSON.parse(x.body!.toString('utf8')) as Record<string, unknown>);
      }
    }
    if (rpc.kind !== 'request') return void res.writeHead(202).end(); // notifications and responses: accepted
    const params = rpc.params ?? {};

    if (rpc.method === 'initialize') {
      const requested = typeof params.protocolVersion === 'string' ? params.protocolVersion : LATEST_VERSION;
      const newId = newSessionId();
      const now = Date.now();
      try {
        // Whether the client can open a URL for the person (URL-mode elicitation): how a connect link reaches it.
        const elicitation = (params.capabilities as { elicitation?: { url?: unknown } } | undefined)?.elicitation;
        await this.#sessions.set({ id: newId, principalKey: principalKey(x.principal), route: this.#route, upstreamSessions: {}, protocolVersion: requested, createdAt: now, lastSeenAt: now, urlElicitation: elicitation?.url !== undefined });
      } catch (error) {
        if (!(error instanceof SessionLimitError)) throw error;
        return sendError(res, x.audit, error, id);
      }
      res.setHeader('mcp-session-id', newId);
      return sendResult(res, id, {
        protocolVersion: supported.has(requested) ? requested : LATEST_VERSION,
        capabilities: await this.#service.capabilities(x.principal, x.bearer),
        serverInfo: this.#service.serverInfo,
        ...(this.#service.instructions ? { instructions: this.#service.instructions } : {}),
      });
    }
    if (rpc.method === 'ping') return sendResult(res, id, {});

    const stream = new LazyStream(res, /text\/event-stream/.test(String(req.headers.accept ?? '')));
    const abort = new AbortController();
    res.once('close', () => abort.abort());
    const meta = params._meta as { progressToken?: string | number } | undefined;
    const ctx: ServiceContext = {
      principal: x.principal, bearer: x.bearer, requestId: x.requestId, sessionId, signal: abort.signal,
      progressToken: meta?.progressToken,
      notify: (method, p) => stream.notify(method, p),
      request: (method, p) => this.#clientRequest(stream, sessionId, abort.signal, method, p),
      audit: x.audit,
    };
    try {
      const result = await this.#service.request(rpc.method!, params, ctx);
      stream.result(id, result);
    } catch (error) {
      this.#answerError(x, stream, error, urlElicitation);
    }
  }

  /**
   * MCP 2026-07-28: stateless. `server/discover` describes this endpoint; every result carries
   * `resultType`, lists and reads carry `ttlMs`/`cacheScope` ("private": what Deputy lists depends on
   * the caller's policy and credentials), and removed or unknown methods are 404 -32601.
   */
  async #handleModern(x: McpExchange): Promise<void> {
    const { res } = x;
    const rpc = x.rpc!;
    const id = rpc.id;
    if (rpc.kind !== 'request') return void res.writeHead(202).end();
    const params = rpc.params ?? {};
    const serverMeta = { [META_SERVER_INFO]: this.#service.serverInfo };
    if (rpc.method === 'server/discover') {
      const capabilities = modernCapabilities(await this.#service.capabilities(x.principal, x.bearer));
      const merged = this.#service.discovery?.(x.principal) ?? { supportedVersions: [...MODERN_VERSIONS], ttlMs: 0 };
      return sendResult(res, id, {
        resultType: 'complete',
        supportedVersions: merged.supportedVersions,
        capabilities,
        ...(this.#service.instructions ? { instructions: this.#service.instructions } : {}),
        ttlMs: merged.ttlMs,
        cacheScope: 'private', // what Deputy lists depends on the caller's policy and credentials
        _meta: serverMeta,
      });
    }
    if (REMOVED_IN_MODERN.has(rpc.method!)) return this.#modernError(x, methodNotFound(rpc.method!, id));
    if (rpc.method === 'subscriptions/listen') return this.#listen(x, params);
    const stream = new LazyStream(res, /text\/event-stream/.test(String(x.req.headers.accept ?? '')));
    const clientGone = new AbortController();
    res.once('close', () => clientGone.abort());
    const waiter: Waiter = { stream, audit: x.audit };
    const key = principalKey(x.principal);
    // What the call is: a retry that continues a parked call must name the same method and target.
    const call = `${rpc.method}\u0000${rpc.target ?? ''}`;

    let step: Step | undefined;
    const sealed = params.requestState;
    const opened = typeof sealed === 'string' ? this.#sealer.open(sealed, key, this.#route) : undefined;
    if (opened?.startsWith(CONSENT)) {
      // The retry after a connect link: nothing was parked, the call simply runs again.
      delete params.requestState;
      delete params.inputResponses;
      x.audit.note('retried after a connect link');
    }
    if (params.requestState !== undefined) {
      // A retry carrying input for a call parked here (nothing else issues requestState on this endpoint).
      const parkedId = opened?.startsWith(PARKED) ? opened.slice(PARKED.length) : undefined;
      const responses = params.inputResponses;
      step = parkedId && typeof responses === 'object' && responses !== null ? await this.#parked.resume(parkedId, key, call, waiter, responses as Record<string, unknown>) : undefined;
      if (!step) return sendError(res, x.audit, new DeputyError('ERR_INVALID_REQUEST_STATE', 'Invalid or expired requestState: call again without it'), id);
      x.audit.note('continues a call that waited for the client\'s input');
    } else {
      const meta = params._meta as { progressToken?: string | number } | undefined;
      // A server-to-client request becomes an input_required result, if the client said it can answer it.
      const clientCaps = clientCapsOf(params);
      step = await this.#parked.start(key, call, waiter, clientGone.signal, (ask, current, signal) => {
        const ctx: ServiceContext = {
          principal: x.principal, bearer: x.bearer, requestId: x.requestId, signal,
          progressToken: meta?.progressToken,
          notify: (method, p) => current().stream.notify(method, p),
          request: (method, p) => {
            const needs = INPUT_CAPABILITY[method];
            const declared = needs === undefined ? undefined : (clientCaps?.[needs] as Record<string, unknown> | undefined);
            const urlMode = method === 'elicitation/create' && p.mode === 'url';
            if (!declared || (urlMode && declared.url === undefined)) {
              return Promise.reject(new JsonRpcError(METHOD_NOT_FOUND, `the client cannot answer ${method}${urlMode ? ' in URL mode' : ''} (it did not declare the capability)`));
            }
            return ask(method, p);
          },
          get audit() {
            return current().audit;
          },
        };
        return this.#service.request(rpc.method!, withoutEraMeta(params), ctx);
      });
    }
    if (step.kind === 'input') {
      return stream.result(id, { resultType: 'input_required', inputRequests: step.inputRequests, requestState: this.#sealer.seal(`${PARKED}${step.id}`, key, this.#route), _meta: serverMeta });
    }
    if (step.kind === 'failed') {
      const canOpenUrl = (clientCapsOf(params)?.elicitation as Record<string, unknown> | undefined)?.url !== undefined;
      if (step.error instanceof ConsentRequiredError && canOpenUrl) {
        // The 2026 way to send the person to a URL: input_required with a URL-mode elicitation; the
        // client's retry carries this requestState and simply runs the call again, now connected.
        x.audit.refuse(step.error);
        return stream.result(id, { resultType: 'input_required', inputRequests: { connect: { method: 'elicitation/create', params: step.error.elicitation } }, requestState: this.#sealer.seal(`${CONSENT}${step.error.elicitationId}`, key, this.#route), _meta: serverMeta });
      }
      return this.#answerError(x, stream, step.error, canOpenUrl);
    }
    const result = step.result as Record<string, unknown>;
    const cacheable = CACHEABLE.has(rpc.method!) ? { ttlMs: 0, cacheScope: 'private' } : {};
    stream.result(id, { resultType: 'complete', ...result, ...cacheable, _meta: { ...(result._meta as object | undefined), ...serverMeta } });
  }

  /** A service's failure as the answer, for both eras (one mapping; a step-up challenge is rethrown to the HTTP layer). */
  #answerError(x: McpExchange, stream: LazyStream, error: unknown, urlElicitation = false): void {
    const id = x.rpc!.id;
    const method = x.rpc!.method!;
    // Per-tool step-up (403 insufficient_scope): the HTTP layer renders the challenge with this route's metadata.
    if (error instanceof AuthError && !stream.started) throw error;
    if (error instanceof QuotaExceededError && this.#route !== '*' && !stream.started) {
      // A whole request on /mcp/<upstream> gets 429; inside a stream or on /mcp, an in-band error with the retry time.
      return sendError(x.res, x.audit, error, id);
    }
    // The 2026 era answers an unknown method with HTTP 404.
    if (x.era === 'modern' && error instanceof JsonRpcError && error.code === METHOD_NOT_FOUND && !stream.started) return this.#modernError(x, methodNotFound(method, id));
    if (error instanceof ConsentRequiredError) {
      // The person must connect their account. A client that can open URLs gets MCP's
      // URLElicitationRequired (-32042) with the link; otherwise a tool call answers with a tool error
      // whose text gives the link and what to do (never a fallback to passthrough).
      x.audit.refuse(error);
      if (!urlElicitation && method === 'tools/call') return stream.result(id, { ...(x.era === 'modern' ? { resultType: 'complete' } : {}), content: [{ type: 'text', text: error.message }], isError: true });
      return stream.errorObject(id, urlElicitation ? error.toJsonRpc() : { code: error.rpcCode, message: error.message });
    }
    // Typed refusals (policy, quotas, an unavailable upstream or credential) answer in-band, with the
    // JSON-RPC code and audit outcome from the one table in src/errors.ts.
    if (error instanceof DeputyError) {
      x.audit.refuse(error);
      return stream.errorObject(id, error.toJsonRpc());
    }
    if (error instanceof JsonRpcError) {
      if (error.code === METHOD_NOT_FOUND) x.audit.reject(error.message);
      else x.audit.error(error.message);
      return stream.error(id, error.code, error.message);
    }
    log.error('local MCP endpoint failed', { route: this.#route, method, error: (error as Error).message });
    x.audit.error('internal error');
    stream.error(id, INTERNAL_ERROR, 'internal error');
  }

  /**
   * `subscriptions/listen`: an SSE stream that opens with the acknowledgement (the subset of the
   * requested notifications this endpoint can send), then carries each matching notification tagged
   * with the subscription id, until the client closes it.
   */
  async #listen(x: McpExchange, params: Record<string, unknown>): Promise<void> {
    const { res } = x;
    const id = x.rpc!.id;
    if (!this.#service.subscribe) return this.#modernError(x, methodNotFound('subscriptions/listen', id));
    const wanted = (params.notifications ?? {}) as Record<string, unknown>;
    const raw = await this.#service.capabilities(x.principal, x.bearer);
    const caps = modernCapabilities(raw);
    const honored: Record<string, unknown> = {};
    if (wanted.toolsListChanged === true && caps.tools) honored.toolsListChanged = true;
    if (wanted.promptsListChanged === true && caps.prompts) honored.promptsListChanged = true;
    if (wanted.resourcesListChanged === true && caps.resources) honored.resourcesListChanged = true;
    // resourceSubscriptions: subscribed upstream (the handshake era's resources/subscribe) for as long
    // as this listen is open; the URIs that could be subscribed are the ones acknowledged.
    const subscribed = new Set<string>();
    const uris = Array.isArray(wanted.resourceSubscriptions) ? [...new Set(wanted.resourceSubscriptions.filter((u): u is string => typeof u === 'string' && u.length <= 2048))].slice(0, MAX_RESOURCE_SUBSCRIPTIONS) : [];
    if (uris.length && (raw.resources as { subscribe?: unknown } | undefined)?.subscribe) {
      const key = principalKey(x.principal);
      await Promise.all(uris.map(async (uri) => {
        if (await this.#resourceSubscription(x, key, uri, +1)) subscribed.add(uri);
      }));
      res.once('close', () => {
        for (const uri of subscribed) void this.#resourceSubscription(x, key, uri, -1);
      });
    }
    if (subscribed.size) honored.resourceSubscriptions = [...subscribed];
    const methods = new Set<string>([
      ...(honored.toolsListChanged ? ['notifications/tools/list_changed'] : []),
      ...(honored.promptsListChanged ? ['notifications/prompts/list_changed'] : []),
      ...(honored.resourcesListChanged ? ['notifications/resources/list_changed'] : []),
    ]);
    const tag = { [META_SUBSCRIPTION]: id };
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', 'x-accel-buffering': 'no' });
    const send = (message: unknown) => !res.writableEnded && !res.destroyed && res.write(`event: message\ndata: ${JSON.stringify(message)}\n\n`);
    send({ jsonrpc: '2.0', method: 'notifications/subscriptions/acknowledged', params: { notifications: honored, _meta: tag } });
    const unsubscribe = this.#service.subscribe(x.principal, (method, p) => {
      if (methods.has(method) || (method === 'notifications/resources/updated' && subscribed.has(String(p.uri)))) send({ jsonrpc: '2.0', method, params: { ...p, _meta: { ...(p._meta as object | undefined), ...tag } } });
    });
    const keepAlive = setInterval(() => !res.writableEnded && res.write(': keep-alive\n\n'), 15_000);
    res.once('close', () => {
      clearInterval(keepAlive);
      unsubscribe();
    });
  }

  /**
   * Counts a listen's interest in one resource of this principal: the first subscribes upstream, the
   * last unsubscribes (several listens, and handshake-era clients, may share the upstream session).
   */
  async #resourceSubscription(x: McpExchange, key: string, uri: string, delta: 1 | -1): Promise<boolean> {
    const id = `${key}\u0000${uri}`;
    const before = this.#resourceInterest.get(id) ?? 0;
    const after = Math.max(0, before + delta);
    if (after === 0) this.#resourceInterest.delete(id);
    else this.#resourceInterest.set(id, after);
    if ((delta === 1 && before > 0) || (delta === -1 && after > 0)) return true;
    const ctx: ServiceContext = {
      principal: x.principal, bearer: x.bearer, requestId: x.requestId, signal: AbortSignal.timeout(10_000),
      notify: () => {},
      request: (method) => Promise.reject(new JsonRpcError(METHOD_NOT_FOUND, `${method} cannot be asked while subscribing`)),
      // Its own record (not written): a refused subscription is noted on the listen, which stays open.
      audit: new AuditRecord({ requestId: x.requestId, route: this.#route, httpMethod: 'POST' }),
    };
    try {
      await this.#service.request(delta === 1 ? 'resources/subscribe' : 'resources/unsubscribe', { uri }, ctx);
      return true;
    } catch (error) {
      if (delta === 1) this.#resourceInterest.delete(id);
      x.audit.note(`resource subscription ${delta === 1 ? 'refused' : 'not ended'}: ${(error as Error).message}`);
      return false;
    }
  }

  #modernError(x: McpExchange, error: EraError): void {
    sendError(x.res, x.audit, error, error.id);
  }

  async close(): Promise<void> {
    this.#unsubscribe();
    this.#parked.close();
    await this.#service.close?.();
  }

  #clientRequest(stream: LazyStream, sessionId: string | undefined, signal: AbortSignal, method: string, params: Record<string, unknown>): Promise<unknown> {
    if (sessionId === undefined || !stream.sse) {
      return Promise.reject(new JsonRpcError(METHOD_NOT_FOUND, `the client cannot receive ${method} requests (it needs a session and Accept: text/event-stream)`));
    }
    const id = `deputy-${randomUUID()}`;
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        this.#pending.delete(id);
        reject(new JsonRpcError(INTERNAL_ERROR, `the client disconnected before answering ${method}`));
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.#pending.set(id, {
        sessionId,
        resolve: (message) => {
          signal.removeEventListener('abort', onAbort);
          const error = message.error as { code?: number; message?: string } | undefined;
          if (error) reject(new JsonRpcError(typeof error.code === 'number' ? error.code : INTERNAL_ERROR, String(error.message ?? 'error')));
          else resolve(message.result);
        },
      });
      stream.request(id, method, params);
    });
  }
}

/** Results that carry ttlMs/cacheScope in the 2026 era. */
const CACHEABLE = new Set(['tools/list', 'prompts/list', 'resources/list', 'resources/templates/list', 'resources/read']);

/** Handshake-era capabilities without what 2026 removed (logging/setLevel, resources/subscribe). */
function modernCapabilities(caps: Record<string, unknown>): Record<string, unknown> {
  const out = { ...caps };
  delete out.logging;
  if (out.resources && typeof out.resources === 'object') {
    const { subscribe: _subscribe, ...rest } = out.resources as Record<string, unknown>;
    out.resources = rest;
  }
  return out;
}

function sendResult(res: ServerResponse, id: JsonRpcId, result: unknown): void {
  sendJson(res, 200, JSON.stringify({ jsonrpc: '2.0', id, result }));
}

const ENVELOPE_META = new Set([META_VERSION, META_CAPABILITIES, 'io.modelcontextprotocol/clientInfo']);

/** The request as a service (and a handshake-era upstream behind it) should see it: no 2026 envelope fields. */
function withoutEraMeta(params: Record<string, unknown>): Record<string, unknown> {
  const meta = params._meta as Record<string, unknown> | undefined;
  if (!meta) return params;
  const rest = Object.fromEntries(Object.entries(meta).filter(([k]) => !ENVELOPE_META.has(k)));
  const { _meta: _m, ...others } = params;
  return Object.keys(rest).length ? { ...others, _meta: rest } : others;
}

/** The client request currently waiting on a (possibly parked) 2026 call: where its progress and answer go. */
interface Waiter {
  stream: LazyStream;
  audit: AuditRecord;
}

/** At most this many resourceSubscriptions per listen. */
const MAX_RESOURCE_SUBSCRIPTIONS = 100;

/** Prefixes of the state Deputy seals into requestState: a parked call, or a connect link's retry. */
const PARKED = 'parked:';
const CONSENT = 'consent:';

function clientCapsOf(params: Record<string, unknown>): Record<string, unknown> | undefined {
  return (params._meta as Record<string, unknown> | undefined)?.[META_CAPABILITIES] as Record<string, unknown> | undefined;
}
/** The client capability a 2026 client must declare for each kind of question. */
const INPUT_CAPABILITY: Record<string, string> = { 'elicitation/create': 'elicitation', 'sampling/createMessage': 'sampling', 'roots/list': 'roots' };

/** JSON by default; becomes an SSE stream at the first notification if the client accepts one. */
class LazyStream {
  readonly #res: ServerResponse;
  readonly sse: boolean;
  #started = false;
  constructor(res: ServerResponse, sseAccepted: boolean) {
    this.#res = res;
    this.sse = sseAccepted;
  }
  get started(): boolean {
    return this.#started;
  }
  notify(method: string, params: Record<string, unknown>): void {
    if (!this.sse || this.#res.writableEnded || this.#res.destroyed) return;
    this.#start();
    this.#event({ jsonrpc: '2.0', method, params });
  }
  request(id: string, method: string, params: Record<string, unknown>): void {
    if (this.#res.writableEnded || this.#res.destroyed) return;
    this.#start();
    this.#event({ jsonrpc: '2.0', id, method, params });
  }
  result(id: JsonRpcId, result: unknown): void {
    this.#finish({ jsonrpc: '2.0', id, result });
  }
  error(id: JsonRpcId, code: number, message: string): void {
    this.#finish({ jsonrpc: '2.0', id, error: { code, message } });
  }
  errorObject(id: JsonRpcId, error: { code: number; message: string; data?: unknown }): void {
    this.#finish({ jsonrpc: '2.0', id, error });
  }
  #start(): void {
    if (this.#started) return;
    this.#started = true;
    this.#res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  }
  #event(message: unknown): void {
    this.#res.write(`event: message\ndata: ${JSON.stringify(message)}\n\n`);
  }
  #finish(message: unknown): void {
    if (this.#res.writableEnded || this.#res.destroyed) return;
    if (this.#started) {
      this.#event(message);
      this.#res.end();
    } else sendJson(this.#res, 200, JSON.stringify(message));
  }
}
