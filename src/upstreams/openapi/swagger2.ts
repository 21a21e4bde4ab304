// Swagger 2.0 → OpenAPI 3.0, just enough for tools: `definitions` become `components/schemas`,
// `body` parameters a requestBody per `consumes`, `formData` parameters one object schema sent as
// urlencoded or multipart, `collectionFormat` a style/explode pair, `produces` response content and
// `securityDefinitions` security schemes. Everything downstream then handles 3.x only.
import type { OpenApiDocument } from './load.ts';
import { HTTP_METHODS } from './options.ts';

type Obj = Record<string, any>;

const SCHEMA_KEYS = ['type', 'format', 'items', 'default', 'maximum', 'exclusiveMaximum', 'minimum', 'exclusiveMinimum', 'maxLength', 'minLength', 'pattern', 'maxItems', 'minItems', 'uniqueItems', 'enum', 'multipleOf'];

export function swagger2ToOpenApi3(input: OpenApiDocument): OpenApiDocument {
  const doc = rewriteRefs(structuredClone(input)) as Obj;
  const globalConsumes: string[] = doc.consumes ?? [];
  const globalProduces: string[] = doc.produces ?? [];
  const out: Obj = {
    openapi: '3.0.3',
    info: doc.info ?? { title: 'API', version: '0' },
    servers: doc.host ? [{ url: `${(doc.schemes ?? ['https'])[0]}://${doc.host}${doc.basePath ?? ''}` }] : doc.basePath ? [{ url: doc.basePath }] : [],
    tags: doc.tags,
    paths: {},
    components: { schemas: doc.definitions ?? {}, securitySchemes: {} },
  };
  if (doc.security) out.security = doc.security;
  for (const [name, def] of Object.entries<Obj>(doc.securityDefinitions ?? {})) {
    out.components.securitySchemes[name] =
      def.type === 'basic' ? { type: 'http', scheme: 'basic', description: def.description }
      : def.type === 'apiKey' ? { type: 'apiKey', name: def.name, in: def.in, description: def.description }
      : def.type === 'oauth2' ? { type: 'oauth2', description: def.description, flows: {} }
      : { type: String(def.type) };
  }
  const param = (p: Obj): Obj => (typeof p.$ref === 'string' && p.$ref.startsWith('#/parameters/') ? (doc.parameters?.[unescape(p.$ref.slice(13))] ?? p) : p);
  const response = (r: Obj): Obj => (typeof r.$ref === 'string' && r.$ref.startsWith('#/responses/') ? (doc.responses?.[unescape(r.$ref.slice(12))] ?? r) : r);

  for (const [path, item] of Object.entries<Obj>(doc.paths ?? {})) {
    const outItem: Obj = {};
    const common: Obj[] = (item.parameters ?? []).map(param);
    for (const method of HTTP_METHODS) {
      const op = item[method] as Obj | undefined;
      if (!op) continue;
      // Operation parameters override path-item ones with the same name and location.
      const own: Obj[] = (op.parameters ?? []).map(param);
      const params = [...common.filter((c) => !own.some((o) => o.name === c.name && o.in === c.in)), ...own];
      const consumes: string[] = op.consumes ?? globalConsumes;
      const produces: string[] = op.produces ?? globalProduces;
      const o: Obj = { ...op, parameters: [] };
      delete o.consumes;
      delete o.produces;
      delete o.schemes;
      const formData = params.filter((p) => p.in === 'formData');
      for (const p of params) {
        if (p.in === 'body') {
          const types = consumes.filter((t) => !/x-www-form-urlencoded|multipart\/form-data/i.test(t));
          o.requestBody = { description: p.description, required: p.required === true, content: Object.fromEntries((types.length ? types : ['application/json']).map((t) => [t, { schema: p.schema ?? {} }])) };
        } else if (p.in !== 'formData') {
          o.parameters.push(convertParameter(p));
        }
      }
      if (formData.length) {
        const multipart = formData.some((p) => p.type === 'file') || consumes.some((t) => /multipart\/form-data/i.test(t));
        const properties: Obj = {};
        const encoding: Obj = {};
        for (const p of formData) {
          properties[p.name] = { ...paramSchema(p), ...(p.description ? { description: p.description } : {}) };
          if (p.type === 'array' && p.collectionFormat && p.collectionFormat !== 'multi') encoding[p.name] = { style: styleFor(p.collectionFormat, 'query').style, explode: false };
        }
        const required = formData.filter((p) => p.required).map((p) => p.name);
        const mediaType = multipart ? 'multipart/form-data' : 'application/x-www-form-urlencoded';
        o.requestBody = { required: required.length > 0, content: { [mediaType]: { schema: { type: 'object', properties, ...(required.length ? { required } : {}) }, ...(Object.keys(encoding).length ? { encoding } : {}) } } };
      }
      o.responses = {};
      for (const [status, r0] of Object.entries<Obj>(op.responses ?? {})) {
        const r = response(r0);
        const converted: Obj = { description: r.description ?? '' };
        if (r.schema) converted.content = Object.fromEntries((produces.length ? produces : ['application/json']).map((t) => [t, { schema: r.schema }]));
        o.responses[status] = converted;
      }
      outItem[method] = o;
    }
    out.paths[path] = outItem;
  }
  return out;
}

function convertParameter(p: Obj): Obj {
  const out: Obj = { name: p.name, in: p.in, required: p.in === 'path' ? true : p.required === true, schema: paramSchema(p) };
  if (p.description) out.description = p.description;
  if (p.type === 'array') Object.assign(out, styleFor(p.collectionFormat ?? 'csv', p.in));
  for (const [k, v] of Object.entries(p)) if (k.startsWith('x-')) out[k] = v;
  return out;
}

/** Swagger 2.0's inline parameter type as a schema; `file` becomes a base64 string. */
function paramSchema(p: Obj): Obj {
  if (p.type === 'file') return { type: 'string', format: 'binary' };
  const s: Obj = {};
  for (const k of SCHEMA_KEYS) if (p[k] !== undefined) s[k] = k === 'items' ? paramSchema(p.items) : p[k];
  return s;
}

function styleFor(collectionFormat: string, location: string): { style: string; explode: boolean } {
  switch (collectionFormat) {
    case 'multi':
      return { style: 'form', explode: true };
    case 'ssv':
      return { style: 'spaceDelimited', explode: false };
    case 'pipes':
      return { style: 'pipeDelimited', explode: false };
    case 'tsv':
      return { style: 'x-tabDelimited', explode: false };
    default:
      return { style: location === 'query' || location === 'formData' ? 'form' : 'simple', explode: false };
  }
}

/** `#/definitions/X` → `#/components/schemas/X` everywhere. */
function rewriteRefs(node: unknown): unknown {
  if (Array.isArray(node)) {
    for (let i = 0; i < node.length; i++) node[i] = rewriteRefs(node[i]);
  } else if (node && typeof node === 'object') {
    const o = node as Obj;
    for (const k of Object.keys(o)) {
      if (k === '$ref' && typeof o[k] === 'string' && o[k].startsWith('#/definitions/')) o[k] = `#/components/schemas/${o[k].slice(14)}`;
      else o[k] = rewriteRefs(o[k]);
    }
  }
  return node;
}

function unescape(pointerToken: string): string {
  return decodeURIComponent(pointerToken).replace(/~1/g, '/').replace(/~0/g, '~');
}
