// The bench's upstream: a minimal, fast MCP responder (never the bottleneck). Answers every POST with
// a tiny tools/call result echoing the request id, initialize with a session id, anything else 202.
import { createServer } from 'node:http';

const port = Number(process.argv[2] ?? 0);
/** Optional artificial latency (ms) for initialize and tools/list, to model slower upstreams. */
const delayMs = Number(process.argv[3] ?? 0);
const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    if (req.method !== 'POST') return void res.writeHead(405).end();
    let msg: { id?: unknown; method?: string };
    try {
      msg = JSON.parse(Buffer.concat(chunks).toString());
    } catch {
      return void res.writeHead(400).end();
    }
    if (msg.id === undefined) return void res.writeHead(202).end();
    const result = msg.method === 'initialize'
      ? { protocolVersion: '2025-06-18', capabilities: { tools: {} }, serverInfo: { name: 'bench-responder', version: '1' } }
      : msg.method === 'tools/list'
        ? { tools: [{ name: 'echo', description: 'echo', inputSchema: { type: 'object' } }] }
        : { content: [{ type: 'text', text: 'ok' }] };
    const body = JSON.stringify({ jsonrpc: '2.0', id: msg.id, result });
    const headers: Record<string, string | number> = { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) };
    if (msg.method === 'initialize') headers['mcp-session-id'] = 'bench-upstream-session';
    if (delayMs && (msg.method === 'initialize' || msg.method === 'tools/list')) setTimeout(() => res.writeHead(200, headers).end(body), delayMs);
    else res.writeHead(200, headers).end(body);
  });
});
server.keepAliveTimeout = 65_000;
server.listen(port, '127.0.0.1', () => {
  const addr = server.address();
  process.stdout.write(`${typeof addr === 'object' && addr ? addr.port : port}\n`);
});
process.on('SIGTERM', () => process.exit(0));
