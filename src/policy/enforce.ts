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
 * Rewrites a buffered list answer (JSON or SSE): tools/list lists only tools the principal may call,
 * and any list, when given, only what `review` (definition pinning) lets through. Returns the new
 * body and how many tools policy hid; other messages on the stream pass unchanged.
 */
export async function filterListAnswer(body: AsyncIterable<Buffer> | Iterable<Buffer>, contentType: string, list: 'tools' | 'prompts' | 'resourceTemplates', policy: ToolPolicy, principal: Principal, review?: (items: Record<string, unknown>[]) => Promise<Record<string, unknown>[]>): Promise<{ body: string; hidden: number }> {
  let hidden = 0;
  const filter = async (message: unknown): Promise<unknown> => {
    const m = message as { result?: Record<string, unknown> };
    const listed = m?.result?.[list];
    if (!Array.isArray(listed)) return message;
    let items = listed as Record<string, unknown>[];
    if (list === 'tools') items = items.filter((t) => policy.tool(principal, String(t?.name)).allowed);
    hidden += listed.length - items.length;
    if (review) items = await review(items);
    return { ...m, result: { ...m.result, [list]: items } };
  };
  // Only unparsable JSON passes through as is; a failing review (the pin store) fails the answer.
  const parsed = (text: string): { ok: true; value: unknown } | { ok: false } => {
    try {
      return { ok: true, value: JSON.parse(text) };
    } catch {
      return { ok: false };
    }
  };
  if (contentType.startsWith('text/event-stream')) {
    const events = [];
    for await (const e of readSse(body)) {
      const p = e.data ? parsed(e.data) : { ok: false as const };
      events.push(p.ok ? { ...e, data: JSON.stringify(await filter(p.value)) } : e);
    }
    return { body: writeSse(events), hidden };
  }
  const chunks: Buffer[] = [];
  for await (const c of body) chunks.push(c);
  const text = Buffer.concat(chunks).toString('utf8');
  const p = parsed(text);
  return { body: p.ok ? JSON.stringify(await filter(p.value)) : text, hidden };
}
