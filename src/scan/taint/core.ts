// The language-neutral half of the taint engine behind `authorization-passthrough`. Values are tagged with what they
// hold (an inbound request, its headers, a credential string, an auth-info object, or an options object whose
// `headers` are tainted); the Python and JavaScript walkers compute those tags per expression and call `reportSink`
// when a tagged value reaches an outbound HTTP request. Flow-insensitive inside a statement, in order across
// statements (plain reassignment clears a variable, so `tok = exchange(tok)` is clean). Functions get summaries (what
// they return, which parameters reach a sink) that call sites apply, in the same file or, through `Program`, in any
// file that imports them. Every taint carries the path it took (source, assignments, calls, storage), which becomes
// the finding's `path` and SARIF `codeFlows`.
import type { Finding, PathStep } from '../finding.ts';
import { enclosingFunction, functionName, stringValue } from '../context.ts';
import type { Node } from '../parser.ts';

// `url` is the inbound request's URL (`req.url`, `new URL(req.url)`): not sent anywhere by itself, but its query
// parameters are read like headers (`?apiKey=`, Smithery's `?config=`).
export type Kind = 'request' | 'headers' | 'cred' | 'tokenobj' | 'options' | 'url';

export interface Taint {
  kind: Kind;
  /** Where the inbound value was read (absent for placeholders). */
  origin?: { file: string; line: number; text: string };
  /** Placeholder for "whatever the caller passes as parameter N" while summarising a function. */
  param?: number;
  /** The summary of the function that parameter belongs to (a closure may use an outer function's parameter). */
  owner?: Summary;
  /** Placeholder for "whatever the constructor stored in this field" (`Class.attr`) while summarising a method. */
  field?: string;
  /** How the value got here, source first. */
  path?: readonly PathStep[];
  /** Keys of an object under which another object holds the credential (`{ jira: { apiToken } }` → `jira`). */
  holders?: readonly string[];
  /** A credential string the code put under a key of an object (`{ key: apiKey }`): a request body's field. */
  keyed?: boolean;
  /** The key a `keyed` credential sits under (`{ name: 'Authorization', value: tok }` → `value`), read back by name. */
  at?: string;
  /** A parameter parsed as a URL (`new URL(url).searchParams.get('apiKey')`): a caller's request URL reaches here. */
  parsed?: boolean;
  /**
   * A parameter read through a request's members (`ev.headers['x-api-key']`): a caller handing over its whole inbound
   * request (`send(req)`) reaches the sink too.
   */
  fromRequest?: boolean;
  /**
   * Read from a mapping under the key the caller passes as parameter N (`def header(request, name): return
   * request.headers.get(name)`): at a call, the caller's credential only when that key names one.
   */
  keyParam?: number;
  /** …and read from the storage cell of that key (`ctx.get_state(key)`): a caller's constant key must be this one. */
  cellKey?: string;
}

export type Taints = Taint[];

export const NONE: Taints = [];

export function union(...sets: Taints[]): Taints {
  const out: Taints = [];
  for (const set of sets) {
    for (const t of set) {
      const i = out.findIndex((o) => same(o, t));
      if (i < 0) out.push(t);
      // The same value reached under more keys of an object (`return { jira }` on one path, `{ deviceId }` on another).
      else if (t.holders) {
        const o = out[i]!;
        const keys = [...new Set([...(o.holders ?? []), ...t.holders])];
        if (keys.length !== (o.holders?.length ?? 0)) out[i] = { ...o, holders: keys };
      }
    }
  }
  return out;
}

/** The taint, placed under `key` of an enclosing object (see `Taint.holders`). */
export function heldUnder(t: Taint, key: string): Taint {
  return { ...t, holders: [...(t.holders ?? []), key] };
}

function same(a: Taint, b: Taint): boolean {
  // Placeholders of different functions are different values: a callback's `q` and its enclosing function's `apiKey`
  // are both "argument 0", of different calls.
  return a.kind === b.kind && a.param === b.param && a.owner === b.owner && a.field === b.field && a.origin?.line === b.origin?.line &&
    a.origin?.text === b.origin?.text && a.origin?.file === b.origin?.file;
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

/** The file being analysed and a count of inbound sources created (a file without any can skip later passes). */
export const current = { file: '', sources: 0 };

const MAX_PATH = 16;

export function stepAt(node: Node, message: string, file = current.file): PathStep {
  return { file, line: node.startPosition.row + 1, column: node.startPosition.column + 1, message };
}

/** Appends a step to a path, keeping the first and last steps when it grows long (loops, long chains). */
export function extend(path: readonly PathStep[] | undefined, ...steps: PathStep[]): PathStep[] {
  const base = path ?? [];
  const last = base[base.length - 1];
  const fresh = steps.filter((s, i) => {
    const prev = i ? steps[i - 1] : last;
    return !prev || prev.file !== s.file || prev.line !== s.line || prev.message !== s.message;
  });
  const all = [...base, ...fresh];
  return all.length > MAX_PATH ? [...all.slice(0, 4), ...all.slice(all.length - (MAX_PATH - 4))] : all;
}

/** The same taints, each with a step appended (only those that carry something: sources and placeholders). */
export function hop(set: Taints, node: Node, message: string): Taints {
  if (!set.length) return set;
  const step = stepAt(node, message);
  return set.map((t) => ({ ...t, path: extend(t.path, step) }));
}

export function source(kind: Kind, node: Node, label?: string): Taint {
  current.sources++;
  const text = short(node.text);
  return { kind, origin: { file: current.file, line: node.startPosition.row + 1, text }, path: [stepAt(node, label ?? `source: \`${text}\``)] };
}

/** A source derived from another taint at a more specific read (`headers` → `headers["Authorization"]`), keeping its path. */
export function derive(t: Taint, kind: Kind, node: Node): Taint {
  if (!t.origin) return { ...t, kind };
  const s = source(kind, node);
  // `req` → `req.headers` → `req.headers.authorization` on one line is one source step, the most specific.
  const before = t.path ?? [];
  const last = before[before.length - 1];
  const kept = last && last.message.startsWith('source:') && last.line === s.path![0]!.line && last.file === s.path![0]!.file ? before.slice(0, -1) : before;
  return { ...s, path: extend(kept, ...s.path!) };
}

/** A placeholder (parameter or field) rather than a value read from a request. */
export function isPlaceholder(t: Taint): boolean {
  return t.param !== undefined || t.field !== undefined;
}

export function short(text: string, max = 70): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? flat.slice(0, max - 1) + '…' : flat;
}

/** Splits an identifier into lower-case words (`apiKey`, `API_KEY`, `x-api-key` → api, key). */
export function words(name: string): string[] {
  return name.replace(/([a-z0-9])([A-Z])/g, '$1_$2').replace(/([A-Z]+)([A-Z][a-z])/g, '$1_$2').toLowerCase().split(/[^a-z0-9]+/).filter(Boolean);
}

/** Names of code that checks or transforms a credential rather than sending it (`verifyIdToken`, `decode_token`). */
export const CHECKS_CREDENTIAL = /verify|validate|introspect|revoke|decode|check|hash/i;

/** Header names that carry credentials (compared lower-case, `_` as `-`). */
export function isCredentialHeader(name: string): boolean {
  const n = name.toLowerCase().replace(/_/g, '-');
  if (n === 'authorization' || n === 'proxy-authorization' || n === 'cookie') return true;
  // Session and request identifiers (`Mcp-Session-Id`) name a session; they do not prove who the caller is.
  if (/(^|-)(session-?id|request-?id|sid)$/.test(n)) return false;
  if (['auth', 'token', 'api-key', 'apikey', 'secret', 'credential', 'session', 'bearer', 'password', 'passwd'].some((w) => n.includes(w))) return true;
  // `x-jira-pat`, `x-github-pat`: a personal access token; `x-monet-pass`: a password.
  if (/(^|-)(pat|pass|pwd)$/.test(n)) return true;
  // `x-subscription-key`, `ocp-apim-subscription-key`, `kosis_key`: a key by name, unless it names something else.
  return /(^|-)key$/.test(n) && !/(^|-)(idempotency|cache|public|sort|partition|routing|dedup|dedupe|primary|foreign|object|storage|file)-key$/.test(n);
}

/**
 * A value read from an inbound map (a header, a query parameter, a cookie) under a name that says nothing, bound
 * straight to a name that calls it a credential: `sec_token = request.headers["SEC"]`,
 * `tokens["sec_token"] = request.headers["SEC"]`, `{ apiKey: req.query.k }`. The code says what the header holds.
 */
export function boundToCredentialName(read: Node): boolean {
  let n = read;
  // …through `x or ""`, `x ?? ''`, `(x)`, `await x`, a conditional's branch, a TypeScript cast.
  for (let p = n.parent; p && (BINDING_WRAPPERS.has(p.type) || (p.type === 'binary_expression' && /^(\|\||\?\?)$/.test(p.childForFieldName('operator')?.text ?? ''))); p = p.parent) n = p;
  const p = n.parent;
  let target: Node | null | undefined;
  if (p?.type === 'assignment' || p?.type === 'assignment_expression') target = p.childForFieldName('right')?.id === n.id ? p.childForFieldName('left') : undefined;
  else if (p?.type === 'variable_declarator') target = p.childForFieldName('value')?.id === n.id ? p.childForFieldName('name') : undefined;
  else if (p?.type === 'keyword_argument') target = p.childForFieldName('value')?.id === n.id ? p.childForFieldName('name') : undefined;
  else if (p?.type === 'pair') target = p.childForFieldName('value')?.id === n.id ? p.childForFieldName('key') : undefined;
  const name = boundName(target);
  return !!name && isCredentialName(name) && isCredentialHeader(name);
}

const BINDING_WRAPPERS = new Set([
  'boolean_operator', 'parenthesized_expression', 'await', 'await_expression', 'conditional_expression', 'ternary_expression',
  'as_expression', 'non_null_expression', 'satisfies_expression',
]);

/** The name a binding target gives: `x`, `self.x`, `this.x`, `d["x"]`, a dict or object key. */
function boundName(t: Node | null | undefined): string | undefined {
  if (!t) return undefined;
  if (t.type === 'identifier' || t.type === 'property_identifier' || t.type === 'shorthand_property_identifier') return t.text;
  if (t.type === 'string') return stringValue(t);
  if (t.type === 'attribute') return t.childForFieldName('attribute')?.text;
  if (t.type === 'member_expression') return t.childForFieldName('property')?.text;
  if (t.type === 'subscript') return stringValue(t.childForFieldName('subscript'));
  if (t.type === 'subscript_expression') return stringValue(t.childForFieldName('index'));
  return undefined;
}

const CREDENTIAL_WORDS = new Set([
  'token', 'tokens', 'key', 'apikey', 'auth', 'authorization', 'secret', 'credential', 'credentials', 'password',
  'passwd', 'bearer', 'pat', 'jwt', 'authtoken', 'accesstoken', 'apitoken', 'cookie', 'cookies',
]);

const NOT_A_CREDENTIAL_WORDS = new Set([
  'url', 'uri', 'endpoint', 'type', 'expires', 'name', 'id', 'ids', 'identifier', 'method', 'mode', 'provider', 'scheme',
  'status', 'enabled', 'required', 'mechanism', 'length', 'count', 'path', 'file', 'dir', 'hash', 'prefix', 'hint',
  // A function that makes a key (slowapi's `Limiter(key_func=…)`) is not one.
  'func', 'fn',
]);

/** Parameter / property names that take a credential (`api_key`, `apiToken`, `auth`, `access_token`, `token`). */
export function isCredentialName(name: string): boolean {
  const w = words(name);
  if (!w.length) return false;
  // Names that say what kind of credential, where, or which one, but do not hold it (`auth_identifier`, `key_id`,
  // `auth_method`, `token_type`, `client_id`).
  // (An `id_token` is one: an OpenID Connect ID token, which APIs that take it treat as a bearer.)
  if (w.some((x, i) => NOT_A_CREDENTIAL_WORDS.has(x) && !(x === 'id' && w[i + 1] === 'token'))) return false;
  return w.some((x) => CREDENTIAL_WORDS.has(x));
}

/**
 * Query parameters whose value is a blob of client settings (Smithery's base64 JSON `?config=`): it holds the
 * client's keys, read back by name after decoding.
 */
export function isSettingsBlob(name: string): boolean {
  const w = words(name);
  return w.length > 0 && ['config', 'configuration', 'settings'].includes(w[w.length - 1]!);
}

/**
 * URLs that hand a token back to the authorization server that issued it (RFC 7009 revocation, RFC 7662
 * introspection, Google's tokeninfo, Meta's debug_token, an OpenID Connect userinfo endpoint): not a replay to another
 * service.
 */
export const TO_ISSUER = /revoke|revocation|introspect|tokeninfo|debug_token|userinfo|user_info/i;

/**
 * An authorization server's token or registration endpoint (`${authServer}/oauth/token`, `/oauth2/register`): what an
 * OAuth proxy relays there (the client's own authentication, a refresh grant, a registration) is addressed to it.
 */
const TO_AUTHORIZATION_SERVER = /\/(?:oauth2?|connect|auth)\/(?:token|register)(?![\w-])/i;

/** Clients named so hold state, not a remote API (`cache_client`, `redisClient`, `db_api`): their methods send nothing on. */
export const NOT_A_KEPT_CLIENT = /cache|redis|memcache|db|store|kv|queue/i;

/** A request to the issuer itself: its token or registration endpoint, or its tokeninfo / introspect / revoke URL. */
export function addressedToIssuer(url: Node | undefined): boolean {
  const text = url ? urlText(url) : '';
  return TO_AUTHORIZATION_SERVER.test(text) || TO_ISSUER.test(text) || (!!url && identityLookup(url, text));
}

/**
 * A request to this server itself: a URL built, through up to three locals, from the inbound request's own base
 * (`str(request.base_url)`, `request.url_for(…)`, `request.build_absolute_uri(…)`, `new URL('/mcp', req.url)`,
 * `` `${req.protocol}://${req.get('host')}` ``). A route relaying to the server's own `/mcp` endpoint hands the
 * request to itself, not to another service.
 */
export function addressedToSelf(url: Node | undefined): boolean {
  let node = url;
  for (let hops = 0; node && hops < 4; hops++) {
    if (SELF_URL.test(node.text)) return true;
    const ids = node.type === 'identifier' ? [node] : node.descendantsOfType('identifier').filter((n): n is Node => !!n);
    let next: Node | undefined;
    for (const id of ids) if ((next = assignedBefore(id))) break;
    node = next;
  }
  return false;
}
const SELF_URL = /\b(request|req)\.(base_url\b|url_for\(|build_absolute_uri\()|new URL\([^,()]+,\s*(request|req)\.url\s*\)|\$\{\s*req\.protocol\s*\}:\/\/\$\{\s*req\.(get\(\s*['"]host['"]\s*\)|headers\.host)/;

/**
 * `GET …/cloud/user` (`/me`, `/userinfo`, `/whoami`) from a function named for finding out who the caller is
 * (`get_user`, `getCurrentUser`, `whoami`): the token's issuer is asked whose token it is, as a userinfo request asks.
 */
function identityLookup(url: Node, text: string): boolean {
  if (!IDENTITY_PATH.test(text)) return false;
  const fn = enclosingFunction(url);
  const w = words((fn && functionName(fn)) ?? '');
  while (w.length > 1 && ['info', 'id', 'name', 'details', 'data', 'async'].includes(w.at(-1)!)) w.pop();
  const subject = w.at(-1) ?? '';
  const verbs = w.slice(0, -1).filter((x) => !['current', 'authenticated', 'my', 'the', 'caller'].includes(x));
  if (!fn || !IDENTITY_WORDS.has(subject) || !verbs.every((x) => LOOKUP_VERBS.has(x))) return false;
  // …handing back only who it is (an id, a login, an email), not the profile it read: a tool returning the user's
  // data to its caller uses the token for that data.
  const returns = fn.descendantsOfType('return_statement').map((r) => r?.namedChildren[0]?.text.trim()).filter((t): t is string => !!t);
  return returns.length > 0 && returns.every((t) => IDENTITY_VALUE.test(t));
}
const IDENTITY_VALUE = /(\[\s*["'](id|login|sub|email|username|user_?id|uid|user_?name)["']\s*\]|\.(id|login|sub|email|username|userId|user_id|uid)|\.get\(\s*["'](id|login|sub|email|username|user_?id|uid)["'][^)]*\))\s*$|^(None|null|undefined)$/;
const IDENTITY_PATH = /\/(users?|me|userinfo|user_?info|whoami|identity|current_?user|profile)\/?(\?[^'"`]*)?['"`]?\)?\s*$/i;
const IDENTITY_WORDS = new Set(['user', 'me', 'identity', 'caller', 'principal', 'whoami', 'userinfo', 'profile']);
const LOOKUP_VERBS = new Set(['get', 'fetch', 'resolve', 'lookup', 'load', 'identify', 'find', 'read', 'who', 'am', 'i', 'whoami']);

/**
 * The text of a URL argument, through the local it was built in (`debug_url = f"{BASE}/debug_token"`, then
 * `client.get(debug_url, …)`): the last assignment to that name before it in the function.
 */
function urlText(url: Node): string {
  const value = url.type === 'identifier' ? assignedBefore(url) : undefined;
  return value ? `${url.text} ${value.text}` : url.text;
}

/** The value last assigned to the name `id` before it, in the function around it. */
export function assignedBefore(id: Node): Node | undefined {
  const fn = enclosingFunction(id);
  let value: Node | undefined;
  for (const d of fn ? fn.descendantsOfType(['assignment', 'variable_declarator']) : []) {
    if (!d || d.startIndex > id.startIndex) continue;
    const target = d.childForFieldName(d.type === 'assignment' ? 'left' : 'name');
    if (target?.text === id.text) value = d.childForFieldName(d.type === 'assignment' ? 'right' : 'value') ?? undefined;
  }
  return value;
}

/**
 * A request that looks a record up by the credential (`get_endpoint_by_key(key)` →
 * `GET {backend}/internal/endpoint-by-key/{key}`): the server's own backend resolving which tenant a key belongs to,
 * as a database query would, not a call made with the caller's authority.
 */
export function looksUpByCredential(at: Node): boolean {
  const fn = enclosingFunction(at);
  return !!fn && (LOOKUP_BY.test(functionName(fn) ?? '') || LOOKUP_PATH.test(fn.text));
}

const LOOKUP_BY = /_by_(?:\w+_)?(?:key|token)$|By\w*(?:Key|Token)$/;
/** …or a URL path naming the lookup (`/endpoint-by-key/`, `/users/by_token/`). */
const LOOKUP_PATH = /["'`][^"'`\n]*\/[\w-]*by[-_](?:[\w-]+[-_])?(?:key|token)\b/;

/**
 * A request body that trades a token or hands it back to its issuer: RFC 8693 exchange (`subject_token`), a JWT-bearer
 * or client assertion, any `urn:ietf:params:oauth:grant-type:…` grant, a client-credentials grant (the
 * client authenticates as itself, as `isTokenExchangeName` holds), introspection, revocation.
 */
const TRADES_TOKEN = /client_credentials|subject_token|actor_token|client_assertion|urn:ietf:params:oauth:grant-type|introspect|revoke|revocation|tokeninfo/i;

/**
 * Whether a credential in the body of a request is traded or checked rather than replayed: the
 * function around it says so (its name checks a credential, or its code names an exchange or an issuer's endpoint).
 * `{"refresh_token": tok}` or a login `{"api-key": key}` is the caller's credential spent upstream; a
 * `subject_token` is the standard way not to.
 */
export function tradesTokenInBody(at: Node): boolean {
  // `at` is the request call (Python) or the body's argument or `body:` pair (JavaScript).
  const fn = enclosingFunction(at);
  const name = (fn && functionName(fn)) ?? '';
  const request = at.parent?.type === 'arguments' || at.parent?.type === 'pair' ? enclosingCall(at) ?? at : at;
  return CHECKS_CREDENTIAL.test(name) || ASKS_ISSUER.test(name) || ASKS_ISSUER.test(request.text) || TRADES_TOKEN.test((fn ?? at).text);
}

/**
 * Functions that hand the caller's token to the service that issued it to learn what it stands for: RFC 7662
 * introspection, a session lookup at the server's own auth service (`resolve_session(mcp_access_token)`). Their
 * requests are the check, not a replay.
 */
export function resolvesWithIssuer(name: string | undefined): boolean {
  return !!name && /introspect_?(access_?)?token|(resolve|lookup|look_up)_?(mcp_?)?session$/i.test(name);
}

/** A request that asks the credential's issuer about it (`authenticate(token)`, `POST /api/keys/verify`). */
const ASKS_ISSUER = /authenticate|verify|validate/i;

function enclosingCall(node: Node): Node | undefined {
  for (let n = node.parent; n; n = n.parent) if (n.type === 'call' || n.type === 'call_expression') return n;
  return undefined;
}

/**
 * What of a request body's taints is a credential put there: a credential string, or a map holding one under a key
 * the code wrote (`{"api_key": tok}`). A whole inbound map copied into the body (an OAuth proxy relaying a token
 * request's form, a proxy relaying a JSON-RPC body) is the request relayed, not a credential spent.
 */
export function bodyCredential(set: Taints): Taints {
  return set.filter((t) => t.kind === 'cred' || (t.kind === 'headers' && (!!t.holders?.length || !!t.keyed)));
}

/** Names (variables, parameters, attributes) that stand for the inbound request in common frameworks. */
export const REQUEST_NAMES: ReadonlySet<string> = new Set([
  'request', 'req', 'http_request', 'httpRequest', 'incoming', 'incoming_request', 'incomingRequest',
  'inbound_request', 'inboundRequest', 'starlette_request', 'raw_request', 'rawRequest',
]);

/** Attribute names that lead from any object to the inbound request (`ctx.request_context.request`, `c.req`, `c.req.raw`). */
export const REQUEST_ATTRS: ReadonlySet<string> = new Set(['request', 'req', 'http_request', 'raw_request', 'requestInfo', 'request_info']);

/** Attribute names that lead to the MCP SDKs' verified-token objects (`extra.authInfo`, `req.auth`). */
export const AUTH_INFO_ATTRS: ReadonlySet<string> = new Set(['authInfo', 'auth_info']);

/** Attributes of token objects that hold the raw token string. */
export const TOKEN_ATTRS: ReadonlySet<string> = new Set(['token', 'access_token', 'accessToken', 'raw_token', 'rawToken', 'credentials', 'jwt', 'bearer', 'bearerToken', 'bearer_token']);

/** Type names of inbound request objects (annotations on parameters). */
export const REQUEST_TYPES: ReadonlySet<string> = new Set([
  'Request', 'HTTPConnection', 'IncomingMessage', 'FastifyRequest', 'HonoRequest', 'NextRequest', 'ExpressRequest',
  'HttpRequest', 'WSGIRequest', 'ASGIRequest', 'web.Request', 'BaseRequest', 'RequestInfo',
]);

/**
 * Whether a type annotation says a parameter called `request` is something other than the inbound HTTP request: an
 * outgoing request's configuration (`InternalAxiosRequestConfig`, `RequestInit`), a JSON-RPC message
 * (`CallToolRequest`) or an API's request model (`WebhookRequest`, `CreateIssueRequest`). An annotation naming the
 * framework's request, or the project's own extension of it (`AuthenticatedRequest`, `McpRequest`, `IRequest`), does not.
 */
export function namesOtherRequest(typeName: string | undefined): boolean {
  if (!typeName || REQUEST_TYPES.has(typeName)) return false;
  if (/(Config|Configuration|Options|Opts|Init|Params|Args|Input|Payload|Body|Data|Schema|Spec|Model|Dto|DTO)$/.test(typeName)) return true;
  const m = /^([A-Za-z0-9_]*?)_?(Request|Req)$/.exec(typeName);
  if (!m) return false;
  // Every word of the prefix names the framework or what the project added to its request (`AuthenticatedRequest`,
  // `McpAuthRequest`); one other word makes it a model (`UserWebhookRequest`, `CreateSessionRequest`).
  const prefix = words(m[1]!);
  return prefix.length > 0 && !prefix.every((w) => INBOUND_WORDS.has(w));
}
const INBOUND_WORDS = new Set([
  'i', 'express', 'fastify', 'next', 'nextapi', 'api', 'vercel', 'hono', 'koa', 'http', 'incoming', 'inbound', 'server', 'node',
  'raw', 'web', 'base', 'custom', 'extended', 'typed', 'app', 'mcp', 'worker', 'cf', 'cloudflare', 'lambda', 'gateway',
  'proxy', 'wsgi', 'asgi', 'django', 'flask', 'starlette', 'fast', 'sanic', 'aiohttp', 'tornado', 'falcon', 'litestar',
  'enhanced', 'augmented', 'remix', 'svelte', 'astro', 'nitro', 'h3', 'bun', 'deno', 'router', 'route', 'itty', 'elysia',
  'any', 'generic', 'plain', 'platform', 'edge', 'middleware', 'auth', 'authenticated', 'authed', 'authorized', 'user',
  'session', 'tenant', 'context', 'ctx', 'principal', 'identity', 'scoped', 'verified', 'secure', 'protected', 'signed',
  'with', 'oauth', 'bearer', 'token', 'jwt',
]);

const READS_REQUEST = new Set(['resolve', 'extract', 'parse', 'read', 'header', 'headers', 'incoming']);

/** What a token exchange trades, or what it gets: words that make `exchange` in a name mean RFC 8693 or OAuth. */
const EXCHANGED = new Set(['token', 'tokens', 'credential', 'credentials', 'cred', 'creds', 'code', 'grant', 'jwt', 'assertion', 'auth', 'downstream', 'upstream', 'access', 'subject', 'delegation', 'for']);

/**
 * Names of functions that turn the caller's token into a different one (token exchange, on-behalf-of, minting,
 * client credentials, a downstream credential store): their results are clean, and calls made inside them (to the
 * token endpoint) are not reported. Generalises the seed's `mint_downstream_token`, `exchange_for_downstream`,
 * `get_downstream_credential`.
 */
export function isTokenExchangeName(name: string): boolean {
  const w = words(name);
  const joined = w.join('_');
  if (['mint', 'obo', 'impersonate'].some((x) => w.includes(x))) return true;
  // `exchange_token`, `exchangeForDownstream`, `exchange(tok)`; not a crypto or currency exchange (`ExchangeClient`,
  // `get_exchange_rates`), whose API takes the caller's key like any other.
  if (w.includes('exchange') && (w.length === 1 || w.some((x) => EXCHANGED.has(x)))) return true;
  // `resolve_client_credentials(ctx)`, `extractClientCredentials(req)`: the MCP client's own credentials read from its
  // request, not an OAuth client-credentials grant.
  if (joined.includes('client_credentials') && w.some((x) => READS_REQUEST.has(x))) return false;
  return [
    'downstream_token', 'downstream_cred', 'on_behalf_of', 'acquire_token', 'get_token_for', 'token_for',
    'client_credentials', 'service_token', 'service_account', 'upstream_token', 'token_from_vault', 'token_from_store',
    'refresh_token', 'refresh_access_token', 'installation_token',
  ].some((x) => joined.includes(x));
}

/**
 * A call of a function named for a credential the server holds (`get_service_account_credentials()`,
 * `get_upstream_token()`) gives a clean result, unless its body says otherwise: it hands back the caller's credential
 * read inside it (a context variable the request filled), unchanged. A name that says it transforms the credential
 * (mint, exchange, on-behalf-of, refresh) is believed whatever the body returns.
 */
export function exemptResult(name: string, summaryOf: () => Summary | undefined): boolean {
  if (!isTokenExchangeName(name)) return false;
  const w = words(name);
  if (['mint', 'exchange', 'obo', 'impersonate', 'acquire', 'refresh', 'behalf'].some((x) => w.includes(x))) return true;
  // (The callee's summary is looked up only here, for the few calls named so.)
  return !summaryOf()?.returns.some((t) => t.origin && t.param === undefined && t.field === undefined && (t.kind === 'cred' || t.kind === 'headers'));
}

/** Methods of HTTP clients whose `headers` (or options with headers) go on the wire. */
export const HTTP_METHOD_NAMES: ReadonlySet<string> = new Set([
  'get', 'post', 'put', 'patch', 'delete', 'del', 'head', 'options', 'request', 'stream', 'send', 'fetch',
  'build_request', 'urlopen', 'ws_connect', 'create', 'extend', 'dispatch', 'connect',
  // openapi-fetch's typed clients: `client.GET(path, { headers })`.
  'GET', 'POST', 'PUT', 'PATCH', 'DELETE',
]);

/** MCP client transports to a remote MCP server: the headers they are given go on every request to it. */
export const MCP_CLIENT_TRANSPORTS: ReadonlySet<string> = new Set([
  'streamablehttp_client', 'streamable_http_client', 'sse_client', 'StreamableHttpTransport', 'SSETransport',
  'StreamableHTTPClientTransport', 'SSEClientTransport', 'WebSocketClientTransport',
]);

/** Constructors of HTTP clients / requests that take default or request headers. */
export const HTTP_CONSTRUCTORS: ReadonlySet<string> = new Set([
  'Client', 'AsyncClient', 'Session', 'ClientSession', 'Request', 'PoolManager', 'Pool', 'Agent', 'ProxyAgent',
  'Headers', 'HTTPConnection', 'HTTPSConnection',
]);

/** Where a tainted value enters an outbound request: reported there. Plain data, so summaries outlive syntax trees. */
export type SinkLoc = Pick<Finding, 'file' | 'line' | 'column' | 'endLine' | 'endColumn' | 'snippet'>;

export interface SinkSite {
  /** Set for parameter sinks; `field` for constructor-field sinks. */
  param?: number;
  field?: string;
  loc: SinkLoc;
  what: string;
  /** Steps from the parameter (or field) to the sink. */
  path: readonly PathStep[];
  /** The kinds of argument that reach the sink (default: credentials, header maps, options with headers). */
  kinds?: Kind[];
}

export interface Summary {
  returns: Taints;
  sinks: SinkSite[];
  /** Parameter names in order (keyword arguments and `{ name }` objects map onto them). */
  params: string[];
  /** The classes (`file#Class`) of what the function returns, when it constructs them: `get_credential()` → its instances. */
  returnsClass?: string[];
  /** Parameters the function writes to shared storage (a setter: `def set_token(t): token_var.set(t)`). */
  stores?: { param: number; key: string; label: string; kind: Kind; under?: readonly string[] }[];
  /** For a merged summary, the summaries it stands for (their placeholders are its parameters). */
  parts?: Summary[];
  /** A settings type of the scan the function is declared to return: what a call gets back, every value of it may hold. */
  returnsType?: string;
  /** Python: the index of a `**kwargs` parameter, which keyword arguments matching no other parameter land in. */
  kwargs?: number;
  /**
   * A parameter the function calls as a function (or returns a closure calling), with the inbound values it passes
   * (`withApiKey(execute)` calling `execute(params, apiKey)`): parameter → argument position → taints. A caller that
   * hands over one of its own functions there has it called with them.
   */
  callbackArgs?: Record<number, Taints[]>;
  /**
   * Parameters the function fills with a credential (`headers[name] = f"Bearer {token}"` in
   * `_inject_credentials(self, headers, token)`): parameter → what it now holds. The caller's own dict or object,
   * passed there, holds it after the call.
   */
  fills?: Record<number, Taints>;
  /** A method returning its own instance (`return self`, for chaining): a call gives back what its receiver holds. */
  returnsSelf?: boolean;
}

/** One summary for a call that may reach any of several functions (overrides, a factory's possible classes). */
export function mergeSummaries(list: Summary[]): Summary | undefined {
  if (list.length <= 1) return list[0];
  return {
    params: list[0]!.params, returns: union(...list.map((s) => s.returns)), sinks: list.flatMap((s) => s.sinks), stores: list.flatMap((s) => s.stores ?? []),
    parts: list.flatMap((s) => s.parts ?? [s]), returnsSelf: list.some((s) => s.returnsSelf) || undefined,
  };
}

export function emptySummary(): Summary {
  return { returns: [], sinks: [], params: [] };
}

/**
 * Result of calling a summarised function: real taints it returns by itself, plus parameter placeholders replaced by
 * the taints of the matching arguments (keeping the kind the function turned them into).
 */
export function applyReturns(summary: Summary, args: Taints[], call: Node, callee: string): Taints {
  let out: Taints = [];
  for (const t of summary.returns) {
    if (t.keyParam !== undefined && !keyNamesCredential(call, t.keyParam, summary.params[t.keyParam], t.cellKey)) continue;
    // A closure returning its enclosing function's parameter (`def headers(): return {"X-Token": token}` inside
    // `build(token)`) returns that parameter, not the closure's own argument.
    const foreign = t.param !== undefined && !!t.owner && t.owner !== summary && !summary.parts?.includes(t.owner);
    if (t.param === undefined || foreign) out = union(out, [{ ...t, path: extend(t.path, stepAt(call, `returned by \`${callee}\``)) }]);
    else {
      const arg = args[t.param] ?? [];
      const relevant = only(arg, 'cred', 'headers', 'tokenobj', 'request', 'options', ...(t.parsed ? ['url' as const] : []));
      out = union(out, relevant.map((a) => ({ ...a, kind: t.kind, holders: t.holders ?? a.holders, path: extend(a.path, stepAt(call, `passed to \`${callee}\``), ...(t.path ?? [])) })));
    }
  }
  return out;
}

/**
 * Whether the key a call passes as parameter `index` (positionally, or by keyword `name`) may name a credential: a
 * constant naming one, or one the code does not spell out.
 */
function keyNamesCredential(call: Node, index: number, name: string | undefined, cellKey?: string): boolean {
  const args = call.childForFieldName('arguments')?.namedChildren.filter((a): a is Node => !!a && a.type !== 'comment') ?? [];
  const keyword = args.find((a) => a.type === 'keyword_argument' && a.childForFieldName('name')?.text === name)?.childForFieldName('value');
  const node = keyword ?? args.filter((a) => a.type !== 'keyword_argument')[index];
  const key = node ? stringValue(node) : undefined;
  if (cellKey !== undefined) return key === undefined ? node?.type !== 'identifier' || isCredentialName(node.text) : key === cellKey;
  return key === undefined || isCredentialHeader(key) || isCredentialName(key) || isSettingsBlob(key);
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
  /** A class body: the functions defined directly in it are its methods (`Class.name`); ones nested in a method are not. */
  classBody?: boolean;
  /** Name of the function or method this frame belongs to. */
  fn?: string;
  /** Python `global x` / `nonlocal x` names in this function. */
  globals?: Set<string>;
  /** Instances of known classes held by local names (`api = ApiClient()`), for method summaries. */
  types?: Map<string, string>;
  /** Inside a branch, loop or handler: an assignment may not happen, so it adds to what the name held. */
  cond?: number;
  /** A token verifier's body (mcp-handler `verifyToken`, the SDK's `verifyAccessToken`): what it returns is the AuthInfo. */
  verifier?: boolean;
  /** An HTTP client's request hook (an axios interceptor, a ky/got `beforeRequest`): its parameter that is the outgoing request. */
  outgoing?: string;
  /** Python names bound to a method of an object (`post = client.post`, `send = getattr(client, method)`): calls of them are its. */
  methodRefs?: Map<string, Node>;
  /** What this walk of the function returned (its summary may be shared with same-named functions): a closure's value. */
  returned?: Taints;
}

/**
 * The summary key of a function defined in `outer`: `Class.name` for a method, `Class.method>name` for a function nested
 * in a named function (two methods' `_emit` helpers are two functions), the bare name at module level.
 */
export function functionKey(outer: Frame, name: string): string {
  if (outer.classBody) return `${outer.className}.${name}`;
  if (outer.fn) return `${outer.className ?? ''}.${outer.fn}>${name}`;
  return name;
}

/** The key a plain call `name(…)` made in `frame` resolves to: the nearest enclosing function's nested one, if any. */
export function nestedKey(frame: Frame | undefined, name: string, has: (key: string) => boolean): string | undefined {
  for (let f = frame; f; f = f.parent) {
    if (f.classBody || !f.fn) continue;
    const key = functionKey(f, name);
    if (has(key)) return key;
  }
  return undefined;
}

/** Walks `body` as code that may not run (a branch): assignments in it add to, rather than replace, what names hold. */
export function branch(frame: Frame, body: () => void): void {
  frame.cond = (frame.cond ?? 0) + 1;
  try {
    body();
  } finally {
    frame.cond--;
  }
}

/** What a name holds after `name = value`: the value, or in a branch the value and what it held before. */
export function assigned(frame: Frame, name: string, value: Taints): Taints {
  if (!frame.cond) return value;
  const before = frame.vars.get(name);
  return before?.length ? union(before, value) : value;
}

/**
 * What remains of a copy of the inbound headers once the Authorization header is removed from it (`del h["authorization"]`,
 * `delete h.authorization`): the whole-map taints go, credentials put into it under a key stay.
 */
export function stripHeaders(frame: Frame, name: string): void {
  for (let f: Frame | undefined = frame; f; f = f.parent) {
    const held = f.vars.get(name);
    if (!held) continue;
    f.vars.set(name, held.filter((t) => !(t.kind === 'headers' && t.origin && !t.holders?.length && !t.keyed)));
    return;
  }
}

export function lookup(frame: Frame | undefined, name: string): Taints | undefined {
  for (let f = frame; f; f = f.parent) {
    const v = f.vars.get(name);
    if (v) return v;
  }
  return undefined;
}

export function typeOf(frame: Frame | undefined, name: string): string | undefined {
  for (let f = frame; f; f = f.parent) {
    const v = f.types?.get(name);
    if (v) return v;
  }
  return undefined;
}

/** Assigned in the current function itself (closures' and module variables are shared objects, not locals). */
export function isLocal(frame: Frame | undefined, name: string): boolean {
  return frame?.locals.has(name) ?? false;
}
