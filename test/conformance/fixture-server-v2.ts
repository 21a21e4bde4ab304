// A dual-era conformance fixture upstream built with the SDK v2 packages (@modelcontextprotocol/server
// and /node): the tools, resources and prompts the conformance suite's 0.2 line expects under
// `--requirements 2026-07-28` and `--requirements 2025-11-25` (names and behaviour read from the scenarios
// in @modelcontextprotocol/conformance 0.2.0-alpha.12; test/conformance/fixture-server.ts is the 0.1 one).
//
// One McpServer factory serves both eras:
// - 2026-07-28 traffic (the per-request `_meta` envelope, server/discover, subscriptions/listen,
//   multi-round-trip `input_required` results) goes to `createMcpHandler(factory, { legacy: 'reject' })`;
// - 2025-era traffic (initialize, Mcp-Session-Id, GET streams, server→client requests for sampling and
//   elicitation) goes to stateful Streamable HTTP sessions with an in-memory event store (resumability),
//   routed with the SDK's own predicate `isLegacyRequest`.
// Host/Origin validation answers the DNS-rebinding scenario; an optional bearer secret guards the lot.
import { randomUUID } from 'node:crypto';
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { toNodeHandler } from '@modelcontextprotocol/node';
import {
  acceptedContent, CLIENT_CAPABILITIES_META_KEY, createMcpHandler, createRequestStateCodec, fromJsonSchema, inputRequired,
  isInitializeRequest, isLegacyRequest, McpServer, ResourceTemplate, WebStandardStreamableHTTPServerTransport,
  type CallToolResult, type ClientCapabilities, type GetPromptResult, type InputRequests, type InputRequiredResult, type JSONRPCMessage,
  type McpHttpHandler, type ServerContext,
} from '@modelcontextprotocol/server';
import * as z from 'zod/v4';
import { MemoryEventStore } from '../support/memory-event-store.ts';

const PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==';
const WAV = 'UklGRiQAAABXQVZFZm10IBAAAAABAAEAESsAACJWAAACABAAZGF0YQAAAAA=';
const text = (t: string): CallToolResult => ({ content: [{ type: 'text', text: t }] });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const noArgs = z.object({});
const askName = (message = 'What is your name?') => inputRequired.elicit({ message, requestedSchema: { type: 'object', properties: { name: { type: 'string' } }, required: ['name'] } });
const askConfirm = () => inputRequired.elicit({ message: 'Please confirm', requestedSchema: { type: 'object', properties: { ok: { type: 'boolean' } }, required: ['ok'] } });
const askLlm = (prompt: string, maxTokens = 50) => inputRequired.createMessage({ messages: [{ role: 'user', content: { type: 'text', text: prompt } }], maxTokens });

// requestState round-trips through the client (SEP-2322): HMAC-sealed with a per-process key, and verified
// by the server seam before any handler runs (a tampered state is answered -32602 there).
const stateCodec = createRequestStateCodec<Record<string, unknown>>({ key: crypto.getRandomValues(new Uint8Array(32)) });

/**
 * The fixture's mutable state: how many times the tool and prompt lists were changed. Each change swaps
 * the one extra tool (prompt) for a new one, so the lists really differ: Deputy (pinning: enforce)
 * relays a list_changed only when what the client is served changed.
 */
interface Lists { tools: number; prompts: number }

function buildServer(modern: () => McpHttpHandler, lists: Lists): McpServer {
  const s = new McpServer({ name: 'conformance-fixture-v2', version: '1.0.0' }, {
    capabilities: {
      tools: { listChanged: true }, resources: { subscribe: true, listChanged: true }, prompts: { listChanged: true },
      logging: {}, // deprecated in 2026-07-28 (SEP-2577); the 2025 logging/setLevel scenario still negotiates it
      completions: {},
    },
    requestState: { verify: stateCodec.verify },
  });
  const tool = (name: string, description: string, handler: (args: Record<string, unknown>, ctx: ServerContext) => Promise<CallToolResult | InputRequiredResult>, inputSchema: z.ZodObject = noArgs) =>
    s.registerTool(name, { description, inputSchema }, handler as never);

  // --- content types (tools-call-*) ---
  tool('test_simple_text', 'Returns simple text', async () => text('This is a simple text response for testing.'));
  tool('test_image_content', 'Returns an image', async () => ({ content: [{ type: 'image', data: PNG, mimeType: 'image/png' }] }));
  tool('test_audio_content', 'Returns audio', async () => ({ content: [{ type: 'audio', data: WAV, mimeType: 'audio/wav' }] }));
  tool('test_embedded_resource', 'Returns an embedded resource', async () => ({ content: [{ type: 'resource', resource: { uri: 'test://embedded-resource', mimeType: 'text/plain', text: 'This is an embedded resource content.' } }] }));
  tool('test_multiple_content_types', 'Returns text, image and resource', async () => ({ content: [
    { type: 'text', text: 'Multiple content types test:' },
    { type: 'image', data: PNG, mimeType: 'image/png' },
    { type: 'resource', resource: { uri: 'test://mixed-content-resource', mimeType: 'application/json', text: '{"test":"data","value":123}' } },
  ] }));
  tool('test_error_handling', 'Always fails', async () => ({ isError: true, content: [{ type: 'text', text: 'This tool intentionally returns an error for testing' }] }));

  // --- notifications during a call ---
  tool('test_tool_with_logging', 'Logs while running', async (_a, ctx) => {
    for (const [i, data] of ['Tool execution started', 'Tool processing data', 'Tool execution completed'].entries()) {
      if (i) await sleep(50);
      await ctx.mcpReq.notify({ method: 'notifications/message', params: { level: 'info', data } });
    }
    return text('Tool with logging executed successfully');
  });
  tool('test_tool_with_progress', 'Reports progress', async (_a, ctx) => {
    const progressToken = ctx.mcpReq._meta?.progressToken;
    for (const [i, progress] of [0, 50, 100].entries()) {
      if (i) await sleep(50);
      // Only with a client-supplied token: servers must not invent one.
      if (progressToken !== undefined) await ctx.mcpReq.notify({ method: 'notifications/progress', params: { progressToken, progress, total: 100 } });
    }
    return text('Tool with progress executed successfully');
  });
  tool('test_reconnection', 'Closes the SSE stream mid-call (SEP-1699)', async (_a, ctx) => {
    await sleep(100);
    ctx.http?.closeSSE?.();
    await sleep(200);
    return text('Reconnection test completed');
  });

  // --- 2025-era server→client requests (the 2026-07-28 era uses input_required instead) ---
  tool('test_sampling', 'Asks the client to sample', async (args, ctx) => {
    const r = await ctx.mcpReq.requestSampling({ messages: [{ role: 'user', content: { type: 'text', text: String(args.prompt) } }], maxTokens: 100 });
    return text(`LLM response: ${JSON.stringify(r.content)}`);
  }, z.object({ prompt: z.string() }));
  tool('test_elicitation', 'Asks the user', async (args, ctx) =>
    elicit(ctx, String(args.message), { username: { type: 'string', description: "User's response" }, email: { type: 'string', description: "User's email address" } }, ['username', 'email']),
  z.object({ message: z.string() }));
  tool('test_elicitation_sep1034_defaults', 'Elicitation with defaults (SEP-1034)', async (_a, ctx) => elicit(ctx, 'Provide your details', {
    name: { type: 'string', default: 'John Doe' }, age: { type: 'integer', default: 30 }, score: { type: 'number', default: 95.5 },
    status: { type: 'string', enum: ['active', 'inactive', 'pending'], default: 'active' }, verified: { type: 'boolean', default: true },
  }));
  tool('test_elicitation_sep1330_enums', 'Elicitation with enum forms (SEP-1330)', async (_a, ctx) => elicit(ctx, 'Pick options', {
    untitledSingle: { type: 'string', enum: ['option1', 'option2', 'option3'] },
    titledSingle: { type: 'string', oneOf: [{ const: 'value1', title: 'First' }, { const: 'value2', title: 'Second' }, { const: 'value3', title: 'Third' }] },
    legacyEnum: { type: 'string', enum: ['opt1', 'opt2', 'opt3'], enumNames: ['Option 1', 'Option 2', 'Option 3'] },
    untitledMulti: { type: 'array', items: { type: 'string', enum: ['option1', 'option2', 'option3'] } },
    titledMulti: { type: 'array', items: { anyOf: [{ const: 'value1', title: 'First' }, { const: 'value2', title: 'Second' }, { const: 'value3', title: 'Third' }] } },
  }));

  // --- schemas (SEP-1613/2106) and routing headers (SEP-2243) ---
  s.registerTool('json_schema_2020_12_tool', {
    description: 'Tool with JSON Schema 2020-12 features',
    inputSchema: fromJsonSchema({
      $schema: 'https://json-schema.org/draft/2020-12/schema', type: 'object',
      $defs: { address: { $anchor: 'addressDef', type: 'object', properties: { street: { type: 'string' }, city: { type: 'string' } } } },
      properties: { name: { type: 'string' }, address: { $ref: '#/$defs/address' }, contactMethod: { type: 'string', enum: ['phone', 'email'] }, phone: { type: 'string' }, email: { type: 'string' } },
      allOf: [{ anyOf: [{ required: ['phone'] }, { required: ['email'] }] }],
      if: { properties: { contactMethod: { const: 'phone' } }, required: ['contactMethod'] },
      then: { required: ['phone'] }, else: { required: ['email'] },
      additionalProperties: false,
    }),
  }, async (args: unknown) => text(`hello ${JSON.stringify(args)}`));
  s.registerTool('test_x_mcp_header', {
    description: 'An argument mirrored into the Mcp-Param-Region header (SEP-2243)',
    inputSchema: fromJsonSchema<{ region?: string; level?: number }>({ type: 'object', properties: { region: { type: 'string', 'x-mcp-header': 'Region' } as object, level: { type: 'integer' } } }),
  }, async (args: { region?: string }) => text(`region=${args.region ?? '<none>'}`));

  // --- SEP-2575 (server-stateless) diagnostics ---
  tool('test_missing_capability', 'Needs the sampling client capability', async (_a, ctx) =>
    ctx.mcpReq.inputResponses?.llm_answer === undefined ? inputRequired({ inputRequests: { llm_answer: askLlm('Reply with the single word: pong', 16) } }) : text('sampling round-trip complete'));
  tool('test_streaming_elicitation', 'A response stream with no top-level requests', async () => text('result frames only'));
  tool('test_logging_tool', 'Logs through the request-scoped, logLevel-gated channel', async (_a, ctx) => {
    await ctx.mcpReq.log('info', 'test_logging_tool ran');
    return text('logged');
  });
  // Per request (2026-07-28) each call gets a fresh server from the factory: the lists live in `lists`.
  tool('test_trigger_tool_change', 'Changes the tool list and tells listen streams', async () => (lists.tools++, modern().notify.toolsChanged(), text('tools list changed')));
  tool('test_trigger_prompt_change', 'Changes the prompt list and tells listen streams', async () => (lists.prompts++, modern().notify.promptsChanged(), text('prompts list changed')));
  if (lists.tools) tool(`test_dynamic_tool_${lists.tools}`, 'Added by test_trigger_tool_change', async () => text('dynamic'));
  if (lists.prompts) s.registerPrompt(`test_dynamic_prompt_${lists.prompts}`, { description: 'Added by test_trigger_prompt_change' }, async () => ({ messages: [{ role: 'user', content: { type: 'text', text: 'dynamic' } }] }));

  // --- multi-round-trip input_required results (SEP-2322) ---
  tool('test_input_required_result_elicitation', 'Asks for the caller name in-band', async (_a, ctx) => {
    const name = acceptedContent<{ name: string }>(ctx.mcpReq.inputResponses, 'user_name')?.name;
    return typeof name === 'string' ? text(`Hello, ${name}!`) : inputRequired({ inputRequests: { user_name: askName() } });
  });
  tool('test_input_required_result_sampling', 'Asks for an LLM completion in-band', async (_a, ctx) => {
    const r = ctx.mcpReq.inputResponses?.capital_question as { content?: { text?: string } } | undefined;
    return r === undefined ? inputRequired({ inputRequests: { capital_question: askLlm('What is the capital of France?', 100) } }) : text(`Sampling response: ${r.content?.text ?? JSON.stringify(r)}`);
  });
  tool('test_input_required_result_list_roots', 'Asks for the client roots in-band', async (_a, ctx) => {
    const roots = (ctx.mcpReq.inputResponses?.client_roots as { roots?: { uri?: string }[] } | undefined)?.roots;
    return Array.isArray(roots) ? text(`Client exposed ${roots.length} root(s): ${roots.map((r) => r.uri).join(', ')}`) : inputRequired({ inputRequests: { client_roots: inputRequired.listRoots() } });
  });
  tool('test_input_required_result_request_state', 'Round-trips sealed requestState with an elicitation', async (_a, ctx) => {
    if (acceptedContent(ctx.mcpReq.inputResponses, 'confirm') === undefined || ctx.mcpReq.requestState() === undefined) {
      return inputRequired({ inputRequests: { confirm: askConfirm() }, requestState: await stateCodec.mint({ tool: 'request_state', nonce: randomUUID() }) });
    }
    return text('state-ok: requestState verified and confirmation received');
  });
  tool('test_input_required_result_multiple_inputs', 'Asks for elicitation, sampling and roots in one round', async (_a, ctx) => {
    const r = ctx.mcpReq.inputResponses;
    const name = acceptedContent<{ name: string }>(r, 'user_name')?.name;
    const greeting = (r?.greeting as { content?: { text?: string } } | undefined)?.content?.text;
    const roots = (r?.client_roots as { roots?: unknown[] } | undefined)?.roots;
    if (typeof name === 'string' && typeof greeting === 'string' && Array.isArray(roots)) return text(`${greeting} ${name}: ${roots.length} root(s) visible`);
    return inputRequired({
      inputRequests: { user_name: askName(), greeting: askLlm('Generate a greeting'), client_roots: inputRequired.listRoots() },
      requestState: await stateCodec.mint({ tool: 'multiple_inputs', nonce: randomUUID() }),
    });
  });
  tool('test_input_required_result_multi_round', 'Two elicitation rounds with evolving requestState', async (_a, ctx) => {
    const state = ctx.mcpReq.requestState<Record<string, unknown>>();
    const round = state?.tool === 'multi_round' && typeof state.round === 'number' ? state.round : 0;
    if (round === 0) return inputRequired({ inputRequests: { step1: askName('Step 1: What is your name?') }, requestState: await stateCodec.mint({ tool: 'multi_round', round: 1, nonce: randomUUID() }) });
    if (round === 1) {
      const name = acceptedContent<{ name: string }>(ctx.mcpReq.inputResponses, 'step1')?.name ?? 'unknown';
      return inputRequired({
        inputRequests: { step2: inputRequired.elicit({ message: 'Step 2: What is your favorite color?', requestedSchema: { type: 'object', properties: { color: { type: 'string' } }, required: ['color'] } }) },
        requestState: await stateCodec.mint({ tool: 'multi_round', round: 2, name, nonce: randomUUID() }),
      });
    }
    const color = acceptedContent<{ color: string }>(ctx.mcpReq.inputResponses, 'step2')?.color ?? 'unknown';
    return text(`Multi-round complete: ${String(state?.name ?? 'unknown')} likes ${color}`);
  });
  tool('test_input_required_result_tampered_state', 'Rejects a retry whose requestState fails verification', async (_a, ctx) =>
    ctx.mcpReq.requestState() !== undefined && acceptedContent(ctx.mcpReq.inputResponses, 'confirm') !== undefined
      ? text('integrity-ok: requestState verified')
      : inputRequired({ inputRequests: { confirm: askConfirm() }, requestState: await stateCodec.mint({ tool: 'tampered_state', nonce: randomUUID() }) }));
  tool('test_input_required_result_capabilities', 'Asks only for the input kinds the client declared', async (_a, ctx) => {
    if (ctx.mcpReq.inputResponses !== undefined) return text('Capability-aware input requests fulfilled');
    // The published typings collapse the envelope type to {}: read the declared capabilities by key.
    const declared = (ctx.mcpReq.envelope as Record<string, ClientCapabilities | undefined> | undefined)?.[CLIENT_CAPABILITIES_META_KEY];
    const inputRequests: InputRequests = {};
    if (declared?.elicitation !== undefined) inputRequests.user_name = askName();
    if (declared?.sampling !== undefined) inputRequests.greeting = askLlm('Generate a short greeting');
    if (declared?.roots !== undefined) inputRequests.client_roots = inputRequired.listRoots();
    return Object.keys(inputRequests).length ? inputRequired({ inputRequests }) : text('No declared client capability supports an in-band input request');
  });

  // --- resources ---
  const staticResource = (name: string, uri: string, mimeType: string, body: { text: string } | { blob: string }) =>
    s.registerResource(name, uri, { description: `${name} resource`, mimeType }, async () => ({ contents: [{ uri, mimeType, ...body }] }));
  staticResource('static-text', 'test://static-text', 'text/plain', { text: 'This is the content of the static text resource.' });
  staticResource('static-binary', 'test://static-binary', 'image/png', { blob: PNG });
  staticResource('watched-resource', 'test://watched-resource', 'text/plain', { text: 'Watched resource content' });
  s.registerResource('template', new ResourceTemplate('test://template/{id}/data', { list: undefined }), { description: 'A template with an id', mimeType: 'application/json' },
    async (uri: URL, { id }: Record<string, unknown>) => ({ contents: [{ uri: uri.href, mimeType: 'application/json', text: JSON.stringify({ id, templateTest: true, data: `Data for ID: ${String(id)}` }) }] }));
  // resources/subscribe is 2025-era vocabulary (2026-07-28 has subscriptions/listen): nothing to remember here.
  s.server.setRequestHandler('resources/subscribe', async () => ({}));
  s.server.setRequestHandler('resources/unsubscribe', async () => ({}));

  // --- prompts ---
  s.registerPrompt('test_simple_prompt', { description: 'A simple prompt' }, async () => ({ messages: [{ role: 'user', content: { type: 'text', text: 'This is a simple prompt for testing.' } }] }));
  s.registerPrompt('test_prompt_with_arguments', { description: 'A prompt with arguments', argsSchema: z.object({ arg1: z.string().describe('First argument'), arg2: z.string().describe('Second argument') }) },
    async ({ arg1, arg2 }) => ({ messages: [{ role: 'user', content: { type: 'text', text: `Prompt with arguments: arg1='${arg1}', arg2='${arg2}'` } }] }));
  s.registerPrompt('test_prompt_with_embedded_resource', { description: 'A prompt with a resource', argsSchema: z.object({ resourceUri: z.string() }) }, async ({ resourceUri }) => ({ messages: [
    { role: 'user', content: { type: 'resource', resource: { uri: resourceUri, mimeType: 'text/plain', text: 'Embedded resource content for testing.' } } },
    { role: 'user', content: { type: 'text', text: 'Please process the embedded resource above.' } },
  ] }));
  s.registerPrompt('test_prompt_with_image', { description: 'A prompt with an image' }, async () => ({ messages: [
    { role: 'user', content: { type: 'image', data: PNG, mimeType: 'image/png' } },
    { role: 'user', content: { type: 'text', text: 'Please analyze the image above.' } },
  ] }));
  // prompts/get may answer input_required too (SEP-2322). Without argsSchema the callback gets the context only.
  s.registerPrompt('test_input_required_result_prompt', { description: 'A prompt that needs context from the user first' }, (async (ctx: ServerContext): Promise<GetPromptResult | InputRequiredResult> => {
    const context = acceptedContent<{ context: string }>(ctx.mcpReq.inputResponses, 'user_context')?.context;
    if (typeof context !== 'string') {
      return inputRequired({ inputRequests: { user_context: inputRequired.elicit({ message: 'What context should the prompt use?', requestedSchema: { type: 'object', properties: { context: { type: 'string' } }, required: ['context'] } }) } });
    }
    return { messages: [{ role: 'user', content: { type: 'text', text: `Use the following context: ${context}` } }] };
  }) as never);

  // --- completion and logging ---
  s.server.setRequestHandler('completion/complete', async () => ({ completion: { values: ['paris', 'park', 'party'], total: 3, hasMore: false } }));
  s.server.setRequestHandler('logging/setLevel', async () => ({}));
  return s;
}

async function elicit(ctx: ServerContext, message: string, properties: Record<string, unknown>, required?: string[]): Promise<CallToolResult> {
  const r = await ctx.mcpReq.elicitInput({ message, requestedSchema: { type: 'object', properties, ...(required ? { required } : {}) } } as never);
  return text(`User response: action=${r.action}, content=${JSON.stringify(r.content ?? {})}`);
}


const LOCAL_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);
const jsonError = (status: number, message: string) =>
  new Response(JSON.stringify({ jsonrpc: '2.0', id: null, error: { code: -32000, message } }), { status, headers: { 'content-type': 'application/json' } });

/** Serves the fixture on loopback; with `token`, every request must carry `Authorization: Bearer <token>`. */
export async function startFixtureServerV2(opts: { token?: string } = {}): Promise<{ url: string; close(): Promise<void> }> {
  const lists: Lists = { tools: 0, prompts: 0 };
  const modern: McpHttpHandler = createMcpHandler(() => buildServer(() => modern, lists), { legacy: 'reject', keepAliveMs: 0 });
  const sessions = new Map<string, WebStandardStreamableHTTPServerTransport>();

  async function legacy(request: Request): Promise<Response> {
    let body: unknown;
    if (request.method === 'POST') {
      try { body = await request.clone().json(); } catch { body = undefined; }
    }
    const sid = request.headers.get('mcp-session-id');
    const existing = sid ? sessions.get(sid) : undefined;
    if (existing) return existing.handleRequest(request, { parsedBody: body });
    if (sid) return jsonError(404, 'Session not found');
    if (!isInitializeRequest(body)) return jsonError(400, 'Bad Request: no valid session');
    const transport: WebStandardStreamableHTTPServerTransport = new WebStandardStreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(), eventStore: new MemoryEventStore<JSONRPCMessage>(), retryInterval: 100, keepAliveMs: 0,
      onsessioninitialized: (id) => void sessions.set(id, transport),
    });
    const server = buildServer(() => modern, lists);
    transport.onclose = () => { if (transport.sessionId) sessions.delete(transport.sessionId); void server.close(); };
    await server.connect(transport);
    return transport.handleRequest(request, { parsedBody: body });
  }

  const node = toNodeHandler({ fetch: async (request: Request) => ((await isLegacyRequest(request)) ? legacy(request) : modern.fetch(request)) });
  const http: HttpServer = createServer((req, res) => {
    if (opts.token !== undefined && req.headers.authorization !== `Bearer ${opts.token}`) return void res.writeHead(401).end();
    // DNS-rebinding defence for a local server: Host and Origin must be loopback.
    const host = (req.headers.host ?? '').replace(/:\d+$/, '');
    let origin: string | undefined;
    try { origin = req.headers.origin ? new URL(req.headers.origin).hostname : undefined; } catch { origin = 'invalid'; }
    if (!LOCAL_HOSTS.has(host) || (origin !== undefined && !LOCAL_HOSTS.has(origin))) {
      return void res.writeHead(403, { 'content-type': 'application/json' }).end('{"jsonrpc":"2.0","id":null,"error":{"code":-32000,"message":"forbidden host or origin"}}');
    }
    void node(req, res);
  });
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', () => r()));
  return {
    url: `http://127.0.0.1:${(http.address() as AddressInfo).port}/mcp`,
    async close() {
      for (const t of sessions.values()) await t.close().catch(() => {});
      await modern.close().catch(() => {});
      await new Promise<void>((r) => { http.close(() => r()); http.closeAllConnections(); });
    },
  };
}

// `node test/conformance/fixture-server-v2.ts` serves it standalone (handy with the conformance CLI).
if (import.meta.url === `file://${process.argv[1]}`) {
  const s = await startFixtureServerV2();
  console.log(s.url);
}
