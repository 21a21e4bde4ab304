// Policy at the /mcp/<upstream> proxy: refuse tools/call (and anything, when upstream-wide conditions
// fail) before it is forwarded, and filter the upstream's tools/list answer to what the principal may call.
import type { McpExchange } from '../http/exchange.ts';
import { insufficientScope } from '../inbound/errors.ts';
import type { Principal } from '../inbound/principal.ts';
import { readSse, writeSse } from '../upstreams/aggregate/sse.ts';
import type { Decision, ToolPolicy } from './tools.ts';

/** Methods that only set up the connection: never refused by per-upstream policy. */
const LIFECYCLE = new Set(['initialize', 'ping']);

/**
 * undefined when the request may proceed; a JSON-RPC error message when it is not allowed. Throws an
 * insufficient_scope AuthError when more scopes would allow it (the HTTP layer renders the 403 challenge).
 * Either way the refusal is recorded on the audit event.
 */
export function policyRefusal(policy: ToolPolicy, x: McpExchange): string | undefined {
  const rpc = x.rpc;
  if (rpc?.kind !== 'request' || !rpc.method || LIFECYCLE.has(rpc.method)) return undefined;
  let decision: Decision = policy.upstreamAccess(x.principal);
  if (decision.allowed && rpc.method === 'tools/call' && rpc.target !== undefined) decision = policy.tool(x.principal, rpc.target);
  if (decision.allowed) return undefined;
  x.event.outcome = 'denied';
  x.event.detail = `policy: ${decision.reason}`.slice(0, 500);
  if (decision.scopes) throw insufficientScope(decision.scopes);
  return `Forbidden: ${decision.reason}`;
}

/**
 * Rewrites a buffered tools/list answer (JSON or SSE) so it lists only tools the principal may call.
 * Returns the new body and how many tools were hidden; other messages on the stream pass unchanged.
 */
export async function filterToolsList(body: AsyncIterable<Buffer> | Iterable<Buffer>, contentType: string, policy: ToolPolicy, principal: Principal): Promise<{ body: string; hidden: number }> {
  let hidden = 0;
  const filter = (message: unknown): unknown => {
    const m = message as { result?: { tools?: { name?: unknown }[] } };
    if (!Array.isArray(m?.result?.tools)) return message;
    const tools = m.result.tools.filter((t) => policy.tool(principal, String(t?.name)).allowed);
    hidden += m.result.tools.length - tools.length;
    return { ...m, result: { ...m.result, tools } };
  };
  if (contentType.startsWith('text/event-stream')) {
    const events = [];
    for await (const e of readSse(body)) {
      let data = e.data;
      try {
        if (data) data = JSON.stringify(filter(JSON.parse(data)));
      } catch {
        // not JSON: pass through as is
      }
      events.push({ ...e, data });
    }
    return { body: writeSse(events), hidden };
  }
  const chunks: Buffer[] = [];
  for await (const c of body) chunks.push(c);
  const text = Buffer.concat(chunks).toString('utf8');
  try {
    return { body: JSON.stringify(filter(JSON.parse(text))), hidden };
  } catch {
    return { body: text, hidden };
  }
}
