// Tool names for operations: readable, valid for MCP clients (`^[A-Za-z0-9_-]{1,64}$`), unique and
// deterministic. The aggregated endpoint prefixes every tool with `<upstream>__`, so the 64-character
// budget is counted with that prefix included.
import { createHash } from 'node:crypto';

export const TOOL_NAME_MAX = 64;
export const UPSTREAM_SEPARATOR = '__';

/** How many characters an un-prefixed tool name of this upstream may have. */
export function toolNameBudget(upstream: string): number {
  return TOOL_NAME_MAX - upstream.length - UPSTREAM_SEPARATOR.length;
}

/** The name the aggregated endpoint (`/mcp`) uses for a tool of this upstream. */
export function prefixedToolName(upstream: string, tool: string): string {
  return `${upstream}${UPSTREAM_SEPARATOR}${tool}`;
}

export function isValidToolName(name: string): boolean {
  return /^[A-Za-z0-9_-]+$/.test(name) && !name.includes(UPSTREAM_SEPARATOR);
}

/** `GET /pets/{id}`: how operations are identified in reports, filters and overrides. */
export function operationKey(method: string, path: string): string {
  return `${method.toUpperCase()} ${path}`;
}

export function shortHash(text: string, length = 8): string {
  return createHash('sha256').update(text).digest('hex').slice(0, length);
}

/** Letters, digits, `_` and `-`; runs of anything else become one `_` (never `__`, the prefix separator). */
export function sanitizeName(raw: string): string {
  const s = raw.replace(/[^A-Za-z0-9_-]+/g, '_').replace(/_{2,}/g, '_').replace(/^[_-]+|[_-]+$/g, '');
  return s || 'operation';
}

function fit(base: string, key: string, budget: number, forceHash: boolean): string {
  if (!forceHash && base.length <= budget) return base;
  const suffix = `_${shortHash(key)}`;
  return `${base.slice(0, Math.max(1, budget - suffix.length)).replace(/[_-]+$/, '')}${suffix}`;
}

export interface NameableOperation {
  key: string;
  method: string;
  path: string;
  operationId?: string;
}

/**
 * Assigns a tool name to every operation. Operations are processed in sorted key order, so the result
 * does not depend on the order of keys in the document. Overrides (by operationId or key) win; a
 * generated name that collides with an earlier one gets a short hash of its operation key.
 */
export function assignToolNames(ops: NameableOperation[], budget: number, overrides: Record<string, string>): Map<string, string> {
  const sorted = [...ops].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const names = new Map<string, string>();
  const used = new Set<string>();
  const overrideFor = (op: NameableOperation): string | undefined => {
    if (overrides[op.key] !== undefined) return overrides[op.key];
    const upperKey = Object.keys(overrides).find((k) => / /.test(k) && operationKey(k.split(' ')[0]!, k.slice(k.indexOf(' ') + 1)) === op.key);
    if (upperKey) return overrides[upperKey];
    return op.operationId !== undefined ? overrides[op.operationId] : undefined;
  };
  for (const op of sorted) {
    const o = overrideFor(op);
    if (o !== undefined) {
      names.set(op.key, o);
      used.add(o);
    }
  }
  for (const op of sorted) {
    if (names.has(op.key)) continue;
    const base = sanitizeName(op.operationId ?? `${op.method.toLowerCase()}_${op.path}`);
    let name = fit(base, op.key, budget, false);
    if (used.has(name)) name = fit(base, op.key, budget, true);
    for (let i = 2; used.has(name); i++) name = fit(`${base}_${i}`, op.key, budget, true);
    names.set(op.key, name);
    used.add(name);
  }
  return names;
}
