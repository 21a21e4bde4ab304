// `type: openapi` upstreams: every operation of the document is a tool Deputy serves itself. The
// spec is loaded and converted once; listTools returns the precomputed list; callTool validates the
// arguments (ajv, JSON Schema 2020-12), gets the upstream's own credential for the principal, places
// it per the operation's security scheme and calls base_url with undici (keep-alive pool).
import type { CallToolResult, Tool } from '@modelcontextprotocol/sdk/types.js';
import { readCapped } from '../../client/read-capped.ts';
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { Pool } from 'undici';
import { Worker } from 'node:worker_threads';
import { ConfigError, type ConfigIssue } from '../../config/errors.ts';
import type { OpenApiUpstreamConfig } from '../../config/schema.ts';
import type { Principal } from '../../inbound/principal.ts';
import { credentialFailure, mustPropagate, type CredentialProvider, type OutboundCredential } from '../../outbound/provider.ts';
import { CREDENTIAL_UNAVAILABLE, INVALID_PARAMS, JsonRpcError } from '../../protocol/jsonrpc.ts';
import type { ToolCallContext, Toolset } from '../toolset.ts';
import { loadSpec, SpecLoadError } from './load.ts';
import { toolNameBudget } from './names.ts';
import { buildPlans, OverrideError, type OperationPlan } from './operations.ts';
import { parseOpenApiOptions, type OpenApiOptions } from './options.ts';
import { ArgumentError, buildRequest, type CredentialPlacement } from './request.ts';
import { errorResult, toToolResult } from './response.ts';

const addFormats = addFormatsModule as unknown as (ajv: Ajv2020) => Ajv2020;

/** What `deputy check` shows for an OpenAPI upstream. */
/** What the API answered to one request. */
interface SentRequest {
  status: number;
  contentType: string;
  body: Buffer;
  challenge?: string;
}

export interface OpenApiReport {
  operations: number;
  tools: number;
  excluded: { operation: string; reason: string }[];
  loadMs: number;
  /** Non-fatal findings: parser warnings, base_url vs. spec servers. */
  warnings: string[];
}

export interface OpenApiToolsetOptions {
  /** Directory a relative `spec:` path is resolved against (the config file's directory). */
  baseDir?: string;
  /** Key path of this upstream in the config, for error messages (default `upstreams[<name>]`). */
  configPath?: string;
  /** Build on the calling thread instead of a worker (tests of the conversion itself). */
  inProcess?: boolean;
}

/** Loads the spec and builds the toolset; config problems throw ConfigError, spec problems SpecLoadError. */
export async function createOpenApiToolset(cfg: OpenApiUpstreamConfig, credentials: CredentialProvider, opts: OpenApiToolsetOptions = {}): Promise<OpenApiToolset> {
  const started = performance.now();
  const configPath = opts.configPath ?? `upstreams[${cfg.name}]`;
  const options = parseOpenApiOptions(cfg.options, configPath, cfg.name);
  const input: PrepareInput = { spec: cfg.spec, baseDir: opts.baseDir ?? process.cwd(), baseUrl: cfg.baseUrl, name: cfg.name, configPath, options: cfg.options };
  // A large spec takes seconds to validate and convert: on a worker thread, so requests (and a reload's
  // old pipeline) keep being served meanwhile.
  const prepared = await (opts.inProcess ? prepareToolset(input) : prepareInWorker(input));
  const report: OpenApiReport = { operations: prepared.total, tools: prepared.plans.length, excluded: prepared.excluded, loadMs: Math.round(performance.now() - started), warnings: prepared.warnings };
  return new OpenApiToolset(cfg, credentials, options, prepared.plans, report);
}

export interface PrepareInput {
  spec: string;
  baseDir: string;
  baseUrl: string;
  name: string;
  configPath: string;
  /** The upstream's raw options (parsed again where the work happens). */
  options: Record<string, unknown>;
}

export interface Prepared {
  plans: OperationPlan[];
  total: number;
  excluded: { operation: string; reason: string }[];
  warnings: string[];
}

/** Load, validate and convert: the CPU-heavy part, pure data in and out (it runs on a worker thread). */
export async function prepareToolset(input: PrepareInput): Promise<Prepared> {
  const { configPath } = input;
  const options = parseOpenApiOptions(input.options, configPath, input.name);
  let loaded;
  try {
    loaded = await loadSpec(input.spec, { baseDir: input.baseDir, timeoutMs: options.specTimeoutMs, maxBytes: options.specMaxBytes, validate: options.validateSpec });
  } catch (error) {
    if (error instanceof SpecLoadError) throw new ConfigError([{ path: `${configPath}.spec`, message: error.message }]);
    throw error;
  }
  let built;
  try {
    built = buildPlans(loaded.doc, loaded.version, options, toolNameBudget(input.name));
  } catch (error) {
    if (error instanceof OverrideError) {
      throw new ConfigError(error.keys.map((k) => ({ path: `${configPath}.tool_names.${k}`, message: 'matches no operation: use an operationId or "METHOD /path" exactly as in the spec' })));
    }
    throw error;
  }
  const warnings = [...loaded.warnings];
  if (loaded.source === 'swagger2') warnings.push('Swagger 2.0 document converted to OpenAPI 3.0');
  const server = loaded.doc.servers?.[0]?.url;
  if (typeof server === 'string') {
    const specPath = server.replace(/^[a-z]+:\/\/[^/]+/i, '').replace(/\/+$/, '');
    const basePath = new URL(input.baseUrl).pathname.replace(/\/+$/, '');
    if (specPath && !specPath.includes('{') && specPath !== basePath) {
      warnings.push(`the spec's server URL ${server} has path ${specPath} but base_url has ${basePath || '/'}; operations are called at base_url + path (include ${specPath} in base_url if the API needs it)`);
    }
  }
  const large = built.plans.filter((p) => p.outputTooLarge).length;
  if (large) warnings.push(`${large} tool${large > 1 ? 's advertise' : ' advertises'} no outputSchema: the response schema is larger than max_output_schema_bytes (${options.maxOutputSchemaBytes})`);
  return { plans: built.plans, total: built.total, excluded: built.excluded, warnings };
}

/** prepareToolset on a worker thread; its ConfigError comes back as one. */
function prepareInWorker(input: PrepareInput): Promise<Prepared> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL('./prepare-worker.ts', import.meta.url), { workerData: input });
    let settled = false;
    const plans: OperationPlan[] = [];
    worker.on('message', (m: { plans: OperationPlan[] } | { ok: true; prepared: Prepared } | { ok: false; issues?: ConfigIssue[]; message: string }) => {
      if ('plans' in m) return void plans.push(...m.plans);
      settled = true;
      if (m.ok) resolve({ ...m.prepared, plans });
      else reject(m.issues ? new ConfigError(m.issues) : new Error(m.message));
      void worker.terminate();
    });
    worker.once('error', (error) => {
      if (!settled) reject(error);
    });
    worker.once('exit', (code) => {
      if (!settled) reject(new Error(`the OpenAPI worker for upstream '${input.name}' exited (code ${code}) before finishing`));
    });
  });
}

export class OpenApiToolset implements Toolset {
  readonly upstream: string;
  readonly report: OpenApiReport;
  readonly #cfg: OpenApiUpstreamConfig;
  readonly #credentials: CredentialProvider;
  readonly #options: OpenApiOptions;
  readonly #plans: Map<string, OperationPlan>;
  readonly #tools: Tool[];
  readonly #pool: Pool;
  readonly #basePath: string;
  readonly #ajvIn: Ajv2020;
  readonly #ajvOut: Ajv2020;
  readonly #inputValidators = new Map<string, ValidateFunction | Error>();
  readonly #outputValidators = new Map<string, ValidateFunction | Error>();

  constructor(cfg: OpenApiUpstreamConfig, credentials: CredentialProvider, options: OpenApiOptions, plans: OperationPlan[], report: OpenApiReport) {
    this.upstream = cfg.name;
    this.report = report;
    this.#cfg = cfg;
    this.#credentials = credentials;
    this.#options = options;
    this.#plans = new Map(plans.map((p) => [p.tool.name, p]));
    this.#tools = plans.map((p) => p.tool).sort((a, b) => (a.name < b.name ? -1 : 1));
    const base = new URL(cfg.baseUrl);
    this.#basePath = base.pathname.replace(/\/+$/, '');
    this.#pool = new Pool(base.origin, { connections: options.connections, keepAliveTimeout: 30_000, connect: { timeout: Math.min(cfg.timeoutMs, 10_000) } });
    this.#ajvIn = addFormats(new Ajv2020({ strict: false, allErrors: true, logger: false }));
    // Formats in responses are advisory: real APIs bend them (`uri`, `date-time`) more than types.
    this.#ajvOut = new Ajv2020({ strict: false, allErrors: false, logger: false, validateFormats: false });
  }

  async listTools(_principal?: Principal): Promise<Tool[]> {
    return this.#tools;
  }

  /** The HTTP operation behind a tool, for audit. */
  operation(name: string): { method: string; path: string; operationId?: string } | undefined {
    const p = this.#plans.get(name);
    return p && { method: p.method.toUpperCase(), path: p.path, operationId: p.operationId };
  }

  async callTool(name: string, args: Record<string, unknown>, ctx: ToolCallContext): Promise<CallToolResult> {
    const plan = this.#plans.get(name);
    if (!plan) throw new JsonRpcError(INVALID_PARAMS, `Unknown tool: ${JSON.stringify(name.slice(0, 100))} is not a tool of upstream '${this.upstream}'`);
    const input = args ?? {};
    const validate = this.#validator(this.#inputValidators, this.#ajvIn, name, plan.tool.inputSchema);
    if (validate instanceof Error) return errorResult(`${name}: the input schema derived from the OpenAPI document cannot be compiled (${validate.message}); no request was sent`);
    if (!validate(input)) return errorResult(`Invalid arguments for ${name} (no request was sent):\n${formatErrors(validate.errors ?? [])}`);

    // A per-user credential the API refuses (401) is renewed once, or, for 403 insufficient_scope,
    // the person is asked to consent to more (the provider throws their connect link).
    let answer: { sent: SentRequest } | { failed: CallToolResult } | undefined;
    let redact: (s: string) => string = (s) => s;
    for (let attempt = 0; attempt < 2; attempt++) {
      let credential;
      try {
        credential = await this.#credentials.get({ principal: ctx.principal, bearer: ctx.bearer });
      } catch (error) {
        if (mustPropagate(error)) throw error; // the person's connect link, for the endpoint to present
        const message = credentialFailure(this.upstream, error);
        throw new JsonRpcError(CREDENTIAL_UNAVAILABLE, message);
      }
      const secrets = [credential.token, ...Object.values(credential.headers)].filter((s): s is string => typeof s === 'string' && s.length >= 4);
      redact = redactor(secrets);
      answer = await this.#send(plan, name, input, credential, redact, ctx);
      if (!('sent' in answer) || (answer.sent.status !== 401 && answer.sent.status !== 403) || attempt > 0 || !this.#credentials.refused) break;
      let again;
      try {
        again = await this.#credentials.refused({ principal: ctx.principal, bearer: ctx.bearer }, credential, { status: answer.sent.status, challenge: answer.sent.challenge });
      } catch (error) {
        if (mustPropagate(error)) throw error;
        break;
      }
      if (!again) break;
    }
    if (!('sent' in answer!)) return answer!.failed;
    const { status, contentType, body } = answer.sent;
    const output = plan.output;
    return toToolResult(plan, this.upstream, { status, contentType, body }, redact, (value) => {
      if (!output) return undefined;
      const v = this.#validator(this.#outputValidators, this.#ajvOut, name, output.schema);
      if (v instanceof Error) return `its schema cannot be compiled: ${v.message}`;
      return v(value) ? undefined : formatErrors(v.errors ?? [], 'result').split('\n')[0];
    });
  }

  /** One request with one credential: the upstream's answer, or a tool error saying why there is none. */
  async #send(plan: OperationPlan, name: string, input: Record<string, unknown>, credential: OutboundCredential, redact: (s: string) => string, ctx: ToolCallContext): Promise<{ sent: SentRequest } | { failed: CallToolResult }> {
    let place: CredentialPlacement | undefined;
    if (credential.token) {
      const s = plan.security;
      if (s.kind === 'schemes') place = { placements: s.placements, token: credential.token };
      else if (s.kind === 'unspecified') place = { placements: [{ kind: 'bearer' }], token: credential.token };
    }
    let req;
    try {
      req = buildRequest(plan, this.#basePath, input, { headers: credential.headers, place });
    } catch (error) {
      if (error instanceof ArgumentError) return { failed: errorResult(`Invalid arguments for ${name} (no request was sent): ${error.message}`) };
      throw error;
    }
    const timeout = AbortSignal.timeout(this.#cfg.timeoutMs);
    const signal = AbortSignal.any([ctx.signal, timeout]);
    try {
      const res = await this.#pool.request({
        method: req.method as never,
        path: req.path,
        headers: req.headers,
        body: req.body as never,
        signal,
        headersTimeout: this.#cfg.timeoutMs,
        bodyTimeout: this.#cfg.timeoutMs,
      });
      const status = res.statusCode;
      const ct = res.headers['content-type'];
      const contentType = Array.isArray(ct) ? (ct[0] ?? '') : (ct ?? '');
      const wa = res.headers['www-authenticate'];
      const challenge = Array.isArray(wa) ? wa.join(', ') : wa;
      const declared = Number(res.headers['content-length']);
      const max = this.#options.maxResponseBytes;
      if (Number.isFinite(declared) && declared > max) {
        res.body.destroy();
        return { failed: errorResult(`${this.upstream} responded HTTP ${status} with ${declared} bytes, over the response size limit (max_response_bytes: ${max})`) };
      }
      const body = await readCapped(res.body, max);
      if (!body) return { failed: errorResult(`${this.upstream} responded HTTP ${status} with more than ${max} bytes, over the response size limit (max_response_bytes: ${max})`) };
      return { sent: { status, contentType, body, challenge } };
    } catch (error) {
      if (timeout.aborted || (error as { code?: string }).code === 'UND_ERR_HEADERS_TIMEOUT' || (error as { code?: string }).code === 'UND_ERR_BODY_TIMEOUT') {
        return { failed: errorResult(`${this.upstream} did not respond within ${this.#cfg.timeoutMs} ms (${plan.method.toUpperCase()} ${plan.path})`) };
      }
      if (ctx.signal.aborted) return { failed: errorResult('the call was cancelled') };
      // Network errors can echo the request target, which may hold a query-placed secret.
      return { failed: errorResult(`${this.upstream} could not be reached for ${plan.method.toUpperCase()} ${plan.path}: ${redact(describeError(error))}`) };
    }
  }

  async close(): Promise<void> {
    await this.#pool.close();
  }

  #validator(cache: Map<string, ValidateFunction | Error>, ajv: Ajv2020, name: string, schema: unknown): ValidateFunction | Error {
    let v = cache.get(name);
    if (!v) {
      try {
        v = ajv.compile(schema as object);
      } catch (error) {
        v = error as Error;
      }
      cache.set(name, v);
    }
    return v;
  }
}

/** `body.pet.name: must be string` — the argument path first, so the model can fix that field. */
function formatErrors(errors: ErrorObject[], root = ''): string {
  const lines = errors.map((e) => {
    const at = e.instancePath.split('/').slice(1).map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~')).join('.');
    let field = [root, at].filter(Boolean).join('.');
    let message = e.message ?? 'is invalid';
    if (e.keyword === 'additionalProperties') {
      const extra = (e.params as { additionalProperty: string }).additionalProperty;
      field = [field, extra].filter(Boolean).join('.');
      message = 'is not an accepted argument';
    } else if (e.keyword === 'required') {
      const missing = (e.params as { missingProperty: string }).missingProperty;
      field = [field, missing].filter(Boolean).join('.');
      message = 'is required';
    } else if (e.keyword === 'enum') {
      message = `must be one of ${JSON.stringify((e.params as { allowedValues: unknown[] }).allowedValues).slice(0, 300)}`;
    }
    return `- ${field || '(arguments)'}: ${message}`;
  });
  return [...new Set(lines)].slice(0, 20).join('\n');
}

function redactor(secrets: string[]): (text: string) => string {
  if (!secrets.length) return (t) => t;
  const forms = new Set<string>();
  for (const s of secrets) {
    forms.add(s);
    forms.add(encodeURIComponent(s));
    const bare = s.replace(/^(Bearer|Basic)\s+/i, '');
    if (bare.length >= 4) forms.add(bare);
  }
  const list = [...forms].sort((a, b) => b.length - a.length);
  return (text) => {
    let out = text;
    for (const f of list) if (out.includes(f)) out = out.split(f).join('[redacted]');
    return out;
  };
}

function describeError(error: unknown): string {
  const e = error as { code?: string; message?: string; cause?: { code?: string } };
  const code = e.cause?.code ?? e.code;
  return code ? `${code}${e.message ? ` (${e.message})` : ''}` : (e.message ?? 'network error');
}
