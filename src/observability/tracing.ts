// OpenTelemetry tracing through @opentelemetry/api only: Deputy creates spans, the embedding process
// decides where they go by registering a tracer provider (and a context manager, as the Node SDK
// does). Nothing is registered here, so with no provider every call is a cheap no-op; and nothing is
// wrapped at all unless `tracing.enabled`. W3C trace context is read from and written to the
// `traceparent` header directly, so propagation to upstreams works whatever propagator is installed.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { context, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Context, type Span, type SpanContext } from '@opentelemetry/api';
import type { McpExchange, McpHandler } from '../http/exchange.ts';
import type { TokenVerifier } from '../inbound/verifier.ts';
import type { TokenCache } from '../outbound/token-cache.ts';

const TRACER = 'deputy';
const tracer = () => trace.getTracer(TRACER);
const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

/** The remote parent named by a W3C `traceparent` header, or the root context. */
export function extractTraceparent(header: string | string[] | undefined): Context {
  const m = typeof header === 'string' ? TRACEPARENT.exec(header.trim()) : null;
  if (!m || /^0+$/.test(m[1]!) || /^0+$/.test(m[2]!)) return ROOT_CONTEXT;
  return trace.setSpanContext(ROOT_CONTEXT, { traceId: m[1]!, spanId: m[2]!, traceFlags: parseInt(m[3]!, 16), isRemote: true });
}

export function formatTraceparent(sc: SpanContext): string {
  return `00-${sc.traceId}-${sc.spanId}-${(sc.traceFlags & 0xff).toString(16).padStart(2, '0')}`;
}

/** A SERVER span per HTTP request (path only: query strings never reach a span), parent from `traceparent`. */
export function traceRequests(listener: (req: IncomingMessage, res: ServerResponse) => void): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q === -1 ? url : url.slice(0, q);
    const span = tracer().startSpan(`${req.method} ${path}`, { kind: SpanKind.SERVER, attributes: { 'http.request.method': req.method ?? '', 'url.path': path } }, extractTraceparent(req.headers.traceparent));
    res.once('close', () => {
      span.setAttribute('http.response.status_code', res.statusCode);
      if (res.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
    });
    context.with(trace.setSpan(context.active(), span), () => listener(req, res));
  };
}

/** Inbound verification span (cache hits included, so their share is visible). */
export function traceVerifier(verifier: TokenVerifier): void {
  const verify = verifier.verify.bind(verifier);
  verifier.verify = (token) => inSpan('deputy.verify_token', SpanKind.INTERNAL, () => verify(token));
}

/** Credential span around every cached-token lookup, with a child span when the token endpoint is called. */
export function traceTokenCache(cache: TokenCache): void {
  const get = cache.get.bind(cache);
  cache.get = (key, fetch) =>
    inSpan('deputy.credential', SpanKind.INTERNAL, (span) => {
      let fetched = false;
      return get(key, () => {
        fetched = true;
        return inSpan('deputy.token_endpoint', SpanKind.CLIENT, () => fetch());
      }).finally(() => span.setAttribute('deputy.token_cache.hit', !fetched));
    });
}

/** A CLIENT span per upstream call, whose context becomes the `traceparent` the upstream receives. */
export function traceHandler(handler: McpHandler, upstream: string): McpHandler {
  return {
    handle(x: McpExchange) {
      // Without a context manager the server span is not active here: fall back to the client's traceparent.
      const parent = trace.getSpan(context.active()) ? context.active() : extractTraceparent(x.req.headers.traceparent);
      const span = tracer().startSpan(`mcp ${upstream}${x.rpc?.method ? ` ${x.rpc.method}` : ''}`, {
        kind: SpanKind.CLIENT,
        attributes: { 'deputy.upstream': upstream, 'deputy.request_id': x.requestId, ...(x.rpc?.method ? { 'rpc.method': x.rpc.method } : {}) },
      }, parent);
      const sc = span.spanContext();
      if (trace.isSpanContextValid(sc)) {
        x.req.headers.traceparent = formatTraceparent(sc);
      }
      x.res.once('close', () => {
        if (x.audit.outcome !== 'ok') span.setStatus({ code: SpanStatusCode.ERROR, message: x.audit.outcome });
        span.end();
      });
      return context.with(trace.setSpan(parent, span), () => handler.handle(x));
    },
    close: handler.close?.bind(handler),
  };
}

async function inSpan<T>(name: string, kind: SpanKind, fn: (span: Span) => Promise<T>): Promise<T> {
  return tracer().startActiveSpan(name, { kind }, async (span) => {
    try {
      return await fn(span);
    } catch (error) {
      span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error).message });
      throw error;
    } finally {
      span.end();
    }
  });
}
