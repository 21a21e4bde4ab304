// Test helpers for OpenAPI upstreams: a recording HTTP server (the "REST API") and a toolset built
// the way Deputy builds it — config parsed by parseConfig, a real credential provider.
import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after } from 'node:test';
import { parseConfig, type OpenApiUpstreamConfig } from '../../../src/config/schema.ts';
import { BearerToken, type Principal } from '../../../src/inbound/principal.ts';
import { createCredentialProvider } from '../../../src/outbound/index.ts';
import { createOpenApiToolset, type OpenApiToolset } from '../../../src/upstreams/openapi/index.ts';
import type { ToolCallContext } from '../../../src/upstreams/toolset.ts';

// Registered at the file's top level: `after()` called inside a `before` hook would run right after it.
const cleanups: (() => unknown)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

export interface Recorded {
  method: string;
  /** The raw request target exactly as received. */
  url: string;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

export interface RecordingServer {
  url: string;
  requests: Recorded[];
  /** Replace the responder (default: 200 JSON echo of method and url). */
  respond: (fn: (req: Recorded, res: ServerResponse) => void) => void;
}

export async function startRecordingServer(): Promise<RecordingServer> {
  const requests: Recorded[] = [];
  let responder = (r: Recorded, res: ServerResponse) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ method: r.method, url: r.url }));
  };
  const server = createServer(async (req: IncomingMessage, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const rec = { method: req.method!, url: req.url!, headers: req.headers, body: Buffer.concat(chunks) };
    requests.push(rec);
    responder(rec, res);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  cleanups.push(() => {
    server.closeAllConnections();
    server.close();
  });
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests, respond: (fn) => { responder = fn; } };
}

/** The client's token: it must never appear in anything Deputy sends upstream. */
export const CANARY = 'client-canary-token-6f1b2c9e8d7a';
export const SERVICE_TOKEN = 'deputy-service-token-1234567890';

export const principal: Principal = { issuer: 'https://idp.example.com', subject: 'alice', clientId: 'agent', scopes: ['mcp:tools'], audience: ['http://127.0.0.1/mcp/bank'], claims: {}, tokenKind: 'jwt' };

export function ctx(signal: AbortSignal = new AbortController().signal): ToolCallContext {
  return { principal, bearer: new BearerToken(CANARY), requestId: '1', signal };
}

export interface ToolsetOptions {
  spec: string;
  baseUrl: string;
  options?: Record<string, unknown>;
  credentials?: Record<string, unknown>;
  env?: Record<string, string>;
  timeoutMs?: number;
  name?: string;
}

/** Parses a real config (so the contract with src/config is exercised) and builds the toolset. */
export async function openApiToolset(o: ToolsetOptions): Promise<OpenApiToolset> {
  const config = parseConfig({
    auth: { issuers: [{ issuer: 'https://idp.example.com' }] },
    upstreams: [{ name: o.name ?? 'bank', type: 'openapi', spec: o.spec, base_url: o.baseUrl, credentials: o.credentials ?? { type: 'static', token: { env: 'BANK_TOKEN' } }, ...(o.timeoutMs ? { timeout_ms: o.timeoutMs } : {}), ...o.options }],
    audit: { store: 'none' },
  }, { baseDir: import.meta.dirname, env: { BANK_TOKEN: SERVICE_TOKEN, ...o.env } });
  const upstream = config.upstreams[0] as OpenApiUpstreamConfig;
  const ts = await createOpenApiToolset(upstream, createCredentialProvider(upstream), { baseDir: import.meta.dirname, configPath: 'upstreams[0]' });
  cleanups.push(() => ts.close());
  return ts;
}

/** Every place a request can carry a secret, as one string. */
export function wire(r: Recorded): string {
  return `${r.method} ${r.url}\n${JSON.stringify(r.headers)}\n${r.body.toString('latin1')}`;
}
