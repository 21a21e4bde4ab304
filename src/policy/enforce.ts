// The one policy step, for every route: decide (upstream-wide conditions, then the tool's) and
// enforce (record the denial, then refuse): a 403 step-up challenge when more scopes would allow the
// request, otherwise a PolicyDenied answered in-band. The proxy, the aggregated /mcp and OpenAPI
// toolsets all call these two functions, so a refusal reads the same everywhere.
import type { AuditRecord } from '../audit/record.ts';
import { DeputyError } from '../errors.ts';
import { insufficientScope } from '../inbound/errors.ts';
import type { Principal } from '../inbound/principal.ts';
import { readSse, writeSse } from '../upstreams/aggregate/sse.ts';
import type { Decision, ToolPolicy } from './tools.ts';

/** Methods that only set up the connection: never refused by per-upstream policy. */
const LIFECYCLE = new Set(['initialize', 'ping', 'server/discover']);
const ALLOWED: Decision = { allowed: true };

/** Policy refuses and no scope would help (ERR_FORBIDDEN: 403 as a whole answer, -32012 in-band). */
export class PolicyDenied extends DeputyError {
  constructor(reason: string) {
    super('ERR_FORBIDDEN', `Forbidden: ${reason}`);
  }
}

/** May this principal send `method` (targeting `tool`, for tools/call) to the upstream behind `policy`? */
export function decide(policy: ToolPolicy, principal: Principal, method: string | undefined, tool?: string): Decision {
  if (!method || LIFECYCLE.has(method)) return ALLOWED;
  if (method === 'tools/call' && tool !== undefined) return policy.tool(principal, tool); // includes the upstream-wide conditions
  return policy.upstreamAccess(principal);
}

/**
 * Records a refusal on the request's audit record and throws it: an insufficient_scope AuthError
 * when scopes would allow the request (the HTTP layer renders the challenge with the route's
 * metadata), else a PolicyDenied.
 */
export function enforce(decision: Decision, audit: AuditRecord): void {
  if (decision.allowed) return;
  audit.deny(`policy: ${decision.reason}`);
  if (decision.scopes) throw insufficientScope(decision.scopes);
  throw new PolicyDenied(decision.reason);
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
