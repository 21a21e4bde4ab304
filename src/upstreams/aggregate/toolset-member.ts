// A Toolset (e.g. an OpenAPI upstream's operations) as a member of the aggregated endpoint: tools only.
import type { CredentialMode } from '../../config/schema.ts';
import { INVALID_PARAMS, JsonRpcError, METHOD_NOT_FOUND } from '../../protocol/jsonrpc.ts';
import type { Toolset } from '../toolset.ts';
import type { AggregateMember, MemberContext } from './member.ts';

export function toolsetMember(name: string, toolset: Toolset, opts: { credentialMode: CredentialMode; timeoutMs: number }): AggregateMember {
  return {
    name,
    credentialMode: opts.credentialMode,
    timeoutMs: opts.timeoutMs,
    capabilities: async () => ({ tools: {} }),
    async request(method: string, params: Record<string, unknown>, ctx: MemberContext) {
      switch (method) {
        case 'tools/list':
          // A Toolset lists everything at once; the aggregator pages the merged result.
          return { tools: await toolset.listTools(ctx.principal) };
        case 'tools/call': {
          const args = params.arguments ?? {};
          if (typeof args !== 'object' || args === null || Array.isArray(args)) throw new JsonRpcError(INVALID_PARAMS, 'Invalid params: tools/call arguments must be an object');
          const token = ctx.progressToken;
          const result = await toolset.callTool(String(params.name), args as Record<string, unknown>, {
            principal: ctx.principal, bearer: ctx.bearer, requestId: ctx.requestId, signal: ctx.signal,
            progress: token === undefined ? undefined : (p) => ctx.onNotification?.('notifications/progress', { progressToken: token, ...p }),
          });
          return result as Record<string, unknown>;
        }
        default:
          throw new JsonRpcError(METHOD_NOT_FOUND, `Method not found: ${method} (upstream '${name}' offers tools only)`);
      }
    },
    close: () => toolset.close?.() ?? Promise.resolve(),
  };
}
