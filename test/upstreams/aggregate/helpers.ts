// Extra upstreams for the aggregation tests: one that pages its tools/list (so compound cursors are
// exercised against a real SDK server) and one that accepts connections but never answers (slow).
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Server as McpLowLevelServer } from '@modelcontextprotocol/sdk/server/index.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { CallToolRequestSchema, ListToolsRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { onCleanup } from '../../support/cleanup.ts';

async function listen(server: Server): Promise<string> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  onCleanup(() => new Promise<void>((r) => { server.close(() => r()); server.closeAllConnections(); }));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp`;
}

/** A stateless SDK server with `count` tools `t0…`, served `pageSize` per tools/list page. */
export async function startPagedUpstream(count: number, pageSize: number): Promise<{ url: string }> {
  const tools = Array.from({ length: count }, (_, i) => ({ name: `t${i}`, description: `tool ${i}`, inputSchema: { type: 'object' as const } }));
  const http = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const server = new McpLowLevelServer({ name: 'paged', version: '1.0.0' }, { capabilities: { tools: {} } });
    server.setRequestHandler(ListToolsRequestSchema, async (r) => {
      const offset = r.params?.cursor ? Number(r.params.cursor) : 0;
      const next = offset + pageSize;
      return { tools: tools.slice(offset, next), ...(next < tools.length ? { nextCursor: String(next) } : {}) };
    });
    server.setRequestHandler(CallToolRequestSchema, async (r) => ({ content: [{ type: 'text', text: `paged ${r.params.name}` }] }));
    const t = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
    res.on('close', () => { void t.close(); void server.close(); });
    await server.connect(t);
    await t.handleRequest(req, res, chunks.length ? JSON.parse(Buffer.concat(chunks).toString('utf8')) : undefined);
  });
  return { url: await listen(http) };
}

/** Accepts requests and never answers: a hung upstream. */
export async function startSilentUpstream(): Promise<{ url: string; hits: () => number }> {
  let hits = 0;
  const http = createServer((req) => {
    hits++;
    req.resume();
  });
  return { url: await listen(http), hits: () => hits };
}
