// Which MCP era a request speaks, decided per request (MCP 2026-07-28, basic/versioning): a body whose
// params._meta names a protocol version is the 2026 era (stateless: no initialize, no sessions, POST
// only); anything else, initialize included, is the handshake era (2025-11-25 and before: sessions).
// The 2026 era mirrors parts of the body in headers (MCP-Protocol-Version, Mcp-Method, Mcp-Name) so
// intermediaries can route without parsing; Deputy parses anyway and refuses any disagreement before
// policy runs, so a header can never say one thing to a proxy and the body another to the upstream.
// Checks follow the order the SDK and the conformance suite use: mismatches, then the version, then
// missing headers. See docs/protocol-eras.md.
import type { IncomingHttpHeaders } from 'node:http';
import { DeputyError, type ErrorCode } from '../errors.ts';
import type { JsonRpcId, RpcSummary } from './jsonrpc.ts';
import { checkProtocolVersion } from './versions.ts';

/** 2026-era revisions Deputy serves. */
export const MODERN_VERSIONS = ['2026-07-28'] as const;
export const MODERN_VERSION = MODERN_VERSIONS[0];
/** What every 2026-07-28 POST Deputy sends upstream carries besides the method's own headers. */
export const MODERN_POST_HEADERS = { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': MODERN_VERSION } as const;
export const HEADER_MISMATCH = -32020;
export const UNSUPPORTED_PROTOCOL_VERSION = -32022;
export const META_VERSION = 'io.modelcontextprotocol/protocolVersion';
export const META_CAPABILITIES = 'io.modelcontextprotocol/clientCapabilities';
export const META_SERVER_INFO = 'io.modelcontextprotocol/serverInfo';
export const META_SUBSCRIPTION = 'io.modelcontextprotocol/subscriptionId';
/** Methods the 2026 era removed: answered 404 -32601 like any unknown method. */
export const REMOVED_IN_MODERN = new Set(['initialize', 'notifications/initialized', 'ping', 'logging/setLevel', 'resources/subscribe', 'resources/unsubscribe']);

export type Era = 'handshake' | 'modern';

/** A request refused by the era rules (see ERRORS for each code's status and JSON-RPC code). */
export class EraError extends DeputyError {
  readonly id: JsonRpcId;
  constructor(code: ErrorCode, message: string, id: JsonRpcId, opts: { data?: unknown; headers?: Record<string, string> } = {}) {
    super(code, message, opts);
    this.id = id;
  }
}

const modern = new Set<string>(MODERN_VERSIONS);
const looksModern = (v: string) => /^\d{4}-\d{2}-\d{2}$/.test(v) && v >= '2026-01-01';

/**
 * The era of one request, or an EraError. `rpc` is the parsed POST body (absent for GET/DELETE).
 */
export function decideEra(httpMethod: string, headers: IncomingHttpHeaders, rpc?: RpcSummary): Era {
  const headerVersion = single(headers['mcp-protocol-version']);
  if (httpMethod !== 'POST') {
    // The 2026 era is POST only; a GET stream or DELETE naming a 2026 version has nothing to reach.
    if (headerVersion !== undefined && looksModern(headerVersion)) {
      throw new EraError('ERR_METHOD_NOT_ALLOWED', 'Method not allowed: MCP 2026-07-28 requests are POSTs (no GET streams or DELETE)', null, { headers: { allow: 'POST' } });
    }
    return handshake(headerVersion, null);
  }
  const id = rpc?.id ?? null;
  const meta = rpc?.params?._meta as Record<string, unknown> | undefined;
  const claim = meta && typeof meta === 'object' ? meta[META_VERSION] : undefined;
  if (claim === undefined) {
    if (headerVersion !== undefined && looksModern(headerVersion)) {
      if (rpc?.method === 'initialize') throw new EraError('ERR_HEADER_MISMATCH', `Header mismatch: MCP-Protocol-Version ${headerVersion} names the 2026 era, but initialize belongs to the handshake era`, id);
      throw new EraError('ERR_INVALID_PARAMS', `Invalid params: a ${headerVersion} request needs params._meta["${META_VERSION}"] (and "${META_CAPABILITIES}")`, id);
    }
    return handshake(headerVersion, id);
  }
  if (typeof claim !== 'string' || claim === '') throw new EraError('ERR_INVALID_PARAMS', `Invalid params: _meta["${META_VERSION}"] must be a protocol version string`, id);
  if (headerVersion === undefined && rpc?.kind === 'notification') return 'modern'; // notification headers are not defined by 2026-07-28
  if (headerVersion !== undefined && headerVersion !== claim) {
    throw new EraError('ERR_HEADER_MISMATCH', `Header mismatch: MCP-Protocol-Version says ${headerVersion} but _meta says ${clipValue(claim)}`, id);
  }
  const mcpMethod = stripOws(single(headers['mcp-method']));
  if (mcpMethod !== undefined && mcpMethod !== rpc?.method) {
    throw new EraError('ERR_HEADER_MISMATCH', `Header mismatch: Mcp-Method says ${clipValue(mcpMethod)} but the body's method is ${clipValue(rpc?.method ?? '')}`, id);
  }
  if (!modern.has(claim)) {
    throw new EraError('ERR_UNSUPPORTED_VERSION', `Unsupported protocol version: ${clipValue(claim)}`, id, { data: { supported: [...MODERN_VERSIONS], requested: /^[\w.-]{1,32}$/.test(claim) ? claim : '(not a version)' } });
  }
  if (rpc?.kind === 'notification') return 'modern';
  if (headerVersion === undefined) throw new EraError('ERR_HEADER_MISMATCH', 'Header mismatch: the MCP-Protocol-Version header is required', id);
  if (mcpMethod === undefined) throw new EraError('ERR_HEADER_MISMATCH', 'Header mismatch: the Mcp-Method header is required', id);
  const capabilities = meta![META_CAPABILITIES];
  if (typeof capabilities !== 'object' || capabilities === null || Array.isArray(capabilities)) {
    throw new EraError('ERR_INVALID_PARAMS', `Invalid params: _meta["${META_CAPABILITIES}"] is required (an object; {} for none)`, id);
  }
  const named = rpc?.method === 'resources/read' ? rpc.params?.uri : rpc?.method === 'tools/call' || rpc?.method === 'prompts/get' ? rpc.params?.name : undefined;
  if (named !== undefined) {
    const raw = single(headers['mcp-name']);
    if (raw === undefined) throw new EraError('ERR_HEADER_MISMATCH', `Header mismatch: ${rpc!.method} needs the Mcp-Name header`, id);
    const decoded = decodeHeaderValue(stripOws(raw)!);
    if (decoded === undefined) throw new EraError('ERR_HEADER_MISMATCH', 'Header mismatch: Mcp-Name is not valid (=?base64?…?= needs canonical padded base64 of UTF-8)', id);
    if (decoded !== named) throw new EraError('ERR_HEADER_MISMATCH', `Header mismatch: Mcp-Name does not match params.${rpc!.method === 'resources/read' ? 'uri' : 'name'}`, id);
  }
  return 'modern';
}

/** JSON-RPC "method not found" in the 2026 era is HTTP 404. */
export function methodNotFound(method: string, id: JsonRpcId): EraError {
  return new EraError('ERR_METHOD_NOT_FOUND', REMOVED_IN_MODERN.has(method) ? `Method not found: ${method} (removed in MCP 2026-07-28)` : `Method not found: ${method}`, id);
}

/** `=?base64?…?=` (canonical, padded, UTF-8) or a plain value; undefined when malformed. */
export function decodeHeaderValue(v: string): string | undefined {
  const m = /^=\?base64\?(.*)\?=$/.exec(v);
  if (!m) return v;
  const b64 = m[1]!;
  if (!/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(b64)) return undefined;
  const bytes = Buffer.from(b64, 'base64');
  const text = new TextDecoder('utf-8', { fatal: false }).decode(bytes);
  return Buffer.from(text, 'utf8').equals(bytes) ? text : undefined;
}

function handshake(headerVersion: string | undefined, id: JsonRpcId): Era {
  const problem = checkProtocolVersion(headerVersion);
  if (problem) throw new EraError('ERR_UNSUPPORTED_HANDSHAKE_VERSION', problem, id);
  return 'handshake';
}

function single(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

function stripOws(v: string | undefined): string | undefined {
  return v?.replace(/^[ \t]+|[ \t]+$/g, '');
}

/** Values quoted in messages are client input: short ones only. */
function clipValue(v: string): string {
  return v.length <= 64 ? JSON.stringify(v) : `(${v.length} characters)`;
}
