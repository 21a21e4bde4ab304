// Fuzzing the JSON-RPC envelope parser (src/protocol/jsonrpc.ts, `parseMessage`) with valid MCP
// messages, mutations of them, random JSON, random bytes and huge or deeply nested bodies.
// Property: it returns a summary or throws a JsonRpcError with code -32700/-32600/-32602, nothing
// else; and the error message never quotes 8+ characters of the body (a body can start with a token).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { JsonRpcError, parseMessage } from '../../src/protocol/jsonrpc.ts';
import { applyByteEdits, applyEdits, byteEdits, deepJson, edits, fuzzSync, preview, sharedPiece } from './support.ts';

const ALLOWED_CODES = new Set([-32700, -32600, -32602]);
const LEAK_MIN = 8;

/**
 * JSON-RPC and MCP vocabulary an error message may legitimately name (member names, the version,
 * method names). Removed from the body before looking for quoted input, so `"jsonrpc" must be
 * "2.0"` is not mistaken for an echo of the body.
 */
const VOCABULARY = ['"jsonrpc"', '"method"', '"params"', '"result"', '"error"', '"id"', '"name"', '"uri"', '"2.0"', 'jsonrpc', 'method', 'params', 'result', 'error', 'tools/call', 'prompts/get', 'resources/read', 'params.name', 'params.uri'];

function withoutVocabulary(body: string): string {
  let s = body;
  for (const w of VOCABULARY) s = s.split(w).join('\u0000');
  return s;
}

const jsonRpcId = fc.oneof(fc.integer(), fc.string({ maxLength: 20 }), fc.constant(null), fc.double(), fc.constantFrom(0, -0, 1e308, 'eyJhbGciOiJSUzI1NiJ9'));
const token = fc.constantFrom(
  'eyJhbGciOiJSUzI1NiIsImtpZCI6InJzYS0xIiwidHlwIjoiYXQrand0In0.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJl',
  'ghp_16C7e42F292c6912E7710c838347Ae178B4a',
  'sk-live-4f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c',
);

/** Well-formed MCP messages, as JS values. */
const mcpMessage = fc.oneof(
  fc.record({ jsonrpc: fc.constant('2.0'), id: jsonRpcId, method: fc.constant('initialize'), params: fc.record({ protocolVersion: fc.constantFrom('2025-03-26', '2025-06-18', '2025-11-25', 'x'), capabilities: fc.constant({}), clientInfo: fc.record({ name: fc.string(), version: fc.string() }) }) }),
  fc.record({ jsonrpc: fc.constant('2.0'), method: fc.constantFrom('notifications/initialized', 'notifications/cancelled', 'notifications/progress') }),
  fc.record({ jsonrpc: fc.constant('2.0'), id: jsonRpcId, method: fc.constantFrom('tools/list', 'prompts/list', 'resources/list', 'ping', 'logging/setLevel') }, { requiredKeys: ['jsonrpc', 'method'] }),
  fc.record({ jsonrpc: fc.constant('2.0'), id: jsonRpcId, method: fc.constant('tools/call'), params: fc.record({ name: fc.oneof(fc.string(), token), arguments: fc.dictionary(fc.string(), fc.jsonValue({ maxDepth: 2 })) }, { requiredKeys: [] }) }),
  fc.record({ jsonrpc: fc.constant('2.0'), id: jsonRpcId, method: fc.constant('prompts/get'), params: fc.record({ name: fc.string() }, { requiredKeys: [] }) }),
  fc.record({ jsonrpc: fc.constant('2.0'), id: jsonRpcId, method: fc.constant('resources/read'), params: fc.record({ uri: fc.oneof(fc.webUrl(), fc.string(), fc.integer()) }) }),
  fc.record({ jsonrpc: fc.constant('2.0'), id: jsonRpcId, result: fc.jsonValue({ maxDepth: 2 }) }),
  fc.record({ jsonrpc: fc.constant('2.0'), id: jsonRpcId, error: fc.record({ code: fc.integer(), message: fc.string() }) }),
);

/** Objects with the envelope's members present, absent or of the wrong type. */
const looseEnvelope = fc.record(
  {
    jsonrpc: fc.oneof(fc.constant('2.0'), fc.constant('2'), fc.constant(2), fc.constant('1.0'), fc.jsonValue({ maxDepth: 1 })),
    id: fc.oneof(jsonRpcId, fc.jsonValue({ maxDepth: 1 })),
    method: fc.oneof(fc.constantFrom('tools/call', 'prompts/get', 'resources/read', '', 'initialize'), fc.string(), fc.jsonValue({ maxDepth: 1 })),
    params: fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.record({ name: fc.jsonValue({ maxDepth: 1 }), uri: fc.jsonValue({ maxDepth: 1 }) }, { requiredKeys: [] })),
    result: fc.jsonValue({ maxDepth: 1 }),
    error: fc.jsonValue({ maxDepth: 1 }),
  },
  { requiredKeys: [] },
);

const utf8 = (s: string) => Buffer.from(s, 'utf8');

/** Bodies, each tagged with how it was made (shown in counterexamples). */
const body: fc.Arbitrary<{ how: string; body: Buffer }> = fc.oneof(
  { weight: 2, arbitrary: mcpMessage.map((m) => ({ how: 'valid MCP message', body: utf8(JSON.stringify(m)) })) },
  { weight: 4, arbitrary: fc.tuple(mcpMessage, edits({ maxLength: 3 })).map(([m, e]) => ({ how: `MCP message + edits ${JSON.stringify(e)}`, body: utf8(applyEdits(JSON.stringify(m), e)) })) },
  { weight: 2, arbitrary: fc.tuple(mcpMessage, byteEdits()).map(([m, e]) => ({ how: `MCP message + byte edits ${JSON.stringify(e)}`, body: applyByteEdits(utf8(JSON.stringify(m)), e) })) },
  { weight: 2, arbitrary: looseEnvelope.map((m) => ({ how: 'loose envelope', body: utf8(JSON.stringify(m)) })) },
  { weight: 2, arbitrary: fc.jsonValue().map((v) => ({ how: 'random JSON', body: utf8(JSON.stringify(v) ?? 'null') })) },
  { weight: 2, arbitrary: fc.uint8Array({ maxLength: 512 }).map((b) => ({ how: 'random bytes', body: Buffer.from(b) })) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 256 }).map((s) => ({ how: 'random text', body: utf8(s) })) },
  // A token where JSON is expected: a client that sent the wrong thing, or a confused proxy.
  { weight: 3, arbitrary: fc.tuple(token, fc.constantFrom('', '{"jsonrpc":"2.0","id":1,"method":', '{"a":', '[', ' ', '\ufeff'), fc.constantFrom('', '}', '"}', ',')).map(([t, pre, post]) => ({ how: 'token in place of JSON', body: utf8(`${pre}${t}${post}`) })) },
  { weight: 1, arbitrary: fc.tuple(deepJson(), fc.boolean()).map(([d, wrap]) => ({ how: 'deep nesting', body: utf8(wrap ? `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"x","arguments":{"a":${d}}}}` : d) })) },
  { weight: 1, arbitrary: fc.integer({ min: 1, max: 1 << 20 }).map((n) => ({ how: 'huge string', body: utf8(`{"jsonrpc":"2.0","id":1,"method":"${'m'.repeat(n)}"}`) })) },
  { weight: 1, arbitrary: fc.constantFrom('', ' ', 'null', 'true', '0', '""', '[]', '{}', '[{}]', '{"jsonrpc":"2.0"}', '{"jsonrpc":"2.0","id":1e999,"method":"x"}', '{"jsonrpc":"2.0","id":{},"method":"x"}', '{"jsonrpc":"2.0","method":"tools/call","params":[]}', '{"__proto__":{"jsonrpc":"2.0"},"method":"x"}', '{"jsonrpc":"2.0","jsonrpc":"1.0","id":1,"method":"x"}').map((s) => ({ how: 'edge case', body: utf8(s) })) },
);

test('parseMessage: a summary or a JsonRpcError with a specific code, never quoting the body', async () => {
  await fuzzSync('jsonrpc: parseMessage', body, ({ how, body: bytes }) => {
    let result: ReturnType<typeof parseMessage>;
    try {
      result = parseMessage(bytes);
    } catch (error) {
      assert.ok(error instanceof JsonRpcError, `${how}: threw ${(error as Error)?.name}: ${(error as Error)?.message} instead of a JsonRpcError`);
      assert.ok(ALLOWED_CODES.has(error.code), `${how}: unexpected code ${error.code}`);
      assert.ok(error.id === null || typeof error.id === 'string' || (typeof error.id === 'number' && Number.isFinite(error.id)), `${how}: error id ${String(error.id)} is not a valid JSON-RPC id`);
      assert.ok(typeof error.message === 'string' && error.message.length > 0, `${how}: empty error message`);
      const leaked = sharedPiece(withoutVocabulary(bytes.toString('utf8')), error.message, LEAK_MIN);
      assert.equal(leaked, undefined, `${how}: the error message quotes the body (${preview(leaked ?? '')}): ${preview(error.message, 300)}`);
      return;
    }
    const { message, summary } = result;
    assert.equal(message.jsonrpc, '2.0', `${how}: accepted a message without jsonrpc 2.0`);
    assert.ok(['request', 'notification', 'response'].includes(summary.kind), `${how}: kind ${summary.kind}`);
    if (summary.kind !== 'response') assert.ok(typeof summary.method === 'string' && summary.method !== '', `${how}: a ${summary.kind} without a method`);
  }, { runs: 300, examples: [{ how: 'a token as the body', body: utf8('eyJhbGciOiJSUzI1NiIsImtpZCI6InJzYS0xIiwidHlwIjoiYXQrand0In0.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJl') }] });
});
