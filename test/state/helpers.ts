// Two Deputy replicas behind one (notional) load balancer URL, sharing Redis: tokens are minted for
// the shared public URL, exactly as clients of a replicated deployment would get them.
import { parseConfig } from '../../src/config/schema.ts';
import type { AuthorizationServer } from '../../src/demo/authorization-server.ts';
import { startGateway, type Gateway } from '../../src/gateway.ts';
import { onCleanup } from '../support/cleanup.ts';
import { mcpPost } from '../support/stack.ts';

export const STATE_KEY = 'state-key-0123456789abcdef-current';
export const OLD_STATE_KEY = 'state-key-0123456789abcdef-previous';

export async function startReplica(opts: { publicUrl: string; upstreams: unknown[]; issuers: unknown[]; redisUrl?: string; env: Record<string, string>; extra?: Record<string, unknown> }): Promise<Gateway> {
  const config = parseConfig({
    server: { host: '127.0.0.1', port: 0, public_url: opts.publicUrl },
    auth: { issuers: opts.issuers },
    upstreams: opts.upstreams,
    audit: { store: 'sqlite::memory:' },
    ...(opts.redisUrl ? { state: { store: opts.redisUrl, encryption_key: { env: 'STATE_KEY' }, previous_keys: [{ env: 'OLD_STATE_KEY' }] } } : {}),
    metrics: { enabled: true },
    ...opts.extra,
  }, { baseDir: process.cwd(), env: { ...process.env, STATE_KEY, OLD_STATE_KEY, ...opts.env } });
  const gw = await startGateway(config);
  onCleanup(() => gw.close());
  return gw;
}

export interface RpcResult {
  status: number;
  session?: string;
  body: string;
}

/** One JSON-RPC POST to a replica's endpoint, as a client behind the load balancer would send it. */
export async function rpc(base: string, path: string, token: string, body: unknown, session?: string): Promise<RpcResult> {
  const headers: Record<string, string> = { authorization: `Bearer ${token}`, 'mcp-protocol-version': '2025-06-18' };
  if (session) headers['mcp-session-id'] = session;
  const res = await mcpPost(`${base}${path}`, body, headers);
  return { status: res.status, session: res.headers.get('mcp-session-id') ?? undefined, body: await res.text() };
}

export const initialize = (id = 1) => ({ jsonrpc: '2.0', id, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'replica-test', version: '0' } } });
export const initialized = { jsonrpc: '2.0', method: 'notifications/initialized' };
export const add = (id: number, a: number, b: number) => ({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'add', arguments: { a, b } } });

/** A full session handshake through `base`; returns Deputy's session id. */
export async function openSession(base: string, path: string, token: string): Promise<string> {
  const init = await rpc(base, path, token, initialize());
  if (init.status !== 200 || !init.session) throw new Error(`initialize failed: ${init.status} ${init.body}`);
  const ack = await rpc(base, path, token, initialized, init.session);
  if (ack.status !== 202) throw new Error(`notifications/initialized failed: ${ack.status} ${ack.body}`);
  return init.session;
}

/** The sum a tools/call add result carries (SSE or JSON response). */
export function sumOf(r: RpcResult): number | undefined {
  const m = /"sum":(-?\d+)/.exec(r.body);
  return m ? Number(m[1]) : undefined;
}

export async function readyz(base: string): Promise<{ status: number; body: { status: string; components: Record<string, { status: string }> } }> {
  const res = await fetch(`${base}/readyz`);
  return { status: res.status, body: (await res.json()) as never };
}

export type { AuthorizationServer };
