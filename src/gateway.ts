// Assembles the request path from config: verifier (inbound), credential providers (outbound),
// handlers per upstream, audit sink, and the HTTP server that routes between them.
import { adminConsole } from './admin/console.ts';
import type { ToolPins } from './governance/pins.ts';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import type { AuditSink } from './audit/index.ts';
import type { DeputyConfig, UpstreamConfig } from './config/schema.ts';
import type { McpHandler } from './http/exchange.ts';
import { createAdmission, createBareServer, createRequestListener, handleClientErrors, type McpRoute } from './http/server.ts';
import { stripSlash } from './inbound/authenticate.ts';
import { metadataUrlFor } from './inbound/metadata.ts';
import { TokenVerifier } from './inbound/verifier.ts';
import { log } from './log.ts';
import { createCredentialProvider, createOutboundContext, type OutboundContext } from './outbound/index.ts';
import type { SessionStore } from './protocol/sessions.ts';
import { drainServer, instrument, openSharedResources, type SharedResources } from './observability/operations.ts';
import { McpProxy } from './upstreams/mcp/proxy.ts';
import { UpstreamLink } from './upstreams/link.ts';
import { Quotas } from './admission/quota.ts';
import { RequestStateSealer } from './protocol/request-state.ts';
import { LocalMcpEndpoint } from './protocol/local-endpoint.ts';
import { AggregateService, createAggregateService, McpMember, toolsetMember } from './upstreams/aggregate/index.ts';
import { UpstreamClient } from './upstreams/aggregate/upstream-client.ts';
import type { OpenApiToolset } from './upstreams/openapi/index.ts';
import { toolsetService } from './upstreams/toolset-service.ts';
import { ToolPolicy } from './policy/tools.ts';

export interface GatewayOptions {
  audit?: AuditSink;
  sessions?: SessionStore;
  /** Base directory for relative paths (audit database, specs); defaults to the working directory. */
  baseDir?: string;
  /** Internal (config reload): build a new pipeline on this listening server, keeping these resources. */
  reuse?: { server: Server; shared: SharedResources };
}

export interface Gateway {
  server: Server;
  config: DeputyConfig;
  verifier: TokenVerifier;
  audit: AuditSink;
  sessions: SessionStore;
  routes: Map<string, McpRoute>;
  /** Shared outbound state: token cache (stats for metrics), identity-assertion signer. */
  outbound: OutboundContext;
  /** Base URL it actually listens on (port 0 resolved). */
  url: string;
  /** What outlives a reload: shared state (Redis), audit sink, sessions, metrics, readiness flags. */
  shared: SharedResources;
  /**
   * Applies a new config without dropping connections: a new pipeline (verifier, credentials, routes)
   * is built and swapped in; requests in flight finish on the old one. Listener address, audit and
   * state stores are kept (changing those needs a restart). Throws, keeping the old pipeline, on error.
   */
  reload(next: DeputyConfig): Promise<void>;
  /** Stops accepting, lets in-flight requests and streams finish within `graceMs`, flushes the audit trail. */
  close(graceMs?: number): Promise<void>;
}

export async function startGateway(config: DeputyConfig, opts: GatewayOptions = {}): Promise<Gateway> {
  for (const w of config.warnings) log.warn(`config: ${w.path}: ${w.message}`);
  const verifier = new TokenVerifier(config.auth);
  const shared = opts.reuse?.shared ?? (await openSharedResources(config, opts));
  const { audit, sessions } = shared;
  // Listen first: with port 0 and no explicit public_url, resource URIs derive from the bound port.
  const server = opts.reuse?.server ?? createBareServer(config.server);
  if (!opts.reuse) {
    // Answer from the first byte: until the pipeline is ready, shared.dispatch says "starting" (503).
    server.on('request', (req, res) => shared.dispatch(req, res));
    handleClientErrors(server, () => shared.audit);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(config.server.port, config.server.host, () => resolve());
    }).catch(async (error) => {
      await shared.close();
      throw error;
    });
  }
  const { port } = server.address() as AddressInfo;
  const host = config.server.host.includes(':') ? `[${config.server.host}]` : config.server.host;
  const url = `http://${host}:${port}`;
  if (!config.server.publicUrlExplicit) config.server.publicUrl = url;

  const routes = new Map<string, McpRoute>();
  const handlers: McpHandler[] = [];
  verifier.introspectionStore = shared.state?.introspection;
  const outbound = await createOutboundContext(config, { tokenStore: shared.state?.tokens, vault: shared.vault, audit: () => shared.audit }).catch((error: Error) => {
    if (!opts.reuse) server.close();
    throw error;
  });
  // OpenAPI upstreams load (and validate) their specs now: a bad spec fails start-up, not a request.
  const toolsets = new Map<string, OpenApiToolset>();
  try {
    for (const [i, upstream] of config.upstreams.entries()) {
      if (upstream.type !== 'openapi') continue;
      // Loaded on demand: the parser and validator are heavy, and MCP-only deployments never need them.
      const { createOpenApiToolset } = await import('./upstreams/openapi/index.ts');
      const toolset = await createOpenApiToolset(upstream, createCredentialProvider(upstream, outbound), { baseDir: opts.baseDir, configPath: `upstreams[${i}]` });
      toolsets.set(upstream.name, toolset);
      for (const w of toolset.report.warnings) log.warn(`upstream '${upstream.name}': ${w}`);
      log.info(`upstream '${upstream.name}': ${toolset.report.tools} tools from ${toolset.report.operations} operations (${toolset.report.excluded.length} excluded) in ${Math.round(toolset.report.loadMs)} ms`);
    }
  } catch (error) {
    await Promise.all([...toolsets.values()].map((t) => t.close()));
    if (!opts.reuse) server.close();
    throw error;
  }

  // Connections completed through another replica reach this one's sessions (Redis pub/sub); from
  // here on the pipeline is built, so its close undoes it.
  const stopRelay = shared.state && outbound.accounts ? outbound.accounts.relayThrough(shared.state.broadcast) : undefined;
  const admission = createAdmission(config.limits);
  const quotas = new Quotas(config.quotas, new Map(config.upstreams.filter((u) => u.quotas).map((u) => [u.name, u.quotas!])), shared.quotaStore);
  // Each MCP upstream's connections and limits, shared by its /mcp/<name> proxy and the /mcp member.
  const links = new Map(config.upstreams.filter((u) => u.type === 'mcp').map((u) => [u.name, new UpstreamLink(u, config.limits)]));
  // Seals relayed MCP requestState (shared key with replicas when state.encryption_key is set).
  const sealer = new RequestStateSealer(config.state.encryptionKey?.value());
  // One MCP client per upstream, shared by /mcp and by /mcp/<name>'s 2026 translation.
  const members = new Map(config.upstreams.filter((u) => u.type === 'mcp').map((u) => {
    const credentials = createCredentialProvider(u, outbound);
    return [u.name, new UpstreamClient(u, credentials, links.get(u.name)!, new McpMember(u, credentials, links.get(u.name)!), () => shared.pins.approved(u.name, 'tool'))];
  }));
  for (const upstream of config.upstreams) {
    const handler = createHandler(upstream, sessions, outbound, toolsets, links, quotas, members, sealer, shared.pins);
    handlers.push(handler);
    const path = `/mcp/${upstream.name}`;
    const scopes = [...new Set([...config.auth.requiredScopes, ...upstream.requiredScopes])];
    routes.set(path, route(config, upstream.name, path, scopes, scopes, handler));
  }

  // `/mcp`: every upstream behind one endpoint (route scopes: the gateway's; upstream scopes apply per member).
  if (config.upstreams.length > 0) {
    const extra = [...members.values(), ...config.upstreams.filter((u) => toolsets.has(u.name)).map((u) => toolsetMember(u.name, toolsets.get(u.name)!, { credentialMode: u.credentials.type, timeoutMs: u.timeoutMs }))];
    const aggregateService = createAggregateService(config, quotas, extra, shared.pins);
    outbound.accounts?.onConnected((key, _upstream, elicitationId) => aggregateService.notifyPrincipal(key, 'notifications/elicitation/complete', { elicitationId }));
    const aggregate = new LocalMcpEndpoint('*', aggregateService, sessions, sealer);
    handlers.push(aggregate);
    const allScopes = [...new Set([...config.auth.requiredScopes, ...config.upstreams.flatMap((u) => [...u.requiredScopes, ...(u.policy?.scopes ?? []), ...(u.policy?.tools.flatMap((t) => t.scopes) ?? [])])])];
    routes.set('/mcp', route(config, '*', '/mcp', config.auth.requiredScopes, allScopes, aggregate));
  }

  // The admin console (admin.enabled): its pages join the GET/POST endpoints Deputy serves.
  if (config.admin) {
    const consoleRoutes = adminConsole({
      config, pins: shared.pins, audit: () => shared.audit, links, accounts: outbound.accounts,
      state: () => ({ tokenCache: outbound.cache.stats(), quotaDecisions: quotas.decisions, sessions: sessions.stats(), exporters: shared.exporters.map((x) => ({ name: x.name, sent: x.sent, failures: x.failures, lastError: x.lastError })) }),
    });
    for (const [path, h] of consoleRoutes.get) outbound.extraGet.set(path, h);
    for (const [path, h] of consoleRoutes.post) outbound.extraPost.set(path, h);
  }

  for (const s of config.secrets) s.watch((message) => log.warn(message));
  const pipeline = { config, verifier, outbound, routes, failedIssuers: [] as string[], admission, quotas };
  const ops = instrument(pipeline, shared);
  const listener = ops.wrap(createRequestListener({ config, verifier, audit: ops.audit, routes, extraGet: ops.extraGet, extraPost: outbound.extraPost, admission, quotas }));
  const activate = () => {
    shared.current = pipeline;
    shared.dispatch = listener;
  };
  // First start: serve while keys load. Reload: the new pipeline takes traffic only once warmed.
  if (!opts.reuse) activate();
  const failed = await verifier.warm();
  pipeline.failedIssuers = failed;
  for (const issuer of failed) log.warn(`signing keys of ${issuer} could not be loaded yet; tokens from it get 503 until they can`);
  if (opts.reuse) activate();

  let closed = false;
  /** Closes this pipeline's own parts (upstream pools, secret watchers). */
  const closePipeline = async () => {
    stopRelay?.();
    await Promise.all(handlers.map((h) => h.close?.()));
    await Promise.all([...members.values()].map((m) => m.close()));
    await Promise.all([...links.values()].map((l) => l.close()));
    for (const s of config.secrets) s.close();
  };
  let activeClose = closePipeline;
  const retiring = new Set<() => Promise<void>>();
  const gateway: Gateway = {
    server, config, verifier, audit, sessions, routes, outbound, shared,
    url,
    async reload(next: DeputyConfig) {
      const now = gateway.config;
      for (const [what, a, b] of [['server.host', now.server.host, next.server.host], ['server.port', now.server.port, next.server.port], ['audit.store', now.audit.store, next.audit.store], ['state.store', now.state.store, next.state.store], ['metrics.enabled', now.metrics.enabled, next.metrics.enabled], ['vault.store', now.vault?.store, next.vault?.store]] as const) {
        if (a !== b) log.warn(`config reload: ${what} changed; that takes effect after a restart`);
      }
      next.server.host = now.server.host;
      next.server.port = now.server.port;
      const fresh = await startGateway(next, { baseDir: opts.baseDir, reuse: { server, shared } });
      shared.reloads++;
      shared.loadedAt = new Date();
      Object.assign(gateway, { config: fresh.config, verifier: fresh.verifier, routes: fresh.routes, outbound: fresh.outbound });
      // Requests already on the old pipeline keep its upstream pools until the grace period ends.
      const retire = activeClose;
      activeClose = () => fresh.close();
      retiring.add(retire);
      setTimeout(() => {
        if (retiring.delete(retire)) void retire();
      }, now.server.shutdownGraceMs).unref();
    },
    async close(graceMs = 2000) {
      if (closed) return;
      closed = true;
      if (opts.reuse) return closePipeline();
      shared.draining = true;
      await drainServer(server, graceMs);
      await activeClose();
      await Promise.all([...retiring].map((c) => c()));
      retiring.clear();
      await shared.close();
    },
  };
  return gateway;
}

function createHandler(upstream: UpstreamConfig, sessions: SessionStore, outbound: OutboundContext, toolsets: Map<string, OpenApiToolset>, links: Map<string, UpstreamLink>, quotas: Quotas, members: Map<string, UpstreamClient>, sealer: RequestStateSealer, pins: ToolPins): McpHandler {
  if (upstream.type === 'mcp') {
    // A client whose era the upstream does not speak: served by Deputy over the shared upstream client.
    const service = new AggregateService({
      entries: [{ member: members.get(upstream.name)!, policy: new ToolPolicy(upstream.name, upstream.policy, upstream.requiredScopes) }],
      config: { separator: '__', unprefixed: upstream.name }, quotas, pins,
      serverInfo: { name: `deputy/${upstream.name}`, title: `Deputy: ${upstream.name}`, version: '1.0.0' },
    });
    outbound.accounts?.onConnected((key, _upstream, elicitationId) => service.notifyPrincipal(key, 'notifications/elicitation/complete', { elicitationId }));
    const translator = new LocalMcpEndpoint(upstream.name, service, sessions, sealer);
    // Per-user upstream tokens: Deputy serves the endpoint itself, so it can answer before the person
    // has connected (initialize, tools/list) and present the connect link where the client can use it.
    if (upstream.credentials.type === 'user_oauth') return translator;
    return new McpProxy(upstream, createCredentialProvider(upstream, outbound), sessions, links.get(upstream.name)!, quotas, sealer, { endpoint: translator, client: members.get(upstream.name)! }, pins);
  }
  const policy = new ToolPolicy(upstream.name, upstream.policy, upstream.requiredScopes);
  return new LocalMcpEndpoint(upstream.name, toolsetService(upstream.name, toolsets.get(upstream.name)!, { credentialMode: upstream.credentials.type, policy, quotas }), sessions, sealer);
}

function route(config: DeputyConfig, name: string, path: string, requiredScopes: string[], scopesSupported: string[], handler: McpHandler): McpRoute {
  const resource = `${config.server.publicUrl}${path}`;
  return {
    name, path, resource, requiredScopes, scopesSupported, handler,
    metadataUrl: metadataUrlFor(resource),
    // The endpoint's own URI, the gateway as a whole (RFC 8707 allows the broader resource), and configured aliases.
    acceptedAudiences: new Set([resource, config.server.publicUrl, ...config.auth.audiences].map(stripSlash)),
  };
}
