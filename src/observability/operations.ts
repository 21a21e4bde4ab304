// What the gateway needs to run as one of several replicas: the resources that outlive a config
// reload (shared state, audit sink, sessions, metrics registry, the request dispatcher), the
// instrumentation of one request pipeline (metrics, readiness, tracing), and graceful shutdown.
import { AuditExporter, isExportable } from '../audit/export/exporter.ts';
import { fileSink, otlpSink, syslogSink, webhookSink, type ExportSink } from '../audit/export/sinks.ts';
import { TEXT_FORMATS } from '../audit/export/formats.ts';
import { openPinStore } from '../governance/pin-store.ts';
import { ToolPins, type PinMode } from '../governance/pins.ts';
import { Vault } from '../vault/vault.ts';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { LocalBucketStore, RedisBucketStore, type BucketStore, type Quotas } from '../admission/quota.ts';
import { openAuditSink, type AuditSink } from '../audit/index.ts';
import type { AuditEvent } from '../audit/event.ts';
import { isPostgresSink } from '../audit/postgres-guard.ts';
import type { DeputyConfig } from '../config/schema.ts';
import { startingListener, type Admission, type McpRoute } from '../http/server.ts';
import type { TokenVerifier } from '../inbound/verifier.ts';
import type { OutboundContext } from '../outbound/index.ts';
import { log } from '../log.ts';
import { MemorySessionStore, type SessionStore } from '../protocol/sessions.ts';
import { openSharedState, type SharedStores } from '../state/index.ts';
import { readiness, readinessHandler, type ComponentStatus, type Readiness } from './health.ts';
import type { GatewayMetrics } from './metrics.ts';
import { traceHandler, traceRequests, traceTokenCache, traceVerifier } from './tracing.ts';

type Listener = (req: IncomingMessage, res: ServerResponse) => void;

/** The pipeline currently serving: replaced as a whole on reload. */
export interface Pipeline {
  config: DeputyConfig;
  verifier: TokenVerifier;
  outbound: OutboundContext;
  routes: Map<string, McpRoute>;
  /** Issuers whose keys could not be loaded at the last check. */
  failedIssuers: string[];
  admission: Admission;
  quotas: Quotas;
}

export interface SharedResources {
  state?: SharedStores;
  audit: AuditSink;
  sessions: SessionStore;
  /** Quota buckets: in Redis with `quotas.shared`, else in this process; they outlive a reload. */
  quotaStore: BucketStore;
  /** Present when `metrics.enabled`. */
  metrics?: GatewayMetrics;
  /** Connected accounts' tokens (when `vault:` is configured); it outlives a reload. */
  vault?: Vault;
  /** Tool-definition pins, in the audit store's database; they outlive a reload. */
  pins: ToolPins;
  /** Ships the audit chain to SIEMs (`audit.export`). */
  exporters: AuditExporter[];
  current?: Pipeline;
  /** Serves every request; swapped atomically by a reload. */
  dispatch: Listener;
  draining: boolean;
  loadedAt: Date;
  reloads: number;
  close(): Promise<void>;
}

export async function openSharedResources(config: DeputyConfig, opts: { audit?: AuditSink; sessions?: SessionStore; baseDir?: string }): Promise<SharedResources> {
  const l = config.limits;
  const sessionLimits = { idleMs: l.sessionIdleMs, maxPerPrincipal: l.maxSessionsPerPrincipal, maxTotal: l.maxSessions };
  const state = await openSharedState(config.state, sessionLimits);
  const audit = opts.audit ?? (await openAuditSink(config.audit.store, opts.baseDir, { replicaId: config.audit.replicaId, spoolDir: config.audit.spoolDir, onError: auditErrorLog() }));
  const sessions = opts.sessions ?? state?.sessions ?? new MemorySessionStore(sessionLimits);
  const quotaStore: BucketStore = config.quotas.shared && state ? new RedisBucketStore(state.state) : new LocalBucketStore();
  const vault = config.vault ? await Vault.open(config.vault, { baseDir: opts.baseDir }) : undefined;
  const pinStore = await openPinStore(config.audit.store, opts.baseDir);
  const shared: SharedResources = {
    state, audit, sessions, quotaStore, vault,
    // The mode follows the live config (a reload may change it); pins and their store stay.
    pins: new ToolPins(pinStore, (upstream) => pinningOf(shared.current?.config ?? config, upstream), () => shared.audit),
    exporters: createExporters(config, audit),
    dispatch: startingListener,
    draining: false,
    loadedAt: new Date(),
    reloads: 0,
    async close() {
      sessions.close?.();
      quotaStore.close?.();
      await Promise.all(shared.exporters.map((x) => x.close()));
      await audit.close();
      state?.broadcast.close();
      await state?.state.close();
      await vault?.close();
      await shared.pins.close();
    },
  };
  if (config.metrics.enabled) {
    const { GatewayMetrics } = await import('./metrics.ts'); // prom-client only when metrics are on
    shared.metrics = new GatewayMetrics(() => {
      const p = shared.current!;
      return {
        tokenCache: () => p.outbound.cache.stats(),
        tokenEndpointRequests: state ? () => state.tokens.fetches : undefined,
        sharedTokenHits: state ? () => state.tokens.sharedHits : undefined,
        verifier: () => p.verifier.stats,
        auditQueueDepth: () => queueDepth(audit),
        exporters: () => shared.exporters.map((x) => ({ name: x.name, sent: x.sent, failures: x.failures, lag: () => x.lag() })),
        pins: () => shared.pins.counts,
        stateUp: state ? () => state.state.up : undefined,
        auditStoreUp: isPostgresSink(audit) ? () => audit.status().status === 'up' : undefined,
        sessions: () => sessions.stats(),
        admission: () => ({ inFlight: p.admission.requests.active, queued: p.admission.requests.queued }),
        quotaDecisions: () => p.quotas.decisions,
      };
    });
  }
  return shared;
}

/**
 * Adds metrics, readiness and (when enabled) tracing to a freshly built pipeline. Returns the audit
 * sink the request listener must write to, the extra GET endpoints, and a wrapper for the listener.
 */
export function instrument(p: Pipeline, shared: SharedResources): { audit: AuditSink; extraGet: Map<string, Listener>; wrap(listener: Listener): Listener } {
  const extraGet = p.outbound.extraGet;
  const metrics = shared.metrics;
  if (metrics) extraGet.set('/metrics', metrics.handler(p.config.metrics.token));
  extraGet.set('/readyz', readinessHandler(() => checkReadiness(p, shared)));
  const audit = metrics ? observedSink(shared.audit, metrics) : shared.audit;
  if (!p.config.tracing.enabled) return { audit, extraGet, wrap: (l) => l };
  traceVerifier(p.verifier);
  traceTokenCache(p.outbound.cache);
  for (const r of p.routes.values()) r.handler = traceHandler(r.handler, r.name);
  return { audit, extraGet, wrap: traceRequests };
}

/** Per-request metrics ride on the audit event: one call where the event is written, nothing else on the hot path. */
function observedSink(sink: AuditSink, metrics: GatewayMetrics): AuditSink {
  return {
    write(e: AuditEvent) {
      metrics.observe(e);
      sink.write(e);
    },
    flush: () => sink.flush(),
    query: (q) => sink.query(q),
    close: () => sink.close(),
  };
}

let lastKeyCheck = 0;

async function checkReadiness(p: Pipeline, shared: SharedResources): Promise<Readiness> {
  const components: Record<string, ComponentStatus> = {};
  const fatal: string[] = [];
  components.config = { status: 'ok', loaded_at: shared.loadedAt.toISOString(), reloads: shared.reloads, upstreams: p.config.upstreams.map((u) => u.name) };
  if (shared.draining) {
    components.server = { status: 'draining' };
    fatal.push('shutting down');
  }
  // Keys that failed to load are retried here (at most every 10 s), so readiness recovers by itself.
  if (p.failedIssuers.length && Date.now() - lastKeyCheck > 10_000) {
    lastKeyCheck = Date.now();
    p.failedIssuers = await p.verifier.warm();
  }
  const jwtIssuers = p.config.auth.issuers.filter((i) => !(i.introspection && !i.jwksUri));
  components.keys = p.failedIssuers.length ? { status: 'degraded', unavailable: p.failedIssuers } : { status: 'ok', issuers: p.config.auth.issuers.length };
  const canVerifyAnything = p.config.auth.issuers.some((i) => i.introspection) || jwtIssuers.some((i) => !p.failedIssuers.includes(i.issuer));
  if (!canVerifyAnything) fatal.push('no issuer keys available');
  const ss = shared.sessions.stats();
  components.sessions = { status: 'ok', sessions: ss.sessions, principals: ss.principals, max: p.config.limits.maxSessions };
  components.admission = { status: 'ok', in_flight: p.admission.requests.active, queued: p.admission.requests.queued, max_in_flight: p.admission.requests.max };
  const st = shared.state?.state.status();
  components.state = st ? { ...st, status: st.status } : { status: 'ok', store: 'memory' };
  const audit = shared.audit;
  components.audit = isPostgresSink(audit) ? { ...audit.status() } : { status: 'ok', store: p.config.audit.store.split(':')[0], queued: queueDepth(audit) };
  return readiness(components, fatal);
}

function queueDepth(audit: AuditSink): number {
  const d = (audit as { queueDepth?: number }).queueDepth;
  return typeof d === 'number' ? d : 0;
}

/**
 * Stops accepting connections, lets in-flight requests and streams finish for up to `graceMs`, closes
 * keep-alive connections as they become idle, then cuts whatever is left.
 */
export async function drainServer(server: Server, graceMs: number): Promise<void> {
  await new Promise<void>((resolve) => {
    const idle = setInterval(() => server.closeIdleConnections(), 100);
    const deadline = setTimeout(() => server.closeAllConnections(), graceMs);
    deadline.unref();
    server.close(() => {
      clearInterval(idle);
      clearTimeout(deadline);
      resolve();
    });
    server.closeIdleConnections();
  });
}

/** Audit write failures, logged at most once per 10 s (with how many were folded in) so a broken disk cannot flood the log. */
function auditErrorLog(): (error: Error) => void {
  let last = 0;
  let folded = 0;
  return (error) => {
    const now = Date.now();
    if (now - last < 10_000) return void folded++;
    log.error('audit: events could not be written', { error: error.message, ...(folded ? { similarErrorsSinceLastLine: folded } : {}) });
    last = now;
    folded = 0;
  };
}

function pinningOf(config: DeputyConfig, upstream: string): PinMode {
  return config.upstreams.find((u) => u.name === upstream)?.pinning ?? config.pinning;
}

/** One exporter per `audit.export` entry, reading the stored chain (started at once). */
function createExporters(config: DeputyConfig, audit: AuditSink): AuditExporter[] {
  if (!config.audit.export.length) return [];
  if (!isExportable(audit)) throw new Error('audit.export needs an audit store that keeps the chain (sqlite: or postgres://)');
  return config.audit.export.map((x) => {
    let sink: ExportSink;
    if (x.sink === 'file') sink = fileSink(x.path!);
    else if (x.sink === 'syslog') sink = syslogSink(x.address!);
    else {
      const headers = () => Object.fromEntries(Object.entries(x.headers).map(([k, v]) => [k, v.value()]));
      sink = x.sink === 'otlp' ? otlpSink(x.endpoint!, headers, x.format) : webhookSink(x.url!, headers, !TEXT_FORMATS.has(x.format));
    }
    const exporter = new AuditExporter(audit, sink, { name: x.name, format: x.format, batchSize: x.batchSize, intervalMs: x.intervalMs });
    exporter.start();
    return exporter;
  });
}
