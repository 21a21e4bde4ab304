// OpenAPI schema objects → self-contained JSON Schema 2020-12 for tool inputs and outputs.
// Every `$ref` becomes `#/$defs/<key>` and the referenced schema a `$defs` entry of the tool's schema,
// so no pointer dangles into `#/components` and cycles stay references (never inlined forever).
// Converted definitions are cached per mode (input drops readOnly properties, output drops writeOnly)
// so a 1,000-operation spec converts each component once.
import { shortHash } from './names.ts';
import type { OpenApiDocument } from './load.ts';

export type JsonSchema = Record<string, any> | boolean;
type Obj = Record<string, any>;
export type SchemaMode = 'input' | 'output';

/** A schema problem that makes one operation unusable (reported, the operation excluded). */
export class SchemaError extends Error {
  override name = 'SchemaError';
}

const SUBSCHEMA = ['items', 'additionalProperties', 'not', 'if', 'then', 'else', 'contains', 'propertyNames', 'unevaluatedItems', 'unevaluatedProperties'];
const SUBSCHEMA_LISTS = ['allOf', 'anyOf', 'oneOf', 'prefixItems'];
const SUBSCHEMA_MAPS = ['patternProperties', 'dependentSchemas'];
/** OpenAPI-only or identity keywords that mean nothing (or something harmful) inside a tool schema. */
const DROPPED = new Set(['discriminator', 'xml', 'externalDocs', 'nullable', 'example', '$id', '$schema', '$anchor', '$dynamicAnchor', '$comment', '$defs', 'definitions', 'id', 'additionalItems']);
const MERGEABLE = new Set(['type', 'properties', 'required', 'description', 'title', 'additionalProperties', 'examples', 'default', 'deprecated', 'readOnly', 'writeOnly']);

interface DefEntry {
  schema?: JsonSchema;
  error?: SchemaError;
  pending: boolean;
}

export class SchemaConverter {
  readonly #doc: OpenApiDocument;
  readonly #is30: boolean;
  readonly #keyByPointer = new Map<string, string>();
  readonly #pointerByKey = new Map<string, string>();
  readonly #defs: Record<SchemaMode, Map<string, DefEntry>> = { input: new Map(), output: new Map() };
  readonly #deps: Record<SchemaMode, Map<string, string[]>> = { input: new Map(), output: new Map() };
  readonly #sizes: Record<SchemaMode, Map<string, number>> = { input: new Map(), output: new Map() };

  constructor(doc: OpenApiDocument, version: '3.0' | '3.1') {
    this.#doc = doc;
    this.#is30 = version === '3.0';
  }

  /** The raw node a local `$ref` points to. */
  resolvePointer(ref: string): unknown {
    if (!ref.startsWith('#')) throw new SchemaError(`external $ref ${JSON.stringify(ref)} is not supported (bundle the document into one file)`);
    let node: unknown = this.#doc;
    if (ref === '#' || ref === '#/') return node;
    for (const raw of ref.slice(2).split('/')) {
      const token = safeDecode(raw).replace(/~1/g, '/').replace(/~0/g, '~');
      if (node === null || typeof node !== 'object' || !Object.hasOwn(node as object, token)) throw new SchemaError(`$ref ${JSON.stringify(ref)} points to nothing`);
      node = (node as Obj)[token];
    }
    return node;
  }

  /** Follows `$ref` chains of non-schema objects (parameters, request bodies, responses). */
  deref<T = Obj>(node: unknown): T {
    let cur = node as Obj;
    for (let hops = 0; cur && typeof cur === 'object' && typeof cur.$ref === 'string'; hops++) {
      if (hops > 32) throw new SchemaError(`$ref chain starting at ${JSON.stringify((node as Obj).$ref)} does not end`);
      cur = this.resolvePointer(cur.$ref) as Obj;
    }
    return cur as T;
  }

  convert(node: unknown, mode: SchemaMode): JsonSchema {
    return this.#convert(node, mode);
  }

  /** The schema with the `$defs` it needs (transitively) attached. */
  withDefs(schema: Obj, mode: SchemaMode): Obj {
    const keys = new Set<string>();
    const queue = refKeys(schema);
    while (queue.length) {
      const k = queue.pop()!;
      if (keys.has(k)) continue;
      keys.add(k);
      queue.push(...this.#depsOf(k, mode));
    }
    if (keys.size === 0) return schema;
    const $defs: Obj = {};
    for (const k of [...keys].sort()) $defs[k] = this.#defs[mode].get(k)!.schema;
    return { ...schema, $defs };
  }

  /** Serialized size of `withDefs(schema)`, from cached per-definition sizes (no big stringify). */
  sizeWithDefs(schema: Obj, mode: SchemaMode): number {
    let size = JSON.stringify(schema).length;
    const seen = new Set<string>();
    const queue = refKeys(schema);
    while (queue.length) {
      const k = queue.pop()!;
      if (seen.has(k)) continue;
      seen.add(k);
      let n = this.#sizes[mode].get(k);
      if (n === undefined) {
        n = JSON.stringify(this.#defs[mode].get(k)?.schema ?? {}).length + k.length + 4;
        this.#sizes[mode].set(k, n);
      }
      size += n;
      queue.push(...this.#depsOf(k, mode));
    }
    return size;
  }

  /** The converted schema behind a `{ $ref: '#/$defs/k' }` (one or more hops), or the schema itself. */
  target(schema: JsonSchema, mode: SchemaMode): JsonSchema | undefined {
    let cur = schema;
    for (let hops = 0; typeof cur === 'object' && typeof cur.$ref === 'string'; hops++) {
      const entry = this.#defs[mode].get(cur.$ref.slice('#/$defs/'.length));
      if (!entry || entry.pending || hops > 32) return undefined;
      cur = entry.schema!;
    }
    return cur;
  }

  /** True when every instance valid against the schema is a JSON object. */
  isObjectSchema(schema: JsonSchema, mode: SchemaMode): boolean {
    const t = this.target(schema, mode);
    if (typeof t !== 'object') return false;
    if (t.type === 'object' || (Array.isArray(t.type) && t.type.length === 1 && t.type[0] === 'object')) return true;
    if (t.type !== undefined) return false;
    if (Array.isArray(t.allOf) && t.allOf.some((s: JsonSchema) => this.isObjectSchema(s, mode))) return true;
    for (const k of ['anyOf', 'oneOf']) if (Array.isArray(t[k]) && t[k].length > 0 && t[k].every((s: JsonSchema) => this.isObjectSchema(s, mode))) return true;
    return false;
  }

  #depsOf(key: string, mode: SchemaMode): string[] {
    let d = this.#deps[mode].get(key);
    if (!d) {
      d = refKeys(this.#defs[mode].get(key)?.schema);
      this.#deps[mode].set(key, d);
    }
    return d;
  }

  #keyFor(pointer: string): string {
    let key = this.#keyByPointer.get(pointer);
    if (key) return key;
    const m = /^#\/components\/schemas\/([A-Za-z0-9_.-]+)$/.exec(pointer);
    key = m ? m[1]! : `${(pointer.split('/').pop() ?? 'schema').replace(/[^A-Za-z0-9_.-]+/g, '_').slice(0, 40) || 'schema'}_${shortHash(pointer)}`;
    // Component names are unique; a generated key could only clash with one by accident.
    if (this.#pointerByKey.has(key)) key = `${key}_${shortHash(pointer)}`;
    this.#keyByPointer.set(pointer, key);
    this.#pointerByKey.set(key, pointer);
    return key;
  }

  #ref(ref: string, mode: SchemaMode): string {
    if (!ref.startsWith('#')) throw new SchemaError(`external $ref ${JSON.stringify(ref)} is not supported (bundle the document into one file)`);
    const key = this.#keyFor(ref);
    const defs = this.#defs[mode];
    const entry = defs.get(key);
    if (entry) {
      if (entry.error) throw entry.error;
      return key;
    }
    const e: DefEntry = { pending: true };
    defs.set(key, e);
    try {
      e.schema = this.#convert(this.resolvePointer(ref), mode);
      e.pending = false;
    } catch (error) {
      e.error = error instanceof SchemaError ? error : new SchemaError(`$ref ${ref}: ${(error as Error).message}`);
      e.pending = false;
      throw e.error;
    }
    return key;
  }

  #convert(node: unknown, mode: SchemaMode): JsonSchema {
    if (typeof node === 'boolean') return node;
    if (node === null || typeof node !== 'object' || Array.isArray(node)) return {};
    const s = node as Obj;
    if (typeof s.$ref === 'string') {
      const ref = { $ref: `#/$defs/${this.#ref(s.$ref, mode)}` };
      // OpenAPI 3.0 ignores siblings of $ref; 3.1 (JSON Schema 2020-12) applies them.
      if (this.#is30) return typeof s.description === 'string' ? { ...ref, description: s.description } : ref;
      const rest = { ...s };
      delete rest.$ref;
      const siblings = this.#convert(rest, mode) as Obj;
      return { ...siblings, ...ref };
    }
    const out: Obj = {};
    for (const [k, v] of Object.entries(s)) {
      if (DROPPED.has(k) || k.startsWith('x-')) continue;
      if (k === 'properties' && v && typeof v === 'object') {
        const props: Obj = {};
        for (const [name, ps] of Object.entries<any>(v)) {
          if (this.#hiddenIn(ps, mode)) continue;
          const converted = this.#convert(ps, mode);
          props[name] = converted === true ? {} : converted;
        }
        out.properties = props;
      } else if (SUBSCHEMA.includes(k)) {
        out[k] = Array.isArray(v) ? {} : this.#convert(v, mode);
      } else if (SUBSCHEMA_LISTS.includes(k)) {
        if (Array.isArray(v)) out[k] = v.map((x) => this.#convert(x, mode));
      } else if (SUBSCHEMA_MAPS.includes(k)) {
        if (v && typeof v === 'object') out[k] = Object.fromEntries(Object.entries(v).map(([n, x]) => [n, this.#convert(x, mode)]));
      } else if (k === 'required') {
        if (Array.isArray(v) && v.length) out.required = v.filter((x) => typeof x === 'string');
      } else {
        out[k] = v;
      }
    }
    if (out.properties && Array.isArray(out.required)) {
      // Required properties that were dropped (readOnly in inputs) are no longer required.
      const dropped = Object.keys(s.properties ?? {}).filter((n) => !(n in out.properties));
      if (dropped.length) out.required = out.required.filter((n: string) => !dropped.includes(n));
      if (out.required.length === 0) delete out.required;
    }
    if (s.example !== undefined && out.examples === undefined) out.examples = [s.example];
    if (out.type === 'file') {
      out.type = 'string';
      out.format = 'binary';
    }
    // 3.0's boolean exclusiveMinimum/Maximum (also seen in documents that claim 3.1) → 2020-12 numbers.
    for (const [bool, bound] of [['exclusiveMinimum', 'minimum'], ['exclusiveMaximum', 'maximum']] as const) {
      if (typeof out[bool] === 'boolean') {
        if (out[bool] && typeof out[bound] === 'number') {
          out[bool] = out[bound];
          delete out[bound];
        } else delete out[bool];
      }
    }
    // JSON Schema patterns are ECMA-262 with the `u` flag; one that does not compile would break every validator.
    if (typeof out.pattern === 'string' && !validPattern(out.pattern)) delete out.pattern;
    if (out.patternProperties) {
      for (const k of Object.keys(out.patternProperties)) if (!validPattern(k)) delete out.patternProperties[k];
    }
    if (mode === 'input' && out.format === 'binary' && (out.type === 'string' || out.type === undefined) && out.contentEncoding === undefined) {
      out.type = 'string';
      out.contentEncoding = 'base64';
    }
    let result: Obj = out;
    if (Array.isArray(out.allOf)) result = this.#mergeAllOf(out, mode);
    if (s.nullable === true) result = nullable(result);
    return result;
  }

  /** readOnly properties are not inputs; writeOnly properties never come back. */
  #hiddenIn(ps: unknown, mode: SchemaMode): boolean {
    const flag = mode === 'input' ? 'readOnly' : 'writeOnly';
    if (!ps || typeof ps !== 'object') return false;
    if ((ps as Obj)[flag] === true) return true;
    if (typeof (ps as Obj).$ref === 'string') {
      try {
        const t = this.deref(ps);
        return t?.[flag] === true;
      } catch {
        return false;
      }
    }
    return false;
  }

  /** Flattens `allOf` of plain object schemas into one; anything more subtle is kept as `allOf`. */
  #mergeAllOf(schema: Obj, mode: SchemaMode): Obj {
    const parts: Obj[] = [];
    for (const member of schema.allOf as JsonSchema[]) {
      const t = this.target(member, mode);
      if (typeof t !== 'object' || typeof t.$ref === 'string') return schema; // cycle, boolean or unresolved
      if (Object.keys(t).some((k) => !MERGEABLE.has(k))) return schema;
      parts.push(t);
    }
    const merged: Obj = { ...schema };
    delete merged.allOf;
    for (const p of parts) {
      if (p.type !== undefined) {
        if (merged.type !== undefined && JSON.stringify(merged.type) !== JSON.stringify(p.type)) return schema;
        merged.type = p.type;
      }
      if (p.properties) {
        merged.properties = { ...(merged.properties ?? {}) };
        for (const [n, ps] of Object.entries(p.properties)) {
          const existing = merged.properties[n];
          merged.properties[n] = existing === undefined || JSON.stringify(existing) === JSON.stringify(ps) ? ps : { allOf: [existing, ps] };
        }
      }
      if (p.required) merged.required = [...new Set([...(merged.required ?? []), ...p.required])];
      if (p.additionalProperties !== undefined && merged.additionalProperties === undefined) merged.additionalProperties = p.additionalProperties;
      for (const k of ['description', 'title', 'examples', 'default', 'deprecated', 'readOnly', 'writeOnly']) if (p[k] !== undefined && merged[k] === undefined) merged[k] = p[k];
    }
    return merged;
  }
}

function nullable(s: Obj): Obj {
  if (typeof s.type === 'string') s = { ...s, type: [s.type, 'null'] };
  else if (Array.isArray(s.type)) s = s.type.includes('null') ? s : { ...s, type: [...s.type, 'null'] };
  else if (s.$ref || s.allOf || s.oneOf || s.anyOf) return { anyOf: [s, { type: 'null' }] };
  if (Array.isArray(s.enum) && !s.enum.includes(null)) s = { ...s, enum: [...s.enum, null] };
  return s;
}

/** `$defs` keys a converted schema refers to directly. */
function refKeys(node: unknown, out: string[] = []): string[] {
  if (Array.isArray(node)) for (const x of node) refKeys(x, out);
  else if (node && typeof node === 'object') {
    for (const [k, v] of Object.entries(node)) {
      if (k === '$ref' && typeof v === 'string') {
        if (v.startsWith('#/$defs/')) out.push(v.slice(8));
      } else if (SUBSCHEMA_MAPS.includes(k) || k === 'properties') {
        if (v && typeof v === 'object') for (const x of Object.values(v)) refKeys(x, out);
      } else if (k !== 'examples' && k !== 'default' && k !== 'enum' && k !== 'const') refKeys(v, out);
    }
  }
  return out;
}

function validPattern(p: string): boolean {
  try {
    new RegExp(p, 'u');
    return true;
  } catch {
    return false;
  }
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}
