// The `type: openapi` upstream's own keys (everything besides name/type/spec/base_url/credentials/…),
// validated with the same key-path error messages as the rest of the config.
import { ConfigError, type ConfigIssue } from '../../config/errors.ts';
import { Reader } from '../../config/reader.ts';
import { isValidToolName, toolNameBudget } from './names.ts';

export const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;
export type HttpMethod = (typeof HTTP_METHODS)[number];

/** One include/exclude selector. Within a key any value matches; across keys all given keys must match (include). */
export interface OperationFilter {
  tags: string[];
  methods: HttpMethod[];
  /** operationIds. */
  operations: string[];
  /** Globs over the spec's path template: `*` within one segment, `**` across segments. */
  paths: string[];
}

export interface OpenApiOptions {
  include?: OperationFilter;
  exclude?: OperationFilter;
  /** Only GET and HEAD operations become tools. */
  readOnly: boolean;
  includeDeprecated: boolean;
  /** `operationId` or `"METHOD /path"` → tool name. */
  toolNames: Record<string, string>;
  /** Advertise outputSchema (and return structuredContent) where the spec has a JSON 2xx schema. */
  outputSchema: boolean;
  maxResponseBytes: number;
  /** Larger output schemas are not advertised (the result is still structured). */
  maxOutputSchemaBytes: number;
  specTimeoutMs: number;
  specMaxBytes: number;
  /** Validate the document with @readme/openapi-parser at start-up (invalid documents are refused). */
  validateSpec: boolean;
  /** Keep-alive connections to the API. */
  connections: number;
}

const OPTION_KEYS = ['include', 'exclude', 'read_only', 'include_deprecated', 'tool_names', 'output_schema', 'max_response_bytes', 'max_output_schema_bytes', 'spec_timeout_ms', 'spec_max_bytes', 'validate_spec', 'connections'];

/**
 * Validates `options` of an OpenAPI upstream. `path` is the upstream's key path (`upstreams[2]`), so
 * problems read `upstreams[2].include.tags: …`. Throws ConfigError listing every problem.
 */
export function parseOpenApiOptions(options: Record<string, unknown>, path: string, upstreamName: string): OpenApiOptions {
  const issues: ConfigIssue[] = [];
  // The reader sits at the upstream's path, so the keys it reports are the upstream's own keys.
  const r = new Reader(options, path, issues);
  const include = r.has('include') ? filter(r.object('include'), 'include') : undefined;
  const exclude = r.has('exclude') ? filter(r.object('exclude'), 'exclude') : undefined;
  const toolNames: Record<string, string> = {};
  const tn = r.object('tool_names');
  const budget = toolNameBudget(upstreamName);
  const seen = new Map<string, string>();
  for (const key of Object.keys(tn.value as object)) {
    const v = tn.raw(key);
    if (!/^[A-Za-z0-9_.-]+$/.test(key) && !/^[A-Za-z]+ \/\S*$/.test(key)) {
      tn.fail('keys are an operationId or "METHOD /path" (e.g. "GET /pets/{id}")', key);
    }
    if (typeof v !== 'string' || v === '') {
      tn.fail('expected a tool name (a non-empty string)', key);
      continue;
    }
    if (!isValidToolName(v)) tn.fail(`${JSON.stringify(v)} is not a valid tool name: use letters, digits, _ and - only (no "__", which separates the upstream prefix)`, key);
    else if (v.length > budget) tn.fail(`${JSON.stringify(v)} is ${v.length} characters; with the "${upstreamName}__" prefix tool names may have at most ${budget}`, key);
    else if (seen.has(v)) tn.fail(`${JSON.stringify(v)} is already used for ${seen.get(v)}; tool names must be unique`, key);
    seen.set(v, key);
    toolNames[key] = v;
  }
  const out: OpenApiOptions = {
    include,
    exclude,
    readOnly: r.boolean('read_only', false),
    includeDeprecated: r.boolean('include_deprecated', false),
    toolNames,
    outputSchema: r.boolean('output_schema', true),
    maxResponseBytes: r.number('max_response_bytes', 1_048_576, { min: 1024, max: 64 * 1_048_576, integer: true }),
    maxOutputSchemaBytes: r.number('max_output_schema_bytes', 65_536, { min: 1024, max: 16 * 1_048_576, integer: true }),
    specTimeoutMs: r.number('spec_timeout_ms', 10_000, { min: 100, max: 120_000, integer: true }),
    specMaxBytes: r.number('spec_max_bytes', 32 * 1_048_576, { min: 1024, max: 256 * 1_048_576, integer: true }),
    validateSpec: r.boolean('validate_spec', true),
    connections: r.number('connections', 32, { min: 1, max: 1024, integer: true }),
  };
  // The upstream's common keys were consumed by the config parser; mark them known for "did you mean".
  for (const k of OPTION_KEYS) r.has(k);
  r.rejectUnknownKeys();
  if (issues.length) throw new ConfigError(issues);
  return out;
}

function filter(r: Reader, which: string): OperationFilter {
  const list = (key: string): string[] => {
    const v = r.raw(key);
    if (v === undefined || v === null) return [];
    if (typeof v === 'string' && v !== '') return [v];
    if (!Array.isArray(v) || v.some((s) => typeof s !== 'string' || s === '')) {
      r.fail(`expected a list of strings, got ${Array.isArray(v) ? 'a list with non-string items' : typeof v}`, key);
      return [];
    }
    return v as string[];
  };
  const tags = list('tags');
  const operations = list('operations');
  const methods: HttpMethod[] = [];
  for (const [i, m] of list('methods').entries()) {
    const lower = m.toLowerCase() as HttpMethod;
    if (!HTTP_METHODS.includes(lower)) r.fail(`${JSON.stringify(m)} is not an HTTP method; use one of ${HTTP_METHODS.map((x) => x.toUpperCase()).join(', ')}`, `methods[${i}]`);
    else methods.push(lower);
  }
  const paths = list('paths');
  for (const [i, p] of paths.entries()) {
    if (!p.startsWith('/')) r.fail(`path globs match the spec's path templates and start with "/", e.g. "/repos/**"; got ${JSON.stringify(p)}`, `paths[${i}]`);
  }
  r.rejectUnknownKeys();
  if (!r.isObject()) return { tags, methods, operations, paths };
  if (tags.length + methods.length + operations.length + paths.length === 0) {
    r.fail(`${which} needs at least one of tags, methods, operations or paths`);
  }
  return { tags, methods, operations, paths };
}
