// One MCP upstream's connections and admission, shared by `/mcp/<name>` (the proxy) and `/mcp` (the
// aggregate member): requests and GET streams get separate connection pools, each behind its own
// limit, so long-lived streams can never take the connections request traffic needs. A request past
// the limit waits briefly in a queue, then gets 503; a stream past it gets 503 at once.
import { Pool } from 'undici';
import { ConcurrencyLimiter } from '../admission/concurrency.ts';
import type { GatewayLimits, UpstreamLimits } from '../config/limits.ts';
import type { McpUpstreamConfig } from '../config/schema.ts';

export class UpstreamLink {
  readonly name: string;
  readonly origin: string;
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
    this.origin = url.origin;
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

  /** Lets requests in flight finish for up to `graceMs`, then cuts what is left (streams never finish by themselves). */
  async close(graceMs = 1000): Promise<void> {
    const closed = Promise.all([this.requests.close(), this.streams.close()]).catch(() => {});
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([closed, new Promise((r) => (timer = setTimeout(r, graceMs)))]);
    clearTimeout(timer);
    await Promise.all([this.requests.destroy().catch(() => {}), this.streams.destroy().catch(() => {})]);
  }
}
