// The one place that decides which headers an upstream request carries: Deputy's own (user agent,
// request id, what the call needs), the few a relayed client request may pass on (an allow-list:
// never its Authorization, cookies or hop-by-hop headers), and last the credential Deputy holds for
// that upstream, so nothing before it can replace or add to it. The MCP proxy, the MCP client of /mcp
// and the era probe, and the OpenAPI caller all build their headers here.
import type { IncomingHttpHeaders } from 'node:http';

/** Headers a relayed MCP client request passes on; everything else it sent is dropped. */
export const RELAYED_CLIENT_HEADERS = ['content-type', 'accept', 'mcp-protocol-version', 'last-event-id', 'traceparent', 'tracestate'] as const;

/** MCP 2026-07-28 headers that mirror the body (already checked against it) and travel with it. */
const isMirrored = (h: string) => h === 'mcp-method' || h === 'mcp-name' || h.startsWith('mcp-param-');

export interface UpstreamHeaderParts {
  /** Deputy's request id, for correlating logs on both sides. */
  requestId?: string;
  /** A client request relayed as it is: the allow-list crosses (and, in the 2026 era, the mirrored headers). */
  relay?: { headers: IncomingHttpHeaders; modern: boolean };
  /** Headers of Deputy's own making for this call (accept, content type, MCP session and version, operation arguments). */
  own?: Record<string, string | undefined>;
  /** The upstream credential's headers: applied last. */
  credential: Record<string, string>;
}

export function upstreamHeaders(parts: UpstreamHeaderParts): Record<string, string> {
  const out: Record<string, string> = { 'user-agent': 'deputy' };
  if (parts.requestId) out['x-request-id'] = parts.requestId;
  if (parts.relay) {
    for (const h of RELAYED_CLIENT_HEADERS) {
      const v = parts.relay.headers[h];
      if (typeof v === 'string') out[h] = v;
    }
    if (parts.relay.modern) {
      for (const [h, v] of Object.entries(parts.relay.headers)) if (typeof v === 'string' && isMirrored(h)) out[h] = v;
    }
  }
  for (const [h, v] of Object.entries(parts.own ?? {})) if (v !== undefined) out[h.toLowerCase()] = v;
  for (const [h, v] of Object.entries(parts.credential)) out[h.toLowerCase()] = v;
  return out;
}
