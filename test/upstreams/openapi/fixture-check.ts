// Shared checks run over every operation of the real-world fixture specs (fetched by
// scripts/fetch-openapi-fixtures.ts): schemas compile as JSON Schema 2020-12 with no dangling
// references, names are valid/unique/within budget, and calling every tool never sends the client token.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import { prefixedToolName } from '../../../src/upstreams/openapi/index.ts';
import { CANARY, ctx, openApiToolset, startRecordingServer, wire } from './support.ts';

export const CACHE = join(import.meta.dirname, 'fixtures/.cache');

export function requireFixture(rel: string): string {
  const p = join(CACHE, rel);
  assert.ok(existsSync(p), `fixture ${rel} is missing: run \`node_modules/.bin/node scripts/fetch-openapi-fixtures.ts\` first`);
  return p;
}

export interface SpecStats {
  spec: string;
  operations: number;
  tools: number;
  excluded: Record<string, number>;
  loadMs: number;
  listToolsMs: number;
  requestsSent: number;
}

export async function checkSpec(spec: string, o: { call?: boolean } = {}): Promise<SpecStats> {
  const api = await startRecordingServer();
  api.respond((_r, res) => {
    res.writeHead(204);
    res.end();
  });
  const ts = await openApiToolset({ spec, baseUrl: api.url, name: 'fx', options: { include_deprecated: true } });
  const t0 = performance.now();
  const tools = await ts.listTools(undefined as never);
  const listToolsMs = performance.now() - t0;
  const ajv = new Ajv2020({ strict: false, logger: false });
  const names = new Set<string>();
  for (const t of tools) {
    assert.match(t.name, /^[A-Za-z0-9_-]+$/);
    assert.ok(prefixedToolName('fx', t.name).length <= 64, `${t.name} is too long`);
    assert.ok(!names.has(t.name), `duplicate tool name ${t.name}`);
    names.add(t.name);
    for (const schema of [t.inputSchema, t.outputSchema]) {
      if (!schema) continue;
      assert.equal(schema.type, 'object');
      assertNoDanglingRefs(t.name, schema);
      assert.doesNotThrow(() => ajv.compile(schema), `${t.name}: schema does not compile`);
    }
  }
  let requestsSent = 0;
  if (o.call !== false) {
    for (const t of tools) {
      const before = api.requests.length;
      await ts.callTool(t.name, exampleArgs(t), ctx());
      for (const r of api.requests.slice(before)) {
        assert.ok(!wire(r).includes(CANARY), `${t.name}: the client token reached the upstream`);
        requestsSent++;
      }
    }
  }
  const excluded: Record<string, number> = {};
  for (const e of ts.report.excluded) excluded[e.reason] = (excluded[e.reason] ?? 0) + 1;
  return { spec, operations: ts.report.operations, tools: tools.length, excluded, loadMs: ts.report.loadMs, listToolsMs, requestsSent };
}

function assertNoDanglingRefs(tool: string, schema: Record<string, any>): void {
  const defs = schema.$defs ?? {};
  const visit = (n: unknown): void => {
    if (Array.isArray(n)) n.forEach(visit);
    else if (n && typeof n === 'object') {
      for (const [k, v] of Object.entries(n)) {
        if (k === '$ref' && typeof v === 'string') {
          assert.ok(v.startsWith('#/$defs/') && v.slice(8) in defs, `${tool}: dangling $ref ${v}`);
        } else if (k !== 'examples' && k !== 'enum' && k !== 'const' && k !== 'default') visit(v);
      }
    }
  };
  visit(schema);
}

/** Minimal arguments satisfying the required parts of a tool's input schema (best effort). */
export function exampleArgs(t: Tool): Record<string, unknown> {
  const defs = (t.inputSchema as any).$defs ?? {};
  const gen = (s: any, depth: number): unknown => {
    if (!s || typeof s !== 'object' || depth > 8) return undefined;
    if (s.$ref) return gen(defs[s.$ref.slice(8)], depth + 1);
    if (s.const !== undefined) return s.const;
    if (Array.isArray(s.enum) && s.enum.length) return s.enum[0];
    for (const k of ['oneOf', 'anyOf']) if (Array.isArray(s[k]) && s[k].length) return gen(s[k][0], depth + 1);
    if (Array.isArray(s.allOf)) return Object.assign({}, ...s.allOf.map((x: unknown) => gen(x, depth + 1)).filter((x: unknown) => x && typeof x === 'object'));
    const type = Array.isArray(s.type) ? s.type.find((x: string) => x !== 'null') : s.type;
    switch (type ?? (s.properties ? 'object' : undefined)) {
      case 'string':
        return s.contentEncoding === 'base64' ? 'aGk=' : 'x'.repeat(Math.max(1, s.minLength ?? 1));
      case 'integer':
      case 'number':
        return typeof s.minimum === 'number' ? s.minimum : typeof s.exclusiveMinimum === 'number' ? s.exclusiveMinimum + 1 : 1;
      case 'boolean':
        return true;
      case 'array':
        return s.minItems ? [gen(s.items, depth + 1)] : [];
      case 'object': {
        const out: Record<string, unknown> = {};
        for (const k of s.required ?? []) out[k] = gen(s.properties?.[k] ?? {}, depth + 1) ?? 'x';
        return out;
      }
      default:
        return 'x';
    }
  };
  return (gen(t.inputSchema, 0) as Record<string, unknown>) ?? {};
}
