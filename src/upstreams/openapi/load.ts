// Reads the OpenAPI document once at start-up: a file relative to the config's directory, or an
// http(s) URL fetched with a timeout and a size cap. The document is validated with
// @readme/openapi-parser (on a copy: validation dereferences) and kept with its `$ref`s intact,
// because tool schemas turn them into local `$defs` rather than inlining (cycles stay finite).
import { readFile, stat } from 'node:fs/promises';
import { readCapped } from '../../client/read-capped.ts';
import { resolve } from 'node:path';
import { compileErrors, validate } from '@readme/openapi-parser';
import { request } from 'undici';
import { parse as parseYaml } from 'yaml';
import { swagger2ToOpenApi3 } from './swagger2.ts';

export type OpenApiDocument = Record<string, any>;

export class SpecLoadError extends Error {
  override name = 'SpecLoadError';
}

export interface LoadOptions {
  baseDir: string;
  timeoutMs: number;
  maxBytes: number;
  validate: boolean;
}

export interface LoadedSpec {
  doc: OpenApiDocument;
  /** `3.0` or `3.1` after conversion; Swagger 2.0 documents are converted to 3.0. */
  version: '3.0' | '3.1';
  source: 'swagger2' | 'openapi3.0' | 'openapi3.1';
  warnings: string[];
}

export async function loadSpec(spec: string, opts: LoadOptions): Promise<LoadedSpec> {
  const text = /^https?:\/\//i.test(spec) ? await fetchSpec(spec, opts) : await readSpecFile(resolve(opts.baseDir, spec), opts.maxBytes);
  let raw: unknown;
  try {
    raw = /^\s*[{[]/.test(text) ? JSON.parse(text) : parseYaml(text, { maxAliasCount: 10_000 });
  } catch (error) {
    throw new SpecLoadError(`${spec} is neither valid JSON nor YAML: ${(error as Error).message.split('\n')[0]}`);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new SpecLoadError(`${spec} is not an OpenAPI document (expected a mapping at the top level)`);
  const doc = raw as OpenApiDocument;
  const isSwagger = typeof doc.swagger === 'string' && doc.swagger.startsWith('2.');
  const isOas = typeof doc.openapi === 'string' && /^3\.[01]\./.test(doc.openapi);
  if (!isSwagger && !isOas) throw new SpecLoadError(`${spec}: unsupported document version (swagger: ${String(doc.swagger)}, openapi: ${String(doc.openapi)}); Swagger 2.0 and OpenAPI 3.0/3.1 are supported`);
  const warnings: string[] = [];
  if (opts.validate) {
    const result = await validate(structuredClone(doc) as any, { resolve: { external: false } } as any);
    if (!result.valid) throw new SpecLoadError(`${spec} is not a valid ${isSwagger ? 'Swagger 2.0' : 'OpenAPI'} document (set validate_spec: false to load it anyway):\n${compileErrors(result).slice(0, 4000)}`);
    for (const w of result.warnings) warnings.push(w.message.split('\n')[0]!);
  }
  if (isSwagger) return { doc: swagger2ToOpenApi3(doc), version: '3.0', source: 'swagger2', warnings };
  const version = doc.openapi.startsWith('3.1') ? '3.1' : '3.0';
  return { doc, version, source: version === '3.1' ? 'openapi3.1' : 'openapi3.0', warnings };
}

async function readSpecFile(path: string, maxBytes: number): Promise<string> {
  try {
    const st = await stat(path);
    if (!st.isFile()) throw new SpecLoadError(`spec ${path} is not a regular file`);
    if (st.size > maxBytes) throw new SpecLoadError(`spec ${path} is ${st.size} bytes, over spec_max_bytes (${maxBytes})`);
    return await readFile(path, 'utf8');
  } catch (error) {
    if (error instanceof SpecLoadError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    throw new SpecLoadError(`spec ${path} cannot be read (${code === 'ENOENT' ? 'no such file' : (error as Error).message})`);
  }
}

async function fetchSpec(url: string, opts: LoadOptions): Promise<string> {
  const signal = AbortSignal.timeout(opts.timeoutMs);
  try {
    const res = await request(url, { method: 'GET', headers: { accept: 'application/json, application/yaml, text/yaml, */*;q=0.5' }, signal, headersTimeout: opts.timeoutMs, bodyTimeout: opts.timeoutMs });
    if (res.statusCode < 200 || res.statusCode > 299) {
      await res.body.dump();
      throw new SpecLoadError(`fetching spec ${url} failed with HTTP ${res.statusCode}`);
    }
    const declared = Number(res.headers['content-length']);
    if (Number.isFinite(declared) && declared > opts.maxBytes) {
      await res.body.dump();
      throw new SpecLoadError(`spec ${url} is ${declared} bytes, over spec_max_bytes (${opts.maxBytes})`);
    }
    const body = await readCapped(res.body, opts.maxBytes);
    if (!body) throw new SpecLoadError(`spec ${url} is larger than spec_max_bytes (${opts.maxBytes})`);
    return body.toString('utf8');
  } catch (error) {
    if (error instanceof SpecLoadError) throw error;
    if (signal.aborted) throw new SpecLoadError(`fetching spec ${url} timed out after ${opts.timeoutMs} ms (spec_timeout_ms)`);
    throw new SpecLoadError(`fetching spec ${url} failed: ${(error as Error).message}`);
  }
}
