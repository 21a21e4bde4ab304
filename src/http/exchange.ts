import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AuditRecord } from '../audit/record.ts';
import type { BearerToken, Principal } from '../inbound/principal.ts';
import type { RpcSummary } from '../protocol/jsonrpc.ts';
import type { Era } from '../protocol/era.ts';

/** One authenticated MCP request on its way through the gateway. */
export interface McpExchange {
  req: IncomingMessage;
  res: ServerResponse;
  requestId: string;
  principal: Principal;
  bearer: BearerToken;
  /** Raw POST body (forwarded byte for byte) and what it contains. */
  body?: Buffer;
  rpc?: RpcSummary;
  /** Handshake era (2025-11-25 and before: initialize, sessions) or 2026-07-28 (stateless). */
  era: Era;
  /** This request's audit record: the first step to decide the outcome wins; written when the response ends. */
  audit: AuditRecord;
}

/** Something that serves an MCP endpoint once the request is authenticated and authorized. */
export interface McpHandler {
  handle(x: McpExchange): Promise<void>;
  close?(): Promise<void>;
}
