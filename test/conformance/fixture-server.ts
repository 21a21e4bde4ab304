// A conformance fixture upstream built with the official SDK: the tools, resources and prompts the
// MCP conformance suite's server scenarios expect (names and behaviour read from the scenarios in
// @modelcontextprotocol/conformance 0.1.16). Stateful Streamable HTTP with an in-memory event store
// (resumability), and Host/Origin validation for the DNS-rebinding scenario.
import { randomUUID } from 'node:crypto';
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import {
  CallToolRequestSchema, CompleteRequestSchema, GetPromptRequestSchema, ListPromptsRequestSchema, ListResourcesRequestSchema,
  ListResourceTemplatesRequestSchema, ListToolsRequestSchema, ReadResourceRequestSchema, SetLevelRequestSchema,
  SubscribeRequestSchema, UnsubscribeRequestSchema, CreateMessageResultSchema, ElicitResultSchema, McpError, type CallToolResult, type JSONRPCMessage,
} from '@modelcontextprotocol/sdk/types.js';
import { MemoryEventStore } from '../support/memory-event-store.ts';

const PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==';
const WAV = 'UklGRiQAAABXQVZFZm10IBAAAAABAAEAESsAACJWAAACABAAZGF0YQAAAAA=';
const text = (t: string): CallToolResult => ({ content: [{ type: 'text', text: t }] });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const noArgs = { type: 'object' as const, properties: {} };

const TOOLS = [
  { name: 'test_simple_text', description: 'Returns simple text', inputSchema: noArgs },
  { name: 'test_image_content', description: 'Returns an image', inputSchema: noArgs },
  { name: 'test_audio_content', description: 'Returns audio', inputSchema: noArgs },
  { name: 'test_embedded_resource', description: 'Returns an embedded resource', inputSchema: noArgs },
  { name: 'test_multiple_content_types', description: 'Returns text, image and resource', inputSchema: noArgs },
  { name: 'test_tool_with_logging', description: 'Logs while running', inputSchema: noArgs },
  { name: 'test_tool_with_progress', description: 'Reports progress', inputSchema: noArgs },
  { name: 'test_error_handling', description: 'Always fails', inputSchema: noArgs },
  { name: 'test_sampling', description: 'Asks the client to sample', inputSchema: { type: 'object' as const, properties: { prompt: { type: 'string' } }, required: ['prompt'] } },
  { name: 'test_elicitation', description: 'Asks the user', inputSchema: { type: 'object' as const, properties: { message: { type: 'string' } }, required: ['message'] } },
  { name: 'test_elicitation_sep1034_defaults', description: 'Elicitation with defaults', inputSchema: noArgs },
  { name: 'test_elicitation_sep1330_enums', description: 'Elicitation with enum forms', inputSchema: noArgs },
  { name: 'test_reconnection', description: 'Closes the SSE stream mid-call', inputSchema: noArgs },
  {
    name: 'json_schema_2020_12_tool', description: 'Tool with JSON Schema 2020-12 features',
    inputSchema: {
      $schema: 'https://json-schema.org/draft/2020-12/schema', type: 'object' as const,
      $defs: { address: { type: 'object', properties: { street: { type: 'string' }, city: { type: 'string' } } } },
      properties: { name: { type: 'string' }, address: { $ref: '#/$defs/address' } }, additionalProperties: false,
    },
  },
];

function buildServer(): Server {
  const server = new Server({ name: 'conformance-fixture', version: '1.0.0' }, {
    capabilities: { tools: {}, resources: { subscribe: true }, prompts: {}, logging: {}, completions: {} },
  });
  server.setRequestHandler(ListToolsRequestSchema, async () => ({ tools: TOOLS }));
  server.setRequestHandler(CallToolRequestSchema, async (req, extra): Promise<CallToolResult> => {
    const args = (req.params.arguments ?? {}) as Record<string, unknown>;
    switch (req.params.name) {
      case 'test_simple_text': return text('This is a simple text response for testing.');
      case 'test_image_content': return { content: [{ type: 'image', data: PNG, mimeType: 'image/png' }] };
      case 'test_audio_content': return { content: [{ type: 'audio', data: WAV, mimeType: 'audio/wav' }] };
      case 'test_embedded_resource': return { content: [{ type: 'resource', resource: { uri: 'test://embedded-resource', mimeType: 'text/plain', text: 'This is an embedded resource content.' } }] };
      case 'test_multiple_content_types': return { content: [
        { type: 'text', text: 'Multiple content types test:' },
        { type: 'image', data: PNG, mimeType: 'image/png' },
        { type: 'resource', resource: { uri: 'test://mixed-content-resource', mimeType: 'application/json', text: '{"test":"data","value":123}' } },
      ] };
      case 'test_tool_with_logging':
        for (const [i, data] of ['Tool execution started', 'Tool processing data', 'Tool execution completed'].entries()) {
          if (i) await sleep(50);
          await extra.sendNotification({ method: 'notifications/message', params: { level: 'info', data } });
        }
        return text('Tool with logging executed successfully');
      case 'test_tool_with_progress': {
        const token = req.params._meta?.progressToken;
        for (const [i, progress] of [0, 50, 100].entries()) {
          if (i) await sleep(50);
          if (token !== undefined) await extra.sendNotification({ method: 'notifications/progress', params: { progressToken: token, progress, total: 100 } });
        }
        return text('Tool with progress executed successfully');
      }
      case 'test_error_handling': return { isError: true, content: [{ type: 'text', text: 'This tool intentionally returns an error for testing' }] };
      case 'test_sampling': {
        const r = await extra.sendRequest({ method: 'sampling/createMessage', params: { messages: [{ role: 'user', content: { type: 'text', text: String(args.prompt) } }], maxTokens: 100 } }, CreateMessageResultSchema);
        return text(`LLM response: ${JSON.stringify(r.content)}`);
      }
      case 'test_elicitation':
        return elicit(extra, String(args.message), { username: { type: 'string', description: "User's response" }, email: { type: 'string', description: "User's email address" } }, ['username', 'email']);
      case 'test_elicitation_sep1034_defaults':
        return elicit(extra, 'Provide your details', {
          name: { type: 'string', default: 'John Doe' }, age: { type: 'integer', default: 30 }, score: { type: 'number', default: 95.5 },
          status: { type: 'string', enum: ['active', 'inactive', 'pending'], default: 'active' }, verified: { type: 'boolean', default: true },
        });
      case 'test_elicitation_sep1330_enums':
        return elicit(extra, 'Pick options', {
          untitledSingle: { type: 'string', enum: ['option1', 'option2', 'option3'] },
          titledSingle: { type: 'string', oneOf: [{ const: 'value1', title: 'First' }, { const: 'value2', title: 'Second' }] },
          legacyEnum: { type: 'string', enum: ['opt1', 'opt2'], enumNames: ['Option 1', 'Option 2'] },
          untitledMulti: { type: 'array', items: { type: 'string', enum: ['option1', 'option2', 'option3'] } },
          titledMulti: { type: 'array', items: { anyOf: [{ const: 'value1', title: 'First' }, { const: 'value2', title: 'Second' }] } },
        });
      case 'test_reconnection':
        await sleep(100);
        extra.closeSSEStream?.();
        await sleep(200);
        return text('Reconnection test completed');
      case 'json_schema_2020_12_tool': return text(`hello ${String(args.name ?? '')}`);
      default:
        throw new McpError(-32602, `Unknown tool: ${req.params.name}`);
    }
  });

  server.setRequestHandler(ListResourcesRequestSchema, async () => ({ resources: [
    { uri: 'test://static-text', name: 'static-text', mimeType: 'text/plain' },
    { uri: 'test://static-binary', name: 'static-binary', mimeType: 'image/png' },
    { uri: 'test://watched-resource', name: 'watched-resource', mimeType: 'text/plain' },
  ] }));
  server.setRequestHandler(ListResourceTemplatesRequestSchema, async () => ({ resourceTemplates: [{ uriTemplate: 'test://template/{id}/data', name: 'template', mimeType: 'application/json' }] }));
  server.setRequestHandler(ReadResourceRequestSchema, async (req) => {
    const uri = req.params.uri;
    if (uri === 'test://static-text') return { contents: [{ uri, mimeType: 'text/plain', text: 'This is the content of the static text resource.' }] };
    if (uri === 'test://static-binary') return { contents: [{ uri, mimeType: 'image/png', blob: PNG }] };
    if (uri === 'test://watched-resource') return { contents: [{ uri, mimeType: 'text/plain', text: 'watched' }] };
    const m = /^test:\/\/template\/([^/]+)\/data$/.exec(uri);
    if (m) return { contents: [{ uri, mimeType: 'application/json', text: JSON.stringify({ id: m[1], templateTest: true, data: `Data for ID: ${m[1]}` }) }] };
    throw new McpError(-32002, `Resource not found: ${uri}`);
  });
  server.setRequestHandler(SubscribeRequestSchema, async () => ({}));
  server.setRequestHandler(UnsubscribeRequestSchema, async () => ({}));

  server.setRequestHandler(ListPromptsRequestSchema, async () => ({ prompts: [
    { name: 'test_simple_prompt', description: 'A simple prompt' },
    { name: 'test_prompt_with_arguments', description: 'A prompt with arguments', arguments: [{ name: 'arg1', required: true }, { name: 'arg2', required: true }] },
    { name: 'test_prompt_with_embedded_resource', description: 'A prompt with a resource', arguments: [{ name: 'resourceUri', required: true }] },
    { name: 'test_prompt_with_image', description: 'A prompt with an image' },
  ] }));
  server.setRequestHandler(GetPromptRequestSchema, async (req) => {
    const a = req.params.arguments ?? {};
    switch (req.params.name) {
      case 'test_simple_prompt': return { messages: [{ role: 'user', content: { type: 'text', text: 'This is a simple prompt for testing.' } }] };
      case 'test_prompt_with_arguments': return { messages: [{ role: 'user', content: { type: 'text', text: `Prompt with arguments: arg1='${a.arg1}', arg2='${a.arg2}'` } }] };
      case 'test_prompt_with_embedded_resource': return { messages: [
        { role: 'user', content: { type: 'resource', resource: { uri: String(a.resourceUri), mimeType: 'text/plain', text: 'Embedded resource content for testing.' } } },
        { role: 'user', content: { type: 'text', text: 'Please process the embedded resource above.' } },
      ] };
      case 'test_prompt_with_image': return { messages: [
        { role: 'user', content: { type: 'image', data: PNG, mimeType: 'image/png' } },
        { role: 'user', content: { type: 'text', text: 'Please analyze the image above.' } },
      ] };
      default: throw new McpError(-32602, `Unknown prompt: ${req.params.name}`);
    }
  });
  server.setRequestHandler(CompleteRequestSchema, async () => ({ completion: { values: ['paris', 'park', 'party'], total: 3, hasMore: false } }));
  server.setRequestHandler(SetLevelRequestSchema, async () => ({}));
  return server;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the SDK's handler-extra type is deeply generic
async function elicit(extra: { sendRequest: (...args: any[]) => Promise<unknown> }, message: string, properties: Record<string, unknown>, required?: string[]): Promise<CallToolResult> {
  const r = (await extra.sendRequest({ method: 'elicitation/create', params: { message, requestedSchema: { type: 'object', properties, ...(required ? { required } : {}) } } }, ElicitResultSchema)) as { action: string; content?: unknown };
  return text(`User response: action=${r.action}, content=${JSON.stringify(r.content ?? {})}`);
}


const LOCAL_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

export async function startFixtureServer(): Promise<{ url: string; close(): Promise<void> }> {
  const transports = new Map<string, StreamableHTTPServerTransport>();
  const http: HttpServer = createServer(async (req, res) => {
    // DNS-rebinding defence for a local unauthenticated server: Host and Origin must be loopback.
    const host = (req.headers.host ?? '').replace(/:\d+$/, '');
    const origin = req.headers.origin ? new URL(req.headers.origin).hostname : undefined;
    if (!LOCAL_HOSTS.has(host) || (origin !== undefined && !LOCAL_HOSTS.has(origin) && origin !== '[::1]')) {
      return void res.writeHead(403, { 'content-type': 'application/json' }).end('{"jsonrpc":"2.0","id":null,"error":{"code":-32000,"message":"forbidden host or origin"}}');
    }
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = chunks.length ? JSON.parse(Buffer.concat(chunks).toString('utf8')) : undefined;
    const sid = req.headers['mcp-session-id'] as string | undefined;
    let t = sid ? transports.get(sid) : undefined;
    if (!t) {
      if (sid || body?.method !== 'initialize') {
        return void res.writeHead(sid ? 404 : 400, { 'content-type': 'application/json' }).end('{"jsonrpc":"2.0","id":null,"error":{"code":-32000,"message":"no valid session"}}');
      }
      const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: () => randomUUID(), eventStore: new MemoryEventStore<JSONRPCMessage>(), retryInterval: 100, onsessioninitialized: (id) => { transports.set(id, transport); } });
      transport.onclose = () => { if (transport.sessionId) transports.delete(transport.sessionId); };
      await buildServer().connect(transport);
      t = transport;
    }
    await t.handleRequest(req, res, body);
  });
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', () => r()));
  return {
    url: `http://127.0.0.1:${(http.address() as AddressInfo).port}/mcp`,
    async close() {
      for (const t of transports.values()) await t.close().catch(() => {});
      await new Promise<void>((r) => { http.close(() => r()); http.closeAllConnections(); });
    },
  };
}

// `node test/conformance/fixture-server.ts` serves it standalone (handy with the conformance CLI).
if (import.meta.url === `file://${process.argv[1]}`) {
  const s = await startFixtureServer();
  console.log(s.url);
}
