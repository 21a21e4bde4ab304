// Python walker for the passthrough taint engine (tree-sitter-python node types).
import { enclosingFunction, httpCliProgram, stringValue } from '../context.ts';
import { qualify } from '../imports.ts';
import type { Node } from '../parser.ts';
import {
  namesOtherRequest, resolvesWithIssuer, NOT_A_KEPT_CLIENT, AUTH_INFO_ATTRS, HTTP_CONSTRUCTORS, MCP_CLIENT_TRANSPORTS, HTTP_METHOD_NAMES, NONE, REQUEST_ATTRS, REQUEST_NAMES, REQUEST_TYPES, TOKEN_ATTRS,
  boundToCredentialName, branch, functionKey, nestedKey, carriesCredential, derive, looksUpByCredential, heldUnder, hop, isCredentialHeader, isCredentialName, isPlaceholder, isLocal, isSettingsBlob, isTokenExchangeName, exemptResult, lookup, TO_ISSUER, addressedToIssuer, addressedToSelf, only, retag, short, source, stepAt, typeOf,
  bodyCredential, stripHeaders, tradesTokenInBody, union, type Frame, type Summary, type Taint, type Taints,
} from './core.ts';
import { Engine, drawsAPage, isClientLike } from './engine.ts';

/** str methods whose result still holds the credential. */
const STRING_METHODS = new Set([
  'strip', 'lstrip', 'rstrip', 'split', 'rsplit', 'partition', 'rpartition', 'replace', 'removeprefix', 'removesuffix',
  'encode', 'decode', 'format', 'join', 'lower', 'upper', 'casefold', 'title', 'splitlines', 'zfill',
  // A regular-expression match on the credential (`re.match(r"Bearer (.+)", auth)`) hands back parts of it.
  'group', 'groups', 'groupdict', 'expand',
]);
/** `re` functions and compiled-pattern methods whose result holds (parts of) the string they are given. */
const REGEX_FUNCS = new Set(['match', 'search', 'fullmatch', 'findall', 'finditer', 'sub', 'subn']);
/** Request attributes read like headers: query maps, and path parameters (Starlette `path_params`, aiohttp `match_info`, Flask `view_args`). */
const QUERY_ATTRS = new Set(['query_params', 'args', 'GET', 'query', 'rel_url', 'path_params', 'match_info', 'view_args']);
/** Keys of request mappings that hold header or query maps: ASGI `scope["headers"]`, AWS Lambda proxy events. */
const REQUEST_MAPS = new Set(['headers', 'multiValueHeaders', 'queryStringParameters', 'multiValueQueryStringParameters']);
/** `http.server` request handler classes: an instance's `headers` are the inbound request's. */
const HTTP_SERVER_HANDLERS = new Set(['BaseHTTPRequestHandler', 'SimpleHTTPRequestHandler', 'CGIHTTPRequestHandler']);

const TRANSPARENT_CALLS = new Set([
  'str', 'bytes', 'dict', 'list', 'tuple', 'copy', 'deepcopy', 'b64encode', 'urlsafe_b64encode', 'standard_b64encode',
  'b64decode', 'urlsafe_b64decode', 'standard_b64decode', 'unquote', 'unquote_plus', 'loads', 'SecretStr',
  'quote', 'quote_plus', 'Headers', 'MutableHeaders', 'CaseInsensitiveDict', 'CIMultiDict', 'MappingProxyType', 'OrderedDict',
  'urlencode',
  // FastAPI's `scheme, credentials = get_authorization_scheme_param(auth_header)`.
  'get_authorization_scheme_param',
]);
/** aiohttp's `app.router.add_post(path, handler)` and `web.post(path, handler)` register a request handler. */
const AIOHTTP_ROUTE_ADDERS = new Set(['add_get', 'add_post', 'add_put', 'add_patch', 'add_delete', 'add_head', 'add_route', 'add_view']);
const AIOHTTP_ROUTE_DEFS = new Set(['get', 'post', 'put', 'patch', 'delete', 'head', 'route', 'view']);
/** Sanic's route decorators (not its listeners and signals, whose first parameter is the app). */
const SANIC_ROUTES = new Set(['get', 'post', 'put', 'patch', 'delete', 'head', 'options', 'route', 'websocket']);
/** Request methods that read one header (Falcon, Bottle, Tornado, BlackSheep). */
const REQUEST_HEADER_GETTERS = new Set(['get_header', 'getheader', 'get_first_header', 'get_single_header']);
/** `[:8]` or `[-4:]`: a short prefix or suffix. */
function displaySlice(slice: Node): boolean {
  const parts = slice.text.replace(/\s+/g, '').split(':');
  if (parts.length !== 2) return false;
  const [start, stop] = parts.map((x) => (x === '' ? undefined : Number(x)));
  return (start === undefined && Number.isInteger(stop) && stop! > 0 && stop! <= 16) || (stop === undefined && Number.isInteger(start) && start! < 0 && start! >= -16);
}
/** Getters named for the caller's credential (`get_active_api_key`, `get_user_token`, `get_bearer_token`). */
const CONTEXT_CREDENTIAL_GETTER = /^get_(\w+_)?(api_key|token|access_token|auth_token|bearer(_token)?|credentials?)$/;
/** String methods that change a header name's case (a deny list compared case-insensitively). */
const CASE_CHANGES = new Set(['lower', 'upper', 'title', 'casefold', 'strip']);
/** Methods of header mappings that read one header. */
const HEADER_GETTERS = new Set(['get', 'pop', 'getlist', 'get_list', 'get_all', 'getone', 'getheader', 'get_header']);
/** Methods of header mappings that return (part of) the mapping. */
const HEADER_VIEWS = new Set(['items', 'copy', 'to_dict', 'values', 'mutablecopy', 'raw', 'multi_items']);

/** Header-adding methods (`req.add_header("Authorization", tok)`) are sinks whatever the receiver. */
const ADD_HEADER_METHODS = new Set(['add_header', 'add_unredirected_header', 'putheader']);
const URL_METHODS = new Set(['get', 'post', 'put', 'patch', 'delete', 'head', 'options', 'request', 'stream', 'urlopen']);
const NOT_A_REQUEST = new Set(['Client', 'AsyncClient', 'Session', 'ClientSession', 'Request', 'Headers', 'BasicAuth', 'Timeout', 'Limits']);

/** The positional argument nodes of a call. */
function positionalNodes(call: Node): Node[] {
  return (call.childForFieldName('arguments')?.namedChildren ?? []).filter((a): a is Node => !!a && a.type !== 'keyword_argument' && a.type !== 'comment' && a.type !== 'dictionary_splat' && a.type !== 'list_splat');
}

/** Names of functions that send a request (`http_request`, `make_api_call`, `send_query`, `post_json`). */
const REQUEST_FUNCTION = /request|fetch|call|send|http|^(get|post|put|patch|delete)|api|query/i;

/**
 * Calls that judge, count or record a credential rather than use it (`verify_oauth2_token(token=…)`,
 * `enforce_api_key_auth_failure(request)`, `rate_limit_key`, `audit_api_key_use`), or look up what it stands for
 * (`resolve_token(session, token_value=tok)`, `lookup_api_key(key)`).
 */
const VERIFYING = /verify|validate|introspect|decode|check|compare|hash|^_?(enforce|rate_?limit|audit|fingerprint)_|^_*(resolve|lookup|look_up|find)_(\w+_)?(token|key|credential)s?$/i;

const CLIENT_MODULES = new Set(['requests', 'httpx', 'aiohttp', 'urllib', 'urllib3', 'http']);

/** Methods of a token verifier that receive the caller's bearer token as their first parameter. */
const VERIFY_METHODS = new Set(['verify_token', 'load_access_token']);
/** Base classes of token verifiers: FastMCP 2-4 and the MCP Python SDK. */
const TOKEN_VERIFIER_BASES = new Set(['AuthProvider', 'TokenVerifier', 'OAuthProvider', 'OAuthAuthorizationServerProvider', 'JWTVerifier', 'BearerAuthProvider', 'RemoteAuthProvider', 'StaticTokenVerifier', 'IntrospectionTokenVerifier', 'DebugTokenVerifier']);

/**
 * A class named as a credential provider (`ContextTokenAuth`, `CallerTokenProvider`, `BearerCredentials`), or its base
 * (`AuthBase`). Data classes match too (`StoredToken`): only a method returning the caller's own token counts.
 */
const CREDENTIAL_PROVIDER_CLASS = /(auth|token|credentials?)(provider|source|base)?$/i;

export class PythonEngine extends Engine {
  #consts: Map<string, string> | undefined;
  #module: Frame | undefined;

  protected walkModule(root: Node): void {
    const frame: Frame = { vars: new Map(), locals: new Set(), exempt: false };
    this.#module = frame;
    this.block(root, frame);
  }

  // ---- statements ----

  block(node: Node, frame: Frame): void {
    for (const child of node.namedChildren) if (child) this.statement(child, frame);
  }

  statement(node: Node, frame: Frame): void {
    switch (node.type) {
      case 'expression_statement': {
        // `parse_bearer_token = get_credentials` at module level: another name for the function, here and for importers.
        const a = node.namedChildren[0];
        const left = a?.type === 'assignment' ? a.childForFieldName('left') : undefined;
        const right = a?.childForFieldName('right');
        const fn = frame === this.#module && left?.type === 'identifier' && right?.type === 'identifier' ? this.summaries.get(right.text) : undefined;
        if (fn && left) this.summaries.set(left.text, fn);
        for (const c of node.namedChildren) if (c) this.expressionStatement(c, frame);
        return;
      }
      case 'function_definition':
        this.functionDef(node, frame);
        return;
      case 'decorated_definition': {
        const def = node.childForFieldName('definition');
        if (def) this.statement(def, frame);
        if (def?.type === 'function_definition') this.applyInjections(node, def, frame);
        return;
      }
      case 'class_definition': {
        const body = node.childForFieldName('body');
        const name = node.childForFieldName('name')?.text;
        const base = node.childForFieldName('superclasses')?.namedChildren.find((c) => c?.type === 'identifier' || c?.type === 'attribute');
        if (name && base) this.bases.set(name, base.text.split('.').pop()!);
        // `class _RestClient(pagerduty.RestApiV2Client)`: a subclass of another package's class, kept by its full name.
        if (name && base && this.fromPackage(base)) this.packageBases.set(name, base.text);
        if (name && body) this.declaredFields(name, body, node);
        // `_client_class = PlainRestClient` in the class body: `cls._client_class(…)` constructs that class.
        for (const stmt of body?.namedChildren ?? []) {
          const a = stmt?.type === 'expression_statement' ? stmt.namedChildren[0] : undefined;
          const left = a?.type === 'assignment' ? a.childForFieldName('left') : undefined;
          const right = a?.childForFieldName('right');
          if (name && left?.type === 'identifier' && right?.type === 'identifier' && /^_*[A-Z]/.test(right.text)) this.classAliases.set(`${name}.${left.text}`, right.text);
        }
        if (body) this.block(body, { ...frame, className: name, classBody: true });
        return;
      }
      case 'return_statement': {
        const value = node.namedChildren[0];
        if (value?.type === 'identifier' && value.text === 'self' && frame.className && frame.summary) frame.summary.returnsSelf = true;
        const t = value ? this.eval(value, frame) : NONE;
        if (frame.summary) frame.summary.returns = union(frame.summary.returns, hop(t, node, 'returned'));
        if (value) this.returnsInstance(frame, this.classOfCall(value, frame));
        return;
      }
      case 'global_statement':
      case 'nonlocal_statement':
        if (node.type === 'global_statement') for (const id of node.namedChildren) if (id?.type === 'identifier') (frame.globals ??= new Set()).add(id.text);
        return;
      case 'with_statement': {
        for (const item of node.descendantsOfType('with_item')) {
          const value = item.childForFieldName('value');
          if (!value) continue;
          if (value.type === 'as_pattern') {
            const expr = value.namedChildren[0]!;
            const t = this.eval(expr, frame);
            const target = value.childForFieldName('alias')?.namedChildren[0];
            if (target) this.assign(target, t, frame, expr);
          } else this.eval(value, frame);
        }
        const body = node.childForFieldName('body');
        if (body) this.block(body, frame);
        return;
      }
      case 'delete_statement': {
        // `del headers["authorization"]` on a copy of the inbound headers: what remains is not the caller's credential.
        for (const target of node.namedChildren.flatMap((c) => (c?.type === 'expression_list' ? c.namedChildren : [c]))) {
          const obj = target?.type === 'subscript' ? target.childForFieldName('value') : undefined;
          if (obj?.type === 'identifier' && lookup(frame, obj.text) && unconditional(node) && this.removesCredential(target!.childForFieldName('subscript'), target!)) stripHeaders(frame, obj.text);
        }
        return;
      }
      case 'for_statement': {
        const t = this.eval(node.childForFieldName('right')!, frame);
        this.assign(node.childForFieldName('left')!, t, frame);
        for (const c of node.namedChildren) if (c?.type === 'block' || c?.type === 'else_clause') this.block(c.type === 'block' ? c : c.namedChildren[0] ?? c, frame);
        return;
      }
      default:
        // if/while/try/match and their clauses: evaluate conditions, walk nested blocks in order, as branches.
        for (const c of node.namedChildren) {
          if (!c) continue;
          // An `if` branch that always returns or raises: what it assigns is not there after the `if`.
          const ends = node.type === 'if_statement' && terminates(c.type === 'block' ? c : c.childForFieldName('consequence') ?? c.childForFieldName('body') ?? c.namedChildren.find((k) => k?.type === 'block') ?? undefined);
          const before = ends ? new Map(frame.vars) : undefined;
          if (c.type === 'block') branch(frame, () => this.block(c, frame));
          else if (/_clause$|^case_|^block$/.test(c.type)) branch(frame, () => this.statement(c, frame));
          else if (isStatement(c.type)) this.statement(c, frame);
          else this.eval(c, frame);
          if (before) {
            for (const k of [...frame.vars.keys()]) if (!before.has(k)) frame.vars.delete(k);
            for (const [k, v] of before) frame.vars.set(k, v);
          }
        }
    }
  }

  expressionStatement(node: Node, frame: Frame): void {
    if (node.type === 'assignment' || node.type === 'augmented_assignment') {
      const right = node.childForFieldName('right');
      const left = node.childForFieldName('left')!;
      if (!right) return; // annotation only
      if (right.type === 'lambda' && left.type === 'identifier') this.functionDef(right, frame, left.text);
      if (left.type === 'identifier') {
        const entries = right.type === 'dictionary' ? right.namedChildren.filter((p) => p?.type !== 'comment') : [];
        const table = entries.length > 0 && entries.every((p) => p?.type === 'pair' && ['attribute', 'identifier'].includes(p.childForFieldName('value')!.type));
        // (…also an entry of such a table, `tool_func = tool_map[name]`.)
        const tableEntry = right.type === 'subscript' && right.childForFieldName('value')?.type === 'identifier' && methodRef(frame, right.childForFieldName('value')!.text)?.type === 'dictionary';
        if (right.type === 'attribute' || getattrArgs(right) || table || tableEntry) (frame.methodRefs ??= new Map()).set(left.text, right);
        else frame.methodRefs?.delete(left.text);
      }
      let t = this.eval(right, frame);
      if (node.type === 'augmented_assignment' && left.type === 'identifier') t = union(t, lookup(frame, left.text) ?? NONE);
      this.assign(left, t, frame, right);
      return;
    }
    this.eval(node, frame);
  }

  /** A `def`, or a lambda bound to a name (`send = lambda url, tok: requests.get(url, headers=…)`) under that name. */
  functionDef(node: Node, outer: Frame, boundTo?: string): void {
    const name = boundTo ?? node.childForFieldName('name')?.text ?? '<lambda>';
    const key = functionKey(outer, name);
    const summary = this.summaryFor(key);
    summary.params = [];
    this.currentSummary = summary;
    // A token verifier's `verify_token(self, token)` (FastMCP `AuthProvider` / `TokenVerifier`, the MCP SDK's
    // `TokenVerifier`) is handed the caller's bearer token: that parameter is the inbound credential. Calls made to
    // verify it (introspection, a userinfo endpoint) are not passthrough; what it stores or returns for later is.
    // (`load_access_token` is the SDK's `OAuthAuthorizationServerProvider` protocol's, whatever the class extends.)
    const verifier = !!outer.classBody && VERIFY_METHODS.has(name) && (name === 'load_access_token' || TOKEN_VERIFIER_BASES.has(this.bases.get(outer.className ?? '') ?? ''));
    const frame: Frame = {
      vars: new Map(), locals: new Set(), parent: outer, summary, className: outer.className, fn: name,
      exempt: outer.exempt || isTokenExchangeName(name) || resolvesWithIssuer(name) || verifier,
    };
    let index = 0;
    const params = node.childForFieldName('parameters')?.namedChildren ?? [];
    // ASGI middleware (`__call__(self, scope, receive, send)`), or a helper it hands the scope to that reads
    // `scope["headers"]` / `scope.get("headers")`.
    const body = node.childForFieldName('body');
    const asgi = params.some((p) => p && paramName(p) === 'receive') || (!!body && readsScopeHeaders(body));
    // An AWS Lambda handler (`def handler(event, context)`, or a method `def handle_request(self, event, context)` a
    // handler delegates to): the proxy event carries the HTTP request.
    const own = outer.className && params[0] && ['self', 'cls'].includes(paramName(params[0]) ?? '') ? params.slice(1) : params;
    const lambda = own.length >= 2 && paramName(own[0]!) === 'event' && paramName(own[1]!) === 'context';
    for (const p of params) {
      if (!p) continue;
      // `**kwargs` (also typed, `**kwargs: Any`): keyword arguments matching no other parameter land there.
      const splat = p.type === 'dictionary_splat_pattern' ? p : p.type === 'typed_parameter' ? p.namedChildren.find((c) => c?.type === 'dictionary_splat_pattern') : undefined;
      const pname = paramName(p) ?? splat?.namedChildren[0]?.text;
      if (!pname) continue;
      if (splat) summary.kwargs = index;
      if (outer.className && index === 0 && (pname === 'self' || pname === 'cls') && p.type === 'identifier') continue;
      // ASGI middleware: `async def __call__(self, scope, receive, send)`; `scope["headers"]` are the inbound headers.
      const handler = index === 0 && !outer.className && this.requestHandlers().has(name);
      frame.vars.set(pname, (pname === 'scope' && asgi) || (pname === 'event' && lambda) || handler ? [source('request', p)] : verifier && index === 0 ? [source('cred', p)] : this.paramTaint(p, pname, index));
      // `connector: RAGFlowConnector`: calls on the parameter reach that class's methods.
      const cls = this.annotatedClass(p.childForFieldName('type'));
      if (cls) (frame.types ??= new Map()).set(pname, cls);
      summary.params.push(pname);
      index++;
    }
    // `def _provider(self) -> AirtableOAuthProvider | None`: what it returns is an instance of that class.
    this.returnsInstance(frame, this.annotatedClass(node.childForFieldName('return_type')));
    if (body && node.type === 'lambda') summary.returns = union(summary.returns, hop(this.eval(body, frame), body, 'returned'));
    else if (body) this.block(body, frame);
  }

  protected override moduleInstances(): ReadonlyMap<string, string> {
    return this.#module?.types ?? new Map();
  }

  /** Names bound to an object another package made (`client = asana.ApiClient()`): its default headers are sent. */
  readonly packageInstances = new Set<string>();
  /**
   * XML-RPC proxies (`common = xmlrpc.client.ServerProxy(url)`, `self._models`): every call on one is a request. Local
   * names are the function's own (`fn|common`: another function's `common` may be anything).
   */
  readonly rpcProxies = new Set<string>();
  /** `Class.attr` → the class name a class attribute holds (`_client_class = RestClient`). */
  readonly classAliases = new Map<string, string>();

  /** Classes of this file that extend a class of another package (their constructor is the package's when not overridden). */
  readonly packageBases = new Map<string, string>();

  /** Decorator (top-level function name) → what its wrapper passes to the wrapped function, inbound values only. */
  readonly injections = new Map<string, { positional: Taints[]; keywords: Map<string, Taints>; node: Node }>();

  recordInjection(call: Node, positional: Taints[], keywords: Map<string, { node: Node; taints: Taints }>): void {
    const real = (t: Taints) => t.filter((x) => x.origin && !isPlaceholder(x));
    const kw = new Map([...keywords].map(([k, v]) => [k, real(v.taints)] as const).filter(([, v]) => v.length));
    const pos = positional.map(real);
    if (!kw.size && !pos.some((p) => p.length)) return;
    // The decorator is the outermost function around the call (`def with_api_key(...)` → `def decorator(func)` → wrapper).
    let top: Node | undefined;
    for (let n = call.parent; n; n = n.parent) if (n.type === 'function_definition') top = n;
    const name = top?.childForFieldName('name')?.text;
    if (!name || this.injections.has(name)) return;
    this.injections.set(name, { positional: pos, keywords: kw, node: call });
  }

  /** `@with_api_key(required=True) async def tool(*, api_key)`: the wrapper's arguments reach the tool's parameters. */
  applyInjections(decorated: Node, def: Node, frame: Frame): void {
    const name = def.childForFieldName('name')?.text;
    const summary = name ? this.summaries.get(functionKey(frame, name)) : undefined;
    if (!summary) return;
    for (const d of decorated.children.filter((c): c is Node => c?.type === 'decorator')) {
      let expr: Node | null | undefined = d.namedChildren[0];
      if (expr?.type === 'call') expr = expr.childForFieldName('function');
      const injected = expr ? this.injections.get(lastName(expr) ?? '') : undefined;
      if (!injected) continue;
      const args = bindArgs(summary, injected.positional, new Map([...injected.keywords].map(([k, v]) => [k, { taints: v }])));
      this.applySummary(frame, summary, args.map((a) => hop(a, d, `passed by the decorator to \`${name}\``)), d, name!);
    }
  }

  /** `getattr(getattr(request, "state", None), "api_key", None)` reads `request.state.api_key`. */
  stateCellOfGetattr(objArg: Node, attr: string, frame: Frame): { key: string; label: string; guess?: string } | undefined {
    if (objArg.type !== 'call' || objArg.childForFieldName('function')?.text !== 'getattr') return undefined;
    const [owner, name] = objArg.childForFieldName('arguments')?.namedChildren.filter((a) => a && a.type !== 'keyword_argument') ?? [];
    if (!owner || this.constString(name, frame) !== 'state') return undefined;
    if (!only(this.eval(owner, frame), 'request').length && !REQUEST_NAMES.has(owner.text)) return undefined;
    return { key: `state.${attr}`, label: `\`request.state.${attr}\``, guess: attr };
  }

  /** Under a FastMCP OAuth proxy, the tools' access token is the upstream provider's, which the server holds. */
  behindTokenProxy(): boolean {
    return this.program.tokenProxies.has(this.program.scopes.get(this.file) ?? '');
  }

  readonly #instances = new Map<string, boolean>();
  /** The file constructs the class exactly once. */
  #singleton(cls: string): boolean {
    let one = this.#instances.get(cls);
    if (one === undefined) this.#instances.set(cls, (one = (this.ctx.source.match(new RegExp(`\\b${cls}\\(`, 'g')) ?? []).length === 1));
    return one;
  }

  /** A parameter of the enclosing function annotated with a package's `…Context` class (`ctx: Context`). */
  #packageContextParam(id: Node): boolean {
    const params = enclosingFunction(id)?.childForFieldName('parameters')?.namedChildren ?? [];
    const p = params.find((c) => (c?.type === 'typed_parameter' || c?.type === 'typed_default_parameter') && (c.childForFieldName('name') ?? c.namedChildren[0])?.text === id.text);
    // `Context`, `Context[ServerSession, None]`, `Context | None`, `Optional[Context]`.
    const type = p?.childForFieldName('type')?.text.replace(/^Optional\[(.*)\]$/, '$1').replace(/\[.*$/s, '').replace(/\s*\|.*$/s, '').trim();
    if (!type || !/^[\w.]*Context$/.test(type)) return false;
    return this.resolve(type.split('.')[0]!)?.kind === 'package';
  }

  /** An HTTP client library's request type (`httpx.Request`, `requests.PreparedRequest`, `Request` imported from httpx). */
  clientRequestType(annotation: string | undefined): boolean {
    if (!annotation) return false;
    const root = annotation.replace(/^["']|["']$/g, '').split('.')[0]!;
    const r = this.resolve(root);
    const module = r?.kind === 'package' ? r.module : r?.kind === 'module' ? root : annotation.includes('.') ? root : '';
    return /^(httpx|requests|urllib3?)(\.|$)/.test(module) || (/^aiohttp(\.|$)/.test(module) && annotation.endsWith('ClientRequest'));
  }

  /** What a parameter holds: the inbound request or a credential (by name, annotation, FastAPI marker), else a placeholder. */
  paramTaint(p: Node, name: string, index: number): Taints {
    const type = p.childForFieldName('type')?.text.split('.').pop();
    const def = p.childForFieldName('value');
    // A parameter called `request` annotated with an API model (`request: CreateIssueRequest`) is a request body, and
    // one annotated with an HTTP client's request (`auth_flow(self, request: httpx.Request)` of an `httpx.Auth`) is
    // the outbound request being sent.
    if ((REQUEST_NAMES.has(name) && !namesOtherRequest(type)) || (type && REQUEST_TYPES.has(type))) {
      if (!this.clientRequestType(p.childForFieldName('type')?.text)) return [source('request', p)];
    }
    if (type === 'HTTPAuthorizationCredentials' || (type === 'AccessToken' && !this.behindTokenProxy())) return [source('tokenobj', p)];
    // FastAPI markers, as a default or inside `Annotated[str, Header()]`.
    const annotation = p.childForFieldName('type');
    // `coda_api_key: str = CodaApiKeyDependency`, a dependency marker made once at module level (here or imported).
    if (def?.type === 'identifier') {
      const local = this.moduleDependencies().get(def.text);
      const dep = local ? this.summaries.get(local) : this.importedDependency(def.text);
      const real = dep?.returns.filter((t) => t.origin && !isPlaceholder(t)) ?? [];
      if (real.length) return hop(real, p, `parameter \`${name}\` = \`${def.text}\``);
    }
    // Litestar injects the request's headers into a route handler's parameter called `headers`.
    if (name === 'headers' && this.#litestarRoute(p)) return [source('headers', p)];
    const markers = [def, ...(annotation ? annotation.descendantsOfType('call') : [])].filter((c): c is Node => c?.type === 'call');
    for (const marker of markers) {
      const fn = marker.childForFieldName('function')?.text.split('.').pop() ?? '';
      const argList = marker.childForFieldName('arguments');
      const arg = argList?.text.toLowerCase() ?? '';
      // `authorization: str = Header(...)`, `key: str = Header(alias="X-Api-Key")`, `api_key: str = Query(...)`.
      const alias = argList?.namedChildren.find((a) => a?.type === 'keyword_argument' && a.childForFieldName('name')?.text === 'alias');
      const headerName = stringValue(alias?.childForFieldName('value')) ?? name;
      // A header named like one that carries credentials; a query parameter or cookie named like a credential itself.
      // Litestar: `key: Annotated[str, Parameter(header="X-API-Key")]`.
      const litestarHeader = fn === 'Parameter' ? stringValue(argList?.namedChildren.find((a) => a?.type === 'keyword_argument' && a.childForFieldName('name')?.text === 'header')?.childForFieldName('value')) : undefined;
      if (litestarHeader !== undefined && isCredentialHeader(litestarHeader)) return [source('cred', p)];
      if ((fn === 'Header' && isCredentialHeader(headerName)) || ((fn === 'Header' || fn === 'Cookie' || fn === 'Query') && isCredentialName(headerName))) return [source('cred', p)];
      if (fn === 'Depends' || fn === 'Security') {
        // `Depends(oauth2_scheme)`, or a dependency of this scan whose result is the credential (`Depends(get_token)`).
        const dep = argList?.namedChildren[0];
        const summary = dep?.type === 'identifier' ? this.summaries.get(dep.text) ?? this.importedSummary(this.resolve(dep.text)) : undefined;
        if (summary) {
          const real = summary.returns.filter((t) => t.origin && !isPlaceholder(t));
          if (real.length) return hop(real, p, `parameter \`${name}\` = \`${short(marker.text)}\``);
        } else if (/oauth2|bearer|token|api_?key/.test(arg)) return [source(type === 'HTTPAuthorizationCredentials' ? 'tokenobj' : 'cred', p)];
      }
    }
    // A route's parameter named like a credential, with no marker: a path parameter (FastAPI `@app.post("/mcp/{token}")`,
    // Flask `@app.route("/mcp/<api_key>")`) or, FastAPI's reading of a plain scalar, a query parameter (`api_key: str = ""`).
    if (!markers.length && isCredentialName(name) && this.#routeParameter(p, name)) return [source('cred', p, `source: \`${name}\`, a parameter of the route's URL`)];
    const placeholder: Taint = { kind: 'cred', param: index, owner: this.currentSummary, path: [stepAt(p, `parameter \`${name}\``)] };
    // A function given as the default (`headers_getter=_request_headers`, kept in a field and called): unless a caller
    // passes another, the parameter is worth what that function returns, as a function value is.
    if (def?.type === 'identifier') {
      const fn = this.summaries.get(def.text) ?? this.importedSummary(this.resolve(def.text));
      const real = fn?.returns.filter((t) => t.origin && !isPlaceholder(t)) ?? [];
      if (real.length) return union([placeholder], hop(real, p, `parameter \`${name}\` defaults to \`${def.text}\``));
    }
    return [placeholder];
  }

  assign(target: Node, t: Taints, frame: Frame, valueNode?: Node): void {
    switch (target.type) {
      case 'identifier': {
        const name = target.text;
        const held = hop(t, target, `\`${name}\` = …`);
        if (frame.globals?.has(name) || (frame === this.#module && this.imports.defines.has(name) && carriesCredential(t).length)) {
          this.writeStore(`${this.file}#${name}`, held, target, `module variable \`${name}\``);
        }
        this.bindLocal(frame, name, held, !!valueNode && this.isClientConstruction(valueNode),
          valueNode ? this.classOfCall(valueNode, frame) ?? this.factoryClass(valueNode, frame) : undefined);
        if (valueNode && this.isRpcProxy(valueNode)) this.rpcProxies.add(localProxy(frame, name));
        const made = valueNode?.type === 'await' ? valueNode.namedChildren[0] : valueNode;
        if (made?.type === 'call' && this.fromPackage(made.childForFieldName('function')!)) this.packageInstances.add(name);
        return;
      }
      case 'pattern_list':
      case 'tuple_pattern':
      case 'list_pattern':
      case 'list_splat_pattern':
        for (const c of target.namedChildren) if (c) this.assign(c, t, frame);
        return;
      case 'attribute': {
        const obj = target.childForFieldName('object')!;
        const attr = target.childForFieldName('attribute')!.text;
        if (obj.type === 'identifier' && (obj.text === 'self' || obj.text === 'cls') && frame.className) {
          t = hop(t, target, `stored in \`self.${attr}\``);
          this.addAttr(`${frame.className}.${attr}`, t.filter((x) => x.origin));
          this.ctorParamAttr(frame, `${frame.className}.${attr}`, t, target);
          if (valueNode && this.isClientConstruction(valueNode)) this.clients.add(`self.${attr}`);
          if (valueNode && this.isRpcProxy(valueNode)) this.rpcProxies.add(`self.${attr}`);
          return;
        }
        // `api.get_current_access_token = get_token_with_http_support`: a function of this file assigned over another
        // scanned module's; calls there may reach it.
        const module = obj.type === 'identifier' && valueNode?.type === 'identifier' ? this.resolve(obj.text) : undefined;
        if (module?.kind === 'module') {
          const fn = nestedKey(frame, valueNode!.text, (k) => this.summaries.has(k)) ?? (this.summaries.has(valueNode!.text) ? valueNode!.text : undefined);
          if (fn) this.patches.set(`${module.file}#${attr}`, `${this.file}#${fn}`);
        }
        // `DixaClient.get_organization = organization.get_organization`: a function (`def get_organization(self)`)
        // attached to a class of the scan as a method after the class; calls on its instances reach it.
        if (obj.type === 'identifier' && valueNode && !frame.parent) this.attachMethod(obj.text, attr, valueNode);
        // `openai.api_key = tok`, `stripe.api_key = tok`: an SDK module configured with the credential sends it.
        if (obj.type === 'identifier' && isCredentialName(attr) && this.fromPackage(obj)) {
          this.reportSink(frame, target.parent ?? target, only(t, 'cred', 'headers'), `the \`${attr}\` of the package \`${obj.text}\` (its SDK sends it)`);
          return;
        }
        // `client.headers = {...}` / `session.auth = ...` on an object shared beyond this function sends it.
        // (Not `request.state.auth = ctx`: Starlette's per-request storage, read back below.)
        const requestState = obj.type === 'attribute' && obj.childForFieldName('attribute')!.text === 'state';
        if ((attr === 'headers' || attr === 'auth') && !requestState && !this.isLocalContainer(obj, frame)) {
          this.reportSink(frame, target.parent ?? target, attr === 'auth' ? only(t, 'cred') : t, 'the default headers of an outbound HTTP client');
          return;
        }
        const cell = this.storeCell(obj, attr, frame);
        if (cell) {
          this.writeStore(cell.key, t, target, cell.label);
          return;
        }
        // `provider.access_token = tok` on an instance of a class of the scan: its methods read it as `self.access_token`.
        const type = obj.type === 'identifier' ? typeOf(frame, obj.text) : undefined;
        const given = t.filter((x) => x.origin);
        if (type && given.length) {
          for (const c of type.split('|')) this.writeStore(`${c.includes('#') ? c : `${this.file}#${c}`}.${attr}`, given, target, `\`${obj.text}.${attr}\``);
        }
        this.taintRoot(obj, t, frame);
        return;
      }
      case 'subscript': {
        const obj = target.childForFieldName('value')!;
        this.eval(target.childForFieldName('subscript') ?? obj, frame);
        // `request.headers["Authorization"] = tok` in an httpx event hook / auth flow, `session.headers[...] = tok`.
        // …and `client.default_headers["Authorization"] = tok` on a client another package made (`asana.ApiClient()`).
        const holderName = obj.type === 'attribute' ? obj.childForFieldName('attribute')!.text : '';
        const owner = obj.type === 'attribute' ? obj.childForFieldName('object')! : undefined;
        if (owner && /^_*default_headers$/.test(holderName) && owner.type === 'identifier' && this.packageInstances.has(owner.text)) {
          this.reportSink(frame, target.parent ?? target, retag(carriesCredential(t), 'cred'), `the default headers of \`${owner.text}\`, another package's client`);
          return;
        }
        if (obj.type === 'attribute' && obj.childForFieldName('attribute')!.text === 'headers' && !this.isLocalContainer(obj.childForFieldName('object')!, frame)) {
          this.reportSink(frame, target.parent ?? target, retag(carriesCredential(t), 'cred'), 'the headers of an outbound HTTP request');
          return;
        }
        // ASGI middleware: `scope["state"]["token"] = tok` is what handlers read as `request.state.token`.
        const key = stringValue(target.childForFieldName('subscript'));
        // `os.environ["API_TOKEN"] = tok`: every later `os.environ["API_TOKEN"]` / `os.getenv` in the process reads it.
        // …also `os.environ[env_var] = …` in a loop over a literal mapping of names (`for key, env_var in {…}.items()`).
        const sub = target.childForFieldName('subscript');
        const envKeys = key ? [key] : (sub?.type === 'identifier' ? loopLiterals(sub, true) : undefined) ?? [];
        if (envKeys.length && qualify(obj, this.imports) === 'os.environ') {
          for (const k of envKeys) this.writeStore(`env:${k}`, t, target, `environment variable \`${k}\``);
          return;
        }
        // ... and `scope["token"] = tok` is what they read as `request.scope["token"]` / `request.scope.get("token")`.
        if (key && key !== 'headers' && key !== 'state' && obj.type === 'identifier' && obj.text === 'scope' && only(this.eval(obj, frame), 'request').length) {
          this.writeStore(`scope.${key}`, t, target, `\`scope["${key}"]\``);
          return;
        }
        const inner = obj.type === 'subscript' ? obj : undefined;
        const holder = inner?.childForFieldName('value');
        if (key && inner && holder && stringValue(inner.childForFieldName('subscript')) === 'state' && (holder.text === 'scope' || only(this.eval(holder, frame), 'request').length)) {
          this.writeStore(`state.${key}`, t, target, `\`request.state.${key}\``);
          return;
        }
        // …also through a name for it (`state = scope.setdefault("state", {})`, then `state[STATE_TOKEN] = tok`).
        const stateKey = obj.type === 'identifier' && this.scopeStateNames(obj).has(obj.text) ? key ?? this.constString(sub, frame) : undefined;
        if (stateKey) {
          this.writeStore(`state.${stateKey}`, t, target, `\`request.state.${stateKey}\``);
          return;
        }
        this.taintRoot(obj, retag(carriesCredential(t), 'headers'), frame, key);
        return;
      }
      default:
        return;
    }
  }

  /**
   * Dataclasses, pydantic models, attrs and NamedTuples: no `__init__`, the annotated fields are the constructor's
   * parameters, in order, stored under their own names.
   */
  declaredFields(className: string, body: Node, node: Node): void {
    if (this.summaries.has(`${className}.__init__`) && this.summaries.get(`${className}.__init__`)!.params.length) return;
    if (body.namedChildren.some((c) => c?.type === 'function_definition' && c.childForFieldName('name')?.text === '__init__')) return;
    const fields: string[] = [];
    for (const stmt of body.namedChildren) {
      const a = stmt?.type === 'expression_statement' ? stmt.namedChildren[0] : undefined;
      const left = a?.type === 'assignment' && a.childForFieldName('type') ? a.childForFieldName('left') : undefined;
      if (left?.type === 'identifier' && !/^[A-Z_]+$/.test(left.text)) fields.push(left.text);
    }
    if (!fields.length) return;
    const init = this.summaryFor(`${className}.__init__`);
    init.params = fields;
    fields.forEach((f, i) => {
      if (!this.ctorAttrs.has(`${className}.${f}`)) this.ctorAttrs.set(`${className}.${f}`, [{ kind: 'cred', param: i, owner: init, path: [stepAt(node, `field \`${f}\` of \`${className}\``)] }]);
    });
  }

  /** Records `self.x = <parameter of __init__>` so that `Cls(tainted)` taints `self.x`. */
  ctorParamAttr(frame: Frame, key: string, t: Taints, target: Node): void {
    const params = t.filter((x) => x.param !== undefined);
    if (!params.length || !frame.summary) return;
    const ctorKey = `${key.split('.')[0]}.__init__`;
    if (this.summaries.get(ctorKey) === frame.summary) this.ctorAttrs.set(key, union(this.ctorAttrs.get(key) ?? [], params));
    // A setter (`def set_token(self, token): self._token = token`): what callers pass lands in the field.
    else if (params.some((x) => x.owner === frame.summary)) this.writeStore(`${this.file}#${key}`, params, target, `\`self.${key.split('.')[1]}\``);
  }

  /** Writes into a local container taint the container (a dict we are building is not yet a sink). */
  taintRoot(obj: Node, t: Taints, frame: Frame, key?: string): void {
    const root = rootName(obj);
    if (!root || !t.length) return;
    if (root === 'self' && frame.className) {
      const attr = obj.type === 'attribute' ? firstAttr(obj) : undefined;
      if (attr) this.addAttr(`${frame.className}.${attr}`, t.filter((x) => x.origin));
      // `self._tasks[task_id] = task` with a parameter: what callers pass lands in the field (see `ctorParamAttr`).
      if (attr) this.ctorParamAttr(frame, `${frame.className}.${attr}`, t, obj);
      return;
    }
    // A dict given its `headers` (`kwargs["headers"] = h`, `kwargs.setdefault("headers", h)`) is a request's options.
    const kind = obj.type === 'identifier' && key !== 'headers' ? 'headers' : 'options';
    // A module-level dict filled in a function (`_sessions[session_id] = key` in middleware): every function of the
    // project that reads it (here, or importing it) sees what was put there.
    if (obj.type === 'identifier' && frame !== this.#module && !isLocal(frame, root) && !lookup(frame, root)?.some((x) => x.param !== undefined) &&
      (this.imports.defines.has(root) || this.resolve(root)?.kind === 'symbol')) {
      this.writeStore(this.storeKey(root), hop(retag(t, kind), obj, `stored in \`${root}[…]\``), obj, `module variable \`${root}\``);
      return;
    }
    // (Under its key, as in a dict built in view: `params["_headers"] = h` is `{"_headers": h}` for `f(**params)`.)
    const held = key && kind === 'headers' ? retag(t, kind).map((x) => heldUnder(x, key)) : retag(t, kind);
    frame.vars.set(root, union(lookup(frame, root) ?? NONE, held));
    // A dict the function was given and fills (`headers[name] = token`): its callers' dict holds it afterwards.
    if (obj.type === 'identifier') this.recordFill(frame, root, carriesCredential(held));
  }

  isLocalContainer(obj: Node, frame: Frame): boolean {
    const root = rootName(obj);
    if (!root) return false;
    if (this.clients.has(root) || this.clients.has(obj.text)) return false;
    return isLocal(frame, root);
  }

  /** `xmlrpc.client.ServerProxy(url)` (Python 2's `xmlrpclib`): a proxy whose method calls are remote calls. */
  isRpcProxy(node: Node): boolean {
    const call = node.type === 'await' ? node.namedChildren[0] : node;
    if (call?.type !== 'call') return false;
    const fn = call.childForFieldName('function');
    if (lastName(fn) !== 'ServerProxy') return false;
    const r = this.resolve(fn!.text.split('.')[0]!);
    return r?.kind === 'package' && /^(xmlrpc|xmlrpclib)(\.|$)/.test(r.module);
  }

  isClientConstruction(node: Node): boolean {
    let n: Node | null = node;
    while (n && (n.type === 'await' || n.type === 'parenthesized_expression')) n = n.namedChildren[0] ?? null;
    // `session = client._api._session`: the HTTP session an SDK client keeps (its headers go out on every call).
    if (n?.type === 'attribute') return /^_*(session|http_session|http_client|httpx_client)$/i.test(n.childForFieldName('attribute')!.text);
    if (n?.type !== 'call') return false;
    const name = lastName(n.childForFieldName('function'));
    return !!name && HTTP_CONSTRUCTORS.has(name) && name !== 'Headers';
  }

  // ---- expressions ----

  eval(node: Node, frame: Frame): Taints {
    switch (node.type) {
      case 'identifier': {
        const name = node.text;
        const held = this.held(frame, name, node, this.sharedName(name, frame));
        if (held) return held;
        const r = this.resolve(name);
        // A function handed on as a value (`Client(token_provider=current_token)`) is worth what it returns.
        const fnSummary = lookup(frame, name) ? undefined : this.summaries.get(name) ?? (r?.kind === 'symbol' ? this.importedSummary(r) : undefined);
        if (fnSummary && !REQUEST_NAMES.has(name)) return hop(fnSummary.returns.filter((t) => t.origin), node, `\`${name}\` returns it`);
        // Flask's / Quart's / Bottle's request proxy under another name (`from flask import request as flask_request`).
        if (r?.kind === 'package' && (r.module === 'flask' || r.module === 'quart' || r.module === 'bottle') && r.name === 'request') return [source('request', node)];
        if (!REQUEST_NAMES.has(name)) return NONE;
        // Flask's `request` proxy is imported; `from urllib import request` is an HTTP client.
        return !r || (r.kind === 'package' && !CLIENT_MODULES.has(r.module.split('.')[0]!)) ? [source('request', node)] : NONE;
      }
      case 'attribute':
        return this.member(node, frame);
      case 'subscript': {
        const valueNode = node.childForFieldName('value')!;
        const obj = this.eval(valueNode, frame);
        const keyNode = node.childForFieldName('subscript');
        if (keyNode) this.eval(keyNode, frame);
        // `tok[:8]`, `tok[-4:]`: a few characters shown in a log line, not the credential (`auth[7:]` drops `Bearer `).
        if (keyNode?.type === 'slice' && displaySlice(keyNode)) return NONE;
        // `{k: request.headers[k] for k in ["accept", "mcp-session-id"]}`: a key drawn from names written here is one of them.
        const names = keyNode?.type === 'identifier' ? loopLiterals(keyNode) : undefined;
        const key = this.constString(keyNode, frame) ?? names?.find((n) => isCredentialHeader(n) || isCredentialName(n));
        if (names && key === undefined) return NONE;
        const scoped = key !== undefined ? this.scopeCell(valueNode, key, node, frame) : NONE;
        const env = key !== undefined && qualify(valueNode, this.imports) === 'os.environ' ? this.readStore(`env:${key}`, node, `environment variable \`${key}\``) : NONE;
        // `headers[name]` with the key a parameter: the caller's choice (see `Taint.keyParam`).
        const keyParam = key === undefined ? this.keyParamOf(keyNode, frame) : undefined;
        const read = this.index(obj, key, node);
        return union(scoped, env, keyParam === undefined ? read : read.map((t) => ({ ...t, keyParam })));
      }
      case 'call':
        return this.call(node, frame);
      case 'string': {
        let t: Taints = NONE;
        for (const c of node.namedChildren) {
          if (c?.type === 'interpolation') {
            const e = c.childForFieldName('expression') ?? c.namedChildren[0];
            // A whole inbound map interpolated (`f"{url}?{request.query_params}"`) is its text, as `str(…)` of it is:
            // the request's query relayed, not a credential put there.
            if (e) t = union(t, this.eval(e, frame).filter((x) => x.kind !== 'headers' || x.param !== undefined || bodyCredential([x]).length));
          }
        }
        return retag(carriesCredential(t), 'cred');
      }
      case 'concatenated_string':
      case 'binary_operator': {
        // `SESSION_DIR / f"{token}.session"`: a file path (pathlib), not a credential sent anywhere.
        if (node.childForFieldName('operator')?.text === '/') return NONE;
        let t: Taints = NONE;
        for (const c of node.namedChildren) if (c) t = union(t, this.eval(c, frame));
        return retag(carriesCredential(t), 'cred');
      }
      case 'boolean_operator':
      case 'conditional_expression':
      case 'list':
      case 'tuple':
      case 'set':
      case 'expression_list': {
        let t: Taints = NONE;
        for (const c of node.namedChildren) if (c) t = union(t, this.eval(c, frame));
        return node.type === 'conditional_expression' ? only(t, 'cred', 'headers', 'tokenobj', 'request', 'options') : t;
      }
      case 'parenthesized_expression':
      case 'await':
        return node.namedChildren[0] ? this.eval(node.namedChildren[0], frame) : NONE;
      case 'yield': {
        // A generator's values are what its callers get (`for x in gen()`, and `with cm() as x` for a
        // `@contextmanager` that yields a client built with the caller's token).
        const value = node.namedChildren[0];
        if (!value || node.text.startsWith('yield from')) return value ? this.eval(value, frame) : NONE;
        const t = this.eval(value, frame);
        if (frame.summary) frame.summary.returns = union(frame.summary.returns, hop(t, node, 'yielded'));
        this.returnsInstance(frame, this.classOfCall(value, frame));
        return NONE;
      }
      case 'named_expression': {
        const t = this.eval(node.childForFieldName('value')!, frame);
        this.assign(node.childForFieldName('name')!, t, frame);
        return t;
      }
      case 'dictionary':
        return this.dict(node, frame);
      case 'dictionary_comprehension':
      case 'list_comprehension':
      case 'set_comprehension':
      case 'generator_expression': {
        const inner: Frame = { ...frame, vars: new Map(), locals: new Set(), parent: frame };
        for (const c of node.namedChildren) {
          if (c?.type === 'for_in_clause') this.assign(c.childForFieldName('left')!, this.eval(c.childForFieldName('right')!, inner), inner);
        }
        const body = node.childForFieldName('body');
        let t = body ? (body.type === 'pair' ? this.eval(body.childForFieldName('value')!, inner) : this.eval(body, inner)) : NONE;
        if (node.type === 'dictionary_comprehension') t = retag(carriesCredential(t), 'headers');
        // `{k: v for k, v in request.headers.items() if k.lower() not in STRIPPED}` with `authorization` in STRIPPED (or
        // an allow-list without any credential header): the copy holds no credential.
        if (this.filtersOutCredentials(node)) return NONE;
        return t;
      }
      case 'lambda': {
        // A lambda's value is what it returns from its surroundings: `register(mcp, lambda: ctx)` hands over `ctx`,
        // which the callee reads back with `get_ctx()`. Its own parameters are unknown here, so they carry nothing.
        const body = node.childForFieldName('body');
        const t = body ? this.eval(body, { ...frame, vars: new Map(), locals: new Set(), parent: frame, summary: undefined }) : NONE;
        return hop(t, node, 'returned by a lambda');
      }
      default:
        for (const c of node.namedChildren) if (c) this.eval(c, frame);
        return NONE;
    }
  }

  member(node: Node, frame: Frame): Taints {
    return this.memberRead(node.childForFieldName('object')!, node.childForFieldName('attribute')!.text, node, frame);
  }

  /** `obj.attr` at `node` (also `getattr(obj, "attr", default)`). */
  memberRead(objNode: Node, attr: string, node: Node, frame: Frame): Taints {
    // (An MCP request's progress token is the protocol's, not a credential.)
    if (attr === 'progressToken') return NONE;
    let out: Taints = NONE;
    if (objNode.type === 'identifier' && (objNode.text === 'self' || objNode.text === 'cls') && frame.className) {
      const key = `${frame.className}.${attr}`;
      out = union(out, this.attrs.get(key) ?? NONE);
      // A property (`@property def api_key(self): return current_auth_context().api_key`): what its getter returns.
      const getter = this.properties().has(key) ? this.summaries.get(key) : undefined;
      if (getter) out = union(out, hop(getter.returns.filter((t) => t.origin), node, `property \`self.${attr}\``));
      const stored = this.ctorAttrs.get(key);
      // In the constructor itself, a field it just stored from a parameter is still that parameter
      // (`self._token = token; self._headers = {"Authorization": f"Bearer {self._token}"}`).
      const inInit = !!frame.summary && frame.summary === this.summaries.get(`${frame.className}.__init__`);
      if (stored && inInit) out = union(out, hop(stored.filter((p) => p.owner === frame.summary), node, `read \`self.${attr}\``));
      if (stored) out = union(out, union(stored.map((p) => ({ kind: p.kind, field: key, path: [stepAt(node, `read \`self.${attr}\``)] }))));
      out = union(out, this.readStore(`${this.file}#${key}`, node, `\`self.${attr}\` (set by a method)`));
      // `http.server` handlers (`class Handler(BaseHTTPRequestHandler)`, Vercel's Python functions): `self.headers`
      // are the headers of the request being served.
      if (attr === 'headers' && HTTP_SERVER_HANDLERS.has(this.bases.get(frame.className) ?? '')) out = union(out, [source('headers', node)]);
    }
    const cell = this.storeCell(objNode, attr, frame);
    if (cell) out = union(out, this.readStore(cell.key, node, cell.label, cell.guess));
    // `state.value` on an instance of a class of this file (a dataclass built as `_Valid(value=raw)`, a module-level
    // `token_manager = TokenManager()` whose methods store the caller's token), known by construction, a factory, an
    // annotation or an `isinstance` check around the read: what that field was given.
    const cls = objNode.type === 'identifier' && objNode.text !== 'self' ? typeOf(frame, objNode.text) ?? narrowedClass(objNode) : undefined;
    for (const c of cls?.split('|') ?? []) {
      // (A class other than a record only when the file makes one instance of it, `token_manager = TokenManager()`:
      // two instances' fields are not one.)
      if (c.includes('#') || (!this.recordClasses().has(c) && !this.#singleton(c))) continue;
      out = union(out, hop((this.attrs.get(`${c}.${attr}`) ?? NONE).filter((t) => t.origin), node, `read \`${objNode.text}.${attr}\``));
      out = union(out, this.readStore(`${this.file}#${c}.${attr}`, node, `\`${c}.${attr}\``));
    }
    const obj = this.eval(objNode, frame);
    if (REQUEST_ATTRS.has(attr)) out = union(out, [source('request', node)]);
    if (AUTH_INFO_ATTRS.has(attr)) out = union(out, [source('tokenobj', node)]);
    // `ctx.request_context.headers` (also `getattr(request_context, "headers", {})`): the request's headers, read off
    // the MCP request context as if it carried them.
    if (attr === 'headers' && /(^|\.)request_context$/.test(objNode.text)) out = union(out, [source('headers', node)]);
    // Smithery's `ctx.session_config`: the settings the connecting client sent (its API key included), read like headers.
    if (attr === 'session_config') out = union(out, [source('headers', node)]);
    // `ctx.request_context.meta`: the `_meta` the client sent with the call (`meta.user_token`), read like headers.
    if (attr === 'meta' && /(^|\.)request_context$/.test(objNode.text)) out = union(out, [source('headers', node)]);
    // `ctx.headers` on a framework's request context (`ctx: Context` of `mcp.server.mcpserver`, or of another
    // package's MCP router): the headers of the request being served.
    if (attr === 'headers' && objNode.type === 'identifier' && this.#packageContextParam(objNode)) out = union(out, [source('headers', node)]);
    for (const t of obj) {
      if (t.kind === 'request' && (attr === 'headers' || attr === 'META' || attr === 'cookies' || attr === 'COOKIES')) out = union(out, [derive(t, 'headers', node)]);
      // Query parameters are read like headers: Starlette `query_params`, Flask `args`, Django `GET`, aiohttp `query`.
      else if (t.kind === 'request' && QUERY_ATTRS.has(attr)) out = union(out, [derive(t, 'headers', node)]);
      // `request.auth` is a token object (Starlette's credentials, DRF's token) or the raw header itself (Falcon's).
      else if (t.kind === 'request' && attr === 'auth') out = union(out, [derive(t, 'tokenobj', node), derive(t, 'cred', node)]);
      // (Behind a FastMCP OAuth proxy, the authenticated user's `access_token` is the upstream one the proxy swapped in.)
      else if (t.kind === 'request' && attr === 'user' && !this.behindTokenProxy()) out = union(out, [derive(t, 'tokenobj', node)]);
      // Sanic's `request.token`: the Authorization header's token.
      else if (t.kind === 'request' && attr === 'token') out = union(out, [derive(t, 'cred', node)]);
      // The parsed Authorization header (Flask / Werkzeug `request.authorization`, Pyramid), a credential (or one with
      // its `.token` / `.password`).
      else if (t.kind === 'request' && attr === 'authorization') out = union(out, [derive(t, 'cred', node)]);
      // Starlette's `request.scope`: the ASGI scope, read like one (`scope["headers"]`, `scope.get("user")`).
      else if (t.kind === 'request' && attr === 'scope') out = union(out, [t]);
      else if (t.kind === 'headers' && (attr === 'raw' || attr === '_list')) out = union(out, [t]);
      else if (t.kind === 'tokenobj' && TOKEN_ATTRS.has(attr)) out = union(out, [derive(t, 'cred', node)]);
      // An object built around the credential (`RuntimeAuthState(access_token=tok)`): its credential-named fields hold it.
      else if ((t.kind === 'cred' || t.kind === 'headers') && t.origin && (TOKEN_ATTRS.has(attr) || isCredentialName(attr))) out = union(out, [{ ...t, kind: 'cred' }]);
      else if (t.kind === 'options' && attr === 'headers') out = union(out, [{ ...t, kind: 'headers' }]);
      else if (t.kind === 'options' && (TOKEN_ATTRS.has(attr) || isCredentialName(attr))) out = union(out, [{ ...t, kind: 'cred' }]);
      else if (isPlaceholder(t) && attr === 'headers') out = union(out, [{ ...t, kind: 'headers', fromRequest: true }]);
      else if (isPlaceholder(t) && (TOKEN_ATTRS.has(attr) || isCredentialHeader(attr))) out = union(out, [{ ...t, kind: 'cred' }]);
    }
    return out;
  }

  index(obj: Taints, key: string | undefined, node: Node): Taints {
    let out: Taints = NONE;
    for (const t of obj) {
      if (t.kind === 'headers' && (key === undefined || isCredentialHeader(key) || boundToCredentialName(node))) out = union(out, [derive(t, 'cred', node)]);
      // A parameter read under a name that is not a credential's (`headers["user-agent"]`) is not what was passed.
      else if (t.kind === 'cred' && isPlaceholder(t) && key !== undefined && !isCredentialHeader(key) && !isCredentialName(key)) continue;
      else if (t.kind === 'cred') out = union(out, [t]);
      else if ((t.kind === 'options' || t.kind === 'request') && key === 'headers') out = union(out, [{ ...t, kind: 'headers' }]);
      else if (t.kind === 'request' && key !== undefined && (key === 'META' || REQUEST_MAPS.has(key))) out = union(out, [derive(t, 'headers', node)]);
      // `scope["user"]`: what Starlette's AuthenticationMiddleware put there (the MCP SDK's `AuthenticatedUser`).
      else if (t.kind === 'request' && (key === 'user' || key === 'auth') && !this.behindTokenProxy()) out = union(out, [derive(t, 'tokenobj', node)]);
      else if (isPlaceholder(t) && key !== undefined && REQUEST_MAPS.has(key)) out = union(out, [{ ...t, kind: 'headers' }]);
      else if (t.kind === 'tokenobj' && key !== undefined && TOKEN_ATTRS.has(key)) out = union(out, [{ ...t, kind: 'cred' }]);
    }
    return out;
  }

  /**
   * A comprehension whose condition drops credential headers: `if k.lower() not in DENY` where DENY (a literal or a
   * module constant: set, frozenset, list, tuple) names `authorization`, or `if k in ALLOW` where ALLOW names none.
   */
  filtersOutCredentials(comprehension: Node): boolean {
    for (const clause of comprehension.namedChildren) {
      if (clause?.type !== 'if_clause') continue;
      for (const cmp of clause.descendantsOfType('comparison_operator')) {
        if (!cmp) continue;
        const ops = cmp.children.filter((c) => c && !c.isNamed).map((c) => c!.text).join(' ');
        const negated = /not in/.test(ops);
        if (!negated && !/\bin\b/.test(ops)) continue;
        const names = this.stringCollection(cmp.namedChildren[cmp.namedChildren.length - 1]);
        if (!names) continue;
        const credential = names.some((n) => isCredentialHeader(n));
        if (negated ? names.some((n) => n.toLowerCase() === 'authorization') : !credential) return true;
      }
    }
    return false;
  }

  readonly #assignments = new Map<number, Map<string, Node>>();
  /** The values assigned to plain names by the statements of a block (the first assignment of each), cached per block. */
  #assignedIn(block: Node | null | undefined): Map<string, Node> {
    if (!block) return new Map();
    let out = this.#assignments.get(block.id);
    if (out) return out;
    out = new Map();
    for (const st of block.namedChildren) {
      const a = st?.type === 'expression_statement' ? st.namedChildren[0] : undefined;
      const left = a?.type === 'assignment' ? a.childForFieldName('left') : undefined;
      const right = a?.childForFieldName('right');
      if (left?.type === 'identifier' && right && !out.has(left.text)) out.set(left.text, right);
    }
    this.#assignments.set(block.id, out);
    return out;
  }

  /**
   * A key that names the Authorization header: a string (`"authorization"`), a case change of one (`h.lower()`), or the
   * variable of a loop over a collection of names that includes it (`for h in HOP_BY_HOP: headers.pop(h, None)`).
   */
  removesCredential(key: Node | null | undefined, at: Node): boolean {
    let k = key;
    while (k?.type === 'call' && k.childForFieldName('function')?.type === 'attribute' && CASE_CHANGES.has(k.childForFieldName('function')!.childForFieldName('attribute')?.text ?? '')) {
      k = k.childForFieldName('function')!.childForFieldName('object');
    }
    const text = stringValue(k);
    if (text !== undefined) return /^authorization$/i.test(text);
    if (k?.type !== 'identifier') return false;
    for (let n: Node | null = at.parent; n && n.type !== 'function_definition'; n = n.parent) {
      if (n.type === 'for_statement' && n.childForFieldName('left')?.text === k.text) {
        return (this.stringCollection(n.childForFieldName('right'), n) ?? []).some((h) => /^authorization$/i.test(h));
      }
    }
    return false;
  }

  /**
   * The strings of a collection literal, directly, wrapped in `frozenset(…)`/`set(…)`, through a module constant, or
   * through a variable assigned earlier in the function around `at`.
   */
  stringCollection(node: Node | null | undefined, at?: Node): string[] | undefined {
    let n = node;
    if (n?.type === 'identifier') {
      const fn = at ? enclosingFunction(at) : undefined;
      n = (fn ? this.#assignedIn(fn.childForFieldName('body')).get(n.text) : undefined) ?? this.#assignedIn(this.ctx.tree.rootNode).get(n.text);
    }
    if (n?.type === 'call' && ['frozenset', 'set', 'tuple', 'list'].includes(n.childForFieldName('function')?.text ?? '')) n = n.childForFieldName('arguments')?.namedChildren[0];
    if (!n || !['set', 'list', 'tuple'].includes(n.type)) return undefined;
    const out = n.namedChildren.map((c) => stringValue(c)).filter((v): v is string => v !== undefined);
    return out.length ? out : undefined;
  }

  /** A string literal, or a module constant holding one (`AUTH_HEADER = "Authorization"`). */
  constString(node: Node | null | undefined, frame: Frame): string | undefined {
    const direct = stringValue(node);
    // `HEADER_TOKEN.lower()`: a constant with its case changed (or its blanks stripped).
    const fn = node?.type === 'call' && !node.childForFieldName('arguments')?.namedChildCount ? node.childForFieldName('function') : undefined;
    if (fn?.type === 'attribute' && /^(lower|upper|casefold|strip)$/.test(fn.childForFieldName('attribute')!.text)) {
      const base = this.constString(fn.childForFieldName('object'), frame);
      const op = fn.childForFieldName('attribute')!.text;
      return base === undefined ? undefined : op === 'upper' ? base.toUpperCase() : op === 'strip' ? base.trim() : base.toLowerCase();
    }
    if (direct !== undefined || !node || node.type !== 'identifier') return direct;
    void frame;
    this.#consts ??= this.collectConsts();
    // …or one imported from another module of the scan (`from .auth import JWT_STATE_KEY`).
    return this.#consts.get(node.text) ?? this.importedConstant(node.text);
  }

  protected override moduleConstants(): ReadonlyMap<string, string> {
    this.#consts ??= this.collectConsts();
    return this.#consts;
  }

  /** Names a function binds to the ASGI scope's state (`state = scope.setdefault("state", {})`), once per function. */
  readonly #stateNames = new Map<number, Set<string>>();
  scopeStateNames(at: Node): Set<string> {
    let fn: Node | null = at.parent;
    while (fn && fn.type !== 'function_definition' && fn.type !== 'module') fn = fn.parent;
    if (!fn) return new Set();
    let names = this.#stateNames.get(fn.startIndex);
    if (!names) {
      names = new Set();
      for (const a of fn.descendantsOfType('assignment')) {
        const left = a?.childForFieldName('left');
        if (left?.type === 'identifier' && SCOPE_STATE.test(a!.childForFieldName('right')?.text ?? '')) names.add(left.text);
      }
      this.#stateNames.set(fn.startIndex, names);
    }
    return names;
  }

  /** `get_access_token()` as FastMCP / the MCP SDK define it: a function (imported or `dependencies.get_access_token`), no arguments. */
  isFastmcpAccessToken(fn: Node, args: Node | null | undefined): boolean {
    if (args?.namedChildren.some((a) => a && a.type !== 'comment')) return false;
    if (fn.type === 'identifier') return true;
    const root = fn.text.split('.')[0]!;
    const r = this.resolve(root);
    return r?.kind === 'package' && /^(fastmcp|mcp)(\.|$)/.test(r.module);
  }

  /**
   * The parameter is filled from the URL of the route its function serves: any parameter of a FastAPI route
   * (`@app.get("/…")`, `@router.post("/…")`) not in the path is a query parameter; Flask's (`@app.route("/u/<key>")`,
   * `@bp.get(…)`) are in the path only.
   */
  #routeParameter(p: Node, name: string): boolean {
    const decorators = parameterDecorators(p);
    if (!decorators.length) return false;
    const modules = [...this.imports.modules];
    const fastapi = modules.some((m) => /^fastapi(\.|$)/.test(m));
    if (!fastapi && !modules.some((m) => /^flask(\.|$)/.test(m))) return false;
    return decorators.some((expr) => {
      const fn = expr.type === 'call' ? expr.childForFieldName('function') : undefined;
      const path = stringValue(expr.childForFieldName('arguments')?.namedChildren[0]);
      if (fn?.type !== 'attribute' || !path?.startsWith('/') || !ROUTE_DECORATORS.has(fn.childForFieldName('attribute')!.text)) return false;
      return fastapi || new RegExp(`<(?:\\w+:)?${name}>`).test(path);
    });
  }

  /** Whether a parameter's function is a Litestar route handler (`@get(…)`, `@post(…)` from litestar). */
  #litestarRoute(p: Node): boolean {
    return parameterDecorators(p).some((expr) => {
      const fn = expr.type === 'call' ? expr.childForFieldName('function') : expr;
      const r = fn ? this.resolve(fn.text.split('.')[0]!) : undefined;
      return r?.kind === 'package' && r.module.split('.')[0] === 'litestar';
    });
  }

  #classFacts: { properties: Set<string>; records: Set<string>; names: Set<string> } | undefined;
  /**
   * One walk over the file's classes: `Class.name` of its methods decorated `@property` / `@cached_property`, and the
   * classes declared as records (`@dataclass`, `@attr.s` / `@define`, `NamedTuple`, `TypedDict`, pydantic `BaseModel`),
   * and the names of all its classes.
   */
  #classes(): { properties: Set<string>; records: Set<string>; names: Set<string> } {
    if (this.#classFacts) return this.#classFacts;
    const properties = new Set<string>();
    const records = new Set<string>();
    const names = new Set<string>();
    for (const c of this.ctx.tree.rootNode.descendantsOfType('class_definition')) {
      const cls = c?.childForFieldName('name')?.text;
      if (!cls) continue;
      names.add(cls);
      for (const d of c!.childForFieldName('body')?.namedChildren ?? []) {
        if (d?.type !== 'decorated_definition') continue;
        const name = d.childForFieldName('definition')?.childForFieldName('name')?.text;
        if (name && d.children.some((x) => x?.type === 'decorator' && /^@(functools\.)?(property|cached_property)$/.test(x.text.trim()))) properties.add(`${cls}.${name}`);
      }
      const decorators = c!.parent?.type === 'decorated_definition' ? c!.parent.children.filter((d) => d?.type === 'decorator').map((d) => d!.text) : [];
      const bases = c!.childForFieldName('superclasses')?.text ?? '';
      if (decorators.some((d) => /\b(dataclass|attr\.s|attrs|define|frozen)\b/.test(d)) || /\b(NamedTuple|BaseModel|TypedDict)\b/.test(bases)) records.add(cls);
    }
    return (this.#classFacts = { properties, records, names });
  }

  /** `Class.name` of the file's methods decorated `@property` / `@cached_property`. */
  properties(): ReadonlySet<string> {
    return this.#classes().properties;
  }

  /** Classes of this file declared as records. */
  recordClasses(): ReadonlySet<string> {
    return this.#classes().records;
  }

  #handlers: Set<string> | undefined;
  /**
   * Functions this module hands the inbound request as their first argument, whatever they call it: aiohttp handlers
   * (`app.router.add_post("/mcp", handle)`, `web.post("/mcp", handle)`, `@routes.post(…)` on a `web.RouteTableDef()`)
   * and Sanic routes (`@app.post(…)` on a `Sanic(…)` or a Sanic `Blueprint(…)`). FastAPI and Flask routes are not: their
   * parameters are path, query and body values.
   */
  requestHandlers(): ReadonlySet<string> {
    if (this.#handlers) return this.#handlers;
    const out = new Set<string>();
    const routers = new Set<string>();
    const root = this.ctx.tree.rootNode;
    for (const stmt of root.namedChildren) {
      const a = stmt?.type === 'expression_statement' ? stmt.namedChildren[0] : undefined;
      const left = a?.type === 'assignment' ? a.childForFieldName('left') : undefined;
      const right = a?.childForFieldName('right');
      const ctor = right?.type === 'call' ? right.childForFieldName('function') : undefined;
      const ctorName = ctor?.text.split('.').pop();
      const pkg = ctor ? this.resolve(ctor.text.split('.')[0]!) : undefined;
      const fromPkg = pkg?.kind === 'package' ? pkg.module.split('.')[0] : undefined;
      if (left?.type === 'identifier' && ((ctorName === 'RouteTableDef' && fromPkg === 'aiohttp') || ((ctorName === 'Sanic' || ctorName === 'Blueprint') && fromPkg === 'sanic'))) routers.add(left.text);
    }
    for (const call of root.descendantsOfType('call')) {
      const fn = call?.childForFieldName('function');
      if (fn?.type !== 'attribute') continue;
      const attr = fn.childForFieldName('attribute')?.text ?? '';
      const receiver = fn.childForFieldName('object');
      const r = receiver?.type === 'identifier' ? this.resolve(receiver.text) : undefined;
      const web = r?.kind === 'package' && (r.module === 'aiohttp.web' || (r.module === 'aiohttp' && r.name === 'web'));
      // `app.router.add_post(…)` in a module that imports aiohttp (a dispatcher of its own with `add_route` is not one).
      const router = AIOHTTP_ROUTE_ADDERS.has(attr) && /(^|\.)router$/.test(receiver?.text ?? '') && this.importsAiohttp();
      if (!router && !(web && AIOHTTP_ROUTE_DEFS.has(attr))) continue;
      const handler = call!.childForFieldName('arguments')?.namedChildren.filter((a) => a && a.type !== 'keyword_argument' && a.type !== 'comment').at(-1);
      if (handler?.type === 'identifier') out.add(handler.text);
    }
    for (const d of root.descendantsOfType('decorated_definition')) {
      const def = d?.childForFieldName('definition');
      const name = def?.type === 'function_definition' ? def.childForFieldName('name')?.text : undefined;
      if (!name) continue;
      for (const dec of d!.children.filter((c): c is Node => c?.type === 'decorator')) {
        const expr = dec.namedChildren[0];
        const fn = expr?.type === 'call' ? expr.childForFieldName('function') : expr;
        const obj = fn?.type === 'attribute' ? fn.childForFieldName('object') : undefined;
        const verb = fn?.type === 'attribute' ? fn.childForFieldName('attribute')?.text ?? '' : '';
        if (obj?.type === 'identifier' && routers.has(obj.text) && (SANIC_ROUTES.has(verb) || AIOHTTP_ROUTE_DEFS.has(verb))) out.add(name);
      }
    }
    return (this.#handlers = out);
  }

  /** Whether the module imports aiohttp. */
  importsAiohttp(): boolean {
    return [...this.imports.bindings.values()].some((b) => b.module === 'aiohttp' || b.module.startsWith('aiohttp.'));
  }

  #depends: Map<string, string> | undefined;
  protected override moduleDependencies(): ReadonlyMap<string, string> {
    if (this.#depends) return this.#depends;
    const out = new Map<string, string>();
    for (const stmt of this.ctx.tree.rootNode.namedChildren) {
      const a = stmt?.type === 'expression_statement' ? stmt.namedChildren[0] : undefined;
      const left = a?.type === 'assignment' ? a.childForFieldName('left') : undefined;
      const call = a?.childForFieldName('right');
      const marker = call?.type === 'call' ? call.childForFieldName('function')?.text.split('.').pop() : undefined;
      const fn = call?.childForFieldName('arguments')?.namedChildren[0];
      if (left?.type === 'identifier' && (marker === 'Depends' || marker === 'Security') && fn?.type === 'identifier') out.set(left.text, fn.text);
    }
    // Only dependencies on what this module defines (its import table, not the summaries, which fill in as passes go).
    for (const [name, fn] of out) if (!this.imports.defines.has(fn)) out.delete(name);
    return (this.#depends = out);
  }

  collectConsts(): Map<string, string> {
    const consts = new Map<string, string>();
    for (const stmt of this.ctx.tree.rootNode.namedChildren) {
      const a = stmt?.type === 'expression_statement' ? stmt.namedChildren[0] : undefined;
      if (a?.type !== 'assignment') continue;
      const left = a.childForFieldName('left');
      const value = stringValue(a.childForFieldName('right'));
      if (left?.type === 'identifier' && value !== undefined) consts.set(left.text, value);
    }
    return consts;
  }

  dict(node: Node, frame: Frame): Taints {
    let out: Taints = NONE;
    for (const c of node.namedChildren) {
      if (!c) continue;
      if (c.type === 'pair') {
        const key = stringValue(c.childForFieldName('key'));
        const v = this.eval(c.childForFieldName('value')!, frame);
        if (key === 'headers' && carriesCredential(v).length) out = union(out, retag(carriesCredential(v), 'options'));
        // The keys the credential sits under, for `Client(**d)` to hand it to those parameters only.
        else out = union(out, retag(carriesCredential(v).map((t) => key ? heldUnder(t, key) : t), 'headers'));
      } else if (c.type === 'dictionary_splat') {
        // `{**defaults, **headers}`: a mapping merged in, a parameter's included (whatever the caller passes).
        const v = this.eval(c.namedChildren[0]!, frame);
        out = union(out, only(v, 'headers', 'options'), v.filter((t) => isPlaceholder(t) && t.kind === 'cred').map((t) => ({ ...t, kind: 'headers' as const })));
      } else this.eval(c, frame);
    }
    return out;
  }

  /** A call; `entry` is the function it calls when known apart from its text (an entry of a table of functions). */
  call(node: Node, frame: Frame, entry?: Node): Taints {
    let fn = entry ?? node.childForFieldName('function')!;
    // `post = client.post` / `send = getattr(client, method)` earlier in the function: a call of that method. So is
    // a call through a table of them (`method_map = {"GET": client.get, …}; method_map[method](url, …)`, also through
    // a name, `tool_func = tool_map[name]; tool_func(**params)`): the entry of a constant key, or any of them.
    if (fn.type === 'identifier') fn = methodRef(frame, fn.text) ?? fn;
    const table = fn.type === 'subscript' && fn.childForFieldName('value')?.type === 'identifier' ? methodRef(frame, fn.childForFieldName('value')!.text) : undefined;
    if (table?.type === 'dictionary') {
      const key = this.constString(fn.childForFieldName('subscript'), frame);
      const entries = table.namedChildren.flatMap((p) => (p?.type === 'pair' ? [p.childForFieldName('value')!] : []));
      const chosen = key === undefined ? undefined : table.namedChildren.find((p) => p?.type === 'pair' && stringValue(p.childForFieldName('key')) === key);
      if (!chosen && entries.length > 1 && entries.length <= MAX_TABLE_ENTRIES) return union(...entries.map((e) => this.call(node, frame, e)));
      fn = chosen?.childForFieldName('value') ?? entries[0] ?? fn;
    }
    const argsNode = node.childForFieldName('arguments');
    let name = lastName(fn) ?? '';
    let qualified = qualify(fn, this.imports) ?? '';
    let receiver: Taints = NONE;
    let receiverNode: Node | undefined;
    let calleeTaint: Taints = NONE;
    if (fn.type === 'attribute') {
      receiverNode = fn.childForFieldName('object')!;
      receiver = this.eval(receiverNode, frame);
    } else if (fn.type !== 'identifier') calleeTaint = this.eval(fn, frame);
    // `getattr(requests, method.lower())(url, headers=…)`: a method of that object, by name if the name is known, or
    // any of its request methods, which take the URL first.
    const dynamic = getattrArgs(fn);
    if (dynamic) {
      receiverNode = dynamic[0];
      receiver = this.eval(receiverNode, frame);
      name = this.constString(dynamic[1], frame) ?? 'get';
      qualified = `${qualify(receiverNode, this.imports) ?? receiverNode.text}.${name}`;
    }

    const positional: Taints[] = [];
    const positionalArgs: Node[] = [];
    const keywords = new Map<string, { node: Node; taints: Taints }>();
    const splats: { node: Node; taints: Taints }[] = [];
    for (const a of argsNode?.namedChildren ?? []) {
      if (!a) continue;
      if (a.type === 'keyword_argument') {
        const k = a.childForFieldName('name')!.text;
        keywords.set(k, { node: a, taints: this.eval(a.childForFieldName('value')!, frame) });
      } else if (a.type === 'dictionary_splat') {
        splats.push({ node: a, taints: this.eval(a.namedChildren[0]!, frame) });
      } else if (a.type === 'list_splat') {
        positional.push(this.eval(a.namedChildren[0]!, frame));
        positionalArgs.push(a);
      } else if (a.type !== 'comment') {
        positional.push(this.eval(a, frame));
        positionalArgs.push(a);
      }
    }

    // `client.get(path, headers=h)` on an object of a class of the scan: its method (summarised) decides, not the name.
    // `headers.pop("authorization", None)` (also for each name of a deny list) on a copy of the inbound headers.
    if (fn.type === 'attribute' && name === 'pop' && receiverNode?.type === 'identifier' && lookup(frame, receiverNode.text) && unconditional(node) && this.removesCredential(argsNode?.namedChildren[0], node)) stripHeaders(frame, receiverNode.text);
    const scannedMethod = fn.type === 'attribute' && HTTP_METHOD_NAMES.has(name) && !!this.calleeSummary(fn, name, receiverNode, frame);
    if (!scannedMethod) this.sinks(node, fn, name, qualified, receiverNode, positional, keywords, splats, frame);
    // `partial(requests.get, headers={"Authorization": tok})`, `asyncio.to_thread(requests.post, url, headers=h)`: the
    // request the runner makes (or the partial makes when called) carries the arguments handed on with it.
    const runner = runnerOf(node, name, qualified);
    const wrapped = runner ? positionalArgs[runner.fn] : undefined;
    if (runner && (wrapped?.type === 'attribute' || wrapped?.type === 'identifier')) {
      const receiverOf = wrapped.type === 'attribute' ? wrapped.childForFieldName('object')! : undefined;
      this.sinks(node, wrapped, lastName(wrapped) ?? '', qualify(wrapped, this.imports) ?? '', receiverOf, positional.slice(runner.fn + 1), runner.keywords ? keywords : new Map(), splats, frame);
    }
    // `os.environ.get("API_TOKEN")` / `os.getenv("API_TOKEN")`: what the process set there earlier, if anything.
    const envKey = qualified === 'os.getenv' || qualified === 'os.environ.get' ? this.constString(argsNode?.namedChildren[0], frame) : undefined;
    const fromEnv = envKey !== undefined ? this.readStore(`env:${envKey}`, node, `environment variable \`${envKey}\``) : NONE;

    // Per-request storage: `ContextVar.set(tok)` / `.get()` on a module-level or imported variable.
    // The holder may be a module-level mapping of context variables: `_tokens[target].set(tok)`.
    const holder = receiverNode?.type === 'identifier' ? receiverNode : receiverNode?.type === 'subscript' ? receiverNode.childForFieldName('value') : undefined;
    if (fn.type === 'attribute' && holder?.type === 'identifier' && (name === 'set' || name === 'get') && this.sharedHolder(holder.text, frame)) {
      const recv = holder.text;
      const key = `${this.storeKey(recv)}()`;
      const label = `context variable \`${recv}\``;
      if (name === 'set' && positional.length === 1 && !keywords.size) {
        this.writeStore(key, positional[0]!, node, label);
        return NONE;
      }
      const first = argsNode?.namedChildren[0];
      // A default (`.get(None)`, `.get({})`); a dictionary or list cannot be a mapping's key, so that `get` is a ContextVar's.
      if (name === 'get' && positional.length <= 1 && (!first || ['none', 'string', 'integer', 'dictionary', 'list', 'true', 'false'].includes(first.type))) {
        const stored = this.readStore(key, node, label, recv);
        if (stored.length) return stored;
      }
    }

    // FastMCP's per-session context state: `ctx.set_state("creds", value)` in middleware, `ctx.get_state("creds")` in a
    // tool or helper (whatever the receiver is called: `ctx`, `context.fastmcp_context`, `get_context()`).
    if ((fn.type === 'attribute' || dynamic) && (name === 'set_state' || name === 'get_state')) {
      const key = this.constString(argsNode?.namedChildren[0], frame);
      if (key !== undefined) {
        const label = `FastMCP context state \`${key}\``;
        if (name === 'set_state' && positional.length >= 2) {
          this.writeStore(`fastmcp_state.${key}`, positional[1]!, node, label);
          return NONE;
        }
        if (name === 'get_state') return this.readStore(`fastmcp_state.${key}`, node, label, key);
      }
      // `ctx.get_state(key)` in a helper handed the key (`_get_state(ctx, "oauth_access_token")`): the caller's key picks.
      const keyParam = key === undefined && name === 'get_state' ? this.keyParamOf(argsNode?.namedChildren[0], frame) : undefined;
      if (keyParam !== undefined) return this.readStoreFamily('fastmcp_state.', node, 'FastMCP context state').map((t) => ({ ...t, keyParam }));
    }

    // `request.scope.get("token")`: what ASGI middleware put in the scope.
    if (fn.type === 'attribute' && name === 'get' && receiverNode && positional.length >= 1) {
      const key = this.constString(argsNode?.namedChildren[0], frame);
      if (key !== undefined) {
        const stored = this.scopeCell(receiverNode, key, node, frame);
        if (stored.length) return stored;
      }
    }

    // `getattr(request.state, "token", None)` reads the cell like `request.state.token`.
    if (name === 'getattr' && fn.type === 'identifier') {
      const [objArg, attrArg] = argsNode?.namedChildren.filter((a) => a && a.type !== 'keyword_argument') ?? [];
      const attr = this.constString(attrArg, frame);
      if (objArg && attr) {
        const cell = this.storeCell(objArg, attr, frame) ?? this.stateCellOfGetattr(objArg, attr, frame);
        if (cell) return this.readStore(cell.key, node, cell.label, cell.guess);
        // …and `getattr(ctx, "request", None)` is `ctx.request`.
        return this.memberRead(objArg, attr, node, frame);
      }
      // `getattr(config, field, None)` with the field a parameter: the caller's choice of key (see `Taint.keyParam`).
      const keyParam = this.keyParamOf(attrArg, frame);
      if (objArg && keyParam !== undefined) {
        return (positional[0] ?? NONE).filter((t) => t.kind === 'headers' || t.kind === 'options' || isPlaceholder(t)).map((t) => ({ ...(t.origin ? derive(t, 'cred', node) : t), kind: 'cred' as const, keyParam }));
      }
    }

    // Results.
    if (exemptResult(name, () => this.calleeSummary(fn, name, receiverNode, frame))) return NONE;
    // …also imported under another name (`from fastmcp.server.dependencies import get_http_headers as h`).
    const original = qualified.includes('.') ? qualified.slice(qualified.lastIndexOf('.') + 1) : name;
    if (name === 'get_http_headers' || original === 'get_http_headers') return [source('headers', node)];
    if (name === 'get_http_request' || original === 'get_http_request') return [source('request', node)];
    // FastMCP's `get_access_token()`, unless the project defines its own of that name (then its summary applies).
    // A method of that name on another object (PyGithub's `integration.get_access_token(installation_id)`, an OAuth
    // client's) gets a token of the server's own; FastMCP's is a function, called without arguments.
    if (name === 'get_access_token' && this.isFastmcpAccessToken(fn, argsNode) && !this.calleeSummary(fn, name, receiverNode, frame)) return this.behindTokenProxy() ? NONE : [source('tokenobj', node)];
    // A package's credential getter handed the MCP request context (`get_active_api_key(context)` with `context:
    // Context`, from a payment or auth middleware the scan does not hold): the key that request carried.
    if (fn.type === 'identifier' && CONTEXT_CREDENTIAL_GETTER.test(name) && this.resolve(name)?.kind === 'package' && !this.calleeSummary(fn, name, receiverNode, frame) &&
      positionalArgs.some((a) => a.type === 'identifier' && this.#packageContextParam(a))) return [source('cred', node)];
    const args = positional;
    let out: Taints = fromEnv;
    // The default of a lookup is what it gives when the key is missing: `os.getenv("TOKEN", tok)`, `d.get(k, tok)`.
    if ((name === 'get' || name === 'getenv') && args[1]) out = union(out, carriesCredential(args[1]));
    // Starlette's `Request(scope)` / `HTTPConnection(scope)` in ASGI middleware is the same inbound request.
    if (/(Req|Request|HTTPConnection|WebSocket)$/.test(name) && args[0]) out = union(out, only(args[0], 'request'));
    // …and `Headers(scope=scope)`: its headers.
    const scope = name === 'Headers' ? keywords.get('scope') : undefined;
    if (scope) out = union(out, only(scope.taints, 'request').map((t) => derive(t, 'headers', node)));
    if (fn.type === 'attribute') {
      // Falcon's / Bottle's / Tornado's / BlackSheep's request getters: `req.get_header("Authorization")`,
      // `request.get_first_header(b"Authorization")`.
      if (only(receiver, 'request').length && REQUEST_HEADER_GETTERS.has(name)) {
        const key = this.constString(argsNode?.namedChildren[0], frame);
        if (key === undefined || isCredentialHeader(key)) out = union(out, only(receiver, 'request').map((t) => derive(t, 'cred', node)));
      }
      // (A key the function is handed, `headers.get(name)`, is the caller's choice: see `Taint.keyParam`.)
      const keyParam = this.keyParamOf(argsNode?.namedChildren[0], frame);
      if (only(receiver, 'headers').length && HEADER_GETTERS.has(name)) {
        const key = this.constString(argsNode?.namedChildren[0], frame);
        if (key === undefined || isCredentialHeader(key) || isSettingsBlob(key) || boundToCredentialName(node)) out = union(out, only(receiver, 'headers').map((t) => ({ ...derive(t, 'cred', node), keyParam })));
      }
      // A mapping handed in as a parameter (`def token_from(headers): return headers.get("authorization")`): what the
      // caller passes for it holds the credential under that name.
      if (HEADER_GETTERS.has(name)) {
        const key = this.constString(argsNode?.namedChildren[0], frame);
        const held = receiver.filter((t) => isPlaceholder(t) && t.kind !== 'cred');
        const plain = receiver.filter((t) => isPlaceholder(t) && t.kind === 'cred');
        // A key from a loop over names (`for key in ("authorization", "x-api-key")`) on a mapping called `headers`.
        const headersParam = key === undefined && /headers$/i.test(receiverNode?.text ?? '');
        if (headersParam || (key !== undefined && (isCredentialHeader(key) || isCredentialName(key)))) out = union(out, held.map((t) => ({ ...t, kind: 'cred' as const })), plain);
        else if (keyParam !== undefined) out = union(out, held.map((t) => ({ ...t, kind: 'cred' as const, keyParam })));
      }
      // `.items()` of a mapping handed in as a parameter: whatever the caller passed, as a mapping.
      if (HEADER_VIEWS.has(name)) out = union(out, only(receiver, 'headers', 'options'), receiver.filter((t) => isPlaceholder(t) && t.kind === 'cred').map((t) => ({ ...t, kind: 'headers' as const })));
      // ASGI: `scope.get("headers", [])`; AWS Lambda: `event.get("headers")`, `event.get("queryStringParameters")`.
      const getKey = name === 'get' ? this.constString(argsNode?.namedChildren[0], frame) : undefined;
      if (getKey === 'user' || getKey === 'auth') out = union(out, this.index(only(receiver, 'request'), getKey, node));
      if (getKey !== undefined && REQUEST_MAPS.has(getKey)) {
        out = union(out, only(receiver, 'request').map((t) => derive(t, 'headers', node)));
        // …and the same on a parameter a helper is handed (`def token_from(event): event.get("headers", {})`).
        out = union(out, receiver.filter((t) => isPlaceholder(t)).map((t) => ({ ...t, kind: 'headers' as const })));
      }
      // `re.match(pattern, auth)`, `BEARER.match(auth)`, `re.sub(r"^Bearer ", "", auth)`.
      if (REGEX_FUNCS.has(name) && !receiver.length) for (const a of args) out = union(out, only(a, 'cred'));
      if (STRING_METHODS.has(name)) {
        // Raw ASGI header pairs are bytes: `v.decode()` of one is still the header value.
        out = union(out, only(receiver, 'cred'), name === 'decode' || name === 'encode' ? only(receiver, 'headers') : NONE);
        if (name === 'format' || name === 'join') for (const a of [...args, ...[...keywords.values()].map((k) => k.taints)]) out = union(out, retag(carriesCredential(a), 'cred'));
      }
      // Mutating a local dict: `headers.update({...})`, `headers.setdefault(k, tok)`.
      if ((name === 'update' || name === 'setdefault' || name === '__setitem__') && receiverNode) {
        const incoming = union(...args, ...[...keywords.values()].map((k) => k.taints));
        if (receiverNode.type === 'attribute' && receiverNode.childForFieldName('attribute')!.text === 'headers' && !this.isLocalContainer(receiverNode.childForFieldName('object')!, frame)) {
          this.reportSink(frame, node, incoming, 'the headers of an outbound HTTP client');
        } else {
          const key = name === 'update' ? undefined : this.constString(argsNode?.namedChildren[0], frame);
          this.taintRoot(receiverNode, retag(carriesCredential(incoming), 'headers'), frame, key);
        }
      }
    }
    // `typing.cast(Request, value)` is the value.
    if (name === 'cast' && args[1]) out = union(out, args[1]);
    // A copy with fields replaced (`dataclasses.replace(settings, api_key=tok)`, namedtuple `_replace`, pydantic
    // `model_copy(update={…})`): the object, now holding what it was given.
    if (qualified === 'dataclasses.replace' || name === '_replace' || name === 'model_copy') {
      for (const a of name === 'replace' ? args.slice(0, 1) : [receiver]) out = union(out, only(a, 'headers', 'options'));
      for (const [k, v] of keywords) out = union(out, retag(carriesCredential(v.taints).map((t) => k === 'update' ? t : heldUnder(t, k)), 'headers'));
    }
    if (name === 'dict' && fn.type === 'identifier' && keywords.size) {
      // `dict(method="GET", headers=headers)` is the literal `{"method": "GET", "headers": headers}`: request options.
      for (const [k, v] of keywords) out = union(out, retag(carriesCredential(v.taints), k === 'headers' ? 'options' : 'headers'));
      // `dict(base, **defaults, headers=…)`: what it is built from is in it too.
      for (const a of [...args, ...splats.map((sp) => sp.taints)]) out = union(out, only(a, 'headers', 'options'));
    } else if (TRANSPARENT_CALLS.has(name)) {
      // `json.loads(cred)` is a mapping of credentials; str/base64/quote of one is still the credential, and so is the
      // query string `urlencode({"refresh_token": tok})` makes. The text of a whole inbound map (`str(request.query_params)`
      // appended to a proxied URL) is the request relayed, not a credential put there.
      for (const a of [...args, ...[...keywords.values()].map((k) => k.taints)]) {
        out = union(out, name === 'loads' ? retag(only(a, 'cred'), 'headers') : name === 'str' || name === 'urlencode' ? retag(a.filter((t) => t.param !== undefined || bodyCredential([t]).length), 'cred')
          : name.includes('b64') || name.includes('quote') ? retag(carriesCredential(a), 'cred') : a);
      }
    }
    // Runners that call the function they are given with the arguments after it: `asyncio.to_thread(fn, *a, **kw)`.
    out = union(out, this.callThrough(node, name, qualified, positional, keywords, frame));
    // `partial(fn, tok)(…)`: the call of a partial is the call it was built for (its taint is what that returns).
    if (fn.type === 'call' && isPartial(fn)) out = union(out, calleeTaint);
    // Functions and methods of this file or of a scanned module it imports.
    const callee = shortCallee(fn);
    const summary = this.calleeSummary(fn, name, receiverNode, frame);
    // (A function attached to a class after it, `def get_organization(self)`, gets the instance as its `self`.)
    const bound = (s: Summary) => bindArgs(s, s.params[0] === 'self' && receiverNode ? [receiver, ...args] : args, keywords, splats);
    if (summary) {
      out = union(out, this.applySummary(frame, summary, bound(summary), node, callee));
      if (summary.returnsSelf && receiverNode) out = union(out, receiver);
      // …and the dicts it fills (`self._inject_credentials(headers, query, token_data)`) hold what it put there.
      for (const [i, filled] of this.filledArguments(summary, bound(summary), node, callee)) {
        const arg = keywords.get(summary.params[i]!)?.node.childForFieldName('value') ?? positionalArgs[i];
        if (arg?.type === 'identifier') this.taintRoot(arg, filled, frame);
      }
      // `super().__init__(http, {"X-Api-Key": api_key})`: the fields the base's constructor stores its parameters in
      // hold what this constructor passes there (its own parameters).
      if (name === '__init__' && frame.className && isSuper(receiverNode)) this.inheritFields(frame, frame.className, bound(summary));
    }
    // Calling a variable or parameter that holds a callback gives what the callback returns (see `lambda` in `eval`).
    else if (fn.type === 'identifier' && !this.classOfCall(node)) {
      const held = lookup(frame, name);
      if (held) out = union(out, hop(held, node, `called \`${name}()\``));
      // A decorator's wrapper calling the function it wraps with arguments of its own (`func(*args, api_key=key)`):
      // remembered for the functions the decorator is applied to.
      if (held?.some((t) => t.param !== undefined && !t.field)) this.recordInjection(node, positional, keywords);
    }
    // `self._inject_headers(headers)`: a function the constructor stored in a field, called by a method; what it
    // returns is what the function stored there returns (`self._token_provider()`).
    if (fn.type === 'attribute' && receiverNode?.text === 'self' && frame.className && this.ctorAttrs.has(`${frame.className}.${name}`) && !summary) {
      this.recordFieldCall(frame.className, name, positional, node);
      // (What callers in other files store there is known only as the field: for a field named for a credential
      // provider, its result is what the sinks it reaches send.)
      const held = only(this.eval(fn, frame), 'cred', 'headers').filter((t) => t.origin || CREDENTIAL_PROVIDER_FIELD.test(name));
      out = union(out, hop(held, node, `called \`self.${name}()\``));
    }
    // `await asyncio.to_thread(fn, …)`, `loop.run_in_executor(None, fn)`, `anyio.to_thread.run_sync(fn)`: fn's result.
    if (RUNS_ITS_ARGUMENT.has(name)) {
      const given = argsNode?.namedChildren.filter((a) => a && a.type !== 'keyword_argument' && a.type !== 'comment') ?? [];
      const target = given[name === 'run_in_executor' ? 1 : 0];
      if (target) out = union(out, hop(only(this.eval(target, frame), 'cred', 'headers'), node, `run by \`${name}\``));
    }
    // Constructors: `__init__` stores parameters in fields that methods send.
    const cls = this.classOfCall(node, frame);
    if (cls) {
      const init = this.classMethod(cls, '__init__') ?? this.inheritedMethod(cls, '__init__');
      const ctorArgs = init ? bound(init) : args;
      // An instance built from a credential holds it (`Task(task_id=i, auth_token=tok)`), as an options bag: only a
      // read of a credential-named field (`task.auth_token`) gives it back. Only what is given under a credential's
      // name counts (`StoredToken(user_email=…)` does not make its `access_token` the caller's).
      const given = [...[...keywords].filter(([k]) => isCredentialName(k)).map(([, v]) => v.taints), ...args.filter((_, i) => isCredentialName(init?.params[i] ?? ''))];
      out = union(out, retag(carriesCredential(union(...given)), 'options'));
      // A credential provider of another package's auth interface (`class CallerAuth(AuthProvider)` whose `get_token()`
      // returns the caller's token): the instance is that credential to the client it is given to (`Acex(auth=…)`).
      if (!cls.includes('#') && (CREDENTIAL_PROVIDER_CLASS.test(cls) || CREDENTIAL_PROVIDER_CLASS.test(this.packageBases.get(cls) ?? ''))) {
        for (const [key, s] of this.summaries) {
          if (!key.startsWith(`${cls}.`) || key.endsWith('.__init__') || s.params.length > 1) continue;
          const held = only(s.returns, 'cred').filter((t) => t.origin);
          if (held.length) out = union(out, hop(held, node, `\`${callee}\` provides it (\`${key.slice(cls.length + 1)}()\`)`));
        }
      }
      // A subclass of another package's client that keeps its constructor: the package gets the arguments.
      if (!init && this.packageBases.has(cls)) this.packageCredentialSink(frame, node, callee, args, keywords);
      if (init) this.applySummary(frame, init, ctorArgs, node, callee);
      this.applyConstructor(frame, cls, ctorArgs, node, callee);
      // Functions of the scan handed to the constructor (`inject_headers=set_request_headers`).
      if (init) {
        const argNodes = argsNode?.namedChildren.filter((a): a is Node => !!a && a.type !== 'comment') ?? [];
        const fns: (Summary | undefined)[] = [];
        argNodes.forEach((a, i) => {
          const value = a.type === 'keyword_argument' ? a.childForFieldName('value') : a;
          const index = a.type === 'keyword_argument' ? init.params.indexOf(a.childForFieldName('name')!.text) : i;
          if (value?.type === 'identifier' && index >= 0 && !lookup(frame, value.text)) fns[index] = this.summaries.get(value.text) ?? this.importedSummary(this.resolve(value.text));
        });
        this.applyFieldCallbacks(frame, cls, fns, node, callee);
      }
      if (!cls.includes('#')) {
        for (const [key, params] of this.ctorAttrs) {
          if (!key.startsWith(`${cls}.`)) continue;
          for (const p of params) for (const a of carriesCredential(ctorArgs[p.param!] ?? [])) if (a.origin) this.addAttr(key, [{ ...a, kind: p.kind, path: hop([a], node, `passed to \`${callee}\``)[0]!.path }]);
          // …and for instances read outside the class (`state.value`), also what a caller's argument gives the field
          // when it is built in a helper from its parameter (`def normalize(raw): return Supplied(value=raw.strip())`).
          if (this.recordClasses().has(cls)) for (const p of params) this.writeStore(`${this.file}#${key}`, hop(carriesCredential(ctorArgs[p.param!] ?? []), node, `passed to \`${callee}\``), node, `\`${key}\``);
        }
      }
    } else if (!summary && fn.type === 'attribute' && /(^|_)(client|api|sdk)$/i.test(lastName(receiverNode ?? null) ?? '') && !NOT_A_KEPT_CLIENT.test(lastName(receiverNode ?? null) ?? '') &&
      !this.fromPackage(fn) && !VERIFYING.test(name) && !TO_ISSUER.test(name) &&
      [...keywords.keys()].some((k) => isCredentialName(k))) {
      // A method of an API client the code keeps (`ctx.request_context.lifespan_context.search_api_client.search(req,
      // api_key=key)`, `self.api.call(…, token=tok)`) given the credential by name: the client sends it.
      this.packageCredentialSink(frame, node, callee, [], new Map([...keywords].filter(([k]) => isCredentialName(k))), false);
    } else if (!summary && (this.fromPackage(fn) || (fn.type === 'identifier' && this.packageBases.has(name) && !this.classMethod(name, '__init__'))) && !VERIFYING.test(name) && !sendsNothing(fn, name) &&
      // (A class of the repository's own module the scan does not hold counts when it is named as a client: an
      // `AuthContext(auth_token=…)` is a record of the request, an `ApiClient(api_key=…)` the client that sends it.
      // Its functions given a credential by name, `fetch_all_pages(access_token=…)`, still count.)
      !(this.ownModule(fn) && /^_*[A-Z]/.test(name) && !isClientLike(name))) {
      // Code of another package given the credential: a client class (`Github(auth=…)`, `SomeApiClient(api_key=tok)`,
      // `datarobot.Client(token=…)`), or a connect/login function (`pyexasol.connect(access_token=tok)`), named
      // or in a `**kwargs` dict. Positional arguments count for clients only (a function's are anything).
      const clientLike = /^[A-Z]/.test(name) || /client/i.test(name) || (/(api_?key|token|auth|credential|login|connect|password|secret|engine|pool)/i.test(name) && !drawsAPage(name));
      const named = new Map(keywords);
      // A parameters dict given positionally (`serpapi.search({"q": q, "api_key": key})`) or as a keyword
      // (`connect(config={"api_key": key})`): its credential-named keys.
      for (const arg of argsNode?.namedChildren ?? []) {
        const a = arg?.type === 'keyword_argument' ? arg.childForFieldName('value') : arg;
        if (a?.type !== 'dictionary') continue;
        for (const pair of a.namedChildren) {
          const key = pair?.type === 'pair' ? stringValue(pair.childForFieldName('key')) : undefined;
          if (key !== undefined && isCredentialName(key)) named.set(key, { node: pair!, taints: this.eval(pair!.childForFieldName('value')!, frame) });
        }
      }
      for (const splat of splats) {
        const held = only(splat.taints, 'headers').filter((t) => t.origin || t.param !== undefined);
        if (held.length) named.set(splat.node.text, { node: splat.node, taints: held });
      }
      // …or headers for the requests it makes, directly or at any depth of a settings dict (python-redmine's
      // `Redmine(url, requests={"headers": {"Authorization": f"Bearer {tok}"}})`).
      const headersKw = keywords.get('headers');
      if (headersKw) this.reportSink(frame, headersKw.node, headersKw.taints, `the headers given to \`${callee}\` (code outside the scan)`);
      for (const arg of argsNode?.namedChildren ?? []) {
        const a = arg?.type === 'keyword_argument' ? arg.childForFieldName('value') : arg;
        for (const pair of a?.type === 'dictionary' ? a.descendantsOfType('pair') : []) {
          if (!pair || stringValue(pair.childForFieldName('key')) !== 'headers') continue;
          this.reportSink(frame, pair, this.eval(pair.childForFieldName('value')!, frame), `the headers given to \`${callee}\` (code outside the scan)`);
        }
      }
      // A client imported under another name (`from twilio.rest import Client as Twilio`) is judged by its own name.
      const imported = fn.type === 'identifier' ? this.resolve(name) : undefined;
      const original = imported?.kind === 'package' ? imported.name : undefined;
      this.packageCredentialSink(frame, node, callee, clientLike ? args : [], named, isClientLike(callee) || (!!original && isClientLike(original)), /^_*[A-Z]/.test(name) ? positionalArgs : []);
    }
    // Auth helpers such as `BearerAuth(tok)` or `httpx.BasicAuth(user, tok)` carry the credential into `auth=`.
    if (/^[A-Z]/.test(name) && !HTTP_CONSTRUCTORS.has(name) && !summary) {
      for (const a of args) out = union(out, only(a, 'cred'));
      for (const [k, a] of keywords) if (k !== 'headers') out = union(out, only(a.taints, 'cred'));
    }
    return out;
  }

  /**
   * A runner handed a function and its arguments calls the function with them: `asyncio.to_thread(fn, *a, **kw)`,
   * `loop.run_in_executor(executor, fn, *a)`, `anyio.to_thread.run_sync(fn, *a)`, starlette's
   * `run_in_threadpool(fn, *a, **kw)`, `executor.submit(fn, *a, **kw)`, and `functools.partial(fn, *a, **kw)` (taken as
   * called where it is built). The function's parameter-to-sink summary applies to those arguments and the runner's
   * result is what the function returns. Only a function of this file or a scanned module has a summary.
   */
  callThrough(node: Node, name: string, qualified: string, positional: Taints[], keywords: Map<string, { node: Node; taints: Taints }>, frame: Frame): Taints {
    const runner = runnerOf(node, name, qualified);
    if (!runner) return NONE;
    const argNodes = (node.childForFieldName('arguments')?.namedChildren ?? []).filter((a): a is Node => !!a && a.type !== 'keyword_argument' && a.type !== 'dictionary_splat');
    const target = argNodes[runner.fn];
    if (!target) return NONE;
    // `run_in_executor(None, partial(fn, tok))`: the partial was applied where it was built; its taint is the result.
    if (target.type === 'call' && isPartial(target)) return positional[runner.fn] ?? NONE;
    if (target.type !== 'identifier' && target.type !== 'attribute') return NONE;
    const receiver = target.type === 'attribute' ? target.childForFieldName('object') ?? undefined : undefined;
    const summary = this.calleeSummary(target, lastName(target) ?? '', receiver, frame);
    if (!summary) return NONE;
    const rest = positional.slice(runner.fn + 1);
    const bound = bindArgs(summary, rest, runner.keywords ? keywords : new Map());
    return this.applySummary(frame, summary, bound, node, shortCallee(target));
  }

  /** The summary of what `fn` calls: a function of this file, a method of this class, or one of a scanned import. */
  calleeSummary(fn: Node, name: string, receiverNode: Node | undefined, frame: Frame): Summary | undefined {
    if (fn.type === 'identifier') {
      // A helper nested in the function making the call (or one around it).
      const nested = this.nestedSummary(frame, name);
      if (nested) return nested;
      const held = lookup(frame, name);
      // A parameter named for a helper of another module (`zephyr_request` handed to `register_tools`): that helper.
      if (held?.length && held.every((t) => t.param !== undefined && !t.origin) && !this.summaries.has(name)) return this.namedFunction(name);
      if (held && !this.summaries.has(name)) return undefined;
      return this.withPatches(`${this.file}#${name}`, this.summaries.get(name) ?? this.importedSummary(this.resolve(name)));
    }
    if (!receiverNode) return undefined;
    // `super().__init__(config)`: the base class's method.
    if (isSuper(receiverNode) && frame.className) return this.inheritedMethod(frame.className, name);
    // `TaskManager().create_task(tok)`: the method of the class just built; `get_client().fetch(tok)`: of the class
    // the factory returns (one class only).
    const factory = receiverNode.type === 'call' ? this.factoryClass(receiverNode, frame) : undefined;
    const built = receiverNode.type === 'call' ? this.classOfCall(receiverNode) ?? (factory?.includes('|') ? undefined : factory) : undefined;
    if (built) return this.classMethod(built, name);
    if (receiverNode.type !== 'identifier') return receiverNode.type === 'attribute' || receiverNode.type === 'call' ? this.uniqueMethod(name) : undefined;
    const recv = receiverNode.text;
    // …its own or its subclasses' method, or the one it inherits from a base class of the scan (a mixin's `_auth_headers`).
    if ((recv === 'self' || recv === 'cls') && frame.className) return this.methodSummary(frame.className, name) ?? this.inheritedMethod(frame.className, name);
    return this.receiverSummary(frame, recv, name);
  }

  /** Records `Class.attr = fn` (see `assign`): the function's key as a patch of the method's. */
  attachMethod(className: string, attr: string, value: Node): void {
    const cls = this.resolve(className);
    const classKey = cls?.kind === 'symbol' ? `${cls.file}#${cls.name}` : this.#classes().names.has(className) ? `${this.file}#${className}` : undefined;
    const object = value.type === 'attribute' ? value.childForFieldName('object') : undefined;
    const fn = value.type === 'identifier' ? (this.summaries.has(value.text) ? `${this.file}#${value.text}` : this.importedKey(this.resolve(value.text)))
      : object?.type === 'identifier' ? this.importedKey(this.resolve(object.text), value.childForFieldName('attribute')!.text) : undefined;
    if (classKey && fn) this.patches.set(`${classKey}.${attr}`, fn);
  }

  /** The class of what a call to a factory returns (`credential = get_credential(target)`). */
  factoryClass(node: Node, frame: Frame): string | undefined {
    let n: Node | null = node;
    while (n && (n.type === 'await' || n.type === 'parenthesized_expression')) n = n.namedChildren[0] ?? null;
    const fn = n?.type === 'call' ? n.childForFieldName('function') : undefined;
    if (!fn) return undefined;
    const receiver = fn.type === 'attribute' ? fn.childForFieldName('object') ?? undefined : undefined;
    return this.calleeSummary(fn, lastName(fn) ?? '', receiver, frame)?.returnsClass?.join('|');
  }

  /** The class a call constructs, when it is defined in this file (`Class`) or a scanned module (`file#Class`). */
  /** The class of this scan a parameter annotation names (`Client`, `"Client"`, `Client | None`, `Optional[Client]`). */
  annotatedClass(type: Node | null): string | undefined {
    if (!type) return undefined;
    const names = type.text.replace(/["']/g, '').split(/[^A-Za-z0-9_.]+/).filter((n) => /^[A-Z]/.test(n) && n !== 'Optional' && n !== 'None');
    const found = names.map((n) => (this.classesWithMembers.has(n) ? n : this.importedKey(this.resolve(n)))).filter((c): c is string => !!c);
    return found.length === 1 ? found[0] : undefined;
  }

  classOfCall(node: Node, frame?: Frame): string | undefined {
    let n: Node | null = node;
    while (n && (n.type === 'await' || n.type === 'parenthesized_expression')) n = n.namedChildren[0] ?? null;
    if (n?.type !== 'call') return undefined;
    const fn = n.childForFieldName('function');
    const holder = fn?.type === 'attribute' ? fn.childForFieldName('object')?.text : undefined;
    if ((holder === 'cls' || holder === 'self') && frame?.className) {
      const alias = this.classAliases.get(`${frame.className}.${fn!.childForFieldName('attribute')!.text}`);
      if (alias) return this.classesWithMembers.has(alias) ? alias : this.importedKey(this.resolve(alias));
    }
    if (fn?.type === 'identifier') {
      const name = fn.text;
      // `cls(…)` in a classmethod (an alternative constructor such as `from_request_headers`): the class itself.
      if (name === 'cls' && frame?.className && this.classesWithMembers.has(frame.className)) return frame.className;
      if (this.classesWithMembers.has(name)) return name;
      const key = this.importedKey(this.resolve(name));
      // A class named in lower case (`class mcp_utils:`) is known by its constructor, from the file defining it.
      if (!/^_*[A-Z]/.test(name)) return key?.includes('#') && (this.constructorFields(key) || this.classMethod(key, '__init__')) ? key : undefined;
      return key;
    }
    if (fn?.type === 'attribute' && fn.childForFieldName('object')?.type === 'identifier') {
      const attr = fn.childForFieldName('attribute')!.text;
      if (!/^_*[A-Z]/.test(attr)) return undefined;
      const target = this.resolve(fn.childForFieldName('object')!.text);
      return target?.kind === 'module' ? this.importedKey(target, attr) : undefined;
    }
    return undefined;
  }

  /** Whether the callee's root name is imported from another package (not a scanned module, not the standard library). */
  fromPackage(fn: Node): boolean {
    const root = rootName(fn);
    if (!root) return false;
    const r = this.resolve(root);
    return r?.kind === 'package' && !NOT_CLIENT_PACKAGES.has(r.module.split('.')[0]!) && !CLIENT_MODULES.has(r.module.split('.')[0]!);
  }

  /** A name imported from a module of the repository's own packages that the scan does not hold. */
  ownModule(fn: Node): boolean {
    const r = this.resolve(rootName(fn) ?? '');
    return r?.kind === 'package' && !!r.own;
  }

  /** A module-level or imported name (not a local, not an HTTP client): a candidate storage holder. */
  sharedHolder(name: string, frame: Frame): boolean {
    if (isLocal(frame, name) && frame !== this.#module) return false;
    if (this.clients.has(name) || lookup(frame, name)?.length) return false;
    if (this.imports.defines.has(name)) return true;
    const r = this.resolve(name);
    return r !== undefined && r.kind !== 'module';
  }

  /** A module-level or imported name read or written inside a function: its storage cell. */
  sharedName(name: string, frame: Frame): string | undefined {
    if (frame === this.#module || isLocal(frame, name) && !frame.globals?.has(name)) return undefined;
    if (this.imports.defines.has(name)) return `${this.file}#${name}`;
    const r = this.resolve(name);
    return r?.kind === 'symbol' ? `${r.file}#${r.name}` : undefined;
  }

  /** `request.scope["k"]`, `self.request.scope["k"]`, or `scope["k"]` of ASGI middleware: the cell `scope.k`. */
  scopeCell(holder: Node, key: string, node: Node, frame: Frame): Taints {
    if (key === 'headers' || key === 'state' || key === 'type' || key === 'path' || key === 'method') return NONE;
    const named = holder.type === 'attribute' ? holder.childForFieldName('attribute')!.text : holder.type === 'identifier' ? holder.text : '';
    if (named !== 'scope') return NONE;
    if (holder.type === 'identifier' && !only(this.eval(holder, frame), 'request').length) return NONE;
    return this.readStore(`scope.${key}`, node, `\`scope["${key}"]\``, key);
  }

  /**
   * Storage reached through an attribute: `request.state.x`, Flask `g.x`, `Config.token` / `settings.token` on a
   * module-level or imported object, `module.VAR` of a scanned module. Undefined for anything local.
   */
  storeCell(obj: Node, attr: string, frame: Frame): { key: string; label: string; guess?: string } | undefined {
    if (obj.type === 'attribute' && obj.childForFieldName('attribute')!.text === 'state') {
      const owner = obj.childForFieldName('object')!;
      if (only(this.eval(owner, frame), 'request').length || REQUEST_NAMES.has(owner.text) || owner.text.endsWith('.request')) {
        return { key: `state.${attr}`, label: `\`request.state.${attr}\``, guess: attr };
      }
      return undefined;
    }
    if (obj.type !== 'identifier' || obj.text === 'self' || obj.text === 'cls') return undefined;
    const name = obj.text;
    const r = this.resolve(name);
    if (r?.kind === 'package' && r.module === 'flask' && r.name === 'g') return { key: `g.${attr}`, label: `\`g.${attr}\``, guess: attr };
    if (isLocal(frame, name) && frame !== this.#module) return undefined;
    if (frame === this.#module && !r) return undefined;
    if (!this.imports.defines.has(name) && r?.kind !== 'symbol' && r?.kind !== 'module') return undefined;
    if (this.clients.has(name)) return undefined;
    return { key: this.storeKey(name, attr), label: `\`${name}.${attr}\`` };
  }

  sinks(node: Node, fn: Node, name: string, qualified: string, receiverNode: Node | undefined, positional: Taints[],
    keywords: Map<string, { node: Node; taints: Taints }>, splats: { node: Node; taints: Taints }[], frame: Frame): void {
    if (ADD_HEADER_METHODS.has(name) && positional[1]) {
      this.reportSink(frame, node, retag(carriesCredential(positional[1]), 'cred'), `the headers of an outbound HTTP request (\`${shortCallee(fn)}\`)`);
      return;
    }
    // A child process given the credential in its environment (`subprocess.run(["gh", …], env=environ | {"GH_TOKEN":
    // tok})`, or in the `**kwargs` a wrapper passes on): the program it runs (a CLI) calls its API with it.
    // …also a stdio MCP server the proxy starts (`StdioServerParameters(command=…, env={"API_KEY": tok})`).
    if (SPAWNS.test(qualified) || name === 'StdioServerParameters') {
      const env = keywords.get('env');
      if (env) this.reportSink(frame, env.node, retag(carriesCredential(env.taints), 'cred'), `the environment of a child process (\`${shortCallee(fn)}\`)`);
      for (const s of splats) this.reportSink(frame, s.node, retag(carriesCredential(s.taints), 'cred'), `the environment or options of a child process (\`${shortCallee(fn)}\`)`);
      // `subprocess.run(["curl", "-H", f"Authorization: Bearer {tok}", url])`: the program is an HTTP client.
      const argNodes = positionalNodes(node);
      const program = httpCliProgram(argNodes[0]);
      if (program) argNodes.forEach((a, i) => this.reportSink(frame, a, retag(carriesCredential(positional[i] ?? NONE), 'cred'), `the command line of \`${program}\` (an outbound HTTP request)`));
      return;
    }
    const root = qualified.split('.')[0] ?? '';
    // A remote procedure of an XML-RPC proxy (Odoo's `models.execute_kw(db, uid, password, …)`, `common.authenticate(db,
    // user, password, {})`): its arguments are the request, credentials included.
    const proxyName = receiverNode?.type === 'identifier' ? localProxy(frame, receiverNode.text) : receiverNode?.text;
    if (receiverNode && ((proxyName && this.rpcProxies.has(proxyName)) || this.isRpcProxy(receiverNode))) {
      for (const p of positional) this.reportSink(frame, node, only(p, 'cred'), `the arguments of an XML-RPC call (\`${shortCallee(fn)}\`)`);
      return;
    }
    // gRPC call metadata (`stub.GetUser(req, metadata=[("authorization", f"Bearer {tok}")])`): request headers.
    const metadata = keywords.get('metadata');
    if (metadata && GRPC_CREDENTIAL_KEY.test(metadata.node.text)) {
      this.reportSink(frame, metadata.node, carriesCredential(metadata.taints), `the metadata (headers) of a gRPC call (\`${shortCallee(fn)}\`)`);
    }
    // `headers=` given to anything that builds a client (`create_mcp_http_client(headers=…)`, a client factory).
    // …or to a request function of another package (`vendor.http_request(url, headers=…)`).
    const clientFactory = keywords.has('headers') && (/(client|session|transport|factory)$/i.test(name) || (REQUEST_FUNCTION.test(name) && this.fromPackage(fn)));
    const httpish = CLIENT_MODULES.has(root) || HTTP_METHOD_NAMES.has(name) || HTTP_CONSTRUCTORS.has(name) || MCP_CLIENT_TRANSPORTS.has(name) || clientFactory ||
      (receiverNode !== undefined && (this.clients.has(receiverNode.text) || this.clients.has(rootName(receiverNode) ?? '')));
    if (!httpish || name === 'Headers') return;
    const label = `an outbound HTTP request (\`${shortCallee(fn)}\`)`;
    // A URL built with the credential in it (`httpx.get(f"{BASE}/eod?api_token={tok}")`), on a real HTTP call (an
    // HTTP module's function or a known client's method); a token handed back to its issuer's revoke / introspect /
    // tokeninfo URL is not passthrough.
    const realHttp = (CLIENT_MODULES.has(root) && !NOT_A_REQUEST.has(name)) || (receiverNode !== undefined && (this.clients.has(receiverNode.text) || this.clients.has(rootName(receiverNode) ?? '') ||
      /(^|_)(client|session|http)$/i.test(lastName(receiverNode) ?? receiverNode.text)));
    const urlAt = name === 'request' || name === 'stream' ? 1 : 0;
    const urlNode = keywords.get('url')?.node.childForFieldName('value') ?? positionalNodes(node)[urlAt];
    if (realHttp && URL_METHODS.has(name)) {
      const urlTaints = keywords.get('url')?.taints ?? positional[urlAt];
      if (urlNode && urlTaints && !TO_ISSUER.test(urlNode.text) && !looksUpByCredential(node)) this.reportSink(frame, urlNode, only(urlTaints, 'cred'), `the URL of ${label}`);
    }
    // A request to the issuer (an OAuth proxy relaying to the token or registration endpoint, `GET …/tokeninfo?
    // access_token=…`) is addressed to it.
    if (addressedToIssuer(urlNode) || addressedToSelf(urlNode)) return;
    const headers = keywords.get('headers');
    if (headers) this.reportSink(frame, headers.node, headers.taints, `the headers of ${label}`);
    const auth = keywords.get('auth');
    // `auth=(user, token)`: HTTP Basic from a pair (a tuple holding the credential).
    const pair = ['tuple', 'list'].includes(auth?.node.childForFieldName('value')?.type ?? '');
    if (auth) this.reportSink(frame, auth.node, pair ? carriesCredential(auth.taints) : only(auth.taints, 'cred'), `the auth of ${label}`);
    // `cookies={"session": tok}`: sent as the Cookie header.
    const cookies = keywords.get('cookies');
    if (cookies) this.reportSink(frame, cookies.node, carriesCredential(cookies.taints), `the cookies of ${label}`);
    // `params={"apiKey": tok}`: the credential travels in the query string.
    const params = keywords.get('params');
    // A whole inbound query map relayed by a proxy (`params=dict(request.query_params)`) is the request relayed, as a
    // body is; a credential the code put there (`params={"api_key": tok}`) is sent.
    if (params) this.reportSink(frame, params.node, bodyCredential(params.taints), `the query parameters of ${label}`);
    // `json={"api_key": tok}`, `data={"refresh_token": tok}`: the credential travels in the body (a login, a form key,
    // a refresh grant), unless the request trades it (an RFC 8693 `subject_token`, introspection).
    for (const k of ['json', 'data', 'content']) {
      const body = keywords.get(k);
      if (body && realHttp && !tradesTokenInBody(node)) this.reportSink(frame, body.node, bodyCredential(body.taints), `the body of ${label}`);
    }
    // (…also the function's own `**kwargs`, handed on whole: `requests.get(url, **kwargs)` sends what callers put there.)
    const kwargs = (t: Taints[number]) => t.param !== undefined && !t.origin && t.param === (t.owner ?? frame.summary)?.kwargs;
    for (const s of splats) this.reportSink(frame, s.node, retag(union(only(s.taints, 'options'), s.taints.filter(kwargs)), 'headers'), `the options of ${label}`);
    // urllib.request.Request(url, data, headers)
    if (name === 'Request' && qualified.startsWith('urllib') && positional[2]) {
      const arg = node.childForFieldName('arguments')!.namedChildren.filter((a) => a && a.type !== 'keyword_argument')[2];
      if (arg) this.reportSink(frame, arg, positional[2], `the headers of ${label}`);
    }
    void fn;
  }
}


/** Functions that start a process and take its environment as `env=`. */
const SPAWNS = /^(subprocess\.(run|Popen|call|check_call|check_output)|asyncio\.create_subprocess_(exec|shell)|anyio\.(run_process|open_process))$/;

/** The ASGI scope's state dict (`scope.setdefault("state", {})`, `request.scope["state"]`, `scope.get("state")`). */
const SCOPE_STATE = /^(\w+\.)?scope\s*(\.setdefault\(\s*["']state["']|\[\s*["']state["']\s*\]|\.get\(\s*["']state["'])/;

/** Runners that call a function with the arguments after it: the function's position, whether keywords are passed on. */
const RUNNERS = new Map<string, { fn: number; keywords: boolean }>([
  ['to_thread', { fn: 0, keywords: true }],
  ['run_in_threadpool', { fn: 0, keywords: true }],
  ['run_sync', { fn: 0, keywords: false }],
  ['run_in_executor', { fn: 1, keywords: false }],
  ['submit', { fn: 0, keywords: true }],
  ['partial', { fn: 0, keywords: true }],
]);

/** The runner `node` calls (see `RUNNERS`), if it is one. */
function runnerOf(node: Node, name: string, qualified: string): { fn: number; keywords: boolean } | undefined {
  const runner = RUNNERS.get(name);
  if (!runner || (name === 'run_sync' && !qualified.endsWith('to_thread.run_sync')) || (name === 'partial' && !isPartial(node))) return undefined;
  return runner;
}

/** The object and name arguments of `getattr(obj, name)` when `fn` is such a call. */
function getattrArgs(fn: Node): [Node, Node] | undefined {
  if (fn.type !== 'call' || fn.childForFieldName('function')?.text !== 'getattr') return undefined;
  const [obj, attr] = fn.childForFieldName('arguments')?.namedChildren.filter((a): a is Node => !!a && a.type !== 'comment') ?? [];
  return obj && attr && obj.type !== 'keyword_argument' && attr.type !== 'keyword_argument' ? [obj, attr] : undefined;
}

/** What a name bound to a method stands for (see `Frame.methodRefs`), in this function or one around it. */
function methodRef(frame: Frame, name: string): Node | undefined {
  for (let f: Frame | undefined = frame; f; f = f.parent) {
    const ref = f.methodRefs?.get(name);
    if (ref) return ref;
    if (f.vars.has(name)) return undefined;
  }
  return undefined;
}

/** `partial(…)` / `functools.partial(…)`. */
function isPartial(call: Node): boolean {
  const f = call.childForFieldName('function');
  return !!f && (f.type === 'identifier' ? f.text === 'partial' : f.type === 'attribute' && f.text === 'functools.partial');
}

/** The decorators (`@app.get("/x")`, `@post`) of the function whose parameter `p` is. */
function parameterDecorators(p: Node): Node[] {
  const decorated = p.parent?.parent?.parent;
  if (decorated?.type !== 'decorated_definition') return [];
  return decorated.children.flatMap((d) => (d?.type === 'decorator' && d.namedChildren[0] ? [d.namedChildren[0]] : []));
}

/** Route decorators of a FastAPI app or router, a Flask app or blueprint. */
const ROUTE_DECORATORS = new Set(['get', 'post', 'put', 'patch', 'delete', 'api_route', 'websocket', 'route']);

/** Entries of a table of functions followed one by one when the key called is not known (`tools[name](…)`). */
const MAX_TABLE_ENTRIES = 64;

/** Positional arguments, then keyword arguments placed at their parameter's index. */
function bindArgs(summary: Summary, positional: Taints[], keywords: Map<string, { taints: Taints }>, splats: { taints: Taints }[] = []): Taints[] {
  const out = [...positional];
  for (const [k, v] of keywords) {
    const i = summary.params.indexOf(k);
    if (i >= 0 && i !== summary.kwargs) out[i] = union(out[i] ?? NONE, v.taints);
    // …one matching no parameter lands in `**kwargs`, a dict holding it under its name.
    else if (summary.kwargs !== undefined) out[summary.kwargs] = union(out[summary.kwargs] ?? NONE, retag(carriesCredential(v.taints), 'headers'));
  }
  // `Client(**kwargs)` with a dict holding the credential: it lands in the parameters named by the keys it sits under
  // when the dict was built in view (`{"access_token": tok}`), else in the credential-named parameters.
  const splatted = retag(carriesCredential(union(...splats.map((s) => s.taints))), 'cred');
  summary.params.forEach((p, i) => {
    if (keywords.has(p)) return;
    const given = splatted.filter((t) => t.holders ? t.holders.includes(p) : isCredentialName(p));
    if (given.length) out[i] = union(out[i] ?? NONE, given);
  });
  for (let i = 0; i < out.length; i++) out[i] ??= NONE;
  return out;
}

/** Standard library and frameworks (server, validation, JWT): not API clients that a credential given to them is sent by. */
const NOT_CLIENT_PACKAGES = new Set([
  'abc', 'asyncio', 'base64', 'collections', 'contextlib', 'contextvars', 'dataclasses', 'datetime', 'enum', 'functools',
  'hashlib', 'hmac', 'http', 'inspect', 'io', 'itertools', 'json', 'logging', 'os', 'pathlib', 're', 'secrets', 'ssl',
  'string', 'subprocess', 'sys', 'threading', 'time', 'typing', 'typing_extensions', 'urllib', 'uuid', 'weakref',
  'pydantic', 'pydantic_settings', 'starlette', 'fastapi', 'flask', 'django', 'mcp', 'fastmcp', 'jwt', 'jose', 'authlib',
  // Hashing, encryption, storage, logging and tooling: given a credential, they keep or record it; they do not send it.
  'cryptography', 'bcrypt', 'passlib', 'argon2', 'nacl', 'keyring', 'cachetools', 'diskcache', 'sqlite3', 'pickle', 'copy',
  'structlog', 'loguru', 'sentry_sdk', 'opentelemetry', 'prometheus_client', 'uvicorn', 'tenacity', 'anyio', 'trio',
  'attrs', 'attr', 'marshmallow', 'msgspec', 'orjson', 'ujson', 'yaml', 'toml', 'tomllib', 'dotenv', 'click', 'typer', 'rich',
  'multidict', 'yarl', 'werkzeug',
  // More of the standard library: containers, text, numbers, files, processes, introspection.
  'types', 'operator', 'math', 'random', 'decimal', 'fractions', 'statistics', 'numbers', 'textwrap', 'shlex', 'glob', 'fnmatch',
  'shutil', 'tempfile', 'traceback', 'warnings', 'pprint', 'heapq', 'bisect', 'array', 'struct', 'codecs', 'unicodedata', 'html',
  'csv', 'zlib', 'gzip', 'mimetypes', 'platform', 'signal', 'queue', 'concurrent', 'multiprocessing', 'ast', 'importlib',
  'pkgutil', 'zoneinfo', 'calendar', 'ipaddress', 'getpass', 'locale', 'argparse', 'configparser', 'dataclasses_json',
]);

/** The block always leaves the function: it ends in `return` / `raise`, or in an `if` or `try` whose every way out does. */
function terminates(block: Node | undefined | null): boolean {
  if (!block) return false;
  const stmts = block.namedChildren.filter((c): c is Node => !!c && c.type !== 'comment');
  const last = stmts[stmts.length - 1];
  if (!last) return false;
  if (last.type === 'return_statement' || last.type === 'raise_statement') return true;
  if (last.type === 'try_statement') {
    const body = last.childForFieldName('body');
    const handlers = last.namedChildren.filter((c) => c?.type === 'except_clause' || c?.type === 'except_group_clause');
    return terminates(body) && handlers.every((h) => terminates(h!.namedChildren.find((k) => k?.type === 'block')));
  }
  if (last.type === 'if_statement') {
    const clauses = last.namedChildren.filter((c) => c?.type === 'elif_clause' || c?.type === 'else_clause');
    return terminates(last.childForFieldName('consequence')) && clauses.some((c) => c?.type === 'else_clause') &&
      clauses.every((c) => terminates(c!.childForFieldName('consequence') ?? c!.childForFieldName('body') ?? c!.namedChildren.find((k) => k?.type === 'block')));
  }
  return false;
}

function isStatement(type: string): boolean {
  return type.endsWith('_statement') || type === 'function_definition' || type === 'class_definition' || type === 'decorated_definition';
}

function paramName(p: Node): string | undefined {
  if (p.type === 'identifier') return p.text;
  if (p.type === 'typed_parameter') return p.namedChildren.find((c) => c?.type === 'identifier')?.text;
  if (p.type === 'default_parameter' || p.type === 'typed_default_parameter') return p.childForFieldName('name')?.text;
  return undefined;
}

function lastName(fn: Node | null): string | undefined {
  if (!fn) return undefined;
  if (fn.type === 'identifier') return fn.text;
  if (fn.type === 'attribute') return fn.childForFieldName('attribute')!.text;
  return undefined;
}

function rootName(node: Node): string | undefined {
  let n: Node | null = node;
  while (n && (n.type === 'attribute' || n.type === 'subscript' || n.type === 'call')) {
    n = n.childForFieldName(n.type === 'attribute' ? 'object' : n.type === 'subscript' ? 'value' : 'function');
  }
  return n?.type === 'identifier' ? n.text : undefined;
}

function firstAttr(node: Node): string | undefined {
  let n: Node | null = node;
  let last: string | undefined;
  while (n?.type === 'attribute') {
    last = n.childForFieldName('attribute')!.text;
    n = n.childForFieldName('object');
  }
  return last;
}

function shortCallee(fn: Node): string {
  const t = fn.text.replace(/\s+/g, '');
  return t.length > 40 ? '…' + t.slice(-39) : t;
}

/** Whether a function body reads the ASGI headers out of a variable called `scope` (`scope["headers"]`, `scope.get("headers")`). */
function readsScopeHeaders(body: Node): boolean {
  if (!body.text.includes('scope')) return false; // most functions: no tree walk at all
  const stack: Node[] = [body];
  while (stack.length) {
    const n = stack.pop()!;
    if (n.type === 'function_definition' || n.type === 'class_definition') {
      if (n !== body) continue;
    }
    if (n.type === 'subscript') {
      const v = n.childForFieldName('value');
      if (v?.type === 'identifier' && v.text === 'scope' && stringValue(n.childForFieldName('subscript')) === 'headers') return true;
    }
    if (n.type === 'call') {
      const f = n.childForFieldName('function');
      const o = f?.type === 'attribute' ? f.childForFieldName('object') : undefined;
      if (o?.type === 'identifier' && o.text === 'scope' && f!.childForFieldName('attribute')!.text === 'get' && stringValue(n.childForFieldName('arguments')?.namedChildren[0]) === 'headers') return true;
    }
    for (const c of n.namedChildren) if (c) stack.push(c);
  }
  return false;
}

/** `super()`, the receiver of a call to the base class's method. */
function isSuper(receiver: Node | undefined): boolean {
  return receiver?.type === 'call' && receiver.childForFieldName('function')?.text === 'super';
}

/**
 * The strings a loop variable takes when it iterates over a literal list, tuple or set of them (`for key in ["accept",
 * "mcp-session-id"]`, also in a comprehension); undefined when it is bound otherwise. With `mappings`, also the keys or
 * values of a literal dict (`for key, env_var in {"apiToken": "API_TOKEN"}.items()`, `.keys()`, `.values()`), and a
 * literal bound to a name just before a `for` statement in the same block.
 */
function loopLiterals(id: Node, mappings = false): string[] | undefined {
  for (let n: Node | null = id.parent; n; n = n.parent) {
    const clauses = n.type === 'for_statement' ? [n] : /comprehension$|^generator_expression$/.test(n.type) ? n.namedChildren.filter((c): c is Node => c?.type === 'for_in_clause') : [];
    for (const c of clauses) {
      const left = c.childForFieldName('left');
      const targets = left?.type === 'identifier' ? [left]
        : mappings && (left?.type === 'pattern_list' || left?.type === 'tuple_pattern') ? left.namedChildren.filter((v): v is Node => v?.type === 'identifier') : [];
      const at = targets.findIndex((v) => v.text === id.text);
      if (at < 0) continue;
      let right = c.childForFieldName('right');
      let method: string | undefined;
      if (mappings && right?.type === 'call' && right.childForFieldName('function')?.type === 'attribute') {
        method = right.childForFieldName('function')!.childForFieldName('attribute')!.text;
        right = right.childForFieldName('function')!.childForFieldName('object');
      }
      if (mappings && right?.type === 'identifier' && c.type === 'for_statement') right = boundBefore(c, right.text) ?? null;
      if (!right) return undefined;
      let literals: (Node | null)[] | undefined;
      if (['list', 'tuple', 'set'].includes(right.type) && method === undefined && targets.length === 1) literals = right.namedChildren;
      else if (mappings && right.type === 'dictionary') {
        const pairs = right.namedChildren.filter((p): p is Node => p?.type === 'pair');
        const part = method === 'items' && targets.length === 2 ? (at === 0 ? 'key' : 'value')
          : method === 'values' && targets.length === 1 ? 'value' : (method === undefined || method === 'keys') && targets.length === 1 ? 'key' : undefined;
        if (part) literals = pairs.map((p) => p.childForFieldName(part));
      }
      const values = literals?.map((v) => stringValue(v));
      return values?.every((v): v is string => v !== undefined) ? values : undefined;
    }
    if (n.type === 'function_definition') return undefined;
  }
  return undefined;
}

/** The value last assigned to `name` by a statement before `loop` in the same block. */
function boundBefore(loop: Node, name: string): Node | undefined {
  return loop.parent?.namedChildren.filter((c): c is Node => !!c && c.startIndex < loop.startIndex && c.type === 'expression_statement')
    .map((c) => c.namedChildren[0]).filter((a): a is Node => a?.type === 'assignment' && a.childForFieldName('left')?.text === name).pop()
    ?.childForFieldName('right') ?? undefined;
}

/** A gRPC metadata key that carries a credential (`authorization`, `x-api-key`), as a string in the metadata given. */
const GRPC_CREDENTIAL_KEY = /["'](authorization|x-[\w-]*(key|token)|api[-_]?key|token)["']/i;

/** A field holding a function that hands out a credential (`self._token_provider`, `self.get_api_key`). */
const CREDENTIAL_PROVIDER_FIELD = /token|auth|credential|api_?key|secret|bearer|password/i;

/** Functions that call the function they are given and return its result (`asyncio.to_thread(fn, …)`). */
const RUNS_ITS_ARGUMENT = new Set(['to_thread', 'run_sync', 'run_in_executor']);



/** The key of a local name in `rpcProxies`. */
function localProxy(frame: Frame, name: string): string {
  return `${frame.fn ?? ''}|${name}`;
}

/**
 * Calls of another package that send nothing anywhere, whatever they are handed: a logger's (`logger.debug(…,
 * extra={"cookie": c})`) and an ORM lookup by the credential (`Token.objects.get(token=t)`, `query.filter_by(key=k)`),
 * which is the server checking it against its own database.
 */
function sendsNothing(fn: Node, name: string): boolean {
  const receiver = fn.type === 'attribute' ? fn.childForFieldName('object') : null;
  if (receiver && /^_*(log|logger|logging|structlog|loguru)$/i.test(lastName(receiver) ?? receiver.text) && LOG_METHODS.has(name)) return true;
  return /\.objects\./.test(fn.text) || name === 'filter_by';
}
const LOG_METHODS = new Set(['debug', 'info', 'warning', 'warn', 'error', 'exception', 'critical', 'log', 'msg', 'bind']);

/** The class an `if isinstance(name, Cls):` around the node narrows the name to (`Cls` an identifier), if any. */
function narrowedClass(id: Node): string | undefined {
  for (let n: Node | null = id.parent, child: Node = id; n && n.type !== 'function_definition'; child = n, n = n.parent) {
    if (n.type !== 'if_statement' || n.childForFieldName('consequence')?.id !== child.id) continue;
    const cond = n.childForFieldName('condition');
    const args = cond?.type === 'call' && cond.childForFieldName('function')?.text === 'isinstance' ? cond.childForFieldName('arguments')?.namedChildren : undefined;
    if (args?.[0]?.text === id.text && args[1]?.type === 'identifier') return args[1].text;
  }
  return undefined;
}

/**
 * Whether a statement runs whenever its function does, as far as the headers copy is concerned: not under an `if`,
 * `try`, `with`, `while` or `match`, nor in a loop other than a `for` over a deny list.
 */
function unconditional(node: Node): boolean {
  for (let n: Node | null = node.parent; n && n.type !== 'function_definition'; n = n.parent) {
    if (['if_statement', 'try_statement', 'while_statement', 'match_statement', 'conditional_expression', 'boolean_operator'].includes(n.type)) return false;
  }
  return true;
}
