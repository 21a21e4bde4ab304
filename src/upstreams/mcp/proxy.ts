// `/mcp/<upstream>` for `type: mcp`: a Streamable HTTP reverse proxy. Request bytes are forwarded
// unchanged; responses (JSON or SSE) are streamed through as they arrive. Only an allow-list of
// headers crosses: the client's Authorization, cookies and hop-by-hop headers never reach the upstream,
// which sees Deputy's own credential instead, and that credential is overwritten wherever the
// upstream echoes it back. Session ids are Deputy's, mapped to the upstream's. Requests and GET
// streams go through the upstream's link (separate limits and pools); every request has a deadline.
import { LIST_OF, ToolChangedError, type PinKind, type ToolPins } from '../../governance/pins.ts';
import { listChangedGate, wholeList } from '../../governance/list-changed-gate.ts';
import type { IncomingHttpHeaders } from 'node:http';
import { OverloadedError, type Release } from '../../admission/concurrency.ts';
import type { McpUpstreamConfig } from '../../config/schema.ts';
import type { McpExchange, McpHandler } from '../../http/exchange.ts';
import { DeadlineError, dispatch, ResponseTooLargeError } from '../../client/dispatch.ts';
import { describeNetworkError, isTimeout } from '../../client/fetch-json.ts';
import { SecretPatternCache } from '../../client/redact.ts';
import { upstreamHeaders } from '../../client/upstream-headers.ts';
import { sendError, sendSessionNotFound } from '../../http/respond.ts';
import { DeputyError } from '../../errors.ts';
import { QuotaExceededError, type Quotas } from '../../admission/quota.ts';
import type { UpstreamLink } from '../link.ts';
import { UNSUPPORTED_PROTOCOL_VERSION } from '../../protocol/era.ts';
import { MemberUnavailable } from '../aggregate/member.ts';
import type { UpstreamClient } from '../aggregate/upstream-client.ts';
import { principalKey } from '../../inbound/principal.ts';
import { MRTR_METHODS, type RequestStateSealer } from '../../protocol/request-state.ts';
import { findOwnSession, newSessionId, SessionLimitError, type SessionStore } from '../../protocol/sessions.ts';
import { CredentialError, type CredentialProvider } from '../../outbound/provider.ts';
import { log } from '../../log.ts';
import { decide, enforce, filterListAnswer, PolicyDenied } from '../../policy/enforce.ts';
import { chainTransforms } from '../../client/body-transform.ts';
import { ToolPolicy } from '../../policy/tools.ts';

/** Response headers copied back to the client. */
const FORWARDED_RESPONSE_HEADERS = ['content-type', 'content-length', 'cache-control', 'content-encoding'] as const;
/** Credential headers whose values are overwritten if the upstream echoes them (other static headers, e.g. a tenant id, are not secrets). */
const SECRET_HEADER = /authorization|cookie|token|secret|api[-_]?key|password|signature|assertion/i;
/** A list answer larger than this is refused rather than buffered for filtering. */
const MAX_LIST_BYTES = 16 * 1024 * 1024;
/** The list answers Deputy rewrites (policy for tools; definition pinning for all three), by method. */
const PINNED_LISTS: Record<string, { key: 'tools' | 'prompts' | 'resourceTemplates'; kind: PinKind }> = Object.fromEntries(
  (Object.entries(LIST_OF) as [PinKind, (typeof LIST_OF)[PinKind]][]).map(([kind, l]) => [l.method, { key: l.key, kind }]),
);

export class McpProxy implements McpHandler {
  readonly #cfg: McpUpstreamConfig;
  readonly #credentials: CredentialProvider;
  readonly #sessions: SessionStore;
  readonly #link: UpstreamLink;
  readonly #quotas: Quotas;
  readonly #sealer: RequestStateSealer;
  readonly #secretPatterns = new SecretPatternCache();
  readonly #pins?: ToolPins;
  /**
   * Serves clients whose era the upstream does not speak (a 2026 client of a handshake-only upstream,
   * or the reverse), through Deputy's own endpoint over the upstream client shared with /mcp.
   */
  readonly #translator?: { endpoint: McpHandler; client: UpstreamClient };
  /** required_scopes are already enforced by the route; the policy adds claims and per-tool rules. */
  readonly #policy: ToolPolicy;
  /** Open GET streams that hear of approved changes (pinning: enforce), and the unsubscribe. */
  readonly #approvalStreams = new Set<(kind: PinKind) => void>();
  readonly #stopApprovals?: () => void;

  constructor(cfg: McpUpstreamConfig, credentials: CredentialProvider, sessions: SessionStore, link: UpstreamLink, quotas: Quotas, sealer: RequestStateSealer, translator?: { endpoint: McpHandler; client: UpstreamClient }, pins?: ToolPins) {
    this.#quotas = quotas;
    this.#pins = pins;
    this.#translator = translator;
    this.#sealer = sealer;
    this.#cfg = cfg;
    this.#policy = new ToolPolicy(cfg.name, cfg.policy);
    this.#credentials = credentials;
    this.#sessions = sessions;
    this.#link = link;
    if (pins?.mode(cfg.name) === 'enforce') this.#stopApprovals = pins.onApproval((upstream, kind) => {
      if (upstream === cfg.name) for (const tell of this.#approvalStreams) tell(kind);
    });
  }

  async handle(x: McpExchange): Promise<void> {
    const { req, res, audit } = x;
    const name = this.#cfg.name;
    const id = x.rpc?.id ?? null;
    audit.upstream(name, this.#credentials.mode);

    // A client of one era and an upstream of the other: Deputy translates (policy and quotas apply
    // there). A 2026 client is translated when the upstream speaks only the handshake era (probed);
    // a handshake client when the upstream is 2026-only (configured, or learnt from its refusal of
    // initialize below): a dual-era upstream serves each client in its own era.
    if (this.#translator && x.era === 'modern' && this.#cfg.protocol !== '2026-07-28') {
      let upstreamEra;
      try {
        upstreamEra = await this.#translator.client.era({ principal: x.principal, bearer: x.bearer });
      } catch (error) {
        if (!(error instanceof MemberUnavailable)) throw error;
        return sendError(res, audit, error, id);
      }
      if (upstreamEra === 'handshake') return this.#translator.endpoint.handle(x);
    }
    if (this.#translator && x.era === 'handshake' && (this.#cfg.protocol === '2026-07-28' || this.#link.handshakeRefused)) return this.#translator.endpoint.handle(x);

    // Session: Deputy's id → the upstream's, only for the principal and route that created it. The
    // 2026 era has no sessions: an Mcp-Session-Id there is ignored (spec), never forwarded.
    const clientSession = x.era === 'modern' ? undefined : header(req.headers, 'mcp-session-id');
    let upstreamSession: string | undefined;
    if (clientSession !== undefined) {
      const rec = await findOwnSession(this.#sessions, clientSession, principalKey(x.principal), name);
      if (!rec) return sendSessionNotFound(res, audit, id);
      upstreamSession = rec.upstreamSessions[name];
    }
    if (this.#cfg.policy && x.rpc?.kind === 'request') {
      try {
        enforce(decide(this.#policy, x.principal, x.rpc.method, x.rpc.target), audit); // a step-up AuthError goes up to the HTTP layer
      } catch (error) {
        if (!(error instanceof PolicyDenied)) throw error;
        return sendError(res, audit, error, id);
      }
    }

    // Pinning (enforce): a tool or prompt whose changed definition waits for approval is not used.
    if (x.rpc?.kind === 'request' && (x.rpc.method === 'tools/call' || x.rpc.method === 'prompts/get') && x.rpc.target !== undefined && this.#pins) {
      try {
        await this.#pins.check(name, x.rpc.method === 'tools/call' ? 'tool' : 'prompt', x.rpc.target);
      } catch (error) {
        if (!(error instanceof ToolChangedError)) throw error;
        return sendError(res, audit, error, id);
      }
    }

    // Quota after policy: a refused request spends nothing. Tool annotations are not known here, so a
    // tools/call fails closed when the quota store is down (unless on_store_failure says open).
    if (x.rpc?.kind === 'request') {
      try {
        await this.#quotas.checkUpstream(x.principal, name, x.rpc.method === 'tools/call' ? x.rpc.target : undefined);
      } catch (error) {
        if (!(error instanceof QuotaExceededError)) throw error;
        return sendError(res, audit, error, id);
      }
    }

    // Admission: a GET stream takes a stream slot (none free: 503 at once); anything else a request
    // slot, waiting briefly in the queue. Held until the response ends.
    // GET streams, and 2026 listens (long-lived POSTs), use the stream budget and have no deadline.
    const stream = req.method === 'GET' || (x.era === 'modern' && x.rpc?.method === 'subscriptions/listen');
    let release: Release | undefined;
    try {
      release = stream ? this.#link.streamSlots.tryAcquire() : (this.#link.calls.tryAcquire() ?? (await this.#link.calls.acquire()));
      if (!release) throw new OverloadedError(this.#link.streamSlots.scope, `upstream '${name}' is at its limit of ${this.#link.limits.maxStreams} concurrent streams; retry shortly`);
    } catch (error) {
      if (!(error instanceof OverloadedError)) throw error;
      return sendError(res, audit, error, id);
    }
    if (res.destroyed) return release(); // the client left while queued
    res.once('close', release);

    let credential;
    try {
      credential = await this.#credentials.get({ principal: x.principal, bearer: x.bearer });
    } catch (error) {
      if (!(error instanceof CredentialError)) log.error('credential provider failed', { upstream: name, error: (error as Error).message });
      return sendError(res, audit, error instanceof CredentialError ? error : new CredentialError(name, 'the credential provider failed'), id);
    }

    // MCP 2026 multi round-trip: the requestState this client got from Deputy is opened (bound to the
    // principal and this upstream); anything else is refused before the upstream sees it.
    const mrtr = x.era === 'modern' && x.rpc?.kind === 'request' && MRTR_METHODS.has(x.rpc.method!);
    let body = x.body;
    if (mrtr && x.rpc!.params?.requestState !== undefined) {
      const sealed = x.rpc!.params.requestState;
      const state = typeof sealed === 'string' ? this.#sealer.open(sealed, principalKey(x.principal), name) : undefined;
      if (state === undefined) return sendError(res, audit, new DeputyError('ERR_INVALID_REQUEST_STATE', 'Invalid or expired requestState'), id);
      const message = JSON.parse(x.body!.toString('utf8')) as { params: Record<string, unknown> };
      message.params.requestState = state;
      body = Buffer.from(JSON.stringify(message));
    }

    const headers = upstreamHeaders({
      requestId: x.requestId,
      relay: { headers: req.headers, modern: x.era === 'modern' },
      own: { 'mcp-session-id': upstreamSession },
      credential: credential.headers,
    });

    const limits = this.#link.limits;
    const call = dispatch(stream ? this.#link.streams : this.#link.requests, {
      path: this.#link.path,
      method: req.method as 'GET' | 'POST' | 'DELETE',
      headers,
      body,
      headersTimeout: this.#cfg.timeoutMs,
      bodyTimeout: stream ? 0 : Math.max(this.#cfg.timeoutMs, 300_000),
    }, {
      // Streams are long-lived by design: no deadline or size cap, but their own budget (above).
      deadlineMs: stream ? undefined : limits.maxCallMs,
      maxBytes: stream ? undefined : limits.maxResponseBytes,
      redact: this.#secretPatterns.of([credential.token, ...Object.entries(credential.headers).filter(([h]) => SECRET_HEADER.test(h)).map(([, v]) => v)]),
    });
    let clientGone = false;
    res.once('close', () => {
      if (res.writableFinished) return;
      clientGone = true;
      call.abort();
    });
    let upstream;
    try {
      upstream = await call.response;
    } catch (error) {
      if (clientGone) return;
      const reason = describeNetworkError(error);
      const timedOut = isTimeout(error) || error instanceof DeadlineError;
      const message = error instanceof DeadlineError ? `upstream '${name}' did not answer within ${limits.maxCallMs} ms (max_call_ms)` : timedOut ? `upstream '${name}' did not answer within ${this.#cfg.timeoutMs} ms` : `upstream '${name}' is unreachable (${reason})`;
      this.#link.forgetEra();
      return sendError(res, audit, new DeputyError(timedOut ? 'ERR_UPSTREAM_TIMEOUT' : 'ERR_UPSTREAM_UNAVAILABLE', message), id);
    }

    const status = upstream.status;
    if (status === 401 || status === 403) {
      // The upstream refused *Deputy's* credential. Relaying its challenge would send the client to
      // re-authenticate with Deputy for nothing, so it becomes a gateway error instead.
      upstream.discard();
      return sendError(res, audit, new DeputyError('ERR_UPSTREAM_REFUSED_CREDENTIAL', `upstream '${name}' rejected Deputy's credential (HTTP ${status}); check the ${this.#credentials.mode} credentials configured for it`), id);
    }

    const out: Record<string, string> = {}; // x-request-id is already set on res
    for (const h of FORWARDED_RESPONSE_HEADERS) {
      const v = upstream.headers[h];
      if (typeof v === 'string') out[h] = v;
    }
    try {
      const newUpstreamSession = upstream.headers['mcp-session-id'];
      if (typeof newUpstreamSession === 'string' && x.era === 'handshake' && x.rpc?.method === 'initialize' && status < 300) {
        const sessionId = newSessionId();
        const now = Date.now();
        try {
          await this.#sessions.set({ id: sessionId, principalKey: principalKey(x.principal), route: name, upstreamSessions: { [name]: newUpstreamSession }, createdAt: now, lastSeenAt: now });
        } catch (error) {
          if (!(error instanceof SessionLimitError)) throw error;
          upstream.discard();
          return sendError(res, audit, error, id);
        }
        out['mcp-session-id'] = sessionId;
      } else if (clientSession !== undefined) {
        out['mcp-session-id'] = clientSession;
        // The upstream ended the session (DELETE, or it expired there): forget the mapping too.
        if ((req.method === 'DELETE' && status < 300) || status === 404) await this.#sessions.delete(clientSession);
      }
    } catch (error) {
      upstream.discard(); // an unread response would hold its pooled connection until the body timeout
      throw error;
    }
    if (status === 400 && this.#translator && x.era === 'handshake' && x.rpc?.method === 'initialize') {
      // A 2026-only upstream refuses initialize with -32022: remember it and serve this client by translation.
      const body = await upstream.read(64 * 1024).catch(() => undefined);
      if (body && isUnsupportedVersion(body)) {
        this.#link.handshakeRefused = true;
        return this.#translator.endpoint.handle(x);
      }
      if (!body) return void res.destroy();
      out['content-length'] = String(body.length);
      return void res.writeHead(status, out).end(body);
    }
    const declared = Number(upstream.headers['content-length']);
    if (!stream && declared > limits.maxResponseBytes) {
      upstream.discard();
      return sendError(res, audit, new DeputyError('ERR_UPSTREAM_UNAVAILABLE', `upstream '${name}' answered with ${declared} bytes, more than max_response_bytes (${limits.maxResponseBytes})`), id);
    }
    if (status >= 500) {
      this.#link.forgetEra();
      audit.upstreamError(`upstream '${name}' answered HTTP ${status}`);
    }
    const pinning = this.#pins && this.#pins.mode(name) !== 'off' ? this.#pins : undefined;
    // With pinning, what a client was last served is kept per Deputy session (a person may run two clients), else per principal.
    const servedTo = !pinning ? '' : clientSession !== undefined ? `${principalKey(x.principal)}\u0000${clientSession}` : principalKey(x.principal);
    const list = x.rpc?.method !== undefined ? PINNED_LISTS[x.rpc.method] : undefined;
    if (list && status === 200 && (pinning || (list.key === 'tools' && this.#policy.perTool))) {
      // The one buffered answer: a listing rewritten to what this principal may call (tools) and,
      // with pinning, without changed definitions that wait for approval (enforce).
      const body = await upstream.read(MAX_LIST_BYTES).catch(() => undefined);
      const withheld: string[] = [];
      const firstPage = x.rpc!.params?.cursor === undefined;
      const review = pinning && (async (items: Record<string, unknown>[]) => {
        const r = await pinning.review(name, list.kind, items, firstPage ? servedTo : undefined);
        withheld.push(...r.withheld);
        return r.items;
      });
      const filtered = body && (await filterListAnswer([body], out['content-type'] ?? '', list.key, this.#policy, x.principal, review || undefined).catch(() => undefined));
      if (!filtered) return void res.destroy();
      if (filtered.hidden) audit.note(`policy hid ${filtered.hidden} tool${filtered.hidden > 1 ? 's' : ''}`);
      if (withheld.length) audit.note(`changed definitions withheld until approved: ${withheld.join(', ')}`);
      out['content-length'] = String(Buffer.byteLength(filtered.body));
      return void res.writeHead(status, out).end(filtered.body);
    }
    // A stream may stay silent for a long time (a GET stream until the first notification): its head goes out at once.
    const sse = out['content-type']?.startsWith('text/event-stream') ?? false;
    // An input_required answer's requestState is sealed on its way to the client (length changes: no Content-Length).
    const seal = mrtr && status === 200 ? this.#sealer.rewriter(principalKey(x.principal), name, sse) : undefined;
    // Pinning (enforce): list_changed reaches the client only when what it is served changed.
    const gate = sse && status === 200 && pinning?.mode(name) === 'enforce' ? listChangedGate({
      pins: pinning, upstream: name, servedTo,
      list: (kind) => this.#listAs(x, kind),
      // A handshake GET stream is where approvals are announced while it is open.
      approvals: req.method === 'GET' && x.era === 'handshake' ? (tell) => {
        this.#approvalStreams.add(tell);
        res.once('close', () => this.#approvalStreams.delete(tell));
      } : undefined,
    }) : undefined;
    const rewrite = chainTransforms(seal, gate?.transform);
    if (rewrite) delete out['content-length'];
    const { error, redacted, unsent } = await upstream.pipeTo(res, { status, headers: out, flush: sse, rewrite });
    if (error && !clientGone) {
      const cut = new DeputyError(error instanceof DeadlineError ? 'ERR_UPSTREAM_TIMEOUT' : 'ERR_UPSTREAM_UNAVAILABLE', error instanceof DeadlineError ? `upstream '${name}' answer cut: not complete within ${limits.maxCallMs} ms (max_call_ms)`
        : error instanceof ResponseTooLargeError ? `upstream '${name}' answer cut: more than ${limits.maxResponseBytes} bytes (max_response_bytes)`
          : `upstream '${name}' stream broke: ${describeNetworkError(error)}`);
      if (unsent) sendError(res, audit, cut, id);
      else audit.refuse(cut);
    }
    if (redacted) audit.note(`the upstream echoed Deputy's credential: overwritten in the answer`);
    if (gate?.held()) audit.note(`${gate.held()} list_changed held back: only definitions waiting for approval changed`);
  }

  /** The upstream's current list of one kind, as this principal sees it, through the client shared with /mcp. */
  async #listAs(x: McpExchange, kind: PinKind): Promise<Record<string, unknown>[] | undefined> {
    if (!this.#translator) return undefined;
    const page = await this.#translator.client.request(LIST_OF[kind].method, {}, { principal: x.principal, bearer: x.bearer, requestId: x.requestId, signal: AbortSignal.timeout(this.#cfg.timeoutMs) });
    return wholeList(kind, page);
  }

  async close(): Promise<void> {
    this.#stopApprovals?.();
    await this.#translator?.endpoint.close?.();
  }
}

function header(h: IncomingHttpHeaders, name: string): string | undefined {
  const v = h[name];
  return Array.isArray(v) ? v[0] : v;
}

function isUnsupportedVersion(body: Buffer): boolean {
  try {
    return (JSON.parse(body.toString('utf8')) as { error?: { code?: unknown } }).error?.code === UNSUPPORTED_PROTOCOL_VERSION;
  } catch {
    return false;
  }
}
