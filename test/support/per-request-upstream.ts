// A stateless SDK 1.x MCP server rebuilt for every request from `build`, so a test can change what it
// lists between two requests (a tool's description, a new tool): the rug pull pinning must catch.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { onCleanup } from './cleanup.ts';

export async function perRequestUpstream(build: (server: McpServer) => void): Promise<string> {
  const http = createServer(async (req, res) => {
    const server = new McpServer({ name: 'docs', version: '1.0.0' });
    build(server);
    const t = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
    res.on('close', () => void t.close());
    await server.connect(t);
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    await t.handleRequest(req, res, chunks.length ? JSON.parse(Buffer.concat(chunks).toString('utf8')) : undefined);
  });
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', () => r()));
  onCleanup(() => (http.closeAllConnections(), new Promise<void>((r) => http.close(() => r()))));
  return `http://127.0.0.1:${(http.address() as AddressInfo).port}/mcp`;
}
