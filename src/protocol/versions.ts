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
  // Quoted back only when it looks like a revision: any other value could be a misplaced credential.
  const shown = v !== undefined && /^\d{4}-\d{2}-\d{2}$/.test(v) ? JSON.stringify(v) : `(a value of ${v?.length ?? 0} characters that is not a revision date)`;
  return `unsupported MCP-Protocol-Version ${shown}; supported: ${STREAMABLE_HTTP_VERSIONS.join(', ')}`;
}
