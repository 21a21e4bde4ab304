// MCP protocol revisions Deputy speaks on Streamable HTTP. The 2026-07-28 revision changes the wire
// (no initialize, no sessions); it will be a second "era" beside this one, with the same auth rules.
export const STREAMABLE_HTTP_VERSIONS = ['2025-03-26', '2025-06-18', '2025-11-25'] as const;
export const LATEST_VERSION = '2025-11-25';
const supported = new Set<string>(STREAMABLE_HTTP_VERSIONS);

/** undefined when fine; an error message otherwise. A missing header means 2025-03-26 (spec §2.7). */
export function checkProtocolVersion(header: string | string[] | undefined): string | undefined {
  if (header === undefined) return undefined;
  const v = Array.isArray(header) ? header[0] : header;
  if (v !== undefined && supported.has(v)) return undefined;
  return `unsupported MCP-Protocol-Version ${JSON.stringify(v)}; supported: ${STREAMABLE_HTTP_VERSIONS.join(', ')}`;
}
