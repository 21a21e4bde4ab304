// Which operations become tools: include/exclude selectors, read_only and deprecation. Returns the
// reason an operation is left out (shown by `deputy check`), or undefined when it is kept.
import type { OpenApiOptions, OperationFilter } from './options.ts';

export interface FilterableOperation {
  method: string;
  path: string;
  operationId?: string;
  tags: string[];
  deprecated: boolean;
}

export function exclusionReason(op: FilterableOperation, o: OpenApiOptions): string | undefined {
  if (o.readOnly && op.method !== 'get' && op.method !== 'head') return 'read_only: only GET and HEAD operations are exposed';
  if (o.include) {
    const miss = firstMiss(op, o.include);
    if (miss) return `not matched by include.${miss}`;
  }
  if (o.exclude) {
    const hit = firstHit(op, o.exclude);
    if (hit) return `matched exclude.${hit}`;
  }
  if (op.deprecated && !o.includeDeprecated) return 'deprecated (set include_deprecated: true to expose it)';
  return undefined;
}

/** Include: every given key must match (any value within a key). */
function firstMiss(op: FilterableOperation, f: OperationFilter): string | undefined {
  if (f.tags.length && !op.tags.some((t) => f.tags.includes(t))) return 'tags';
  if (f.methods.length && !f.methods.includes(op.method as never)) return 'methods';
  if (f.operations.length && !(op.operationId && f.operations.includes(op.operationId))) return 'operations';
  if (f.paths.length && !f.paths.some((g) => globMatch(g, op.path))) return 'paths';
  return undefined;
}

/** Exclude: any matching value of any key excludes. */
function firstHit(op: FilterableOperation, f: OperationFilter): string | undefined {
  const tag = op.tags.find((t) => f.tags.includes(t));
  if (tag !== undefined) return `tags (${JSON.stringify(tag)})`;
  if (f.methods.includes(op.method as never)) return `methods (${op.method.toUpperCase()})`;
  if (op.operationId && f.operations.includes(op.operationId)) return `operations (${JSON.stringify(op.operationId)})`;
  const glob = f.paths.find((g) => globMatch(g, op.path));
  if (glob !== undefined) return `paths (${JSON.stringify(glob)})`;
  return undefined;
}

const globCache = new Map<string, RegExp>();

/** `*` matches within one path segment, `**` across segments; everything else is literal. */
export function globMatch(glob: string, path: string): boolean {
  let re = globCache.get(glob);
  if (!re) {
    let src = '';
    for (let i = 0; i < glob.length; i++) {
      const c = glob[i]!;
      if (c === '*' && glob[i + 1] === '*') {
        // `/**` at the end also matches the bare prefix (`/repos/**` matches `/repos`).
        if (glob[i + 2] === undefined && src.endsWith('/')) src = `${src.slice(0, -1)}(?:/.*)?`;
        else src += '.*';
        i++;
      } else if (c === '*') src += '[^/]*';
      else src += c.replace(/[.+?^${}()|[\]\\]/g, '\\$&');
    }
    re = new RegExp(`^${src}$`);
    globCache.set(glob, re);
  }
  return re.test(path);
}
