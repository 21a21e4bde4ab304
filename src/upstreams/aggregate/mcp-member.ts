// An MCP upstream as a member of the aggregated endpoint: a lean Streamable HTTP client over an undici
// Pool. Why not the SDK Client: the aggregator must know which upstream messages belong to which
// client request. Progress, log messages and sampling/elicitation requests arrive on the SSE stream of
// the POST they relate to, and the SDK Client delivers them to global handlers, losing that link once
// one upstream session is shared by several concurrent client requests. Here every POST's stream is
// read by the request that opened it, so each message goes back to exactly the right client request.
//
// Sessions: one upstream session per (principal, upstream), opened lazily, reused by every Deputy
// session of that principal, closed when the principal's last Deputy session ends or after idling.
// Every request carries the upstream's own credential from its CredentialProvider — never the client's token.
import { OverloadedError } from '../../admission/concurrency.ts';
import type { UpstreamLink } from '../link.ts';
import { readCapped } from '../../client/read-capped.ts';
import type { McpUpstreamConfig } from '../../config/schema.ts';
import { describeNetworkError, isTimeout } from '../../client/fetch-json.ts';
import { principalKey } from '../../inbound/principal.ts';
import { log, throttledWarning } from '../../log.ts';
import { credentialFailure, mustPropagate, CredentialError, type CredentialProvider } from '../../outbound/provider.ts';
import { INTERNAL_ERROR, JsonRpcError } from '../../protocol/jsonrpc.ts';
import { LATEST_VERSION } from '../../protocol/versions.ts';
import { MemberUnavailable, type AggregateMember, type MemberContext, type ServerNotificationListener } from './member.ts';
import { readSse } from './sse.ts';
import { upstreamHeaders } from '../../client/upstream-headers.ts';

// Deputy relays what the upstream asks to the client that made the call (or turns it into a 2026
// input_required); a client that cannot answer gets the upstream an error, not a hang.
const CLIENT_CAPABILITIES = { sampling: {}, elicitation: { form: {}, url: {} }, roots: { listChanged: true } };

interface UpstreamSession {
  id?: string;
  protocolVersion: string;
  capabilities: Record<string, unknown>;
  /** The latest caller, so a reconnecting notification stream can obtain a fresh credential. */
  caller: Pick<MemberContext, 'principal' | 'bearer'>;
  lastUsed: number;
  closed: boolean;
  /**
   * Calls in progress on this session, oldest first. A server request that arrives on the GET stream
   * instead of the call's own stream (the SDK's elicitInput() without a related request) is for the
   * latest of them.
   */
  inFlight: Set<MemberContext>;
  listen?: AbortController;
}

type Message = Record<string, unknown>;

export interface McpMemberOptions {
  /** Upstream sessions unused this long are closed (default 10 minutes). */
  idleMs?: number;
}

export class McpMember implements AggregateMember {
  readonly name: string;
  readonly credentialMode;
  readonly timeoutMs: number;
  readonly #credentials: CredentialProvider;
  readonly #link: UpstreamLink;
  readonly #sessions = new Map<string, Promise<UpstreamSession>>();
  readonly #idleMs: number;
  readonly #sweeper: NodeJS.Timeout;
  /** The /mcp service and /mcp/<name>'s 2026 translation both hear this upstream's notifications. */
  readonly #listeners = new Set<ServerNotificationListener>();
  #nextId = 1;

  constructor(cfg: McpUpstreamConfig, credentials: CredentialProvider, link: UpstreamLink, opts: McpMemberOptions = {}) {
    this.name = cfg.name;
    this.credentialMode = credentials.mode;
    this.timeoutMs = cfg.timeoutMs;
    this.#credentials = credentials;
    this.#link = link;
    this.#idleMs = opts.idleMs ?? 10 * 60_000;
    this.#sweeper = setInterval(() => this.#sweep(), Math.min(this.#idleMs, 60_000)).unref();
  }

  listen(listener: ServerNotificationListener): void {
    this.#listeners.add(listener);
  }

  #notify(key: string, method: string, params: Record<string, unknown>, caller: Pick<MemberContext, 'principal' | 'bearer'>): void {
    for (const l of this.#listeners) l(key, method, params, caller);
  }

  async capabilities(ctx: MemberContext): Promise<Record<string, unknown>> {
    return (await this.#session(ctx)).capabilities;
  }

  async request(method: string, params: Record<string, unknown>, ctx: MemberContext): Promise<Message> {
    // The whole exchange, a streamed answer included, ends by max_call_ms whatever the upstream does.
    const maxCallMs = this.#link.limits.maxCallMs;
    const deadline = AbortSignal.timeout(maxCallMs);
    const call = { ...ctx, signal: AbortSignal.any([ctx.signal, deadline]) };
    try {
      const session = await this.#session(call);
      try {
        return await this.#tracked(session, method, params, call);
      } catch (error) {
        if (!(error instanceof SessionExpired)) throw error;
        // The upstream forgot the session (restart, its own expiry): open a new one and retry once.
        this.#drop(principalKey(ctx.principal), session);
        return await this.#tracked(await this.#session(call), method, params, call);
      }
    } catch (error) {
      if (error instanceof JsonRpcError || error instanceof MemberUnavailable || mustPropagate(error)) throw error;
      if (deadline.aborted && !ctx.signal.aborted) throw new MemberUnavailable(this.name, `upstream '${this.name}' did not complete ${method} within ${maxCallMs} ms (max_call_ms)`, true);
      if (ctx.signal.aborted) throw error; // the client went away: nothing to report to it
      // A connection reset or a broken stream while reading the answer.
      throw new MemberUnavailable(this.name, `upstream '${this.name}' broke off its answer to ${method}: ${describeNetworkError(error)}`);
    }
  }

  async #tracked(session: UpstreamSession, method: string, params: Record<string, unknown>, ctx: MemberContext): Promise<Message> {
    session.inFlight.add(ctx);
    try {
      return await this.#call(session, method, params, ctx);
    } finally {
      session.inFlight.delete(ctx);
    }
  }

  release(key: string): void {
    const s = this.#sessions.get(key);
    this.#sessions.delete(key);
    s?.then((session) => this.#end(session)).catch(() => {});
  }

  async close(): Promise<void> {
    clearInterval(this.#sweeper);
    const all = [...this.#sessions.values()];
    this.#sessions.clear();
    await Promise.all(all.map((p) => p.then((s) => this.#end(s)).catch(() => {})));
  }

  #session(ctx: MemberContext): Promise<UpstreamSession> {
    const key = principalKey(ctx.principal);
    let pending = this.#sessions.get(key);
    if (!pending) {
      pending = this.#initialize(ctx);
      this.#sessions.set(key, pending);
      pending.catch(() => {
        if (this.#sessions.get(key) === pending) this.#sessions.delete(key);
      });
    }
    return pending.then((s) => {
      s.lastUsed = Date.now();
      s.caller = { principal: ctx.principal, bearer: ctx.bearer };
      return s;
    });
  }

  async #initialize(ctx: MemberContext): Promise<UpstreamSession> {
    // Shared by every caller of this principal, so bounded by the upstream's timeout, not one caller's signal.
    const signal = AbortSignal.timeout(this.timeoutMs);
    const draft: UpstreamSession = { protocolVersion: LATEST_VERSION, capabilities: {}, caller: ctx, lastUsed: Date.now(), closed: false, inFlight: new Set() };
    const init = { protocolVersion: LATEST_VERSION, capabilities: CLIENT_CAPABILITIES, clientInfo: { name: 'deputy', version: '1.0.0' } };
    const { result, sessionId } = await this.#exchange(draft, { jsonrpc: '2.0', id: this.#nextId++, method: 'initialize', params: init }, { ...ctx, signal }, true);
    draft.id = sessionId;
    draft.protocolVersion = typeof result.protocolVersion === 'string' ? result.protocolVersion : LATEST_VERSION;
    draft.capabilities = (result.capabilities as Record<string, unknown>) ?? {};
    await this.#exchange(draft, { jsonrpc: '2.0', method: 'notifications/initialized' }, { ...ctx, signal }, false);
    if (draft.id !== undefined && wantsNotifications(draft.capabilities)) this.#openNotificationStream(draft, principalKey(ctx.principal), 0);
    return draft;
  }

  async #call(session: UpstreamSession, method: string, params: Record<string, unknown>, ctx: MemberContext): Promise<Message> {
    const meta = { ...(params._meta as Record<string, unknown> | undefined) };
    if (ctx.progressToken !== undefined) meta.progressToken = ctx.progressToken;
    const body = { jsonrpc: '2.0', id: this.#nextId++, method, params: Object.keys(meta).length ? { ...params, _meta: meta } : params };
    return (await this.#exchange(session, body, ctx, true)).result;
  }

  /** POST one message; for requests, read the JSON or SSE answer, relaying what arrives before it. */
  async #exchange(session: UpstreamSession, message: Message, ctx: MemberContext, expectAnswer: boolean, retried = false): Promise<{ result: Message; sessionId?: string }> {
    const { res, credential } = await this.#send(session, 'POST', JSON.stringify(message), ctx, this.timeoutMs);
    const status = res.statusCode;
    const sessionHeader = res.headers['mcp-session-id'];
    const sessionId = typeof sessionHeader === 'string' ? sessionHeader : undefined;
    if (status === 404 && session.id !== undefined) {
      res.body.resume();
      throw new SessionExpired();
    }
    if (status === 401 || status === 403) {
      res.body.resume();
      // A per-user credential can be renewed (or the person asked to consent again) once.
      const challenge = typeof res.headers['www-authenticate'] === 'string' ? res.headers['www-authenticate'] : undefined;
      if (!retried && (await this.#credentials.refused?.(ctx, credential, { status, challenge }))) return this.#exchange(session, message, ctx, expectAnswer, true);
      throw new MemberUnavailable(this.name, `upstream '${this.name}' rejected Deputy's credential (HTTP ${status}); check the ${this.credentialMode} credentials configured for it`);
    }
    if (!expectAnswer) {
      res.body.resume();
      if (status >= 300) throw new MemberUnavailable(this.name, `upstream '${this.name}' answered HTTP ${status} to ${String(message.method)}`);
      return { result: {}, sessionId };
    }
    const type = String(res.headers['content-type'] ?? '');
    if (type.startsWith('text/event-stream') && status < 300) {
      for await (const event of readSse(res.body)) {
        if (!event.data) continue;
        let m: Message;
        try {
          m = JSON.parse(event.data) as Message;
        } catch {
          continue;
        }
        if (m.id === message.id && m.method === undefined) {
          res.body.destroy();
          return { result: answer(this.name, m), sessionId };
        }
        this.#onStreamMessage(session, m, ctx);
      }
      throw new MemberUnavailable(this.name, `upstream '${this.name}' closed the stream before answering ${String(message.method)}`);
    }
    const text = await readText(this.name, res.body, this.#link.limits.maxResponseBytes);
    let m: Message | undefined;
    try {
      m = JSON.parse(text) as Message;
    } catch {
      m = undefined;
    }
    if (m && (m.result !== undefined || m.error !== undefined)) return { result: answer(this.name, m), sessionId };
    throw new MemberUnavailable(this.name, `upstream '${this.name}' answered HTTP ${status} without a JSON-RPC response to ${String(message.method)}`);
  }

  /** Something the upstream sent on a request's stream ahead of the answer. */
  #onStreamMessage(session: UpstreamSession, m: Message, ctx: MemberContext): void {
    if (typeof m.method !== 'string') return;
    const params = (m.params as Record<string, unknown>) ?? {};
    if (m.id === undefined) {
      if (m.method.endsWith('/list_changed') || m.method === 'notifications/resources/updated') this.#notify(principalKey(ctx.principal), m.method, params, ctx);
      else ctx.onNotification?.(m.method, params);
      return;
    }
    // A request to the client (sampling, elicitation, roots): relay it, then POST the answer back.
    const reply = ctx.onRequest ? ctx.onRequest(m.method, params) : Promise.reject(new JsonRpcError(-32601, `Method not found: ${m.method}`));
    reply
      .then(
        (result) => ({ jsonrpc: '2.0', id: m.id, result }),
        (error: unknown) => ({ jsonrpc: '2.0', id: m.id, error: error instanceof JsonRpcError ? { code: error.code, message: error.message } : { code: INTERNAL_ERROR, message: 'the client request failed' } }),
      )
      .then((response) => this.#exchange(session, response, { ...ctx, signal: AbortSignal.timeout(this.timeoutMs) }, false))
      .catch((error: unknown) => log.warn('could not answer an upstream request', { upstream: this.name, method: m.method, error: (error as Error).message }));
  }

  async #send(session: UpstreamSession, method: 'POST' | 'GET' | 'DELETE', body: string | undefined, ctx: Pick<MemberContext, 'principal' | 'bearer' | 'signal'> & { requestId?: string }, headersTimeout: number) {
    let credential;
    try {
      credential = await this.#credentials.get({ principal: ctx.principal, bearer: ctx.bearer });
    } catch (error) {
      if (mustPropagate(error)) throw error; // the person's connect link, for the endpoint to present (not a failure, and not for the log)
      if (!(error instanceof CredentialError)) log.error('credential provider failed', { upstream: this.name, error: (error as Error).message });
      throw new MemberUnavailable(this.name, credentialFailure(this.name, error));
    }
    const headers = upstreamHeaders({
      requestId: ctx.requestId,
      own: {
        accept: method === 'GET' ? 'text/event-stream' : 'application/json, text/event-stream',
        'content-type': body !== undefined ? 'application/json' : undefined,
        'mcp-session-id': session.id,
        'mcp-protocol-version': session.id !== undefined ? session.protocolVersion : undefined,
      },
      credential: credential.headers,
    });
    // The same admission as /mcp/<name>: streams and requests each within the upstream's own budget.
    let release: (() => void) | undefined;
    try {
      if (method === 'GET') {
        // A notification stream needs a background slot (at most half the budget) and a stream slot.
        const background = this.#link.backgroundStreams.tryAcquire();
        const stream = background && this.#link.streamSlots.tryAcquire();
        if (background && stream) release = () => (stream(), background());
        else background?.();
      } else {
        release = this.#link.calls.tryAcquire() ?? (await this.#link.calls.acquire(ctx.signal));
      }
    } catch (error) {
      if (error instanceof OverloadedError) throw new MemberUnavailable(this.name, error.message);
      throw error;
    }
    if (!release) throw new MemberUnavailable(this.name, `upstream '${this.name}' has no stream left for /mcp notifications (limits.max_streams ${this.#link.limits.maxStreams}, half of it for /mcp)`);
    try {
      const res = await (method === 'GET' ? this.#link.streams : this.#link.requests).request({ path: this.#link.path, method, headers, body, signal: ctx.signal, headersTimeout, bodyTimeout: method === 'GET' ? 0 : Math.max(this.timeoutMs, 300_000) });
      let released = false;
      const done = () => {
        if (!released) (released = true), release();
      };
      res.body.once('close', done).once('end', done).once('error', done);
      return { res, credential };
    } catch (error) {
      release();
      if (ctx.signal.aborted && (ctx.signal.reason as Error)?.name !== 'TimeoutError') throw error;
      const reason = describeNetworkError(error);
      const timedOut = isTimeout(error) || (ctx.signal.reason as Error)?.name === 'TimeoutError';
      throw new MemberUnavailable(this.name, timedOut ? `upstream '${this.name}' did not answer within ${this.timeoutMs} ms` : `upstream '${this.name}' is unreachable (${reason})`, timedOut);
    }
  }

  /** The standalone GET stream: list_changed and resources/updated for this principal's session. */
  #openNotificationStream(session: UpstreamSession, key: string, failures: number): void {
    if (session.closed) return;
    const abort = new AbortController();
    session.listen = abort;
    void (async () => {
      let opened = false;
      try {
        const { res } = await this.#send(session, 'GET', undefined, { ...session.caller, signal: abort.signal }, this.timeoutMs);
        if (res.statusCode !== 200) {
          res.body.resume();
          return; // 405: the upstream offers no such stream; nothing to relay.
        }
        opened = true;
        for await (const event of readSse(res.body)) {
          if (!event.data) continue;
          try {
            const m = JSON.parse(event.data) as Message;
            if (typeof m.method === 'string' && m.id === undefined) this.#notify(key, m.method, (m.params as Record<string, unknown>) ?? {}, session.caller);
            else if (typeof m.method === 'string') {
              // A request to the client outside any call's stream: the latest call in progress asks it (none: refused).
              const latest = [...session.inFlight].at(-1) ?? { ...session.caller, requestId: 'notification-stream', signal: abort.signal };
              this.#onStreamMessage(session, m, latest);
            }
          } catch {
            // not JSON: ignore the event
          }
        }
      } catch {
        // fall through to reconnect
      }
      if (session.closed || abort.signal.aborted) return;
      const next = opened ? 0 : failures + 1;
      if (next > 3) return givingUp(this.name);
      setTimeout(() => this.#openNotificationStream(session, key, next), 1000 * Math.max(1, next)).unref();
    })();
  }

  #drop(key: string, session: UpstreamSession): void {
    const current = this.#sessions.get(key);
    current?.then((s) => {
      if (s === session && this.#sessions.get(key) === current) this.#sessions.delete(key);
    });
    if (current) this.#sessions.delete(key);
    this.#end(session, false);
  }

  #end(session: UpstreamSession, sendDelete = true): void {
    if (session.closed) return;
    session.closed = true;
    session.listen?.abort();
    if (!sendDelete || session.id === undefined) return;
    this.#send(session, 'DELETE', undefined, { ...session.caller, signal: AbortSignal.timeout(Math.min(this.timeoutMs, 5000)) }, this.timeoutMs)
      .then(({ res }) => res.body.resume())
      .catch(() => {});
  }

  #sweep(): void {
    const cutoff = Date.now() - this.#idleMs;
    for (const [key, pending] of this.#sessions) {
      pending.then((s) => {
        if (s.lastUsed < cutoff && this.#sessions.get(key) === pending) this.release(key);
      }).catch(() => {});
    }
  }
}

class SessionExpired extends Error {}

/** Per upstream, at most one line a minute: with many principals this can happen for each of them. */
const givingUp = throttledWarning('giving up on an upstream notification stream for /mcp (list changes from it reach that principal only when they arrive during a request)');

function wantsNotifications(caps: Record<string, unknown>): boolean {
  const flag = (k: string, f: string) => Boolean((caps[k] as Record<string, unknown> | undefined)?.[f]);
  return flag('tools', 'listChanged') || flag('prompts', 'listChanged') || flag('resources', 'listChanged') || flag('resources', 'subscribe');
}

function answer(upstream: string, m: Message): Message {
  const error = m.error as { code?: unknown; message?: unknown; data?: unknown } | undefined;
  if (error) throw new JsonRpcError(typeof error.code === 'number' ? error.code : INTERNAL_ERROR, typeof error.message === 'string' ? error.message : `upstream '${upstream}' returned an error`);
  return (m.result as Message) ?? {};
}

async function readText(upstream: string, body: AsyncIterable<Buffer>, max: number): Promise<string> {
  const read = await readCapped(body, max);
  if (!read) throw new MemberUnavailable(upstream, `upstream '${upstream}' answered with more than ${max} bytes`);
  return read.toString('utf8');
}
