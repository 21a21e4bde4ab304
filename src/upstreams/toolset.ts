// What Deputy serves itself as an MCP server (OpenAPI operations, the aggregated endpoint): a set of
// tools it can list and call on behalf of an authenticated principal.
import type { CallToolResult, Tool } from '@modelcontextprotocol/sdk/types.js';
import type { BearerToken, Principal } from '../inbound/principal.ts';

export interface ToolCallContext {
  principal: Principal;
  bearer: BearerToken;
  requestId: string;
  signal: AbortSignal;
  /** Report progress; relayed to the client as notifications/progress when it asked for them. */
  progress?: (p: { progress: number; total?: number; message?: string }) => void;
}

export interface Toolset {
  listTools(principal: Principal): Promise<Tool[]>;
  /** Resolves to a tool result; protocol-level problems (unknown tool) throw a JsonRpcError. */
  callTool(name: string, args: Record<string, unknown>, ctx: ToolCallContext): Promise<CallToolResult>;
  close?(): Promise<void>;
}
