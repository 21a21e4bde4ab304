// A small MCP server built with the official SDK (Streamable HTTP): the demo's upstream and the test
// suite's. It records the headers of every request it receives so tests can prove which credential
// arrived (and that the client's token never did).
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { SubscribeRequestSchema, UnsubscribeRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';

export interface RecordedRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

export interface SampleServerOptions {
  port?: number;
  name?: string;
  /** Stateless servers issue no Mcp-Session-Id. */
  stateless?: boolean;
  /** When set, requests without exactly this Authorization header value get 401. */
  requireAuthorization?: string;
  /** Extra tools: name → handler returning text. */
  extraTools?: Record<string, (args: Record<string, unknown>) => string>;
  /** Adds a `register_tool` tool that registers a new tool at run time (the server then sends tools/list_changed). */
  dynamicTools?: boolean;
  /**
   * Adds tools that ask the user mid-call, the handshake era's way (elicitation/create on the
   * request's stream): `confirm_note` (a form), `open_page` (URL mode) and `two_questions` (two in a row).
   */
  asksUser?: boolean;
  /** Declares resources.subscribe: `notes://all` lists the notes, and add_note tells subscribers it changed. */
  resourceUpdates?: boolean;
}

export interface SampleServer {
  url: string;
  requests: RecordedRequest[];
  close(): Promise<void>;
}

function buildServer(name: string, notes: string[], extra: SampleServerOptions['extraTools'], dynamic = false, asksUser = false, resourceUpdates = false): McpServer {
  const server = new McpServer({ name, version: '1.0.0' }, { capabilities: { logging: {}, ...(resourceUpdates ? { resources: { subscribe: true } } : {}) } });
  const subscribed = new Set<string>();
  if (resourceUpdates) {
    server.server.setRequestHandler(SubscribeRequestSchema, async (req) => (subscribed.add(req.params.uri), {}));
    server.server.setRequestHandler(UnsubscribeRequestSchema, async (req) => (subscribed.delete(req.params.uri), {}));
    server.registerResource('all', 'notes://all', { description: 'Every note', mimeType: 'text/plain' }, async (uri) => ({ contents: [{ uri: uri.href, text: notes.join('\n') }] }));
  }
  if (asksUser) {
    const yesNo = { type: 'object' as const, properties: { confirm: { type: 'boolean' as const, title: 'Confirm' } }, required: ['confirm'] };
    server.registerTool('confirm_note', { description: 'Store a note after asking the user to confirm it', inputSchema: { text: z.string().max(1000) } }, async ({ text }) => {
      const answer = await server.server.elicitInput({ message: `Store the note "${text}"?`, requestedSchema: yesNo });
      const yes = answer.action === 'accept' && answer.content?.confirm === true;
      if (yes) notes.push(text);
      return { content: [{ type: 'text', text: yes ? `stored: ${text}` : `not stored (${answer.action})` }] };
    });
    server.registerTool('open_page', { description: 'Ask the user to open a page (URL-mode elicitation)', inputSchema: { url: z.string().url() } }, async ({ url }) => {
      const answer = await server.server.elicitInput({ mode: 'url', message: 'Please open this page to continue', url, elicitationId: randomUUID() });
      return { content: [{ type: 'text', text: `page: ${answer.action}` }] };
    });
    server.registerTool('two_questions', { description: 'Ask two questions, one after the other' }, async () => {
      const first = await server.server.elicitInput({ message: 'First?', requestedSchema: yesNo });
      const second = await server.server.elicitInput({ message: 'Second?', requestedSchema: yesNo });
      return { content: [{ type: 'text', text: `answers: ${String(first.content?.confirm)}, ${String(second.content?.confirm)}` }] };
    });
  }
  if (dynamic) {
    server.registerTool('register_tool', { description: 'Register a new tool at run time', inputSchema: { name: z.string().regex(/^[a-z_]{1,32}$/) } }, async ({ name: tool }) => {
      server.registerTool(tool, { description: `tool ${tool}, added at run time` }, async () => ({ content: [{ type: 'text', text: `${tool} ran` }] }));
      return { content: [{ type: 'text', text: `registered ${tool}` }] };
    });
  }
  server.registerTool('echo', { description: 'Echo back the given text', inputSchema: { text: z.string() } }, async ({ text }) => ({
    content: [{ type: 'text', text }],
  }));
  server.registerTool('add', { description: 'Add two numbers', inputSchema: { a: z.number(), b: z.number() }, annotations: { readOnlyHint: true } }, async ({ a, b }) => ({
    content: [{ type: 'text', text: String(a + b) }],
    structuredContent: { sum: a + b },
    outputSchema: undefined,
  }));
  server.registerTool('add_note', { description: 'Store a note', inputSchema: { text: z.string().max(1000) } }, async ({ text }) => {
    notes.push(text);
    if (subscribed.has('notes://all')) await server.server.sendResourceUpdated({ uri: 'notes://all' });
    return { content: [{ type: 'text', text: `saved note #${notes.length}` }] };
  });
  server.registerTool('list_notes', { description: 'List stored notes', annotations: { readOnlyHint: true } }, async () => ({
    content: [{ type: 'text', text: notes.length ? notes.map((n, i) => `${i + 1}. ${n}`).join('\n') : '(no notes yet)' }],
  }));
  server.registerTool('count_down', { description: 'Count down with progress notifications', inputSchema: { from: z.number().int().min(1).max(20), delay_ms: z.number().int().min(0).max(2000).default(50) } }, async ({ from, delay_ms }, extra) => {
    const token = extra._meta?.progressToken;
    for (let i = 0; i < from; i++) {
      if (token !== undefined) await extra.sendNotification({ method: 'notifications/progress', params: { progressToken: token, progress: i + 1, total: from, message: `${from - i}…` } });
      await new Promise((r) => setTimeout(r, delay_ms));
    }
    return { content: [{ type: 'text', text: 'liftoff' }] };
  });
  for (const [tool, fn] of Object.entries(extra ?? {})) {
    server.registerTool(tool, { description: `extra tool ${tool}`, inputSchema: { input: z.string().optional() } }, async (args) => ({ content: [{ type: 'text', text: fn(args) }] }));
  }
  server.registerPrompt('summarize', { description: 'Summarize notes', argsSchema: { style: z.string().optional() } }, ({ style }) => ({
    messages: [{ role: 'user', content: { type: 'text', text: `Summarize my notes${style ? ` in a ${style} style` : ''}.` } }],
  }));
  server.registerResource('readme', 'notes://readme', { description: 'About this server', mimeType: 'text/plain' }, async (uri) => ({
    contents: [{ uri: uri.href, text: `${name}: a sample MCP server behind Deputy.` }],
  }));
  return server;
}

export async function startSampleMcpServer(opts: SampleServerOptions = {}): Promise<SampleServer> {
  const name = opts.name ?? 'sample-notes';
  const notes: string[] = [];
  const requests: RecordedRequest[] = [];
  const transports = new Map<string, StreamableHTTPServerTransport>();

  const http: Server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: raw });
    if (opts.requireAuthorization !== undefined && req.headers.authorization !== opts.requireAuthorization) {
      res.writeHead(401, { 'content-type': 'application/json', 'www-authenticate': 'Bearer' }).end('{"error":"unauthorized"}');
      return;
    }
    if (!req.url?.startsWith('/mcp')) return void res.writeHead(404).end();
    const body = raw ? JSON.parse(raw) : undefined;
    try {
      if (opts.stateless) {
        const server = buildServer(name, notes, opts.extraTools, opts.dynamicTools, opts.asksUser, opts.resourceUpdates);
        const t = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
        res.on('close', () => { t.close(); server.close(); });
        await server.connect(t);
        return await t.handleRequest(req, res, body);
      }
      const sid = req.headers['mcp-session-id'] as string | undefined;
      let t = sid ? transports.get(sid) : undefined;
      if (!t) {
        if (sid || body?.method !== 'initialize') {
          res.writeHead(sid ? 404 : 400, { 'content-type': 'application/json' }).end(JSON.stringify({ jsonrpc: '2.0', id: null, error: { code: -32001, message: 'Session not found' } }));
          return;
        }
        const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: () => randomUUID(), onsessioninitialized: (id) => { transports.set(id, transport); } });
        transport.onclose = () => { if (transport.sessionId) transports.delete(transport.sessionId); };
        await buildServer(name, notes, opts.extraTools, opts.dynamicTools, opts.asksUser, opts.resourceUpdates).connect(transport);
        t = transport;
      }
      await t.handleRequest(req, res, body);
    } catch (error) {
      if (!res.headersSent) res.writeHead(500).end(String(error));
    }
  });
  await new Promise<void>((r) => http.listen(opts.port ?? 0, '127.0.0.1', () => r()));
  const port = (http.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/mcp`,
    requests,
    async close() {
      for (const t of transports.values()) await t.close().catch(() => {});
      await new Promise<void>((r) => { http.close(() => r()); http.closeAllConnections(); });
    },
  };
}
