// One MCP upstream's connections and admission, shared by `/mcp/<name>` (the proxy) and `/mcp` (the
// aggregate member): requests and GET streams get separate connection pools, each behind its own
// limit, so long-lived streams can never take the connections request traffic needs. A request past
// the limit waits briefly in a queue, then gets 503; a stream past it gets 503 at once.
import { Pool } from 'undici';
import { readCapped } from '../client/read-capped.ts';
import { META_CAPABILITIES, META_VERSION, MODERN_POST_HEADERS, MODERN_VERSION, type Era } from '../protocol/era.ts';
import { upstreamHeaders } from '../client/upstream-headers.ts';
import { ConcurrencyLimiter } from '../admission/concurrency.ts';
import type { GatewayLimits, UpstreamLimits } from '../config/limits.ts';
import type { McpUpstreamConfig } from '../config/schema.ts';

export class UpstreamLink {
  readonly name: string;
  /** Path and query of the MCP endpoint. */
  readonly path: string;
  readonly timeoutMs: number;
  readonly limits: UpstreamLimits;
  readonly requests: Pool;
  readonly streams: Pool;
  readonly calls: ConcurrencyLimiter;
  readonly streamSlots: ConcurrencyLimiter;
  /**
   * The /mcp member's own notification streams (one per principal with a session there) may take at
   * most half of max_streams, so clients' GET streams on /mcp/<name> always keep the other half.
   */
  readonly backgroundStreams: ConcurrencyLimiter;

  constructor(cfg: McpUpstreamConfig, gateway: Pick<GatewayLimits, 'queueTimeoutMs'>) {
    const url = new URL(cfg.url);
    this.name = cfg.name;
    this.path = `${url.pathname}${url.search}`;
    this.timeoutMs = cfg.timeoutMs;
    this.limits = cfg.limits;
    const connect = { timeout: Math.min(cfg.timeoutMs, 10_000) };
    this.requests = new Pool(url.origin, { connections: cfg.limits.maxInFlight, pipelining: 1, keepAliveTimeout: 30_000, connect });
    this.streams = new Pool(url.origin, { connections: Math.max(1, cfg.limits.maxStreams), pipelining: 1, keepAliveTimeout: 30_000, connect });
    this.calls = new ConcurrencyLimiter(`upstream:${cfg.name}`, cfg.limits.maxInFlight, { maxQueued: cfg.limits.maxQueued, queueTimeoutMs: Math.min(gateway.queueTimeoutMs, cfg.timeoutMs) });
    this.streamSlots = new ConcurrencyLimiter(`streams:${cfg.name}`, cfg.limits.maxStreams);
    this.backgroundStreams = new ConcurrencyLimiter(`streams:${cfg.name}`, Math.ceil(cfg.limits.maxStreams / 2));
  }

  /** The upstream refused a handshake-era initialize as an unsupported version (it is 2026-only). */
  handshakeRefused = false;

  /** The upstream's era: configured, or probed once (server/discover) and kept until forgetEra(). */
  #era?: Era;
  #probing?: Promise<Era>;

  /** The era when it needs no probe: configured, or probed before. */
  knownEra(protocol: McpUpstreamConfig['protocol']): Era | undefined {
    if (protocol !== 'auto') return protocol === '2026-07-28' ? 'modern' : 'handshake';
    return this.#era;
  }

  /**
   * `protocol: auto`: POST server/discover with Deputy's credential; a result naming 2026-07-28 means
   * the 2026 era, any other answer (a handshake-only server refuses the unknown method) the handshake
   * era. One probe at a time; network failures are not cached: the next request probes again.
   */
  probeEra(credentialHeaders: Record<string, string>): Promise<Era> {
    this.#probing ??= this.#probe(credentialHeaders).then(
      (era) => ((this.#era = era), (this.#probing = undefined), era),
      (error: unknown) => {
        this.#probing = undefined;
        throw error;
      },
    );
    return this.#probing;
  }

  /** After an upstream error: probe again on the next use (it may have been upgraded or replaced). */
  forgetEra(): void {
    this.#era = undefined;
    this.handshakeRefused = false;
  }

  async #probe(credentialHeaders: Record<string, string>): Promise<Era> {
    const body = JSON.stringify({ jsonrpc: '2.0', id: 'deputy-discover', method: 'server/discover', params: { _meta: { [META_VERSION]: MODERN_VERSION, [META_CAPABILITIES]: {}, 'io.modelcontextprotocol/clientInfo': { name: 'deputy', version: '1.0.0' } } } });
    const res = await this.requests.request({
      path: this.path, method: 'POST', body,
      headers: upstreamHeaders({ own: { ...MODERN_POST_HEADERS, 'mcp-method': 'server/discover' }, credential: credentialHeaders }),
      headersTimeout: this.timeoutMs, bodyTimeout: this.timeoutMs,
    });
    const text = (await readCapped(res.body, 1_048_576))?.toString('utf8') ?? '';
    // Deputy's credential refused, or the upstream failing: no verdict (nothing is cached).
    if (res.statusCode === 401 || res.statusCode === 403 || res.statusCode >= 500) throw new Error(`server/discover answered HTTP ${res.statusCode}`);
    if (res.statusCode !== 200) return 'handshake';
    // JSON, or an SSE stream whose data line carries the answer.
    const json = /^\s*\{/.test(text) ? text : (/^data: (.*)$/m.exec(text)?.[1] ?? '');
    try {
      const versions = (JSON.parse(json) as { result?: { supportedVersions?: unknown } }).result?.supportedVersions;
      return Array.isArray(versions) && versions.includes(MODERN_VERSION) ? 'modern' : 'handshake';
    } catch {
      return 'handshake';
    }
  }

  /** Lets requests in flight finish for up to `graceMs`, then cuts what is left (streams never finish by themselves). */
  async close(graceMs = 1000): Promise<void> {
    const closed = Promise.all([this.requests.close(), this.streams.close()]).catch(() => {});
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([closed, new Promise((r) => (timer = setTimeout(r, graceMs)))]);
    clearTimeout(timer);
    await Promise.all([this.requests.destroy().catch(() => {}), this.streams.destroy().catch(() => {})]);
  }
}
