// Assembles the request path from config: verifier (inbound), credential providers (outbound),
// handlers per upstream, audit sink, and the HTTP server that routes between them.
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { openAuditSink, type AuditSink } from './audit/index.ts';
import type { DeputyConfig, UpstreamConfig } from './config/schema.ts';
import type { McpHandler } from './http/exchange.ts';
import { createBareServer, createRequestListener, type McpRoute } from './http/server.ts';
import { stripSlash } from './inbound/authenticate.ts';
import { metadataUrlFor } from './inbound/metadata.ts';
import { TokenVerifier } from './inbound/verifier.ts';
import { log } from './log.ts';
import { createCredentialProvider, createOutboundContext, type OutboundContext } from './outbound/index.ts';
import { MemorySessionStore, type SessionStore } from './protocol/sessions.ts';
import { McpProxy } from './upstreams/mcp/proxy.ts';
import { LocalMcpEndpoint } from './protocol/local-endpoint.ts';
import { createAggregateService } from './upstreams/aggregate/index.ts';

export interface GatewayOptions {
  audit?: AuditSink;
  sessions?: SessionStore;
  /** Base directory for relative paths (audit database, specs); defaults to the working directory. */
  baseDir?: string;
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
  close(): Promise<void>;
}

export async function startGateway(config: DeputyConfig, opts: GatewayOptions = {}): Promise<Gateway> {
  for (const w of config.warnings) log.warn(`config: ${w.path}: ${w.message}`);
  const verifier = new TokenVerifier(config.auth);
  const audit = opts.audit ?? (await openAuditSink(config.audit.store, opts.baseDir));
  const sessions = opts.sessions ?? new MemorySessionStore();
  // Listen first: with port 0 and no explicit public_url, resource URIs derive from the bound port.
  const server = createBareServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.server.port, config.server.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const host = config.server.host.includes(':') ? `[${config.server.host}]` : config.server.host;
  const url = `http://${host}:${port}`;
  if (!config.server.publicUrlExplicit) config.server.publicUrl = url;

  const routes = new Map<string, McpRoute>();
  const handlers: McpHandler[] = [];
  const outbound = await createOutboundContext(config).catch((error: Error) => {
    server.close();
    throw error;
  });

  for (const upstream of config.upstreams) {
    const handler = createHandler(upstream, sessions, outbound);
    handlers.push(handler);
    const path = `/mcp/${upstream.name}`;
    const scopes = [...new Set([...config.auth.requiredScopes, ...upstream.requiredScopes])];
    routes.set(path, route(config, upstream.name, path, scopes, scopes, handler));
  }

  // `/mcp`: every upstream behind one endpoint (route scopes: the gateway's; upstream scopes apply per member).
  if (config.upstreams.length > 0) {
    const aggregate = new LocalMcpEndpoint('*', createAggregateService(config, outbound), sessions);
    handlers.push(aggregate);
    const allScopes = [...new Set([...config.auth.requiredScopes, ...config.upstreams.flatMap((u) => [...u.requiredScopes, ...(u.policy?.scopes ?? []), ...(u.policy?.tools.flatMap((t) => t.scopes) ?? [])])])];
    routes.set('/mcp', route(config, '*', '/mcp', config.auth.requiredScopes, allScopes, aggregate));
  }

  for (const s of config.secrets) s.watch((message) => log.warn(message));
  server.on('request', createRequestListener({ config, verifier, audit, routes, extraGet: outbound.extraGet }));
  const failed = await verifier.warm();
  for (const issuer of failed) log.warn(`signing keys of ${issuer} could not be loaded yet; tokens from it get 503 until they can`);

  let closed = false;
  return {
    server, config, verifier, audit, sessions, routes, outbound,
    url,
    async close() {
      if (closed) return;
      closed = true;
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
        setTimeout(() => server.closeAllConnections(), 2000).unref();
      });
      await Promise.all(handlers.map((h) => h.close?.()));
      for (const s of config.secrets) s.close();
      sessions.close?.();
      await audit.close();
    },
  };
}

function createHandler(upstream: UpstreamConfig, sessions: SessionStore, outbound: OutboundContext): McpHandler {
  if (upstream.type === 'mcp') return new McpProxy(upstream, createCredentialProvider(upstream, outbound), sessions);
  throw new Error(`upstream '${upstream.name}': type ${upstream.type} is not supported yet`);
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
