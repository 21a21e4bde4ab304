// The language-neutral half of the taint engine behind `authorization-passthrough`. Values are tagged with what they
// hold (an inbound request, its headers, a credential string, an auth-info object, or an options object whose
// `headers` are tainted); the Python and JavaScript walkers compute those tags per expression and call `reportSink`
// when a tagged value reaches an outbound HTTP request. Flow-insensitive inside a statement, in order across
// statements (plain reassignment clears a variable, so `tok = exchange(tok)` is clean), and intra-file: functions get
// summaries (what they return, which parameters reach a sink) that call sites in the same file apply.
import type { Node } from '../parser.ts';

export type Kind = 'request' | 'headers' | 'cred' | 'tokenobj' | 'options';

export interface Taint {
  kind: Kind;
  /** Where the inbound value was read (absent for parameter placeholders). */
  origin?: { line: number; text: string };
  /** Placeholder for "whatever the caller passes as parameter N" while summarising a function. */
  param?: number;
}

export type Taints = Taint[];

export const NONE: Taints = [];

export function union(...sets: Taints[]): Taints {
  const out: Taints = [];
  for (const set of sets) for (const t of set) if (!out.some((o) => same(o, t))) out.push(t);
  return out;
}

function same(a: Taint, b: Taint): boolean {
  return a.kind === b.kind && a.param === b.param && a.origin?.line === b.origin?.line && a.origin?.text === b.origin?.text;
}

export function only(set: Taints, ...kinds: Kind[]): Taints {
  return set.filter((t) => kinds.includes(t.kind));
}

export function retag(set: Taints, kind: Kind): Taints {
  return union(set.map((t) => ({ ...t, kind })));
}

/** Credential strings and credential-bearing header maps: what must not reach an outbound request. */
export function carriesCredential(set: Taints): Taints {
  return only(set, 'cred', 'headers');
}

/** Counts inbound sources created, so a file without any can skip the remaining passes. */
export const sourceCounter = { count: 0 };

export function source(kind: Kind, node: Node): Taint {
  sourceCounter.count++;
  const text = node.text.replace(/\s+/g, ' ').trim();
  return { kind, origin: { line: node.startPosition.row + 1, text: text.length > 70 ? text.slice(0, 69) + '…' : text } };
}

/** Header names that carry credentials (compared lower-case, `_` as `-`). */
export function isCredentialHeader(name: string): boolean {
  const n = name.toLowerCase().replace(/_/g, '-');
  if (n === 'authorization' || n === 'proxy-authorization' || n === 'cookie') return true;
  return ['auth', 'token', 'api-key', 'apikey', 'secret', 'credential', 'session'].some((w) => n.includes(w));
}

/** Names (variables, parameters, attributes) that stand for the inbound request in common frameworks. */
export const REQUEST_NAMES: ReadonlySet<string> = new Set([
  'request', 'req', 'http_request', 'httpRequest', 'incoming', 'incoming_request', 'incomingRequest',
  'inbound_request', 'inboundRequest', 'starlette_request', 'raw_request', 'rawRequest',
]);

/** Attribute names that lead from any object to the inbound request (`ctx.request_context.request`, `c.req`, `c.req.raw`). */
export const REQUEST_ATTRS: ReadonlySet<string> = new Set(['request', 'req', 'http_request', 'raw_request']);

/** Attribute names that lead to the MCP SDKs' verified-token objects (`extra.authInfo`, `req.auth`). */
export const AUTH_INFO_ATTRS: ReadonlySet<string> = new Set(['authInfo', 'auth_info']);

/** Attributes of token objects that hold the raw token string. */
export const TOKEN_ATTRS: ReadonlySet<string> = new Set(['token', 'access_token', 'accessToken', 'raw_token', 'rawToken', 'credentials', 'jwt']);

/** Type names of inbound request objects (annotations on parameters). */
export const REQUEST_TYPES: ReadonlySet<string> = new Set([
  'Request', 'HTTPConnection', 'IncomingMessage', 'FastifyRequest', 'HonoRequest', 'NextRequest', 'ExpressRequest',
]);

/**
 * Names of functions that turn the caller's token into a different one (token exchange, on-behalf-of, minting):
 * their results are clean, and calls made inside them (to the token endpoint) are not reported.
 */
export function isTokenExchangeName(name: string): boolean {
  const words = name.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase().split(/[^a-z0-9]+/).filter(Boolean);
  const joined = words.join('_');
  if (['exchange', 'mint', 'obo'].some((w) => words.includes(w))) return true;
  return ['downstream_token', 'on_behalf_of', 'acquire_token', 'get_token_for', 'token_for', 'exchange'].some((w) => joined.includes(w));
}

/** Methods of HTTP clients whose `headers` (or options with headers) go on the wire. */
export const HTTP_METHOD_NAMES: ReadonlySet<string> = new Set([
  'get', 'post', 'put', 'patch', 'delete', 'del', 'head', 'options', 'request', 'stream', 'send', 'fetch',
  'build_request', 'urlopen', 'ws_connect', 'create', 'extend', 'dispatch', 'connect',
]);

/** Constructors of HTTP clients / requests that take default or request headers. */
export const HTTP_CONSTRUCTORS: ReadonlySet<string> = new Set([
  'Client', 'AsyncClient', 'Session', 'ClientSession', 'Request', 'PoolManager', 'Pool', 'Agent', 'ProxyAgent',
  'Headers',
]);

export interface SinkSite {
  param: number;
  /** Node where the tainted value enters the request (reported there). */
  node: Node;
  what: string;
}

export interface Summary {
  returns: Taints;
  sinks: SinkSite[];
}

export function emptySummary(): Summary {
  return { returns: [], sinks: [] };
}

/**
 * Result of calling a summarised function: real taints it returns by itself, plus parameter placeholders replaced by
 * the taints of the matching arguments (keeping the kind the function turned them into).
 */
export function applyReturns(summary: Summary, args: Taints[]): Taints {
  let out: Taints = [];
  for (const t of summary.returns) {
    if (t.param === undefined) out = union(out, [t]);
    else {
      const arg = args[t.param] ?? [];
      const relevant = only(arg, 'cred', 'headers', 'tokenobj', 'request', 'options');
      out = union(out, relevant.map((a) => ({ ...a, kind: t.kind })));
    }
  }
  return out;
}

/** Per-function state while walking its body. */
export interface Frame {
  vars: Map<string, Taints>;
  /** Names assigned inside this function (writes to their members taint them instead of being sinks). */
  locals: Set<string>;
  parent?: Frame;
  summary?: Summary;
  /** Inside a token-exchange function: sinks are not reported. */
  exempt: boolean;
  className?: string;
}

export function lookup(frame: Frame | undefined, name: string): Taints | undefined {
  for (let f = frame; f; f = f.parent) {
    const v = f.vars.get(name);
    if (v) return v;
  }
  return undefined;
}

/** Assigned in the current function itself (closures' and module variables are shared objects, not locals). */
export function isLocal(frame: Frame | undefined, name: string): boolean {
  return frame?.locals.has(name) ?? false;
}
