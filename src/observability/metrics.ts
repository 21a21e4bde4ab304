// Prometheus metrics for one gateway (its own Registry, so several gateways can run in one process).
// Per-request cost is one counter and one histogram observation, made where the audit event is
// written; everything else (token cache, verifier, audit queue, Redis) is read from the counters
// those components keep already, only when /metrics is scraped.
import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { AuditEvent } from '../audit/event.ts';
import type { Secret } from '../config/secrets.ts';
import type { TokenCacheStats } from '../outbound/token-cache.ts';
import type { SessionStats } from '../protocol/sessions.ts';

export interface MetricSources {
  tokenCache(): TokenCacheStats;
  /** Token-endpoint round trips made by this replica (differs from misses when replicas share tokens). */
  tokenEndpointRequests?(): number;
  /** Outbound tokens obtained from another replica through Redis. */
  sharedTokenHits?(): number;
  verifier(): { verifications: number; cacheHits: number; introspections: number; sharedHits?: number };
  auditQueueDepth(): number;
  /** Tool-definition pinning: changes seen and approvals made by this process, per upstream. */
  pins(): { changed: Map<string, number>; approved: Map<string, number> };
  /** Per audit exporter: events sent, failed attempts in a row, and how far behind the chain it is. */
  exporters(): { name: string; sent: number; failures: number; lag?(): Promise<{ events: number; seconds: number } | undefined> }[];
  /** 1 when the shared-state store (Redis) is reachable; absent without one. */
  stateUp?(): boolean;
  /** 1 when the audit store accepts writes directly (0: spooling). */
  auditStoreUp?(): boolean;
  sessions(): SessionStats;
  /** Gateway-wide requests in flight and waiting for a slot. */
  admission(): { inFlight: number; queued: number };
  /** Quota decisions by "scope\0result". */
  quotaDecisions(): ReadonlyMap<string, number>;
}

const HTTP_METHODS = new Set(['GET', 'POST', 'DELETE', 'OPTIONS', 'HEAD', 'PUT', 'PATCH']);
const DURATION_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

export class GatewayMetrics {
  readonly registry = new Registry();
  readonly #requests: Counter<'route' | 'upstream' | 'method' | 'outcome'>;
  readonly #duration: Histogram<'route' | 'outcome'>;
  readonly #upstreamErrors: Counter<'upstream'>;
  /** Label children by key: prom-client hashes labels on every call otherwise. */
  readonly #children = new Map<string, { requests: Counter.Internal; duration: Histogram.Internal<'route' | 'outcome'> }>();

  constructor(sources: () => MetricSources) {
    const r = this.registry;
    // Process metrics (RSS, heap, handles, event-loop delay, GC), prefixed deputy_process_… / deputy_nodejs_….
    collectDefaultMetrics({ register: r, prefix: 'deputy_' });
    this.#requests = new Counter({ name: 'deputy_requests_total', help: 'MCP requests by route, upstream, HTTP method and outcome', labelNames: ['route', 'upstream', 'method', 'outcome'], registers: [r] });
    this.#duration = new Histogram({ name: 'deputy_request_duration_seconds', help: 'Time from request to response end (streams: to stream end)', labelNames: ['route', 'outcome'], buckets: DURATION_BUCKETS, registers: [r] });
    this.#upstreamErrors = new Counter({ name: 'deputy_upstream_errors_total', help: 'Requests that failed at or because of the upstream', labelNames: ['upstream'], registers: [r] });

    // Snapshot metrics: set from component counters at scrape time.
    const counter = (name: string, help: string, read: (s: MetricSources) => number | undefined) =>
      new Counter({ name, help, registers: [r], collect() { const v = read(sources()); this.reset(); if (v) this.inc(v); } });
    const gauge = (name: string, help: string, read: (s: MetricSources) => number | undefined) =>
      new Gauge({ name, help, registers: [r], collect() { const v = read(sources()); if (v !== undefined) this.set(v); } });
    counter('deputy_token_cache_hits_total', 'Outbound tokens served from the cache', (s) => s.tokenCache().hits);
    counter('deputy_token_cache_misses_total', 'Outbound token lookups that needed a new token', (s) => s.tokenCache().misses);
    counter('deputy_token_cache_coalesced_total', 'Callers that joined a token request already in flight', (s) => s.tokenCache().coalesced);
    counter('deputy_token_endpoint_requests_total', 'Token-endpoint round trips (client credentials, token exchange) made by this replica', (s) => s.tokenEndpointRequests?.() ?? s.tokenCache().misses);
    counter('deputy_token_endpoint_failures_total', 'Failed token-endpoint round trips', (s) => s.tokenCache().failures);
    counter('deputy_token_shared_hits_total', 'Outbound tokens obtained from another replica via shared state', (s) => s.sharedTokenHits?.() ?? 0);
    gauge('deputy_token_cache_entries', 'Outbound tokens held by this replica', (s) => s.tokenCache().size);
    counter('deputy_verifier_cache_hits_total', 'Inbound tokens accepted from the verified-token cache', (s) => s.verifier().cacheHits);
    counter('deputy_verifier_jwt_verifications_total', 'Inbound JWT signature verifications', (s) => s.verifier().verifications);
    counter('deputy_verifier_introspections_total', 'Token introspection requests to authorization servers', (s) => s.verifier().introspections);
    counter('deputy_verifier_shared_hits_total', 'Introspection results reused from shared state', (s) => s.verifier().sharedHits ?? 0);
    gauge('deputy_audit_queue_depth', 'Audit events not yet in the audit store (queued or spooled)', (s) => s.auditQueueDepth());
    gauge('deputy_audit_store_up', '1 when the audit store accepts writes, 0 while spooling', (s) => (s.auditStoreUp ? Number(s.auditStoreUp()) : undefined));
    gauge('deputy_sessions', 'MCP sessions held (handshake-era Mcp-Session-Id), all routes', (s) => s.sessions().sessions);
    gauge('deputy_session_principals', 'Principals holding at least one session', (s) => s.sessions().principals);
    counter('deputy_sessions_expired_total', 'Sessions ended by idle expiry (limits.session_idle_ms)', (s) => s.sessions().expired);
    counter('deputy_sessions_evicted_total', "Sessions ended because their principal opened more than limits.max_sessions_per_principal", (s) => s.sessions().evicted);
    counter('deputy_sessions_refused_total', 'initialize refused because the session table was full (limits.max_sessions)', (s) => s.sessions().refused);
    gauge('deputy_requests_in_flight', 'Requests holding one of the gateway slots (limits.max_in_flight)', (s) => s.admission().inFlight);
    gauge('deputy_requests_queued', 'Requests waiting for a gateway slot', (s) => s.admission().queued);
    new Counter({
      name: 'deputy_quota_decisions_total', help: 'Quota decisions by scope (user, client, upstream, tool) and result (allowed, throttled, store_down_open, store_down_closed)',
      labelNames: ['scope', 'result'], registers: [r],
      collect() {
        this.reset();
        for (const [k, n] of sources().quotaDecisions()) {
          const [scope, result] = k.split('\u0000');
          this.labels(scope!, result!).inc(n);
        }
      },
    });
    for (const [what, help] of [['changed', 'Upstream definitions seen changed since they were pinned (pinning)'], ['approved', 'Changed definitions approved']] as const) {
      new Counter({
        name: `deputy_pins_${what}_total`, help, labelNames: ['upstream'], registers: [r],
        collect() {
          this.reset();
          for (const [u, n] of sources().pins()[what]) this.labels(u).inc(n);
        },
      });
    }
    new Counter({
      name: 'deputy_audit_exported_total', help: 'Audit events delivered by each exporter (audit.export)', labelNames: ['exporter'], registers: [r],
      collect() {
        this.reset();
        for (const x of sources().exporters()) this.labels(x.name).inc(x.sent);
      },
    });
    new Gauge({
      name: 'deputy_audit_export_failures', help: 'Failed delivery attempts in a row per exporter (0 when delivering)', labelNames: ['exporter'], registers: [r],
      collect() {
        this.reset();
        for (const x of sources().exporters()) this.labels(x.name).set(x.failures);
      },
    });
    for (const [unit, help] of [
      ['events', 'Audit events this replica wrote that the exporter has not delivered yet (chain head seq minus its cursor)'],
      ['seconds', 'Age of the oldest audit event the exporter has not delivered yet (0 when caught up)'],
    ] as const) {
      new Gauge({
        name: `deputy_audit_export_lag_${unit}`, help, labelNames: ['exporter'], registers: [r],
        async collect() {
          this.reset();
          const exporters = sources().exporters();
          const lags = await Promise.all(exporters.map((x) => x.lag?.().catch(() => undefined)));
          exporters.forEach((x, i) => {
            const lag = lags[i];
            if (lag) this.labels(x.name).set(lag[unit]);
          });
        },
      });
    }
    gauge('deputy_state_up', '1 when shared state (Redis) is reachable, 0 while degraded to local caches', (s) => (s.stateUp ? Number(s.stateUp()) : undefined));
  }

  /** Called once per MCP request, with its audit event. */
  observe(e: AuditEvent): void {
    const method = HTTP_METHODS.has(e.httpMethod) ? e.httpMethod : 'other';
    const key = `${e.route}\u0000${e.upstream ?? ''}\u0000${method}\u0000${e.outcome}`;
    let c = this.#children.get(key);
    if (!c) {
      c = { requests: this.#requests.labels(e.route, e.upstream ?? '', method, e.outcome), duration: this.#duration.labels(e.route, e.outcome) };
      this.#children.set(key, c);
    }
    c.requests.inc();
    c.duration.observe(e.latencyMs / 1000);
    if (e.outcome === 'upstream_error') this.#upstreamErrors.labels(e.upstream ?? '').inc();
  }

  /** GET /metrics; with a token configured, only `Authorization: Bearer <token>` gets in. */
  handler(token?: Secret): (req: IncomingMessage, res: ServerResponse) => void {
    return (req, res) => {
      if (token && !bearerMatches(req.headers.authorization, token.value())) {
        res.writeHead(401, { 'content-type': 'application/json', 'www-authenticate': 'Bearer realm="deputy-metrics"' });
        return void res.end(JSON.stringify({ error: 'unauthorized', error_description: '/metrics requires the metrics token (metrics.token) as a bearer token' }));
      }
      this.registry.metrics().then(
        (text) => res.writeHead(200, { 'content-type': this.registry.contentType, 'cache-control': 'no-store' }).end(req.method === 'HEAD' ? undefined : text),
        (error: Error) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`metrics collection failed: ${error.message}`),
      );
    };
  }
}

function bearerMatches(header: string | undefined, expected: string): boolean {
  if (!header || !/^bearer /i.test(header)) return false;
  const given = Buffer.from(header.slice(7).trim());
  const want = Buffer.from(expected);
  return given.length === want.length && timingSafeEqual(given, want);
}
