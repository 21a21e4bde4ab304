// An upstream that speaks MCP 2026-07-28, reached statelessly: every request is one POST carrying the
// era's `_meta` (version, Deputy's client capabilities and info) and the mirrored headers, with the
// upstream's own credential from its CredentialProvider (never the client's token). It serves
// handshake-era clients of a 2026-only upstream (on /mcp/<name> through Deputy's own endpoint) and
// /mcp. Multi round-trip requests are translated: an `input_required` result's input requests are
// put to the client as handshake-era requests (elicitation/create, sampling, roots), and the call is
// retried with their answers and the upstream's requestState, byte for byte.
import { readCapped } from '../../client/read-capped.ts';
import { describeNetworkError, isTimeout } from '../../client/fetch-json.ts';
import type { McpUpstreamConfig } from '../../config/schema.ts';
import { credentialFailure, mustPropagate, type CredentialProvider } from '../../outbound/provider.ts';
import { decodeHeaderValue, META_CAPABILITIES, META_VERSION, MODERN_POST_HEADERS, MODERN_VERSION } from '../../protocol/era.ts';
import { upstreamHeaders } from '../../client/upstream-headers.ts';
import { INTERNAL_ERROR, JsonRpcError } from '../../protocol/jsonrpc.ts';
import type { UpstreamLink } from '../link.ts';
import { MemberUnavailable, type AggregateMember, type Discovery, type MemberContext } from './member.ts';
import { readSse } from './sse.ts';

type Message = Record<string, unknown>;
/** Methods 2026-07-28 removed: answered here so handshake-era clients keep working. */
const LOCAL_ANSWERS = new Set(['ping', 'logging/setLevel', 'resources/subscribe', 'resources/unsubscribe']);
const MAX_ROUNDS = 4;

/** #postOnce's answer when the upstream refused a credential that has since been renewed. */
const RETRY = Symbol('retry with a new credential');

/** The shortest time Deputy keeps an upstream's server/discover answer, whatever its ttlMs. */
const REDISCOVER_FLOOR_MS = 30_000;

export class ModernMember implements AggregateMember {
  readonly name: string;
  readonly credentialMode;
  readonly timeoutMs: number;
  readonly #credentials: CredentialProvider;
  readonly #link: UpstreamLink;
  #nextId = 1;
  #discover?: Promise<Message>;
  #discovered?: { result: Message; until: number };

  constructor(cfg: McpUpstreamConfig, credentials: CredentialProvider, link: UpstreamLink) {
    this.name = cfg.name;
    this.credentialMode = credentials.mode;
    this.timeoutMs = cfg.timeoutMs;
    this.#credentials = credentials;
    this.#link = link;
  }

  /**
   * From server/discover: asked once, again after a failure or when its ttlMs has run out (at most
   * every REDISCOVER_FLOOR_MS: /mcp asks for capabilities on every listing).
   */
  async capabilities(ctx: MemberContext): Promise<Record<string, unknown>> {
    if (this.#discovered && Date.now() >= this.#discovered.until) this.#discover = undefined;
    this.#discover ??= this.#post('server/discover', {}, ctx).then((result) => {
      const ttl = typeof result.ttlMs === 'number' && result.ttlMs >= 0 ? Math.max(result.ttlMs, REDISCOVER_FLOOR_MS) : Infinity;
      this.#discovered = { result, until: Date.now() + ttl };
      return result;
    }, (error: unknown) => {
      this.#discover = undefined;
      throw error;
    });
    return ((await this.#discover).capabilities as Record<string, unknown>) ?? {};
  }

  discovery(): Discovery | undefined {
    const r = this.#discovered?.result;
    if (!r) return undefined;
    const versions = Array.isArray(r.supportedVersions) ? r.supportedVersions.filter((v): v is string => typeof v === 'string') : [];
    return { supportedVersions: versions, ttlMs: typeof r.ttlMs === 'number' && r.ttlMs >= 0 ? r.ttlMs : undefined };
  }

  async request(method: string, params: Record<string, unknown>, ctx: MemberContext): Promise<Message> {
    if (LOCAL_ANSWERS.has(method)) return {};
    let round = params;
    for (let i = 0; i < MAX_ROUNDS; i++) {
      const result = await this.#post(method, round, ctx);
      if (result.resultType !== 'input_required') return stripModern(result);
      // Ask the client what the upstream asked, in the handshake era's words, then retry.
      const asked = (result.inputRequests ?? {}) as Record<string, { method?: unknown; params?: unknown }>;
      const inputResponses: Record<string, unknown> = {};
      for (const [key, req] of Object.entries(asked)) {
        if (typeof req?.method !== 'string') continue;
        if (!ctx.onRequest) throw new JsonRpcError(-32601, `upstream '${this.name}' needs input (${req.method}) that this client cannot give`);
        inputResponses[key] = await ctx.onRequest(req.method, (req.params as Record<string, unknown>) ?? {});
      }
      round = { ...params, inputResponses, ...(typeof result.requestState === 'string' ? { requestState: result.requestState } : {}) };
    }
    throw new MemberUnavailable(this.name, `upstream '${this.name}' kept asking for input after ${MAX_ROUNDS} rounds`);
  }

  async close(): Promise<void> {}

  /** One 2026-era POST; resolves to the result, relaying request-scoped notifications. */
  async #post(method: string, params: Record<string, unknown>, ctx: MemberContext): Promise<Message> {
    const first = await this.#postOnce(method, params, ctx, false);
    return first === RETRY ? ((await this.#postOnce(method, params, ctx, true)) as Message) : first;
  }

  async #postOnce(method: string, params: Record<string, unknown>, ctx: MemberContext, retried: boolean): Promise<Message | typeof RETRY> {
    let credential;
    try {
      credential = await this.#credentials.get({ principal: ctx.principal, bearer: ctx.bearer });
    } catch (error) {
      if (mustPropagate(error)) throw error; // the person's connect link, for the endpoint to present
      throw new MemberUnavailable(this.name, credentialFailure(this.name, error));
    }
    const meta: Message = { ...(params._meta as Message | undefined), [META_VERSION]: MODERN_VERSION, [META_CAPABILITIES]: ctx.onRequest ? { elicitation: { form: {}, url: {} }, sampling: {}, roots: {} } : {}, 'io.modelcontextprotocol/clientInfo': { name: 'deputy', version: '1.0.0' } };
    if (ctx.progressToken !== undefined) meta.progressToken = ctx.progressToken;
    const id = this.#nextId++;
    const named = method === 'resources/read' ? params.uri : method === 'tools/call' || method === 'prompts/get' ? params.name : undefined;
    const headers = upstreamHeaders({
      requestId: ctx.requestId,
      own: { ...MODERN_POST_HEADERS, 'mcp-method': method, 'mcp-name': typeof named === 'string' ? encodeHeaderValue(named) : undefined },
      credential: credential.headers,
    });
    const deadline = AbortSignal.timeout(this.#link.limits.maxCallMs);
    const signal = AbortSignal.any([ctx.signal, deadline]);
    const release = this.#link.calls.tryAcquire() ?? (await this.#link.calls.acquire(signal).catch((e: Error) => {
      throw new MemberUnavailable(this.name, e.message);
    }));
    try {
      const res = await this.#link.requests.request({ path: this.#link.path, method: 'POST', headers, body: JSON.stringify({ jsonrpc: '2.0', id, method, params: { ...params, _meta: meta } }), signal, headersTimeout: this.timeoutMs, bodyTimeout: this.#link.limits.maxCallMs });
      if (res.statusCode === 401 || res.statusCode === 403) {
        res.body.resume();
        // A per-user credential can be renewed (or the person asked to consent again) once.
        const challenge = typeof res.headers['www-authenticate'] === 'string' ? res.headers['www-authenticate'] : undefined;
        if (!retried && (await this.#credentials.refused?.(ctx, credential, { status: res.statusCode, challenge }))) return RETRY;
        throw new MemberUnavailable(this.name, `upstream '${this.name}' rejected Deputy's credential (HTTP ${res.statusCode}); check the ${this.credentialMode} credentials configured for it`);
      }
      const type = String(res.headers['content-type'] ?? '');
      if (type.startsWith('text/event-stream')) {
        for await (const event of readSse(res.body)) {
          let m: Message;
          try {
            m = JSON.parse(event.data) as Message;
          } catch {
            continue;
          }
          if (m.id === id && m.method === undefined) {
            res.body.destroy();
            return answer(this.name, m);
          }
          if (typeof m.method === 'string' && m.id === undefined) ctx.onNotification?.(m.method, (m.params as Message) ?? {});
        }
        throw new MemberUnavailable(this.name, `upstream '${this.name}' closed the stream before answering ${method}`);
      }
      const text = (await readCapped(res.body, this.#link.limits.maxResponseBytes))?.toString('utf8');
      if (text === undefined) throw new MemberUnavailable(this.name, `upstream '${this.name}' answered with more than ${this.#link.limits.maxResponseBytes} bytes`);
      let m: Message | undefined;
      try {
        m = JSON.parse(text) as Message;
      } catch {
        m = undefined;
      }
      if (m && (m.result !== undefined || m.error !== undefined)) return answer(this.name, m);
      throw new MemberUnavailable(this.name, `upstream '${this.name}' answered HTTP ${res.statusCode} without a JSON-RPC response to ${method}`);
    } catch (error) {
      if (error instanceof JsonRpcError || error instanceof MemberUnavailable || mustPropagate(error)) throw error;
      if (ctx.signal.aborted) throw error;
      const timedOut = deadline.aborted || isTimeout(error);
      throw new MemberUnavailable(this.name, timedOut ? `upstream '${this.name}' did not answer ${method} in time` : `upstream '${this.name}' is unreachable (${describeNetworkError(error)})`, timedOut);
    } finally {
      release();
    }
  }
}

function answer(upstream: string, m: Message): Message {
  const error = m.error as { code?: unknown; message?: unknown } | undefined;
  if (error) throw new JsonRpcError(typeof error.code === 'number' ? error.code : INTERNAL_ERROR, typeof error.message === 'string' ? error.message : `upstream '${upstream}' returned an error`);
  return (m.result as Message) ?? {};
}

/** Fields a handshake-era client does not know. */
function stripModern(result: Message): Message {
  const { resultType: _r, ttlMs: _t, cacheScope: _c, ...rest } = result;
  return rest;
}

/** Plain when visible ASCII without edge whitespace; else `=?base64?…?=` (2026-07-28 value encoding). */
export function encodeHeaderValue(v: string): string {
  const plain = /^[\x21-\x7e]([\x20-\x7e]*[\x21-\x7e])?$/.test(v) && decodeHeaderValue(v) === v && !v.startsWith('=?base64?');
  return plain ? v : `=?base64?${Buffer.from(v, 'utf8').toString('base64')}?=`;
}
