// Serves a Toolset as an MCP service: tools/list with pagination, tools/call with progress relayed.
import type { CallToolResult, Tool } from '@modelcontextprotocol/sdk/types.js';
import type { CredentialMode } from '../config/schema.ts';
import { decide, enforce } from '../policy/enforce.ts';
import type { ToolPolicy } from '../policy/tools.ts';
import { INVALID_PARAMS, JsonRpcError, METHOD_NOT_FOUND } from '../protocol/jsonrpc.ts';
import type { McpService, ServiceContext } from '../protocol/local-endpoint.ts';
import type { Toolset } from './toolset.ts';
import type { Quotas, ToolHints } from '../admission/quota.ts';

export const PAGE_SIZE = 100;

export interface ToolsetServiceOptions {
  credentialMode: CredentialMode;
  /** The upstream's policy: tools/list shows only callable tools; tools/call is refused otherwise. */
  policy?: ToolPolicy;
  /** Spent after policy, per user and per tool (the tool's annotations decide fail-open/closed). */
  quotas?: Quotas;
  version?: string;
}

export function toolsetService(name: string, toolset: Toolset, opts: ToolsetServiceOptions): McpService {
  const { policy } = opts;
  return {
    serverInfo: { name: `deputy/${name}`, version: opts.version ?? '1.0.0' },
    capabilities: () => ({ tools: { listChanged: false } }),
    async request(method: string, params: Record<string, unknown>, ctx: ServiceContext) {
      ctx.audit.upstream(name, opts.credentialMode);
      // The same policy step as every other route (step-up challenge, or an in-band refusal).
      if (policy) enforce(decide(policy, ctx.principal, method), ctx.audit);
      switch (method) {
        case 'tools/list': {
          const tools = await toolset.listTools(ctx.principal);
          return paginate(policy?.perTool ? tools.filter((t) => policy.tool(ctx.principal, t.name).allowed) : tools, params.cursor);
        }
        case 'tools/call': {
          const args = params.arguments ?? {};
          if (typeof args !== 'object' || args === null || Array.isArray(args)) throw new JsonRpcError(INVALID_PARAMS, 'Invalid params: tools/call arguments must be an object');
          if (policy) enforce(decide(policy, ctx.principal, method, String(params.name)), ctx.audit);
          if (opts.quotas?.covers(name)) await opts.quotas.checkUpstream(ctx.principal, name, String(params.name), await toolHints(toolset, ctx, String(params.name)));
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


/** The tool's read-only/destructive annotations, when the toolset lists it. */
async function toolHints(toolset: Toolset, ctx: ServiceContext, tool: string): Promise<ToolHints | undefined> {
  const t = (await toolset.listTools(ctx.principal)).find((x) => x.name === tool);
  return t?.annotations;
}
