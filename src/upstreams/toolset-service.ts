// Serves a Toolset as an MCP service: tools/list with pagination, tools/call with progress relayed.
import type { CallToolResult, Tool } from '@modelcontextprotocol/sdk/types.js';
import { INVALID_PARAMS, JsonRpcError, METHOD_NOT_FOUND } from '../protocol/jsonrpc.ts';
import type { McpService, ServiceContext } from '../protocol/local-endpoint.ts';
import type { Toolset } from './toolset.ts';

export const PAGE_SIZE = 100;

export function toolsetService(name: string, toolset: Toolset, version = '1.0.0'): McpService {
  return {
    serverInfo: { name: `deputy/${name}`, version },
    capabilities: () => ({ tools: { listChanged: false } }),
    async request(method: string, params: Record<string, unknown>, ctx: ServiceContext) {
      switch (method) {
        case 'tools/list':
          return paginate(await toolset.listTools(ctx.principal), params.cursor);
        case 'tools/call': {
          const args = params.arguments ?? {};
          if (typeof args !== 'object' || args === null || Array.isArray(args)) throw new JsonRpcError(INVALID_PARAMS, 'Invalid params: tools/call arguments must be an object');
          return callWithProgress(toolset, String(params.name), args as Record<string, unknown>, ctx);
        }
        default:
          throw new JsonRpcError(METHOD_NOT_FOUND, `Method not found: ${method}`);
      }
    },
    close: () => toolset.close?.() ?? Promise.resolve(),
  };
}

export function callWithProgress(toolset: Toolset, name: string, args: Record<string, unknown>, ctx: ServiceContext): Promise<CallToolResult> {
  const token = ctx.progressToken;
  return toolset.callTool(name, args, {
    principal: ctx.principal, bearer: ctx.bearer, requestId: ctx.requestId, signal: ctx.signal,
    progress: token === undefined ? undefined : (p) => ctx.notify('notifications/progress', { progressToken: token, ...p }),
  });
}

/** Opaque cursors: the offset, base64url-encoded. A bad cursor is an invalid-params error (spec). */
export function paginate(tools: Tool[], cursor: unknown): { tools: Tool[]; nextCursor?: string } {
  let offset = 0;
  if (cursor !== undefined) {
    const n = typeof cursor === 'string' ? Number(Buffer.from(cursor, 'base64url').toString()) : NaN;
    if (!Number.isInteger(n) || n < 0 || n > tools.length) throw new JsonRpcError(INVALID_PARAMS, 'Invalid params: unknown cursor');
    offset = n;
  }
  const page = tools.slice(offset, offset + PAGE_SIZE);
  const next = offset + PAGE_SIZE;
  return next < tools.length ? { tools: page, nextCursor: Buffer.from(String(next)).toString('base64url') } : { tools: page };
}

