// Builds the aggregated endpoint's service from config: one member per upstream, each with its policy.
// MCP upstreams come in as UpstreamClients (handshake-era McpMember or 2026-era ModernMember, by the
// upstream's era) through `extraMembers`, as do OpenAPI Toolsets.
import type { DeputyConfig } from '../../config/schema.ts';
import { createCredentialProvider, type OutboundContext } from '../../outbound/index.ts';
import { ToolPolicy } from '../../policy/tools.ts';
import type { AggregateMember } from './member.ts';
import { McpMember } from './mcp-member.ts';
import { AggregateService } from './service.ts';
import type { UpstreamLink } from '../link.ts';
import type { Quotas } from '../../admission/quota.ts';

export { AggregateService } from './service.ts';
export { McpMember } from './mcp-member.ts';
export { ModernMember } from './modern-member.ts';
export { UpstreamClient } from './upstream-client.ts';
export { toolsetMember } from './toolset-member.ts';
export type { AggregateMember, MemberContext } from './member.ts';

/** `links`: each MCP upstream's connections (shared with its /mcp/<name> proxy). `extraMembers`: members for upstreams that are not `type: mcp` (e.g. toolsetMember(name, openApiToolset, …)). */
export function createAggregateService(config: DeputyConfig, outbound: OutboundContext, links: ReadonlyMap<string, UpstreamLink>, quotas: Quotas, extraMembers: AggregateMember[] = []): AggregateService {
  const byName = new Map(extraMembers.map((m) => [m.name, m]));
  const entries = [];
  for (const upstream of config.upstreams) {
    const member = byName.get(upstream.name) ?? (upstream.type === 'mcp' ? new McpMember(upstream, createCredentialProvider(upstream, outbound), links.get(upstream.name)!) : undefined);
    if (!member) continue;
    entries.push({ member, policy: new ToolPolicy(upstream.name, upstream.policy, upstream.requiredScopes) });
  }
  return new AggregateService({ entries, config: config.aggregate, quotas });
}
