// Builds the aggregated endpoint's service from config: one member per upstream, each with its policy.
// The gateway builds the members (an UpstreamClient per MCP upstream, shared with /mcp/<name>; a
// toolsetMember per OpenAPI upstream), so /mcp and /mcp/<name> reach an upstream through one client.
import type { DeputyConfig } from '../../config/schema.ts';
import { ToolPolicy } from '../../policy/tools.ts';
import type { AggregateMember } from './member.ts';
import { AggregateService } from './service.ts';
import type { Quotas } from '../../admission/quota.ts';
import type { ToolPins } from '../../governance/pins.ts';

export { AggregateService } from './service.ts';
export { McpMember } from './mcp-member.ts';
export { ModernMember } from './modern-member.ts';
export { UpstreamClient } from './upstream-client.ts';
export { toolsetMember } from './toolset-member.ts';
export type { AggregateMember, MemberContext } from './member.ts';

/** `members`: one per upstream, by name; upstreams without one are left out. */
export function createAggregateService(config: DeputyConfig, quotas: Quotas, members: AggregateMember[], pins?: ToolPins): AggregateService {
  const byName = new Map(members.map((m) => [m.name, m]));
  const entries = [];
  for (const upstream of config.upstreams) {
    const member = byName.get(upstream.name);
    if (!member) continue;
    entries.push({ member, policy: new ToolPolicy(upstream.name, upstream.policy, upstream.requiredScopes) });
  }
  return new AggregateService({ entries, config: config.aggregate, quotas, pins });
}
