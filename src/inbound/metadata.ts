// RFC 9728 Protected Resource Metadata. Each MCP endpoint is its own protected resource, so its
// metadata lives at the path-suffixed well-known URI; the root well-known URI describes the gateway.
import type { DeputyConfig } from '../config/schema.ts';

export const WELL_KNOWN_PRM = '/.well-known/oauth-protected-resource';

/** `https://gw/mcp/notes` → `https://gw/.well-known/oauth-protected-resource/mcp/notes` (RFC 9728 §3.1). */
export function metadataUrlFor(resource: string): string {
  const u = new URL(resource);
  const path = u.pathname === '/' ? '' : u.pathname.replace(/\/+$/, '');
  return `${u.origin}${WELL_KNOWN_PRM}${path}`;
}

export interface ProtectedResourceMetadata {
  resource: string;
  authorization_servers: string[];
  scopes_supported: string[];
  bearer_methods_supported: ['header'];
  resource_name: string;
  resource_documentation?: string;
}

export function protectedResourceMetadata(config: DeputyConfig, resource: string, scopes: string[], name: string): ProtectedResourceMetadata {
  return {
    resource,
    authorization_servers: config.auth.issuers.map((i) => i.issuer),
    scopes_supported: scopes,
    bearer_methods_supported: ['header'],
    resource_name: name,
  };
}
