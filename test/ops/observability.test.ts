// /metrics (Prometheus text, per-gateway registry, optional bearer token), /healthz and /readyz, and
// OpenTelemetry spans through a tracer provider the embedding process registers, with W3C trace
// context reaching the upstream.
import assert from 'node:assert/strict';
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import {
  context, ROOT_CONTEXT, trace, type Context, type ContextManager, type Span, type SpanContext, type SpanOptions, type SpanStatus, type Tracer, type TracerProvider,
} from '@opentelemetry/api';
import { parseConfig } from '../../src/config/schema.ts';
import { startGateway, type Gateway } from '../../src/gateway.ts';
import { clients, DEPUTY_SECRET, deputyClient } from '../outbound/helpers.ts';
import { onCleanup } from '../support/cleanup.ts';
import { initializeMessage, mcpPost, startAs, startUpstream, userToken } from '../support/stack.ts';

async function deputy(extra: Record<string, unknown>, upstreams: unknown[], issuer: string): Promise<Gateway> {
  const config = parseConfig({ server: { host: '127.0.0.1', port: 0 }, auth: { issuers: [{ issuer }] }, upstreams, audit: { store: 'sqlite::memory:' }, ...extra }, {
    baseDir: process.cwd(),
    env: { ...process.env, DEPUTY_SECRET, METRICS_TOKEN: 'metrics-scrape-token-123' },
  });
  const gw = await startGateway(config);
  onCleanup(() => gw.close());
  return gw;
}

const ccUpstream = (as: { issuer: string }, url: string) => ({ name: 'notes', type: 'mcp', url, credentials: { type: 'client_credentials', token_endpoint: `${as.issuer}/token`, client_id: 'deputy', client_secret: { env: 'DEPUTY_SECRET' }, scope: 'notes:read', resource: url } });

function metricValue(text: string, line: RegExp): number {
  const m = text.split('\n').find((l) => line.test(l));
  assert.ok(m, `metric line matching ${line} in:\n${text}`);
  return Number(m.split(' ').at(-1));
}

test('/metrics: request counters, latency histogram, token cache, verifier and audit queue; protected by a token', async () => {
  const as = await startAs({ clients: clients(deputyClient()) });
  const up = await startUpstream({ stateless: true });
  const gw = await deputy({ metrics: { enabled: true, token: { env: 'METRICS_TOKEN' } } }, [ccUpstream(as, up.url)], as.issuer);
  const url = `${gw.url}/mcp/notes`;
  const token = await userToken(as, url, { sub: 'mia' });
  for (let i = 0; i < 7; i++) assert.equal((await mcpPost(url, initializeMessage(i), { authorization: `Bearer ${token}` })).status, 200);
  assert.equal((await mcpPost(url, initializeMessage(99), { authorization: 'Bearer nope' })).status, 401);
  await gw.audit.flush(); // audit writes are batched (at most 50 ms in memory)

  const anonymous = await fetch(`${gw.url}/metrics`);
  assert.equal(anonymous.status, 401, 'the metrics token is required');
  assert.equal((await fetch(`${gw.url}/metrics`, { headers: { authorization: 'Bearer wrong-token-xxxxxxxxx' } })).status, 401);
  const res = await fetch(`${gw.url}/metrics`, { headers: { authorization: 'Bearer metrics-scrape-token-123' } });
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type')!, /^text\/plain; version=0\.0\.4/);
  const text = await res.text();
  assert.equal(metricValue(text, /^deputy_requests_total\{route="\/mcp\/notes",upstream="notes",method="POST",outcome="ok"\}/), 7);
  assert.equal(metricValue(text, /^deputy_requests_total\{route="\/mcp\/notes",upstream="",method="POST",outcome="unauthenticated"\}/), 1);
  assert.equal(metricValue(text, /^deputy_request_duration_seconds_count\{route="\/mcp\/notes",outcome="ok"\}/), 7);
  assert.equal(metricValue(text, /^deputy_token_endpoint_requests_total /), 1, 'client credentials: one token-endpoint call');
  assert.equal(metricValue(text, /^deputy_token_cache_hits_total /), 6);
  assert.equal(metricValue(text, /^deputy_token_cache_misses_total /), 1);
  assert.equal(metricValue(text, /^deputy_token_endpoint_failures_total /), 0);
  assert.equal(metricValue(text, /^deputy_verifier_jwt_verifications_total /), 1);
  assert.equal(metricValue(text, /^deputy_verifier_cache_hits_total /), 6);
  assert.equal(metricValue(text, /^deputy_audit_queue_depth /), 0);
  assert.ok(!text.includes(token), 'no token material in metrics');
  console.log(text.split('\n').filter((l) => /^deputy_(requests_total|token_|verifier_|audit_queue)|duration_seconds_(count|sum)/.test(l)).join('\n'));
});

test('/metrics disabled by default; /healthz and /readyz always answer', async () => {
  const as = await startAs();
  const up = await startUpstream({ stateless: true });
  const gw = await deputy({}, [{ name: 'notes', type: 'mcp', url: up.url, credentials: { type: 'static', headers: { 'X-Tenant': 'acme' } } }], as.issuer);
  assert.equal((await fetch(`${gw.url}/metrics`)).status, 404);
  assert.deepEqual(await (await fetch(`${gw.url}/healthz`)).json(), { status: 'ok' });
  const ready = await fetch(`${gw.url}/readyz`);
  assert.equal(ready.status, 200);
  const body = (await ready.json()) as { status: string; components: Record<string, { status: string; store?: string }> };
  assert.equal(body.status, 'ready');
  assert.deepEqual(Object.keys(body.components).sort(), ['admission', 'audit', 'config', 'keys', 'sessions', 'state']);
  assert.equal(body.components.state!.store, 'memory');
});

test('/readyz: 503 when no issuer key can be loaded', async () => {
  const up = await startUpstream({ stateless: true });
  const gw = await deputy({}, [{ name: 'notes', type: 'mcp', url: up.url, credentials: { type: 'static', headers: { 'X-Tenant': 'acme' } } }], 'http://127.0.0.1:9/no-such-idp');
  const r = await fetch(`${gw.url}/readyz`);
  assert.equal(r.status, 503);
  const body = (await r.json()) as { status: string; components: { keys: { status: string; unavailable: string[] } } };
  assert.equal(body.status, 'not_ready');
  assert.deepEqual(body.components.keys.unavailable, ['http://127.0.0.1:9/no-such-idp']);
});

// A tracer provider as an embedding application would register (the SDK's role), kept minimal.
interface Recorded { name: string; kind: number; traceId: string; spanId: string; parentSpanId?: string; attributes: Record<string, unknown>; status?: SpanStatus; ended: boolean }
const recorded: Recorded[] = [];
class RecordingSpan implements Span {
  readonly rec: Recorded;
  readonly #ctx: SpanContext;
  constructor(rec: Recorded, ctx: SpanContext) {
    this.rec = rec;
    this.#ctx = ctx;
  }
  spanContext() { return this.#ctx; }
  setAttribute(k: string, v: unknown) { this.rec.attributes[k] = v; return this; }
  setAttributes(a: Record<string, unknown>) { Object.assign(this.rec.attributes, a); return this; }
  addEvent() { return this; }
  addLink() { return this; }
  addLinks() { return this; }
  setStatus(s: SpanStatus) { this.rec.status = s; return this; }
  updateName(n: string) { this.rec.name = n; return this; }
  end() { this.rec.ended = true; }
  isRecording() { return !this.rec.ended; }
  recordException() {}
}
class RecordingTracer implements Tracer {
  startSpan(name: string, options: SpanOptions = {}, ctx: Context = context.active()): Span {
    const parent = trace.getSpanContext(ctx);
    const sc: SpanContext = { traceId: parent?.traceId ?? randomBytes(16).toString('hex'), spanId: randomBytes(8).toString('hex'), traceFlags: 1 };
    const rec: Recorded = { name, kind: options.kind ?? 0, traceId: sc.traceId, spanId: sc.spanId, parentSpanId: parent?.spanId, attributes: { ...options.attributes }, ended: false };
    recorded.push(rec);
    return new RecordingSpan(rec, sc);
  }
  startActiveSpan<F extends (span: Span) => unknown>(name: string, ...args: unknown[]): ReturnType<F> {
    const fn = args.at(-1) as F;
    const options = (args.length > 1 ? args[0] : {}) as SpanOptions;
    const ctx = (args.length > 2 ? args[1] : context.active()) as Context;
    const span = this.startSpan(name, options, ctx);
    return context.with(trace.setSpan(ctx, span), () => fn(span)) as ReturnType<F>;
  }
}
class AsyncLocalContextManager implements ContextManager {
  readonly #als = new AsyncLocalStorage<Context>();
  active() { return this.#als.getStore() ?? ROOT_CONTEXT; }
  with<A extends unknown[], F extends (...args: A) => ReturnType<F>>(ctx: Context, fn: F, thisArg?: ThisParameterType<F>, ...args: A): ReturnType<F> {
    return this.#als.run(ctx, () => fn.call(thisArg, ...args));
  }
  bind<T>(_ctx: Context, target: T): T { return target; }
  enable() { return this; }
  disable() { return this; }
}

test('tracing: spans for the request, token verification, credential fetch and upstream call; traceparent reaches the upstream', async () => {
  context.setGlobalContextManager(new AsyncLocalContextManager());
  const provider: TracerProvider = { getTracer: () => new RecordingTracer() };
  trace.setGlobalTracerProvider(provider);
  const as = await startAs({ clients: clients(deputyClient()) });
  const up = await startUpstream({ stateless: true });
  const gw = await deputy({ tracing: { enabled: true } }, [ccUpstream(as, up.url)], as.issuer);
  const url = `${gw.url}/mcp/notes`;
  const token = await userToken(as, url, { sub: 'nina' });
  const clientTrace = '4bf92f3577b34da6a3ce929d0e0e4736';
  const clientParent = '00f067aa0ba902b7';
  const r = await mcpPost(url, initializeMessage(1), { authorization: `Bearer ${token}`, traceparent: `00-${clientTrace}-${clientParent}-01` });
  assert.equal(r.status, 200);
  await r.text();
  await new Promise((res) => setTimeout(res, 50));

  const mine = recorded.filter((s) => s.traceId === clientTrace);
  const server = mine.find((s) => s.name === 'POST /mcp/notes');
  const verify = mine.find((s) => s.name === 'deputy.verify_token');
  const upstream = mine.find((s) => s.name === 'mcp notes initialize');
  const credential = mine.find((s) => s.name === 'deputy.credential');
  const tokenEndpoint = mine.find((s) => s.name === 'deputy.token_endpoint');
  assert.ok(server && verify && upstream && credential && tokenEndpoint, `spans: ${mine.map((s) => s.name).join(', ')}`);
  assert.equal(server.parentSpanId, clientParent, 'the client trace continues');
  assert.equal(verify.parentSpanId, server.spanId);
  assert.equal(upstream.parentSpanId, server.spanId);
  assert.equal(credential.parentSpanId, upstream.spanId);
  assert.equal(tokenEndpoint.parentSpanId, credential.spanId);
  assert.equal(credential.attributes['deputy.token_cache.hit'], false);
  assert.ok(mine.every((s) => s.ended));
  assert.equal(server.attributes['http.response.status_code'], 200);
  const sent = up.requests.at(-1)!.headers.traceparent;
  assert.equal(sent, `00-${clientTrace}-${upstream.spanId}-01`, "the upstream's parent is Deputy's upstream-call span");
  assert.ok(!JSON.stringify(recorded).includes(token), 'no token in span attributes');
});
