// JSON-RPC 2.0 envelope checks for MCP POST bodies. Deputy inspects only what routing, policy and
// audit need (method, id, tool name) and forwards the original bytes untouched.
import { clip } from '../audit/event.ts';
export type JsonRpcId = string | number | null;

export interface RpcSummary {
  kind: 'request' | 'notification' | 'response';
  id: JsonRpcId;
  method?: string;
  /** `params.name` of tools/call and prompts/get, `params.uri` of resources/read. */
  target?: string;
  params?: Record<string, unknown>;
}

/** Error messages can quote client input (an unknown method or tool name): they are cut at this length. */
export const MAX_MESSAGE_CHARS = 512;

export class JsonRpcError extends Error {
  override name = 'JsonRpcError';
  readonly code: number;
  readonly id: JsonRpcId;
  constructor(code: number, message: string, id: JsonRpcId = null) {
    super(clip(message, MAX_MESSAGE_CHARS));
    this.code = code;
    this.id = id;
  }
}

export const PARSE_ERROR = -32700;
export const INVALID_REQUEST = -32600;
export const METHOD_NOT_FOUND = -32601;
export const INVALID_PARAMS = -32602;
export const INTERNAL_ERROR = -32603;
/** Deputy's server-defined codes (JSON-RPC reserves -32000..-32099 for these). */
export const UPSTREAM_UNAVAILABLE = -32010;
export const CREDENTIAL_UNAVAILABLE = -32011;
export const FORBIDDEN = -32012;
// -32013 (a limit or quota reached) and the 2026 era's -32020/-32022 come with their HTTP status from
// the one table in src/errors.ts.

export function parseMessage(body: Buffer): { message: Record<string, unknown>; summary: RpcSummary } {
  let message: unknown;
  try {
    message = JSON.parse(body.toString('utf8'));
  } catch (error) {
    // Never quote the parser's message: it copies the start of the body, which can be a token.
    throw new JsonRpcError(PARSE_ERROR, `Parse error: the request body (${body.length} bytes) is not valid JSON${jsonErrorPosition(error)}`);
  }
  if (Array.isArray(message)) throw new JsonRpcError(INVALID_REQUEST, 'Invalid Request: JSON-RPC batches are not supported (removed in MCP 2025-06-18); send one message per POST');
  if (typeof message !== 'object' || message === null) throw new JsonRpcError(INVALID_REQUEST, 'Invalid Request: expected a JSON-RPC object');
  const m = message as Record<string, unknown>;
  const id = m.id;
  const validId = id === undefined || typeof id === 'string' || (typeof id === 'number' && Number.isFinite(id));
  const safeId = validId && id !== undefined ? (id as JsonRpcId) : null;
  if (m.jsonrpc !== '2.0') throw new JsonRpcError(INVALID_REQUEST, 'Invalid Request: "jsonrpc" must be "2.0"', safeId);
  if (!validId) throw new JsonRpcError(INVALID_REQUEST, 'Invalid Request: "id" must be a string or a number', null);
  if (m.method !== undefined) {
    if (typeof m.method !== 'string' || m.method === '') throw new JsonRpcError(INVALID_REQUEST, 'Invalid Request: "method" must be a non-empty string', safeId);
    if (m.params !== undefined && (typeof m.params !== 'object' || m.params === null || Array.isArray(m.params))) {
      throw new JsonRpcError(INVALID_PARAMS, 'Invalid params: MCP "params" must be an object', safeId);
    }
    const params = m.params as Record<string, unknown> | undefined;
    const target = m.method === 'resources/read' ? params?.uri : m.method === 'tools/call' || m.method === 'prompts/get' ? params?.name : undefined;
    if ((m.method === 'tools/call' || m.method === 'prompts/get') && typeof target !== 'string') {
      throw new JsonRpcError(INVALID_PARAMS, `Invalid params: ${m.method} needs params.name (a string)`, safeId);
    }
    return { message: m, summary: { kind: id === undefined ? 'notification' : 'request', id: safeId, method: m.method, target: typeof target === 'string' ? target : undefined, params } };
  }
  if (id === undefined || (m.result === undefined && m.error === undefined)) {
    throw new JsonRpcError(INVALID_REQUEST, 'Invalid Request: a message needs "method" (request or notification) or "result"/"error" (response)', safeId);
  }
  return { message: m, summary: { kind: 'response', id: safeId } };
}

export function errorBody(code: number, message: string, id: JsonRpcId = null): string {
  return JSON.stringify({ jsonrpc: '2.0', id: typeof id === 'string' ? clip(id, MAX_MESSAGE_CHARS) : id, error: { code, message: clip(message, MAX_MESSAGE_CHARS) } });
}

/** " at position N" when the parser says where it stopped; nothing of the input itself. */
function jsonErrorPosition(error: unknown): string {
  const m = /position (\d+)/.exec((error as Error).message);
  return m ? ` (at position ${m[1]})` : '';
}
