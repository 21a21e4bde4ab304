// One OpenAPI operation → one tool plan: the MCP tool (name, input/output schema, annotations) and
// everything the call needs precomputed (which argument goes where, body encoding, credential
// placement, output wrapping), so listTools is a constant and callTool does no spec work.
import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import { exclusionReason } from './filter.ts';
import type { OpenApiDocument } from './load.ts';
import { assignToolNames, operationKey, type NameableOperation } from './names.ts';
import { HTTP_METHODS, type OpenApiOptions } from './options.ts';
import { type JsonSchema, SchemaConverter, SchemaError } from './schema.ts';
import { credentialParameters, securityPlan, type SecurityPlan } from './security.ts';

type Obj = Record<string, any>;
export type ParamLocation = 'path' | 'query' | 'header' | 'cookie';

export interface ParamBinding {
  /** Property name in the tool's arguments. */
  arg: string;
  /** Name in the HTTP request. */
  name: string;
  in: ParamLocation;
  style: string;
  explode: boolean;
  /** `content: application/json` parameters are sent as JSON text. */
  json: boolean;
}

export type BodyKind = 'json' | 'form' | 'multipart' | 'text' | 'binary';

export interface BodyBinding {
  kind: BodyKind;
  mediaType: string;
  required: boolean;
  /** Per-property encoding (style/explode/contentType) for form and multipart bodies. */
  encoding: Record<string, { style?: string; explode?: boolean; contentType?: string }>;
  /** Multipart properties whose (base64) values are sent as file parts. */
  fileFields: string[];
}

export interface OperationPlan {
  key: string;
  method: string;
  path: string;
  operationId?: string;
  /** The response schema exceeded max_output_schema_bytes, so no outputSchema is advertised. */
  outputTooLarge: boolean;
  tool: Tool;
  params: ParamBinding[];
  body?: BodyBinding;
  security: SecurityPlan;
  /** Set when outputSchema is advertised; `wrap` puts non-object results under `result`. */
  output?: { schema: Obj; wrap: boolean };
  accept: string;
}

export interface BuildResult {
  plans: OperationPlan[];
  total: number;
  excluded: { operation: string; reason: string }[];
}

/** Headers arguments may never set: credentials, identity and HTTP framing are Deputy's. */
export const FORBIDDEN_HEADERS = new Set([
  'authorization', 'proxy-authorization', 'cookie', 'set-cookie', 'host', 'connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'trailers',
  'transfer-encoding', 'upgrade', 'content-length', 'content-type', 'expect', 'forwarded', 'x-forwarded-for', 'x-forwarded-host', 'x-forwarded-proto', 'accept',
]);

/** Thrown for an operation Deputy cannot call faithfully; it is excluded and reported. */
class Unsupported extends Error {}

interface RawOperation extends NameableOperation {
  op: Obj;
  item: Obj;
  tags: string[];
  deprecated: boolean;
}

export class OverrideError extends Error {
  readonly keys: string[];
  constructor(keys: string[]) {
    super(`tool_names keys match no operation: ${keys.join(', ')}`);
    this.keys = keys;
  }
}

export function buildPlans(doc: OpenApiDocument, version: '3.0' | '3.1', options: OpenApiOptions, nameBudget: number): BuildResult {
  const conv = new SchemaConverter(doc, version);
  const deref = (x: unknown) => conv.deref(x);
  const raw: RawOperation[] = [];
  for (const [path, item0] of Object.entries<Obj>(doc.paths ?? {})) {
    let item: Obj;
    try {
      item = deref(item0) ?? {};
    } catch {
      item = {};
    }
    for (const method of HTTP_METHODS) {
      const op = item[method] as Obj | undefined;
      if (!op || typeof op !== 'object') continue;
      const operationId = typeof op.operationId === 'string' && op.operationId ? op.operationId : undefined;
      raw.push({ key: operationKey(method, path), method, path, operationId, op, item, tags: Array.isArray(op.tags) ? op.tags : [], deprecated: op.deprecated === true });
    }
  }
  const unknownOverrides = Object.keys(options.toolNames).filter((k) => !raw.some((r) => r.operationId === k || r.key === operationKey(k.split(' ')[0] ?? '', k.slice(k.indexOf(' ') + 1))));
  if (unknownOverrides.length) throw new OverrideError(unknownOverrides);
  const names = assignToolNames(raw, nameBudget, options.toolNames);
  const hidden = credentialParameters(doc, deref);
  const plans: OperationPlan[] = [];
  const excluded: { operation: string; reason: string }[] = [];
  for (const r of [...raw].sort((a, b) => (a.key < b.key ? -1 : 1))) {
    const reason = exclusionReason(r, options);
    if (reason) {
      excluded.push({ operation: r.key, reason });
      continue;
    }
    try {
      plans.push(buildPlan(r, names.get(r.key)!, doc, conv, options, hidden));
    } catch (error) {
      if (error instanceof Unsupported || error instanceof SchemaError) excluded.push({ operation: r.key, reason: error.message });
      else excluded.push({ operation: r.key, reason: `cannot be converted: ${(error as Error).message}` });
    }
  }
  return { plans, total: raw.length, excluded };
}

function buildPlan(r: RawOperation, name: string, doc: OpenApiDocument, conv: SchemaConverter, options: OpenApiOptions, hidden: { in: string; name: string }[]): OperationPlan {
  const { op, item, method, path } = r;
  const deref = (x: unknown) => conv.deref(x);
  // Path-item parameters are inherited; an operation parameter with the same name and location overrides.
  const own: Obj[] = (op.parameters ?? []).map(deref);
  const inherited: Obj[] = (item.parameters ?? []).map(deref).filter((p: Obj) => !own.some((o) => same(o, p)));
  const all = [...inherited, ...own].filter((p) => p && typeof p.name === 'string' && ['path', 'query', 'header', 'cookie'].includes(p.in));
  const params = all.filter((p) => {
    const n = p.in === 'header' ? p.name.toLowerCase() : p.name;
    if (hidden.some((h) => h.in === p.in && h.name === n)) return false;
    return !(p.in === 'header' && FORBIDDEN_HEADERS.has(n));
  });
  for (const m of path.matchAll(/\{([^}]+)\}/g)) {
    if (!params.some((p) => p.in === 'path' && p.name === m[1])) throw new Unsupported(`path template variable {${m[1]}} has no path parameter`);
  }

  const body = op.requestBody ? bodyBinding(deref(op.requestBody), conv) : undefined;
  const properties: Obj = {};
  const required: string[] = [];
  const used = new Set<string>(body ? ['body'] : []);
  const order: Record<string, number> = { path: 0, query: 1, header: 2, cookie: 3 };
  const argNames = new Map<Obj, string>();
  for (const p of [...params].sort((a, b) => order[a.in]! - order[b.in]!)) {
    let arg = argName(p.name);
    if (used.has(arg)) arg = argName(`${p.in}_${p.name}`);
    for (let i = 2; used.has(arg); i++) arg = argName(`${p.in}_${p.name}_${i}`);
    used.add(arg);
    argNames.set(p, arg);
  }
  const bindings: ParamBinding[] = [];
  for (const p of params) {
    const arg = argNames.get(p)!;
    let schemaNode = p.schema;
    let json = false;
    if (schemaNode === undefined && p.content && typeof p.content === 'object') {
      const [mt, media] = Object.entries<Obj>(p.content)[0] ?? [];
      schemaNode = media?.schema;
      json = !!mt && isJson(mt);
    }
    const s = conv.convert(schemaNode ?? {}, 'input');
    const notes: string[] = [];
    if (arg !== p.name) notes.push(`${p.in} parameter "${p.name}"`);
    if (p.description) notes.push(String(p.description));
    const schema: Obj = typeof s === 'object' ? { ...s } : {};
    if (notes.length) schema.description = notes.join(': ');
    if (p.deprecated === true) schema.deprecated = true;
    if (p.example !== undefined && schema.examples === undefined) schema.examples = [p.example];
    properties[arg] = schema;
    if (p.required === true || p.in === 'path') required.push(arg);
    const style = p.style ?? (p.in === 'query' || p.in === 'cookie' ? 'form' : 'simple');
    bindings.push({ arg, name: p.name, in: p.in, style, explode: typeof p.explode === 'boolean' ? p.explode : style === 'form', json });
  }
  if (body) {
    properties.body = body.schema;
    if (body.binding.required) required.push('body');
  }
  const inputSchema = conv.withDefs({ type: 'object', properties, ...(required.length ? { required } : {}), additionalProperties: false }, 'input');

  let output = options.outputSchema ? outputPlan(op, conv, options.maxOutputSchemaBytes) : undefined;
  // Some APIs (Stripe) reach their whole object graph from every response: such a schema would weigh
  // hundreds of KB per tool. Results are still structured; only the schema is not advertised.
  let outputTooLarge = false;
  if (output === 'too-large') {
    output = undefined;
    outputTooLarge = true;
  }
  const readOnly = method === 'get' || method === 'head' || method === 'options';
  const summary = typeof op.summary === 'string' ? op.summary.trim() : '';
  const description = [summary, typeof op.description === 'string' ? op.description.trim() : '', `${method.toUpperCase()} ${path}${r.deprecated ? ' (deprecated)' : ''}`].filter(Boolean).join('\n\n');
  const tool: Tool = {
    name,
    ...(summary ? { title: summary } : {}),
    description: description.length > 4000 ? `${description.slice(0, 3990)}…` : description,
    inputSchema: inputSchema as Tool['inputSchema'],
    ...(output ? { outputSchema: output.schema as Tool['outputSchema'] } : {}),
    annotations: {
      ...(summary ? { title: summary } : {}),
      readOnlyHint: readOnly,
      destructiveHint: method === 'delete',
      idempotentHint: readOnly || method === 'put' || method === 'delete',
      openWorldHint: true,
    },
  };
  return {
    key: r.key,
    method,
    path,
    operationId: r.operationId,
    outputTooLarge,
    tool,
    params: bindings,
    body: body?.binding,
    security: securityPlan(doc, op, deref),
    output: output as OperationPlan['output'],
    accept: acceptFor(op, deref),
  };
}

function same(a: Obj, b: Obj): boolean {
  return a?.in === b?.in && (a.in === 'header' ? String(a.name).toLowerCase() === String(b.name).toLowerCase() : a.name === b.name);
}

/** Argument names clients accept everywhere: `^[A-Za-z0-9_.-]{1,64}$`. */
function argName(name: string): string {
  if (/^[A-Za-z0-9_.-]{1,64}$/.test(name)) return name;
  return (name.replace(/[^A-Za-z0-9_.-]+/g, '_').replace(/^_+|_+$/g, '') || 'param').slice(0, 64);
}

export function isJson(mediaType: string): boolean {
  const t = mediaType.split(';')[0]!.trim().toLowerCase();
  return t === 'application/json' || t === 'text/json' || t.endsWith('+json') || t === '*/*';
}

function bodyKind(mediaType: string, schema: unknown): BodyKind | undefined {
  const t = mediaType.split(';')[0]!.trim().toLowerCase();
  if (t === 'application/json' || t === 'text/json' || t.endsWith('+json')) return 'json';
  if (t === 'application/x-www-form-urlencoded') return 'form';
  if (t === 'multipart/form-data' || t === 'multipart/mixed') return 'multipart';
  if (t === 'text/plain') return 'text';
  const s = schema as Obj | undefined;
  const binarySchema = !s || (s.type === 'string' && (s.format === 'binary' || s.contentEncoding === 'base64' || s.format === 'byte')) || Object.keys(s).length === 0;
  if (t === '*/*') return binarySchema ? 'binary' : 'json';
  if (/^(application\/(octet-stream|pdf|zip|gzip|x-tar)|image\/|audio\/|video\/|font\/)/.test(t)) return 'binary';
  if (binarySchema && s && (s.format === 'binary' || s.contentEncoding === 'base64')) return 'binary';
  return undefined;
}

const KIND_PREFERENCE: BodyKind[] = ['json', 'form', 'multipart', 'text', 'binary'];

function bodyBinding(rb: Obj, conv: SchemaConverter): { binding: BodyBinding; schema: Obj } {
  const content: Obj = rb.content ?? {};
  const candidates: { mt: string; kind: BodyKind; media: Obj }[] = [];
  for (const [mt, media] of Object.entries<Obj>(content)) {
    let schema: unknown;
    try {
      schema = media?.schema ? conv.deref(media.schema) : undefined;
    } catch {
      schema = undefined;
    }
    const kind = bodyKind(mt, schema);
    if (kind) candidates.push({ mt, kind, media: media ?? {} });
  }
  if (!candidates.length) {
    const types = Object.keys(content);
    throw new Unsupported(types.length ? `request body media type${types.length > 1 ? 's' : ''} ${types.join(', ')} cannot be sent (supported: JSON, form-urlencoded, multipart, text/plain, binary)` : 'request body declares no content');
  }
  candidates.sort((a, b) => KIND_PREFERENCE.indexOf(a.kind) - KIND_PREFERENCE.indexOf(b.kind));
  const { mt, kind, media } = candidates[0]!;
  const required = rb.required === true;
  const encoding: BodyBinding['encoding'] = {};
  for (const [prop, e] of Object.entries<Obj>(media.encoding ?? {})) {
    encoding[prop] = { style: typeof e?.style === 'string' ? e.style : undefined, explode: typeof e?.explode === 'boolean' ? e.explode : undefined, contentType: typeof e?.contentType === 'string' ? e.contentType : undefined };
  }
  let schema: Obj;
  const fileFields: string[] = [];
  if (kind === 'binary') {
    schema = { type: 'string', contentEncoding: 'base64', contentMediaType: mt, description: `The ${mt} content, base64-encoded` };
  } else if (kind === 'text') {
    const s = conv.convert(media.schema ?? { type: 'string' }, 'input');
    schema = typeof s === 'object' ? s : { type: 'string' };
  } else {
    const s = conv.convert(media.schema ?? (kind === 'json' ? {} : { type: 'object' }), 'input');
    schema = typeof s === 'object' ? { ...s } : {};
    if (kind === 'multipart') {
      let raw: Obj | undefined;
      try {
        raw = conv.deref(media.schema);
      } catch {
        raw = undefined;
      }
      for (const [prop, ps0] of Object.entries<Obj>(raw?.properties ?? {})) {
        let ps: Obj;
        try {
          ps = conv.deref(ps0) ?? {};
        } catch {
          continue;
        }
        const item = ps.type === 'array' && ps.items ? conv.deref(ps.items) ?? {} : ps;
        if (item.format === 'binary' || item.type === 'file' || item.contentEncoding === 'base64' || (item.contentMediaType && item.type === 'string')) fileFields.push(prop);
      }
    }
  }
  if (typeof rb.description === 'string' && rb.description && schema.description === undefined) schema.description = rb.description;
  return { binding: { kind, mediaType: mt, required, encoding, fileFields }, schema };
}

function successResponses(op: Obj, deref: (x: unknown) => Obj): { status: string; response: Obj }[] {
  return Object.entries<Obj>(op.responses ?? {})
    .filter(([status]) => /^2(\d\d|XX)$/i.test(status))
    .map(([status, r]) => {
      try {
        return { status, response: deref(r) ?? {} };
      } catch {
        return { status, response: {} };
      }
    });
}

/** outputSchema only when every 2xx response is JSON with a schema (otherwise a result could not match it). */
function outputPlan(op: Obj, conv: SchemaConverter, maxBytes: number): { schema: Obj; wrap: boolean } | 'too-large' | undefined {
  const ok = successResponses(op, (x) => conv.deref(x));
  if (!ok.length) return undefined;
  const schemas: JsonSchema[] = [];
  for (const { response } of ok) {
    const json = Object.entries<Obj>(response.content ?? {}).find(([mt]) => isJson(mt) && mt !== '*/*');
    if (!json || !json[1]?.schema) return undefined;
    try {
      schemas.push(conv.convert(json[1].schema, 'output'));
    } catch {
      return undefined;
    }
  }
  const unique = [...new Map(schemas.map((s) => [JSON.stringify(s), s])).values()];
  const wrap = !unique.every((s) => conv.isObjectSchema(s, 'output'));
  const combined: JsonSchema = unique.length === 1 ? unique[0]! : { anyOf: unique };
  const top: Obj = wrap
    ? { type: 'object', properties: { result: combined === true ? {} : combined }, required: ['result'] }
    : { type: 'object', ...(typeof combined === 'object' ? combined : {}) };
  if (!wrap) top.type = 'object';
  if (conv.sizeWithDefs(top, 'output') > maxBytes) return 'too-large';
  return { schema: conv.withDefs(top, 'output'), wrap };
}

function acceptFor(op: Obj, deref: (x: unknown) => Obj): string {
  const types = new Set<string>();
  for (const { response } of successResponses(op, deref)) for (const mt of Object.keys(response.content ?? {})) types.add(mt);
  const list = [...types].filter((t) => !t.includes('*') && /^[\w.+-]+\/[\w.+-]+$/.test(t)).sort((a, b) => Number(isJson(b)) - Number(isJson(a)));
  return list.length ? `${list.slice(0, 6).join(', ')}, */*;q=0.1` : 'application/json, */*;q=0.5';
}
