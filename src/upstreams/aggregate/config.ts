// Top-level `aggregate:` — how the aggregated /mcp endpoint names what it merges.
//
//   aggregate:
//     separator: "__"        # notes + add_note → notes__add_note
//     unprefixed: notes      # optional: this upstream's tools, prompts and resource URIs keep their own names
import type { Reader } from '../../config/reader.ts';

export interface AggregateConfig {
  separator: string;
  /** An upstream whose names are not namespaced (a migration aid: one server moved behind /mcp unchanged). */
  unprefixed?: string;
}

export const DEFAULT_AGGREGATE: AggregateConfig = { separator: '__' };

export function parseAggregate(r: Reader, upstreamNames: string[]): AggregateConfig {
  const separator = r.string('separator') ?? DEFAULT_AGGREGATE.separator;
  if (!/^[A-Za-z0-9_-]{1,4}$/.test(separator)) r.fail('must be 1-4 characters from A-Z a-z 0-9 _ - (tool names must match ^[A-Za-z0-9_-]{1,64}$)', 'separator');
  const unprefixed = r.string('unprefixed');
  if (unprefixed !== undefined && !upstreamNames.includes(unprefixed)) r.fail(`names no configured upstream; expected one of ${upstreamNames.join(', ') || '(none)'}`, 'unprefixed');
  r.rejectUnknownKeys();
  return { separator, unprefixed };
}
