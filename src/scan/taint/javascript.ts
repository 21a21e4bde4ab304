// JavaScript / TypeScript walker for the passthrough taint engine (tree-sitter-javascript and -typescript node types).
import { enclosingFunction, functionName, httpCliProgram, reQuote, stringValue } from '../context.ts';
import { indirectCallee } from '../imports.ts';
import type { Node } from '../parser.ts';
import {
  typeOf, heldUnder, bodyCredential, assignedBefore, namesOtherRequest, resolvesWithIssuer, stripHeaders, tradesTokenInBody, AUTH_INFO_ATTRS, NOT_A_KEPT_CLIENT, addressedToIssuer, addressedToSelf, CHECKS_CREDENTIAL, HTTP_CONSTRUCTORS, MCP_CLIENT_TRANSPORTS, HTTP_METHOD_NAMES, NONE, REQUEST_ATTRS, REQUEST_NAMES, REQUEST_TYPES, TOKEN_ATTRS,
  boundToCredentialName, branch, functionKey, carriesCredential, derive, looksUpByCredential, emptySummary, hop, mergeSummaries, isCredentialHeader, isCredentialName, isPlaceholder, isLocal, isSettingsBlob, isTokenExchangeName, exemptResult, lookup, TO_ISSUER, only, retag,
  extend, short, source, stepAt, union, words, type Frame, type Kind, type Summary, type Taint, type Taints,
} from './core.ts';
import { Engine, isClientLike } from './engine.ts';

const STRING_METHODS = new Set([
  'trim', 'trimStart', 'trimEnd', 'split', 'replace', 'replaceAll', 'slice', 'substring', 'substr', 'toString',
  'concat', 'at', 'valueOf', 'toLowerCase', 'toUpperCase', 'padStart', 'padEnd', 'join', 'normalize', 'match', 'matchAll',
]);
/** RegExp methods whose result holds (parts of) the string they are given. */
const REGEX_METHODS = new Set(['exec']);
/** Global functions that return (a copy of) their argument's content. */
const TRANSPARENT_CALLS = new Set(['String', 'btoa', 'atob', 'encodeURIComponent', 'encodeURI', 'decodeURIComponent', 'structuredClone', 'fromEntries', 'from', 'entries', 'assign', 'parse',
  // Object spread as compilers and bundlers emit it (esbuild/tsup, tslib, Babel): `{ ...a, b }` → `__spreadProps(__spreadValues({}, a), { b })`.
  '__spreadValues', '__spreadProps', '__assign', '_objectSpread', '_objectSpread2', '_extends']);
/** The header whose removal from a copied inbound header map means the caller's credential is not sent on. */
const STRIPPED_CREDENTIAL = /^(proxy-)?authorization$/i;
/** Lambda event types whose `headers` are the inbound request's (API Gateway v1/v2, function URLs, ALB, Netlify). */
const LAMBDA_EVENT_TYPES = /^(APIGatewayProxyEvent(V2)?|APIGatewayProxyEventV2WithJWTAuthorizer|LambdaFunctionURLEvent|ALBEvent|HandlerEvent)$/;
const LAMBDA_EVENT_MAPS = new Set(['queryStringParameters', 'multiValueHeaders', 'multiValueQueryStringParameters']);
const REQUEST_GETTERS = new Set(['get', 'header', 'getHeader', 'get_header', 'headers']);
/** h3 and the frameworks built on it (Nitro, Nuxt, Vinxi, TanStack Start): the inbound request's helpers. */
const H3_MODULES = /^(h3|nitropack|nitro|nuxt|#imports|vinxi\/http|@tanstack\/(react-)?start\/server)(\/|$)/;
const H3_HEADER_GETTERS = new Set(['getHeader', 'getRequestHeader']);
const H3_HANDLERS = new Set(['defineEventHandler', 'eventHandler', 'defineHandler', 'defineCachedEventHandler', 'defineLazyEventHandler']);
const ROUTE_METHODS = new Set(['get', 'post', 'put', 'patch', 'delete', 'all', 'options', 'head', 'route']);
const H3_HEADER_MAPS = new Set(['getHeaders', 'getRequestHeaders', 'getQuery', 'parseCookies']);
const HEADER_GETTERS = new Set(['get', 'getAll', 'getSetCookie']);
const HEADER_VIEWS = new Set(['entries', 'toJSON', 'values', 'raw']);
const HEADER_SETTERS = new Set(['set', 'append']);
/** Wrappers that do not change the value (TypeScript casts, parentheses, await). */
const WRAPPERS = new Set(['parenthesized_expression', 'await_expression', 'as_expression', 'satisfies_expression', 'non_null_expression', 'type_assertion']);
const FUNCTIONS = new Set(['function_declaration', 'generator_function_declaration', 'function_expression', 'function', 'generator_function', 'arrow_function', 'method_definition']);

export class JavaScriptEngine extends Engine {
  #module: Frame | undefined;
  /** `Class.name` of getters, read as fields. */
  readonly getters = new Set<string>();

  protected walkModule(root: Node): void {
    this.#module = { vars: new Map(), locals: new Set(), exempt: false };
    this.block(root, this.#module);
  }

  /** Callbacks (by start index) whose first parameter is an element of a known collection (`tools.forEach(…)`). */
  readonly #elementParams = new Map<number, string>();
  /** Names bound to an instance of another package's class (`const auth = new OAuth2Client()`). */
  readonly packageInstances = new Set<string>();
  /** Callbacks (by start index) handed the entries of an inbound header map (`headers.forEach((value, key) => …)`). */
  readonly #entryParams = new Map<number, Taints>();
  /** Inline callbacks handed to a function that stores them and calls them later: what each parameter gets (by index). */
  readonly #callbackParams = new Map<number, Taints[]>();
  /**
   * Methods that put a function they are handed into a map field (`registerTool(name, executor) {
   * this.executors.set(name, executor) }`), by `Class.field`: calls of what the map holds reach that parameter.
   */
  readonly #functionMapSetters = new Map<string, Array<{ owner: Summary; param: number }>>();
  /** Module-level records of this file whose functions are aliased as `name.prop` summaries. */
  readonly #recordOwners = new Set<string>();

  protected override moduleInstances(): ReadonlyMap<string, string> {
    return this.#module?.types ?? new Map();
  }

  #verifierRefs: { names: Set<string>; nodes: Set<number> } | undefined;
  /**
   * Functions handed to mcp-handler's `withMcpAuth(handler, verifyToken)` (also `@vercel/mcp-adapter`): by name
   * or inline. mcp-handler calls them as `verifyToken(req, bearerToken)`.
   */
  #verifiers(): { names: Set<string>; nodes: Set<number> } {
    if (this.#verifierRefs) return this.#verifierRefs;
    const out = { names: new Set<string>(), nodes: new Set<number>() };
    const locals = [...this.imports.bindings].filter(([, b]) => AUTH_WRAPPER_PACKAGES.has(b.module) && b.name === 'withMcpAuth').map(([local]) => local);
    if (locals.length) {
      for (const call of this.ctx.tree.rootNode.descendantsOfType('call_expression')) {
        const fn = call?.childForFieldName('function');
        if (!call || fn?.type !== 'identifier' || !locals.includes(fn.text)) continue;
        const args = call.childForFieldName('arguments')?.namedChildren.filter((a) => a && a.type !== 'comment') ?? [];
        const v = args[1] ? unwrap(args[1]) : undefined;
        if (v?.type === 'identifier') out.names.add(v.text);
        else if (v && FUNCTIONS.has(v.type)) out.nodes.add(v.startIndex);
      }
    }
    return (this.#verifierRefs = out);
  }

  /** Which parameter of a token verifier is the inbound bearer: `verifyAccessToken(token)`, `verifyToken(req, bearer)`. */
  #verifierTokenParam(node: Node, name: string | undefined, outer: Frame): number | undefined {
    if (name === 'verifyAccessToken') return 0;
    const refs = this.#verifiers();
    if (refs.nodes.has(node.startIndex) || (name && outer === this.#module && refs.names.has(name))) return 1;
    return undefined;
  }

  // ---- statements ----

  block(node: Node, frame: Frame): void {
    for (const child of node.namedChildren) if (child) this.statement(child, frame);
  }

  statement(node: Node, frame: Frame): void {
    switch (node.type) {
      case 'expression_statement':
        for (const c of node.namedChildren) if (c) this.eval(c, frame);
        return;
      case 'lexical_declaration':
      case 'variable_declaration':
        for (const d of node.namedChildren) if (d?.type === 'variable_declarator') this.declarator(d, frame);
        return;
      case 'function_declaration':
      case 'generator_function_declaration':
        this.functionDef(node, frame, node.childForFieldName('name')?.text, true);
        return;
      case 'class_declaration':
      case 'abstract_class_declaration':
      case 'class':
        this.classDef(node, frame);
        return;
      case 'export_statement': {
        // `export default function ({ config }) { … }`: an anonymous default export is what importers call `default`.
        const isDefault = node.children.some((c) => c?.type === 'default');
        for (const c of node.namedChildren) {
          if (!c) continue;
          // Smithery's TypeScript runtime: a module exporting `configSchema` and a default function `({ config })`
          // that builds the server; `config` is what the connecting client sent.
          if (isDefault && FUNCTIONS.has(c.type) && frame === this.#module && /\bexport\s+(const|let|var)\s+configSchema\b/.test(this.ctx.source)) {
            const session = c.childForFieldName('parameters')?.namedChildren.find((p) => p && p.type !== 'comment');
            if (session) this.#entryParams.set(c.startIndex, [source('headers', session, `source: \`${short(session.text, 40)}\`, the session a Smithery client opens (its \`config\` is the client's)`)]);
          }
          if (isDefault && FUNCTIONS.has(c.type) && !c.childForFieldName('name')) this.functionDef(c, frame, 'default');
          else if (isStatementType(c.type)) this.statement(c, frame);
          else {
            this.eval(c, frame);
            // `export default { issueRequest }`: a record of this module's functions, `API.issueRequest` to importers.
            if (isDefault && frame === this.#module) this.#registry('default', unwrap(c), frame);
          }
        }
        return;
      }
      case 'return_statement': {
        const value = node.namedChildren[0];
        const t = value ? this.eval(value, frame) : NONE;
        // A client class extending a base the scan does not hold (Stainless SDKs' `class Acme extends Core.APIClient`)
        // whose header hook returns the credential (`protected authHeaders() { return { Authorization: this.apiKey } }`):
        // the base sends what the hook returns on every request.
        if (value && frame.className && HEADER_HOOKS.test(frame.fn ?? '') && this.bases.has(frame.className) && !this.baseKey(frame.className)) {
          this.reportSink(frame, value, t, `the headers \`${frame.fn}()\` gives the client's requests (\`${frame.className}\` extends \`${this.bases.get(frame.className)}\`)`);
        }
        if (frame.summary) frame.summary.returns = union(frame.summary.returns, hop(t, node, 'returned'));
        if (frame.returned) frame.returned = union(frame.returned, hop(t, node, 'returned'));
        // …or an element of a registry (`return tools.find((t) => t.name === name)`): what its callers call reaches it.
        if (value) this.returnsInstance(frame, this.classOfNew(value) ?? this.elementOf(value, frame));
        if (value) this.#returnsRecord(frame, value);
        if (value) this.#returnsSharedType(node, t, frame);
        if (value && frame.verifier) this.writeStore('authInfo.extra', this.authInfoExtra(value, t, frame), node, 'the `extra` of the AuthInfo a token verifier returns');
        // An HTTP client's `beforeRequest` hook (ky, got, Speakeasy SDKs) returns the request the client then sends.
        if (value && frame.fn === 'beforeRequest') this.reportSink(frame, value, retag(only(t, 'options'), 'headers'), 'the request an HTTP client sends (returned by its `beforeRequest` hook)');
        return;
      }
      case 'for_in_statement': {
        const right = node.childForFieldName('right');
        const left = node.childForFieldName('left');
        if (right && left) this.assign(left, this.eval(right, frame), frame);
        // `for (const tool of tools)`: calls on `tool` reach the methods of the collection's elements.
        if (right && left?.type === 'identifier' && node.childForFieldName('operator')?.text === 'of') {
          const keys = this.elementKeys(right, frame);
          if (keys.length) (frame.types ??= new Map()).set(left.text, keys.join('|'));
        }
        // `for (const [name, register] of Object.entries(tools))`: the pair's value.
        const value = right && left && node.childForFieldName('operator')?.text === 'of' ? pairValue(left) : undefined;
        const pairs = value ? this.pairKeys(right!, frame) : [];
        if (pairs.length) (frame.types ??= new Map()).set(value!, pairs.join('|'));
        const body = node.childForFieldName('body');
        if (body) this.statement(body, frame);
        return;
      }
      case 'statement_block':
        this.block(node, frame);
        return;
      case 'interface_declaration':
      case 'type_alias_declaration':
      case 'enum_declaration':
      case 'import_statement':
      case 'ambient_declaration':
      case 'comment':
        return;
      default:
        // if/while/try/switch: conditions evaluated, nested statements walked as branches.
        for (const c of node.namedChildren) {
          if (!c) continue;
          if (isStatementType(c.type)) branch(frame, () => this.statement(c, frame));
          else this.eval(c, frame);
        }
    }
  }

  /** The `extra` of an AuthInfo literal a verifier returns (`{ token, extra: { apiKey: bearer } }`); the whole value otherwise. */
  authInfoExtra(value: Node, whole: Taints, frame: Frame): Taints {
    const v = unwrap(value);
    if (v.type !== 'object') return whole;
    for (const c of v.namedChildren) {
      if (c?.type === 'pair' && (stringValue(c.childForFieldName('key')) ?? c.childForFieldName('key')?.text) === 'extra') return this.eval(c.childForFieldName('value')!, frame);
      if (c?.type === 'shorthand_property_identifier' && c.text === 'extra') return lookup(frame, 'extra') ?? NONE;
    }
    return NONE;
  }

  declarator(d: Node, frame: Frame): void {
    const name = d.childForFieldName('name');
    const value = d.childForFieldName('value');
    if (!name) return;
    // `let` / `const` declare a new binding (in another block, a same-named one is a different variable): it starts
    // from nothing rather than adding to what the name held in a sibling branch.
    if (d.parent?.type === 'lexical_declaration' && name.type === 'identifier') frame.vars.delete(name.text);
    if (!value) {
      if (name.type === 'identifier') frame.locals.add(name.text);
      // `let mcpHandler: StreamableServer;` at module level, assigned in a start-up function and exported: calls on
      // it (here or where it is imported) reach that class's methods.
      const typeName = typeText(d.childForFieldName('type'));
      const cls = frame === this.#module && name.type === 'identifier' ? this.#classOfType(typeName) : undefined;
      if (cls) (frame.types ??= new Map()).set(name.text, cls);
      return;
    }
    const v = unwrap(value);
    let t: Taints;
    // `const getKey = () => this.props.key`: the name holds the closure's value too (for calls that do not find it by
    // name, such as a closure declared inside a method, or one passed on as an argument).
    if (FUNCTIONS.has(v.type) && name.type === 'identifier') t = this.functionDef(v, frame, name.text, true);
    // `const build = options.factory ?? ((token) => new Client({ auth: token }))`: the default function is the name's.
    else if (name.type === 'identifier' && (v.type === 'binary_expression' || v.type === 'ternary_expression') && v.namedChildren.some((c) => c && FUNCTIONS.has(unwrap(c).type))) {
      t = NONE;
      for (const c of v.namedChildren) if (c) t = union(t, FUNCTIONS.has(unwrap(c).type) ? this.functionDef(unwrap(c), frame, name.text, true) : this.eval(c, frame));
    } else t = this.eval(value, frame);
    this.assign(name, t, frame, value);
    if (name.type === 'identifier' && frame === this.#module) this.#registry(name.text, v, frame);
  }

  // ---- tool registries: records and instances kept in arrays and maps ----

  /**
   * A module-level tool record or registry. `const searchTool = { name, handler: async (args, key) => … }` (also
   * wrapped, `defineTool({ … })`): its functions are methods of `searchTool`. `const tools = [searchTool, new X()]`,
   * `const handlers = { search: searchTool }` and `[{ handler }]`: the name holds what its elements are, so a loop
   * variable or a lookup (`tools.find(…)`, `handlers[name]`) reaches their methods.
   */
  #registry(name: string, v: Node, frame: Frame): void {
    // Another name for a registry (`export const allActions = graphqlActions`, imported or not): the same elements.
    if (v.type === 'identifier') {
      const same = this.elementKeys(v, frame);
      if (same.length) (frame.types ??= new Map()).set(name, same.join('|'));
      return;
    }
    const record = v.type === 'object' ? v : v.type === 'call_expression' ? argumentsOf(v).map(unwrap).find((a) => a.type === 'object') : undefined;
    if (record) this.#recordMethods(name, record);
    const elements = v.type === 'array' ? v.namedChildren : v.type === 'object' ? v.namedChildren.map((c) => c?.type === 'pair' ? c.childForFieldName('value') : c?.type === 'shorthand_property_identifier' ? c : null) : [];
    const keys = new Set<string>();
    for (const e of elements) {
      const el = e ? unwrap(e) : undefined;
      if (!el) continue;
      if (el.type === 'object') {
        // Inline records are methods of the array (or map) itself: `tools.handler` is "the handler of an element of
        // tools", and so is `registry[name].handler` for `const registry = { search: { handler } }`.
        if (this.#recordMethods(name, el)) keys.add(`${this.file}#${name}`);
      } else for (const k of this.elementKeys(el, frame, true)) keys.add(k);
    }
    if (keys.size) (frame.types ??= new Map()).set(name, [...keys].join('|'));
  }

  /**
   * A named function returning a record of functions (`createSearchTool(cfg)` returning `{ execute: async (args, ctx)
   * => … }`): they are methods of what it returns, `createSearchTool().execute`, for callers that hold the result.
   */
  #returnsRecord(frame: Frame, value: Node): void {
    const record = unwrap(value);
    const owner = record.type === 'object' ? this.#recordOwner(frame) : undefined;
    if (owner && this.#recordMethods(owner, record)) this.returnsInstance(frame, owner);
  }

  /**
   * The record a method of a factory's returned object literal belongs to (`createContext()` returning `{ params: {},
   * async fetch() { this.params.token } }`): `this` there is that record, whose fields the factory's callers fill
   * (`ctx.params = { token }`, see `assign`). Arrow functions keep the `this` around them.
   */
  #recordOf(fn: Node, outer: Frame): string | undefined {
    const owner = fn.type === 'arrow_function' ? undefined : this.#recordOwner(outer);
    if (!owner) return undefined;
    let n: Node | null = fn.type === 'method_definition' ? fn.parent : fn.parent?.type === 'pair' ? fn.parent.parent : null;
    if (n?.type !== 'object') return undefined;
    while (n.parent && WRAPPERS.has(n.parent.type)) n = n.parent;
    return n.parent?.type === 'return_statement' ? owner : undefined;
  }

  /** What the records a named function (not a method) returns are called: `createSearchTool()`. */
  #recordOwner(frame: Frame): string | undefined {
    return frame.fn && !frame.className && frame.summary && frame.summary === this.summaries.get(frame.fn) ? `${frame.fn}()` : undefined;
  }

  protected override recordOwners(): ReadonlySet<string> {
    return this.#recordOwners;
  }

  /** Aliases a record's function-valued properties as `name.prop` summaries; whether it had any. */
  #recordMethods(name: string, record: Node): boolean {
    let any = false;
    for (const c of record.namedChildren) {
      const value = c?.type === 'pair' ? unwrap(c.childForFieldName('value')!) : undefined;
      const prop = value && (FUNCTIONS.has(value.type) || value.type === 'identifier') ? (stringValue(c!.childForFieldName('key')) ?? c!.childForFieldName('key')?.text)
        : c?.type === 'method_definition' || c?.type === 'shorthand_property_identifier' ? (c.childForFieldName('name') ?? c).text : undefined;
      // `{ list: listPaginated }`, `{ listPaginated }`: a function of this file under that key.
      const fn = value?.type === 'identifier' ? value.text : prop;
      const s = fn ? this.summaries.get(fn) : undefined;
      if (!prop || !s) continue;
      this.summaries.set(`${name}.${prop}`, s);
      this.#recordOwners.add(name);
      any = true;
    }
    return any;
  }

  /**
   * What the elements of a collection are, as `file#name` keys of records, classes or functions of the scan: an array
   * or registry of this module or imported (`import { tools } from './tools'`), `Object.values(x)`, `[...a, ...b]`,
   * `a.concat(b)`, `a.filter(…)`. With `element`, the node is one element itself.
   */
  elementKeys(node: Node, frame: Frame, element = false): string[] {
    const n = unwrap(node);
    if (n.type === 'spread_element') return n.namedChildren[0] ? this.elementKeys(n.namedChildren[0], frame) : [];
    if (n.type === 'array') return n.namedChildren.flatMap((c) => c ? this.elementKeys(c, frame, true) : []);
    if (n.type === 'new_expression') {
      const cls = element ? this.classOfNew(n) : undefined;
      return cls ? [cls.includes('#') ? cls : `${this.file}#${cls}`] : [];
    }
    if (n.type === 'call_expression') {
      const fn = unwrap(n.childForFieldName('function')!);
      const prop = fn.type === 'member_expression' ? fn.childForFieldName('property')?.text : undefined;
      if (prop === 'values' && fn.childForFieldName('object')?.text === 'Object') return argumentsOf(n)[0] ? this.elementKeys(argumentsOf(n)[0]!, frame) : [];
      if (prop && (ARRAY_PICKERS.has(prop) || prop === 'concat') && !element) {
        return [...this.elementKeys(fn.childForFieldName('object')!, frame), ...(prop === 'concat' ? argumentsOf(n).flatMap((a) => this.elementKeys(a, frame)) : [])];
      }
      return [];
    }
    // (`{ search }` names its element as `{ search: search }` does)
    if (n.type !== 'identifier' && n.type !== 'shorthand_property_identifier') return [];
    const held = typeOf(frame, n.text);
    if (held) return held.split('|');
    if (element) {
      if (this.#recordOwners.has(n.text) || this.summaries.has(n.text) || this.classesWithMembers.has(n.text)) return [`${this.file}#${n.text}`];
      const r = this.resolve(n.text);
      return r?.kind === 'symbol' ? [`${r.file}#${r.name}`] : [];
    }
    const r = this.resolve(n.text);
    // `import * as tools from './generated/index.js'`: its values are the functions the module exports.
    if (r?.kind === 'module') return this.program.exportedNames(r.file).map((e) => this.importedKey(r, e)).filter((k): k is string => !!k);
    if (r?.kind !== 'symbol') return [];
    const inst = this.importedInstance(`${r.file}#${r.name}`);
    return inst ? inst.split('|') : [];
  }

  /**
   * A vendor's MCP server package building its server from the settings it is given (`getServer(this.props)` of
   * `@firefly-iii-mcp/core`): the server it builds calls the vendor's API with them, as a client would.
   */
  #vendorMcpServer(call: Node, name: string): boolean {
    return /server$/i.test(name) && /(^|[-/@])mcp([-/]|$)/i.test(this.calleeModule(call) ?? '');
  }

  /** What `f.call(this, …)` / `f.apply(this, [...])` / `f.bind(this, …)` gets from `f`, a function of the scan; undefined otherwise. */
  #calledThrough(node: Node, name: string, receiverNode: Node | undefined, argNodes: Node[], args: Taints[], frame: Frame): Taints | undefined {
    if (!receiverNode || (name !== 'call' && name !== 'apply' && name !== 'bind')) return undefined;
    const target = unwrap(receiverNode);
    const targetName = target.type === 'identifier' ? target.text : target.type === 'member_expression' ? target.childForFieldName('property')?.text : undefined;
    const called = targetName ? this.calleeSummary(target, targetName, target.type === 'member_expression' ? target.childForFieldName('object') ?? undefined : undefined, frame) : undefined;
    if (!called) return undefined;
    const list = argNodes[1] && unwrap(argNodes[1]).type === 'array' ? unwrap(argNodes[1]).namedChildren.filter((c): c is Node => !!c && c.type !== 'comment') : undefined;
    const given = name !== 'apply' ? args.slice(1) : list ? list.map((c) => this.eval(c, frame)) : [args[1] ?? NONE];
    return this.applySummary(frame, called, given, node, target.text);
  }

  /** Whether a callee is a function the code was handed rather than one it imports or defines: a parameter, a local, a member of `this` or of a local object. */
  #injected(callee: Node, receiverNode: Node | undefined): boolean {
    let root: Node | undefined = receiverNode ?? callee;
    while (root?.type === 'member_expression') root = unwrap(root.childForFieldName('object')!);
    if (!root) return false;
    if (root.type === 'this') return true;
    return root.type === 'identifier' && !this.resolve(root.text) && !this.summaries.has(root.text) && !this.classesWithMembers.has(root.text);
  }

  /** `Object.entries(registry)`: the keys of the values its `[name, value]` pairs hold (see `elementKeys`). */
  pairKeys(node: Node, frame: Frame): string[] {
    const n = unwrap(node);
    const fn = n.type === 'call_expression' ? unwrap(n.childForFieldName('function')!) : undefined;
    if (fn?.type !== 'member_expression' || fn.childForFieldName('property')?.text !== 'entries' || fn.childForFieldName('object')?.text !== 'Object') return [];
    const arg = argumentsOf(n)[0];
    return arg ? this.elementKeys(arg, frame) : [];
  }

  /** One element of a collection: `tools.find(…)`, `tools[0]`, `tools.at(-1)`, `registry[name]`. */
  elementOf(node: Node, frame: Frame): string | undefined {
    const n = unwrap(node);
    let collection: Node | undefined;
    if (n.type === 'subscript_expression') collection = n.childForFieldName('object') ?? undefined;
    else if (n.type === 'call_expression') {
      const fn = unwrap(n.childForFieldName('function')!);
      const prop = fn.type === 'member_expression' ? fn.childForFieldName('property')?.text : undefined;
      if (prop && ELEMENT_PICKERS.has(prop)) collection = fn.childForFieldName('object') ?? undefined;
    }
    const keys = collection ? this.elementKeys(collection, frame) : [];
    return keys.length ? keys.join('|') : undefined;
  }

  classDef(node: Node, frame: Frame): void {
    // `var HttpClient = class { … }` (as esbuild and tsup emit classes) is the class `HttpClient`.
    const className = node.childForFieldName('name')?.text ?? (node.parent?.type === 'variable_declarator' ? node.parent.childForFieldName('name')?.text : undefined) ?? '<class>';
    const inner: Frame = { ...frame, className, classBody: true };
    const heritage = node.namedChildren.find((c) => c?.type === 'class_heritage');
    const base = heritage?.descendantsOfType('extends_clause')[0]?.childForFieldName('value') ?? (heritage?.namedChildren[0]?.type === 'identifier' ? heritage.namedChildren[0] : undefined);
    if (base) this.bases.set(className, base.text.split('.').pop()!.replace(/<.*$/, ''));
    // A class that only names another package's class, without a constructor of its own (`class AcmeCore extends
    // ClientSDK {}`, as SDK generators emit): building it builds that class. So does one in a generated SDK vendored
    // into the repository (Speakeasy's `src/core.ts` over `src/lib/sdks.ts`): code generated from the API's spec is
    // that API's client, however deep its request plumbing goes.
    const baseRoot = base?.type === 'identifier' ? base.text : base ? memberPath(base)?.root : undefined;
    const ownCtor = node.childForFieldName('body')?.namedChildren.some((m) => m?.type === 'method_definition' && m.childForFieldName('name')?.text === 'constructor');
    if (baseRoot && !ownCtor && (this.resolve(baseRoot)?.kind === 'package' || GENERATED.test(this.ctx.source.slice(0, 300)))) this.program.packageSubclasses.set(`${this.file}#${className}`, this.bases.get(className)!);
    // `class ScalekitVerifier implements TokenVerifier`: calls on a `TokenVerifier` may reach its methods.
    const interfaces = heritage?.descendantsOfType('implements_clause')[0]?.namedChildren ?? [];
    for (const i of interfaces) if (i) this.implementations.set(className, [...(this.implementations.get(className) ?? []), i.text.split('.').pop()!.replace(/<.*$/, '')]);
    const body = node.childForFieldName('body');
    for (const m of body?.namedChildren ?? []) {
      if (!m) continue;
      if (m.type === 'method_definition') {
        const mname = m.childForFieldName('name')?.text;
        if (mname && m.children.some((c) => c?.type === 'get')) this.getters.add(`${className}.${mname}`);
        this.functionDef(m, inner, mname);
      }
      else if (m.type === 'public_field_definition' || m.type === 'field_definition') {
        const prop = (m.childForFieldName('name') ?? m.childForFieldName('property'))?.text;
        const value = m.childForFieldName('value');
        if (!prop || !value) continue;
        const v = unwrap(value);
        if (FUNCTIONS.has(v.type)) this.functionDef(v, inner, prop);
        else this.classAttr(className, prop, this.eval(value, inner).filter((x) => x.origin));
      }
    }
  }

  /**
   * Walks a function, filling its summary (a fresh one for anonymous functions). Returns the function's value as a
   * closure: what this definition returns from its surroundings, without its own parameters.
   */
  functionDef(node: Node, outer: Frame, name: string | undefined, binding = false): Taints {
    // A function bound to a local name (`function helper() {}`, `const helper = () => {}` in a function) is keyed under
    // its function; a member of a record or class keeps its plain name (`{ execute() {} }` is read back as `execute`).
    const key = name ? (binding || outer.classBody ? functionKey(outer, name) : name) : undefined;
    // A token verifier: its token parameter is the caller's bearer; calls made inside to verify it are not reported,
    // and the `extra` of the AuthInfo it returns is what tools read back as `authInfo.extra`.
    const tokenParam = this.#verifierTokenParam(node, name, outer);
    const frame: Frame = {
      vars: new Map(), locals: new Set(), parent: outer, className: outer.className ?? this.#recordOf(node, outer), fn: name,
      summary: key ? this.summaryFor(key) : emptySummary(),
      exempt: outer.exempt || (!!name && isTokenExchangeName(name)) || resolvesWithIssuer(name) || tokenParam !== undefined || isOAuthRedirectHandler(node),
      verifier: tokenParam !== undefined,
      returned: [],
    };
    frame.summary!.params = [];
    if (name === 'constructor' && outer.className) this.#constructors.add(frame.summary!);
    this.currentSummary = frame.summary;
    const params = node.childForFieldName('parameters') ?? node.childForFieldName('parameter');
    const list = params?.type === 'formal_parameters' ? params.namedChildren : params ? [params] : [];
    if (isRequestHook(node)) {
      const first = list.find((p) => p && p.type !== 'comment');
      const id = first?.type === 'identifier' ? first : first?.childForFieldName('pattern');
      if (id?.type === 'identifier') frame.outgoing = id.text;
      // `onRequest({ request })`: the request is a member of the hook's argument.
      else if (id?.type === 'object_pattern' && id.namedChildren.some((c) => c?.text === 'request')) frame.outgoing = 'request';
    }
    let index = 0;
    for (const p of list) {
      if (!p || p.type === 'comment') continue;
      let pattern: Node | null = p;
      let typeName: string | undefined;
      if (p.type === 'required_parameter' || p.type === 'optional_parameter') {
        pattern = p.childForFieldName('pattern');
        typeName = typeText(p.childForFieldName('type'));
        // TypeScript parameter properties: `constructor(private token: string)` stores the parameter on `this`.
        if (name === 'constructor' && outer.className && pattern?.type === 'identifier' && p.children.some((c) => c?.type === 'accessibility_modifier' || c?.type === 'readonly')) {
          this.ctorAttrs.set(`${outer.className}.${pattern.text}`, [{ kind: 'cred', param: index, path: [stepAt(p, `stored in \`this.${pattern.text}\``)] }]);
        }
      } else if (p.type === 'assignment_pattern') pattern = p.childForFieldName('left');
      if (!pattern) continue;
      const seeded = this.#callbackParams.get(node.startIndex)?.[index];
      const first = index === 0 ? this.#entryParams.get(node.startIndex) : undefined;
      const given = first || seeded?.length ? union(first ?? NONE, seeded ?? NONE) : undefined;
      const t = index === tokenParam ? [source('cred', p, `source: the bearer token given to the token verifier \`${name ?? 'verifyToken'}\``)]
        : given ? union(given, this.paramTaint(pattern, typeName, index, p)) : this.paramTaint(pattern, typeName, index, p);
      if (pattern.type === 'identifier') frame.vars.set(pattern.text, t);
      // `(client: Scope3ApiClient) => client.createAgent(key)`: calls on the parameter reach that class's methods.
      const cls = pattern.type === 'identifier' ? this.#classOfType(typeName) : undefined;
      if (cls) (frame.types ??= new Map()).set(pattern.text, cls);
      else this.destructure(pattern, t, frame, false);
      frame.summary!.params.push(pattern.type === 'identifier' ? pattern.text : '');
      const element = index === 0 ? this.#elementParams.get(node.startIndex) : undefined;
      if (element && !element.startsWith('[]') && pattern.type === 'identifier') (frame.types ??= new Map()).set(pattern.text, element);
      const value = element?.startsWith('[]') ? pairValue(pattern) : undefined;
      if (value) (frame.types ??= new Map()).set(value, element!.slice(2));
      index++;
    }
    const body = node.childForFieldName('body');
    if (!body) return NONE;
    if (body.type === 'statement_block') this.block(body, frame);
    else {
      const t = this.eval(body, frame);
      frame.summary!.returns = union(frame.summary!.returns, t);
      frame.returned = union(frame.returned!, t);
      this.#returnsRecord(frame, body);
    }
    // A function declared as FastMCP's `authenticate` (`const auth: ServerOptions<S>['authenticate'] = async (req) =>
    // …`), handed to the server elsewhere: what it returns is every tool's `context.session`.
    const declared = node.parent?.type === 'variable_declarator' ? node.parent.childForFieldName('type')?.text ?? '' : '';
    if (/\[\s*['"]authenticate['"]\s*\]/.test(declared)) this.writeStore('session.*', frame.returned!.filter((t) => t.origin), node, 'the FastMCP session');
    return hop(frame.returned!.filter((t) => t.owner !== frame.summary), node, 'returned by a callback');
  }

  /**
   * `this.x` of a class holds the value, and so does it for the base classes of this file the class extends: their
   * methods read `this.x` on its instances (`class Dynamic extends MyMCP { authToken = token }`).
   */
  classAttr(className: string, attr: string, taints: Taints): void {
    const seen = new Set<string>();
    for (let c: string | undefined = className; c && !seen.has(c); c = this.bases.get(c)) {
      seen.add(c);
      this.addAttr(`${c}.${attr}`, taints);
    }
  }

  /** Summaries of constructors: their parameters are configs whose sections they read (`config.cipp.apiKey`). */
  readonly #constructors = new WeakSet<Summary>();

  #plainTypes: Set<string> | undefined;
  /** Types declared in this file that extend nothing: object type aliases, interfaces and classes without a base. */
  #plainLocalTypes(): Set<string> {
    if (this.#plainTypes) return this.#plainTypes;
    const out = new Set<string>();
    const visit = (n: Node): void => {
      for (const c of n.namedChildren) {
        if (!c) continue;
        if (c.type === 'export_statement') { visit(c); continue; }
        const typeName = c.childForFieldName('name')?.text;
        if (!typeName) continue;
        if (c.type === 'type_alias_declaration' && c.childForFieldName('value')?.type === 'object_type') out.add(typeName);
        else if (c.type === 'interface_declaration' && !c.namedChildren.some((k) => k?.type === 'extends_type_clause')) out.add(typeName);
        else if (c.type === 'class_declaration' && !c.namedChildren.some((k) => k?.type === 'class_heritage')) out.add(typeName);
      }
    };
    visit(this.ctx.tree.rootNode);
    return (this.#plainTypes = out);
  }

  paramTaint(pattern: Node, typeName: string | undefined, index: number, p: Node): Taints {
    const name = pattern.type === 'identifier' ? pattern.text : undefined;
    // NestJS parameter decorators: `@Headers('authorization') auth`, `@Headers() headers`, `@Req() req`.
    const decorator = p.namedChildren.find((c) => c?.type === 'decorator')?.text.match(/^@(Headers|Header|Req|Request)\((?:\s*['"]([^'"]+)['"])?/);
    if (decorator) {
      if (decorator[1] === 'Req' || decorator[1] === 'Request') return [source('request', p)];
      if (decorator[2] === undefined) return [source('headers', p)];
      if (isCredentialHeader(decorator[2])) return [source('cred', p)];
    }
    if (typeName && REQUEST_TYPES.has(typeName)) return [source('request', p)];
    // AWS Lambda / Netlify function handlers: `export const handler = async (event) => …`, `exports.handler = …`, or an
    // event typed as API Gateway's / a function URL's: its `headers` and `queryStringParameters` are the caller's.
    const fnNode = p.parent?.type === 'formal_parameters' ? p.parent.parent : p.parent && FUNCTIONS.has(p.parent.type) ? p.parent : undefined;
    if (index === 0 && ((name === 'event' && fnNode && functionName(fnNode) === 'handler') || (typeName && LAMBDA_EVENT_TYPES.test(typeName)))) return [source('request', p)];
    // `req` typed with a plain object type of this file (`req: UpstashRequest` where `type UpstashRequest = { … }`) is
    // an outgoing request description, not the inbound request: the name alone does not make it one.
    // …nor is one typed as headers (`incoming: http.IncomingHttpHeaders`): it is what its callers pass.
    // …nor one typed as another kind of request (`request: InternalAxiosRequestConfig`, `request: WebhookRequest`), nor
    // the request an HTTP client's hook is handed (it is the one about to be sent).
    const hook = fnNode && index === 0 && isRequestHook(fnNode);
    if (name && REQUEST_NAMES.has(name) && !(typeName && this.#plainLocalTypes().has(typeName)) && !HEADERS_TYPE.test(p.childForFieldName('type')?.text ?? '') && !describesOutgoing(name, p) && !namesOtherRequest(typeName) && !hook) return [source('request', p)];
    if (name && AUTH_INFO_ATTRS.has(name)) return [source('tokenobj', p)];
    if (typeName === 'AuthInfo' || /\bAuthInfo\b/.test(p.childForFieldName('type')?.text ?? '')) return [source('tokenobj', p)];
    const placeholder: Taint = { kind: 'cred', param: index, owner: this.currentSummary, path: [stepAt(p, `parameter \`${name ?? pattern.text}\``)] };
    // A settings type of the project that some function builds from the request (`getConfig(headers): ServiceConfig`):
    // a parameter of that type may get it through calls the scan cannot follow (a registry of handlers).
    const shared = typeName && this.#sharedType(typeName) ? this.readStore(`type:${typeName}`, p, `a \`${typeName}\` (built from the request elsewhere)`) : NONE;
    return shared.length ? [placeholder, ...shared] : [placeholder];
  }

  /** A type of the scan named for settings or credentials (`ServiceConfig`, `ApiCredentials`): shared by its values. */
  #sharedType(typeName: string): boolean {
    if (!SETTINGS_TYPE.test(typeName)) return false;
    return this.#declaredTypes().has(typeName) || this.resolve(typeName)?.kind === 'symbol';
  }

  /**
   * Properties declared to hold the Fetch API (`fetcher: typeof fetch` in an options type, a field `fetchImpl?: typeof
   * globalThis.fetch`): a call through one of them (`input.fetcher(new Request(url, init))`) is a fetch. (A parameter
   * so typed is a wrapper's: its callers hand `fetch` over, and are where the request is reported.)
   */
  #fetchTyped: Set<string> | undefined;
  fetchTypedNames(): Set<string> {
    if (this.#fetchTyped) return this.#fetchTyped;
    const out = new Set<string>();
    // …also under a local alias (`type Fetcher = typeof fetch`), and parameters declared so (`fetcher: Fetcher`).
    const root = this.ctx.tree.rootNode;
    const aliases = new Set(root.descendantsOfType('type_alias_declaration').filter((d) => FETCH_TYPE.test(d?.childForFieldName('value')?.text ?? '')).map((d) => d!.childForFieldName('name')!.text));
    const isFetchType = (type: string | undefined) => !!type && (FETCH_TYPE.test(type) || aliases.has(type));
    for (const d of root.descendantsOfType(['property_signature', 'public_field_definition', 'required_parameter', 'optional_parameter'])) {
      const type = d?.childForFieldName('type')?.text.replace(/^:\s*/, '');
      const name = (d?.childForFieldName('name') ?? d?.childForFieldName('pattern'))?.text;
      if (name && /^[\w$]+$/.test(name) && isFetchType(type)) out.add(name);
    }
    return (this.#fetchTyped = out);
  }

  /** `input.fetcher(…)` through a property declared `typeof fetch` (only calls named for fetch are looked at). */
  #callsTypedFetch(node: Node, name: string): boolean {
    const fn = node.type === 'call_expression' ? unwrap(node.childForFieldName('function')!) : undefined;
    return (fn?.type === 'member_expression' || fn?.type === 'identifier') && /fetch/i.test(name) && this.fetchTypedNames().has(name);
  }

  /**
   * `this.httpRequest(url)`, `opts.fetchImpl(url, init)`, `fetcher(url)`: a function handed in to make HTTP requests,
   * named so, with no code of the scan behind it (its wiring is elsewhere, often `new Tool({ httpRequest: fetch })`).
   */
  #callsInjectedFetch(node: Node, name: string, receiverNode: Node | undefined, frame: Frame): boolean {
    if (node.type !== 'call_expression' || !INJECTED_FETCH.test(name)) return false;
    const callee = unwrap(node.childForFieldName('function')!);
    // (A parameter or a member: a local bound here, `const fetcher = FETCHERS[kind]`, is whatever it was bound to.)
    if (callee.type === 'identifier' ? !lookup(frame, name) || assignedBefore(callee) : callee.type !== 'member_expression') return false;
    if (this.resolve(memberPath(callee)?.root ?? name) || this.calleeSummary(callee, name, receiverNode, frame)) return false;
    // (Known from here on as a fetch, to `isHttpCall` too.)
    this.fetchAliases.add(calleeText(node));
    return true;
  }

  #typeNames: Set<string> | undefined;
  #declaredTypes(): Set<string> {
    if (this.#typeNames) return this.#typeNames;
    const out = new Set<string>();
    for (const d of this.ctx.tree.rootNode.descendantsOfType(['interface_declaration', 'type_alias_declaration'])) {
      const n = d?.childForFieldName('name')?.text;
      if (n) out.add(n);
    }
    return (this.#typeNames = out);
  }

  /** A function declared to return a settings type of the scan hands back what it built: every value of that type may hold it. */
  #returnsSharedType(node: Node, t: Taints, frame: Frame): void {
    const fn = enclosingFunction(node);
    let typeNode = fn?.childForFieldName('return_type')?.namedChildren[0];
    // `Promise<ServiceConfig>`
    if (typeNode?.type === 'generic_type' && typeNode.namedChildren[0]?.text === 'Promise') typeNode = typeNode.namedChildren[1]?.namedChildren[0];
    const typeName = typeNode?.type === 'type_identifier' ? typeNode.text : undefined;
    if (!typeName || !this.#sharedType(typeName)) return;
    if (frame.summary) frame.summary.returnsType = typeName;
    const given = carriesCredential(t).filter((x) => x.origin);
    if (given.length) this.writeStore(`type:${typeName}`, given, node, `a \`${typeName}\``);
  }

  assign(target: Node, t: Taints, frame: Frame, valueNode?: Node): void {
    if (valueNode && (target.type === 'identifier' || target.type === 'member_expression') && this.holdsGlobalFetch(valueNode)) this.fetchAliases.add(target.text);
    switch (target.type) {
      case 'identifier': {
        const name = target.text;
        const held = hop(t, target, `\`${name}\` = …`);
        // A module-level variable assigned inside a function is shared by every request (and every importer).
        if (frame !== this.#module && !isLocal(frame, name) && !lookupOwnedBelowModule(frame, name, this.#module) && this.imports.defines.has(name)) {
          this.writeStore(`${this.file}#${name}`, held, target, `module variable \`${name}\``);
          return;
        }
        // `new Octokit()`, or an object a package hands out (`const client = Asana.ApiClient.instance`).
        const value = valueNode && unwrap(valueNode);
        // (A member only when it names a client: `Asana.ApiClient.instance`, `sdk.default`, not any state a package keeps.)
        const clientMember = value?.type === 'member_expression' && (/\.instance$/.test(value.text) || /client|api\b|sdk/i.test(value.text));
        if (value && (value.type === 'member_expression' ? clientMember && this.fromPackage(value) : this.builtFromPackage(value))) this.packageInstances.add(name);
        this.bindLocal(frame, name, held, !!valueNode && this.isClientConstruction(valueNode),
          valueNode ? this.classOfNew(valueNode) ?? this.factoryClass(valueNode, frame) ?? this.elementOf(valueNode, frame) ?? cloneOfThis(valueNode, frame) : undefined);
        return;
      }
      case 'object_pattern':
      case 'array_pattern':
        this.destructure(target, t, frame, true);
        return;
      case 'member_expression':
      case 'subscript_expression': {
        const path = memberPath(target);
        if (!path) {
          this.eval(target, frame);
          return;
        }
        const { root, names } = path;
        if (target.type === 'subscript_expression') this.eval(target.childForFieldName('index')!, frame);
        if (root === 'this') {
          // `this` outside a class (old-style constructor functions) is an object being built, not a client.
          if (!frame.className) return;
          const attr = names[0];
          if (!attr) return;
          if (attr === 'props') {
            this.writeStore(names.length === 2 ? `props.${names[1]}` : 'props.*', t, target, `\`this.${names.join('.')}\``);
            return;
          }
          const kept = hop(names.length === 1 ? t : retag(carriesCredential(t), names.includes('headers') ? 'options' : 'headers'), target, `stored in \`this.${names.join('.')}\``);
          if (names.length === 1 && frame.summary && frame.summary === this.summaries.get(`${frame.className}.constructor`)) {
            const params = kept.filter((x) => x.param !== undefined);
            if (params.length) this.ctorAttrs.set(`${frame.className}.${attr}`, union(this.ctorAttrs.get(`${frame.className}.${attr}`) ?? [], params));
          } else if (names.length === 1 && kept.some((x) => x.param !== undefined && x.owner === frame.summary)) {
            // A setter (`setCredentials(token) { this._creds = token }`): what callers pass lands in the field.
            this.writeStore(`${this.file}#${frame.className}.${attr}`, kept, target, `\`this.${attr}\``);
          } else if (names.length === 2 && names[1] !== 'headers' && kept.some((x) => x.param !== undefined && x.owner === frame.summary)) {
            // …also under a key of the field (`this.userAccessToken.value = token`), read back as `this.userAccessToken.value`.
            this.writeStore(`${this.file}#${frame.className}.${names.join('.')}`, retag(kept, 'cred'), target, `\`this.${names.join('.')}\``);
          }
          this.classAttr(frame.className, attr, kept.filter((x) => x.origin));
          if (names.length === 1 && valueNode && this.isClientConstruction(valueNode)) this.clients.add(`this.${attr}`);
          if (names.length > 1 && names.includes('headers') && this.clients.has(`this.${attr}`)) {
            this.reportSink(frame, target.parent ?? target, carriesCredential(t), 'the default headers of an outbound HTTP client');
          }
          return;
        }
        // `process.env.API_TOKEN = tok`: every later read of that variable in the process gets it.
        if (root === 'process' && names.length === 2 && names[0] === 'env' && names[1] !== '*') {
          this.writeStore(`env:${names[1]}`, t, target, `environment variable \`${names[1]}\``);
          return;
        }
        // Cloudflare Workers: `ctx.props = { … }` in the fetch handler (or `c.executionCtx.props = …` in Hono
        // middleware) is what the McpAgent reads as `this.props`.
        if (names.at(-1) === 'props' && names.length <= 2) {
          this.writeStore('props.*', t, target, `\`${root}.${names.join('.')}\``);
          return;
        }
        const cell = this.storeCell(target, frame);
        if (cell) {
          this.writeStore(cell.key, t, target, cell.label);
          return;
        }
        // `c.cachedToken = token` on an instance of a class of the scan (a static factory filling a new instance):
        // that class's methods read it as `this.cachedToken`.
        const type = names.length === 1 ? typeOf(frame, root) : undefined;
        const carried = carriesCredential(t);
        if (type && carried.length) {
          for (const c of type.split('|')) this.writeStore(`${c.includes('#') ? c : `${this.file}#${c}`}.${names[0]}`, hop(t, target, `stored in \`${root}.${names[0]}\``), target, `\`${root}.${names[0]}\``);
        }
        // `client.authentications['token'].accessToken = tok` on another package's client (or on the package itself):
        // the client sends it.
        // (Also `client.defaultHeaders['Authorization'] = tok`: the header's name is a credential's.)
        if (isCredentialName(names.at(-1)!) && !names.includes('headers') && (this.packageInstances.has(root) || (!isLocal(frame, root) && this.fromPackage(target)))) {
          this.reportSink(frame, target.parent ?? target, carried, `the credential of \`${root}\`, another package's client`);
          return;
        }
        // `event.request.headers = sanitize(event.request.headers)` rewrites the object's own headers in place (a Sentry
        // `beforeSend` hook redacting them): nothing new is put there to be sent.
        const rewritesItself = carried.length > 0 && carried.every((x) => x.origin?.text === target.text);
        const sendsHeaders = names.includes('headers') && !rewritesItself && (!isLocal(frame, root) || this.clients.has(root) || root === frame.outgoing);
        if (sendsHeaders) {
          // `config.headers.Authorization = tok` in an axios interceptor, `axios.defaults.headers.common[...] = tok`.
          this.reportSink(frame, target.parent ?? target, carried, 'the headers of an outbound HTTP request');
          return;
        }
        const kind: Kind = names.includes('headers') ? 'options' : 'headers';
        // (Kept under the keys it was stored at, as an object literal would: `state.creds = resolve(req.headers)` is
        // read back as `state.creds`.)
        let stored = carriesCredential(t);
        for (const key of [...names].reverse()) stored = retag(nestUnder(stored, key), key === 'headers' ? 'options' : 'headers');
        // A container of an enclosing function filled in a callback (`headers.forEach((v, k) => { raw[k] = v })`) is
        // the same object there.
        if (isLocal(frame, root) || lookup(frame, root)) holder(frame, root).vars.set(root, union(lookup(frame, root) ?? NONE, retag(carriesCredential(t), kind), stored));
        this.recordFill(frame, root, retag(carriesCredential(t), kind));
        return;
      }
      default:
        if (WRAPPERS.has(target.type) && target.namedChildren[0]) this.assign(unwrap(target), t, frame, valueNode);
    }
  }

  /** Binds destructured names: `const { authorization } = req.headers`, `const [, token] = auth.split(' ')`. */
  destructure(pattern: Node, t: Taints, frame: Frame, local: boolean): void {
    const bind = (id: Node, value: Taints) => {
      frame.vars.set(id.text, value);
      if (local) frame.locals.add(id.text);
    };
    if (pattern.type === 'identifier') return bind(pattern, t);
    if (pattern.type === 'assignment_pattern') {
      const left = pattern.childForFieldName('left');
      if (left) this.destructure(left, t, frame, local);
      return;
    }
    if (pattern.type === 'object_pattern') {
      for (const p of pattern.namedChildren) {
        if (!p) continue;
        if (p.type === 'shorthand_property_identifier_pattern') {
          bind(p, p.text === 'session' ? union(this.memberOf(t, p.text, p), this.readStore('session.*', p, 'the FastMCP session')) : this.memberOf(t, p.text, p));
        }
        else if (p.type === 'pair_pattern') {
          const key = p.childForFieldName('key');
          const value = p.childForFieldName('value');
          const keyName = key ? (stringValue(key) ?? key.text) : undefined;
          if (value && keyName) this.destructure(value, this.memberOf(t, keyName, p), frame, local);
        } else if (p.type === 'object_assignment_pattern') {
          const left = p.childForFieldName('left');
          if (left) bind(left, this.memberOf(t, left.text, p));
        } else if (p.type === 'rest_pattern') {
          const id = p.namedChildren[0];
          if (id) bind(id, t);
        }
      }
      return;
    }
    if (pattern.type === 'array_pattern' || pattern.type === 'rest_pattern') {
      for (const p of pattern.namedChildren) if (p) this.destructure(p, only(t, 'cred', 'headers'), frame, local);
    }
  }

  isClientConstruction(node: Node): boolean {
    const n = unwrap(node);
    if (n.type !== 'call_expression' && n.type !== 'new_expression') return false;
    const name = calleeName(n);
    if (!name) return false;
    return (n.type === 'new_expression' && HTTP_CONSTRUCTORS.has(name) && name !== 'Headers') || name === 'create' || name === 'extend';
  }

  // ---- expressions ----

  eval(node: Node, frame: Frame): Taints {
    // `delete headers.authorization` (also `delete headers[h]` for each name of a deny list) on a copy of the inbound
    // headers: what remains is not the caller's credential.
    if (node.type === 'unary_expression' && node.childForFieldName('operator')?.text === 'delete') {
      const target = node.childForFieldName('argument');
      const obj = target?.type === 'member_expression' || target?.type === 'subscript_expression' ? target.childForFieldName('object') : undefined;
      const key = target?.type === 'member_expression' ? target.childForFieldName('property') : target?.childForFieldName('index');
      if (obj?.type === 'identifier' && lookup(frame, obj.text) && unconditional(node)) {
        const named = target?.type === 'member_expression' ? STRIPPED_CREDENTIAL.test(key?.text ?? '') : !!target && this.#removesCredential(key, target);
        if (named) stripHeaders(frame, obj.text);
      }
      return NONE;
    }
    switch (node.type) {
      case 'identifier':
      case 'shorthand_property_identifier': {
        const name = node.text;
        const held = this.held(frame, name, node, this.sharedName(name, frame));
        if (held) return held;
        const imported = this.resolve(name);
        // An imported function handed on as a value (`initClient(getAuthHeader)`) is worth what it returns, as a
        // local closure is.
        if (imported) return imported.kind === 'symbol' ? hop((this.importedSummary(imported)?.returns ?? NONE).filter((t) => t.origin), node, `\`${name}\` returns it`) : NONE;
        if (REQUEST_NAMES.has(name)) return [source('request', node)];
        if (AUTH_INFO_ATTRS.has(name)) return [source('tokenobj', node)];
        return NONE;
      }
      case 'member_expression': {
        const objNode = node.childForFieldName('object')!;
        const prop = node.childForFieldName('property')?.text ?? '';
        let out: Taints = NONE;
        // A FastMCP fork's hidden per-call arguments (`context.extraArgs` of `@missionsquad/fastmcp`): the secrets the
        // MCP host sends with each call for its user (`extraArgs.accessToken`).
        if (prop === 'extraArgs' && objNode.type === 'identifier' && lookup(frame, objNode.text)?.some(isPlaceholder) && FASTMCP_IMPORT.test(this.ctx.source)) out = [source('headers', node)];
        if (objNode.type === 'this' && frame.className) {
          const key = `${frame.className}.${prop}`;
          out = union(out, this.attrs.get(key) ?? NONE);
          // A getter (`get props() { return this.props as Props }`) is read like a field.
          if (this.getters.has(key)) out = union(out, hop(this.summaries.get(key)?.returns ?? NONE, node, `getter \`${prop}\``));
          // (A credential-named field no constructor of this class fills, `protected token: string | null = null` of a
          // base class, may be filled by a subclass's: `constructor(token) { super(); this.token = token }`.)
          const stored = this.ctorAttrs.get(key) ?? (isCredentialName(prop) ? [{ kind: 'cred' as const }] : undefined);
          if (stored) out = union(out, union(stored.map((p) => ({ kind: p.kind, field: key, path: [stepAt(node, `read \`this.${prop}\``)] }))));
          // In the constructor itself the field is still its parameter (`constructor(private opts) {
          // setProvider(this.opts.getToken) }`): what callers pass goes where the parameter goes.
          const ctor = this.summaries.get(`${frame.className}.constructor`);
          if (stored && ctor && frame.summary === ctor) out = union(out, stored.filter((p) => p.param !== undefined).map((p) => ({ ...p, owner: ctor, path: [stepAt(node, `read \`this.${prop}\``)] })));
          out = union(out, this.readStore(`${this.file}#${key}`, node, `\`this.${prop}\` (set by a method)`));
        }
        if (objNode.type === 'member_expression' && objNode.childForFieldName('object')?.type === 'this' && frame.className) {
          const key = `${frame.className}.${objNode.childForFieldName('property')?.text}.${prop}`;
          out = union(out, this.readStore(`${this.file}#${key}`, node, `\`this.${key.slice(frame.className.length + 1)}\` (set by a method)`));
        }
        const cell = this.storeCell(node, frame);
        if (cell) out = union(out, this.readStore(cell.key, node, cell.label, cell.guess));
        const env = envName(node);
        if (env) out = union(out, this.readStore(`env:${env}`, node, `environment variable \`${env}\``));
        if (cell?.key.startsWith('props.')) out = union(out, this.memberOf(this.readStore('props.*', node, '`props`'), prop, node));
        // `API_CONFIG.API_KEY` on a record of this module or an imported one whose `get API_KEY()` returns the caller's
        // key (read per request from async-local storage): what the getter returns. (A method read as a value is worth
        // what it returns, as an imported function is.)
        if (objNode.type === 'identifier' && !lookup(frame, objNode.text) && !isCallee(node)) {
          const record = this.resolve(objNode.text);
          const getter = record?.kind === 'symbol' ? this.importedSummary({ kind: 'symbol', file: record.file, name: `${record.name}.${prop}` })
            : !record && this.recordOwners().has(objNode.text) ? this.summaries.get(`${objNode.text}.${prop}`) : undefined;
          if (getter) out = union(out, hop(getter.returns.filter((t) => t.origin), node, `getter \`${prop}\``));
        }
        const obj = this.eval(objNode, frame);
        // `analytics.props` on an instance built from the credential (`new Analytics(env, props)`) whose constructor
        // keeps that parameter in the field: the object's credential.
        if (objNode.type === 'identifier' && this.ctorField(typeOf(frame, objNode.text), prop)) {
          out = union(out, retag(hop(only(obj, 'options', 'headers', 'cred').filter((t) => t.origin || isPlaceholder(t)), node, `field \`${prop}\` of the object`), 'headers'));
        }
        return union(out, this.memberOf(obj, prop, node));
      }
      case 'subscript_expression': {
        const env = envName(node);
        if (env) return this.readStore(`env:${env}`, node, `environment variable \`${env}\``);
        const obj = this.eval(node.childForFieldName('object')!, frame);
        const index = node.childForFieldName('index');
        if (index) this.eval(index, frame);
        const key = stringValue(index);
        // `httpRequest.mcpContext[TOKEN_KEY]`: an entry of a container middleware hung on the request (see `storeCell`).
        const cell = key === undefined ? this.storeCell(node, frame) : undefined;
        // `extra?.[key]` with the key a parameter: the caller's choice (see `Taint.keyParam`).
        const keyParam = key === undefined ? this.keyParamOf(index, frame) : undefined;
        const read = this.indexOf(obj, key, node);
        return union(keyParam === undefined ? read : read.map((t) => ({ ...t, keyParam })), cell ? this.readStore(cell.key, node, cell.label) : NONE);
      }
      case 'call_expression':
      case 'new_expression':
        return this.call(node, frame);
      case 'template_string': {
        let t: Taints = NONE;
        for (const c of node.namedChildren) if (c?.type === 'template_substitution' && c.namedChildren[0]) t = union(t, this.eval(c.namedChildren[0], frame));
        return retag(carriesCredential(t), 'cred');
      }
      case 'binary_expression': {
        const op = node.childForFieldName('operator')?.text;
        const l = this.eval(node.childForFieldName('left')!, frame);
        const r = this.eval(node.childForFieldName('right')!, frame);
        if (op === '+') return retag(carriesCredential(union(l, r)), 'cred');
        if (op === '??' || op === '||') return union(l, r);
        if (op === '&&') return r;
        return NONE;
      }
      case 'ternary_expression': {
        this.eval(node.childForFieldName('condition')!, frame);
        return union(this.eval(node.childForFieldName('consequence')!, frame), this.eval(node.childForFieldName('alternative')!, frame));
      }
      case 'object':
        return this.object(node, frame);
      case 'array': {
        let t: Taints = NONE;
        for (const c of node.namedChildren) if (c) t = union(t, this.eval(c, frame));
        return t;
      }
      case 'spread_element':
        return node.namedChildren[0] ? this.eval(node.namedChildren[0], frame) : NONE;
      case 'assignment_expression': {
        const right = node.childForFieldName('right')!;
        const t = this.eval(right, frame);
        const left = node.childForFieldName('left')!;
        this.assign(left, t, frame, right);
        // CommonJS `exports.sessionAdapter = { getByEkey, listPaginated }`: a module-level record, as `export const`.
        const exported = frame === this.#module ? /^(module\.)?exports\.([A-Za-z_$][\w$]*)$/.exec(left.text) : null;
        if (exported) this.#registry(exported[2]!, unwrap(right), frame);
        return t;
      }
      case 'augmented_assignment_expression': {
        const left = node.childForFieldName('left')!;
        const t = union(this.eval(node.childForFieldName('right')!, frame), left.type === 'identifier' ? lookup(frame, left.text) ?? NONE : NONE);
        this.assign(left, retag(carriesCredential(t), 'cred'), frame);
        return t;
      }
      case 'sequence_expression': {
        let last: Taints = NONE;
        for (const c of node.namedChildren) if (c) last = this.eval(c, frame);
        return last;
      }
      case 'arrow_function':
      case 'function_expression':
      case 'function':
      case 'generator_function': {
        // A closure's value is what it returns from its surroundings: `register(server, () => props)` hands over
        // `props`, which the callee reads back with `getProps()`.
        return this.functionDef(node, frame, node.childForFieldName('name')?.text);
      }
      case 'class':
        this.classDef(node, frame);
        return NONE;
      default:
        if (WRAPPERS.has(node.type)) {
          const inner = node.type === 'type_assertion' ? node.namedChildren.at(-1) : node.namedChildren[0];
          return inner ? this.eval(inner, frame) : NONE;
        }
        for (const c of node.namedChildren) if (c) this.eval(c, frame);
        return NONE;
    }
  }

  memberOf(obj: Taints, prop: string, node: Node): Taints {
    let out: Taints = NONE;
    if (REQUEST_ATTRS.has(prop) || prop === 'raw' && obj.some((t) => t.kind === 'request')) out = union(out, [source('request', node)]);
    if (AUTH_INFO_ATTRS.has(prop)) out = union(out, [source('tokenobj', node)]);
    // The Deco runtime (`@decocms/runtime`) hands tools the inbound request's context as `env.MESH_REQUEST_CONTEXT`;
    // its `authorization` is the caller's header (its `token` is the mesh's own, for calling the mesh back).
    if (prop === 'MESH_REQUEST_CONTEXT') out = union(out, [source('request', node)]);
    // An MCP request's `_meta` (`extra._meta` in a tool callback, `request.params._meta`): what the client sent with the
    // call, read like headers (`_meta.userToken`). Its `progressToken` is the protocol's, not a credential.
    // (Only off what a server is handed, not a result an MCP client got back: `result._meta`.)
    if (prop === '_meta' && !obj.some((t) => t.kind === 'request') && INBOUND_META_HOLDERS.has(memberObjectText(node).split('.').pop()!.replace(/\?$/, ''))) out = union(out, [source('headers', node)]);
    if (prop === 'progressToken') return NONE;
    for (const t of obj) {
      const next = (kind: Kind) => derive(t, kind, node);
      if (t.kind === 'request' && prop === 'headers') out = union(out, [next('headers')]);
      // Query parameters are read like headers: `req.query.apiKey`, `new URL(req.url).searchParams.get('token')`.
      else if ((t.kind === 'request' && prop === 'query') || (t.kind === 'url' && (prop === 'searchParams' || prop === 'query'))) out = union(out, [next('headers')]);
      else if (t.kind === 'request' && (prop === 'url' || prop === 'nextUrl' || prop === 'originalUrl')) out = union(out, [next('url')]);
      else if (t.kind === 'request' && (prop === 'cookies' || prop === 'signedCookies')) out = union(out, [next('headers')]);
      else if (t.kind === 'request' && prop === 'auth') out = union(out, [next('tokenobj')]);
      else if (t.kind === 'request' && prop === 'authorization') out = union(out, [next('cred')]);
      else if (t.kind === 'request' && LAMBDA_EVENT_MAPS.has(prop)) out = union(out, [next('headers')]);
      // An MCP JSON-RPC request's `params._meta` (`request.params._meta.headers.authorization`): what the client sent.
      else if (t.kind === 'request' && (prop === 'params' || prop === '_meta')) out = union(out, [next('request')]);
      else if (t.kind === 'headers' && (isCredentialHeader(prop) || isCredentialName(prop) || boundToCredentialName(node))) {
        out = union(out, [next('cred')]);
        // …that may hold an object keeping it under a key of its own (`config.auth` = `{ name, value: tok }`).
        if (t.keyed && t.at !== prop && t.holders?.includes(prop)) out = union(out, hop([t], node, `\`.${prop}\` of the object`));
      }
      // A credential-named field may hold an object: `props.tokenSet.accessToken`, `session.credentials.apiKey`.
      else if (t.kind === 'cred' && !isPlaceholder(t) && (TOKEN_ATTRS.has(prop) || isCredentialHeader(prop))) out = union(out, [next('cred')]);
      // A cookie read off a jar (`cookies().get('session')?.value`, `{ name, value }`): its value is the credential.
      else if (t.kind === 'cred' && t.origin && prop === 'value') out = union(out, [t]);
      else if (t.kind === 'tokenobj' && TOKEN_ATTRS.has(prop)) out = union(out, [next('cred')]);
      // `authInfo.extra`: what the project's token verifier put there (the bearer, when it keeps it for the tools).
      else if (t.kind === 'tokenobj' && prop === 'extra') out = union(out, this.readStore('authInfo.extra', node, '`authInfo.extra` (filled by the token verifier)'));
      else if (t.kind === 'options' && prop === 'headers') out = union(out, [{ ...t, kind: 'headers' }]);
      // `schema.safeParse(config).data`: the object that was validated.
      else if (t.kind === 'headers' && prop === 'data') out = union(out, [t]);
      // …also under another name for headers (`config.defaultHeaders`, `opts.extraHeaders`).
      else if (isPlaceholder(t) && words(prop).at(-1) === 'headers') out = union(out, [{ ...t, kind: 'headers', fromRequest: t.fromRequest || prop === 'headers' || undefined }]);
      // `req.query` of a request handed to a helper (`parseConfig(req)`): its query parameters, read like headers.
      else if (isPlaceholder(t) && prop === 'query' && REQUEST_NAMES.has(memberObjectText(node))) out = union(out, [{ ...t, kind: 'headers', fromRequest: true }]);
      else if (isPlaceholder(t) && TOKEN_ATTRS.has(prop)) out = union(out, [{ ...t, kind: 'cred' }]);
      else if (isPlaceholder(t) && (isCredentialHeader(prop) || isCredentialName(prop))) out = union(out, [{ ...t, kind: 'cred' }]);
      // A nested options bag (`params.clientOptions`, `cfg.authConfig`) of an object that holds the credential holds it too.
      // (One the code put under that key itself is read back below, with what it holds.)
      else if ((isPlaceholder(t) || t.kind === 'headers') && isOptionsBag(prop) && !t.holders?.includes(prop)) out = union(out, [t.kind === 'headers' ? next('headers') : { ...t, kind: 'headers' }]);
      // A section of a config a constructor stored (`this.config.hudu.apiKey` where callers pass `{ hudu: { apiKey } }`).
      else if (isPlaceholder(t) && t.field !== undefined && !NOT_A_SECTION.has(prop)) out = union(out, [{ ...t, kind: 'headers' }]);
      // …or one the constructor reads from its parameter itself (`const { apiKey } = config.cipp`).
      // Only where it is read as an object (a member of it, or destructured): `config.region` used as is is a value.
      else if (t.param !== undefined && t.kind === 'cred' && t.owner && this.#constructors.has(t.owner) && !NOT_A_SECTION.has(prop) && readAsObject(node)) out = union(out, [{ ...t, kind: 'headers' }]);
      // `header.value` where `header = { name: 'Authorization', value: \`Bearer ${tok}\` }`: the key the code put it under.
      else if (t.kind === 'headers' && t.keyed && t.at === prop) out = union(out, hop([{ ...t, kind: 'cred', keyed: undefined, at: undefined }], node, `\`.${prop}\` of the object`));
      // `ctx.jira.apiToken` where `ctx = { jira: { apiToken } }`: the nested object that holds the credential.
      else if (t.kind === 'headers' && t.holders?.includes(prop)) out = union(out, [{ ...next('headers'), holders: t.holders, keyed: t.keyed, at: t.at }]);
    }
    return out;
  }

  indexOf(obj: Taints, key: string | undefined, node: Node): Taints {
    let out: Taints = NONE;
    for (const t of obj) {
      if (t.kind === 'headers' && (key === undefined || isCredentialHeader(key) || boundToCredentialName(node))) out = union(out, [derive(t, 'cred', node)]);
      // A parameter read under a name that is not a credential's (`headers['user-agent']`) is not what was passed.
      else if (t.kind === 'cred' && isPlaceholder(t) && key !== undefined && !isCredentialHeader(key) && !isCredentialName(key)) continue;
      else if (t.kind === 'cred') out = union(out, [t]);
      else if (key !== undefined) out = union(out, this.memberOf([t], key, node));
    }
    return out;
  }

  object(node: Node, frame: Frame): Taints {
    let out: Taints = NONE;
    for (const c of node.namedChildren) {
      if (!c) continue;
      if (c.type === 'pair') {
        const keyNode = c.childForFieldName('key')!;
        const key = stringValue(keyNode) ?? (keyNode.type === 'property_identifier' ? keyNode.text : undefined);
        const valueNode = c.childForFieldName('value')!;
        // Cloudflare's OAuth provider calls `resolveExternalToken({ token, request })` with a bearer it did not issue
        // itself; the `props` it returns are what the McpAgent reads as `this.props`.
        const external = key === 'resolveExternalToken' && FUNCTIONS.has(unwrap(valueNode).type);
        if (external) this.#entryParams.set(unwrap(valueNode).startIndex, [source('tokenobj', valueNode, 'source: the bearer given to `resolveExternalToken`')]);
        // A function-valued property is worth what it returns (`getAccessToken: async () => tok`): token providers.
        const v = FUNCTIONS.has(unwrap(valueNode).type) ? this.functionDef(unwrap(valueNode), frame, key) : this.eval(valueNode, frame);
        if (external) this.writeStore('props.*', v.filter((t) => t.origin), c, 'the `props` `resolveExternalToken` returns');
        // FastMCP (TypeScript): what `authenticate(request)` returns is every tool's `context.session`.
        if (key === 'authenticate' && FUNCTIONS.has(unwrap(valueNode).type)) {
          this.writeStore('session.*', (this.summaries.get('authenticate')?.returns ?? NONE).filter((t) => t.origin), c, 'the FastMCP session');
        }
        out = union(out, retag(nestUnder(carriesCredential(v), key), key === 'headers' ? 'options' : 'headers'));
      } else if (c.type === 'shorthand_property_identifier') {
        const v = lookup(frame, c.text) ?? this.eval(c, frame);
        out = union(out, retag(nestUnder(carriesCredential(v), c.text), c.text === 'headers' ? 'options' : 'headers'));
      } else if (c.type === 'spread_element') {
        const v = this.eval(c.namedChildren[0]!, frame);
        // `{ ...DEFAULTS, ...config }` of a parameter (itself, not a member of it) holds what callers pass for it.
        const whole = unwrap(c.namedChildren[0]!).type === 'identifier';
        out = union(out, only(v, 'headers', 'options'), whole ? retag(v.filter((t) => t.kind === 'cred' && t.param !== undefined && t.field === undefined), 'headers') : NONE);
      } else if (c.type === 'method_definition') {
        // `{ async getAccessToken() { return { access_token: tok } } }` handed to an SDK: a token provider.
        const name = c.childForFieldName('name')?.text;
        const v = this.functionDef(c, frame, name);
        out = union(out, retag(carriesCredential(v), 'headers'));
      } else this.eval(c, frame);
    }
    return out;
  }

  call(node: Node, frame: Frame): Taints {
    const isNew = node.type === 'new_expression';
    const fn = calleeOf(node)!;
    const argsNode = node.childForFieldName('arguments');
    const name = calleeName(node) ?? '';
    let receiver: Taints = NONE;
    let receiverNode: Node | undefined;
    const callee = unwrap(fn);
    if (callee.type === 'member_expression') {
      receiverNode = callee.childForFieldName('object')!;
      receiver = this.eval(receiverNode, frame);
    }
    // `(() => { …; return context; })()`: an immediately invoked function gives what it returns.
    const invoked = callee.type === 'member_expression' || callee.type === 'identifier' ? NONE : this.eval(fn, frame);

    const argNodes = (argsNode?.type === 'arguments' ? argsNode.namedChildren : []).filter((a): a is Node => !!a && a.type !== 'comment');
    // An inline callback handed to a function that keeps it and calls it later with the caller's credential
    // (`this.registerTool('delete', async (args, ctx) => …)`, dispatched by `executeTool(name, args, ctx)`): its
    // parameters get what those calls pass.
    const inlineFunctions = argNodes.some((a) => FUNCTIONS.has(unwrap(a).type));
    // …and a function put in a map field itself (`this.executors.set(name, async (args, ctx) => executor(args, ctx))`):
    // its parameters get what calls of the map's functions pass.
    const mapPath = name === 'set' && frame.className && receiverNode ? memberPath(unwrap(receiverNode)) : undefined;
    const inlineValue = argNodes[1] ? unwrap(argNodes[1]) : undefined;
    if (mapPath?.root === 'this' && mapPath.names.length === 1 && inlineValue && FUNCTIONS.has(inlineValue.type)) {
      const key = `${frame.className}.${mapPath.names[0]}`;
      if (!this.#functionMapSetters.has(key)) this.#functionMapSetters.set(key, []);
      this.#callbackParams.set(inlineValue.startIndex, this.#mapFieldArgs(key, inlineValue));
    }
    // (A callback the callee calls with the caller's credential, handed over inline, gets it too: see `applyCallbackArgs`.)
    const target = inlineFunctions ? this.calleeSummary(callee, name, receiverNode, frame) : undefined;
    for (const [index, passed] of Object.entries(target?.callbackArgs ?? {})) {
      const value = argNodes[Number(index)] ? unwrap(argNodes[Number(index)]!) : undefined;
      if (value && FUNCTIONS.has(value.type)) this.#callbackParams.set(value.startIndex, passed.map((g) => g.filter((t) => t.origin)));
    }
    if (target && frame.className && this.#functionMapSetters.size) {
      for (const [key, setters] of this.#functionMapSetters) {
        for (const { owner, param } of setters) {
          const value = owner === target && argNodes[param] ? unwrap(argNodes[param]!) : undefined;
          if (!value || !FUNCTIONS.has(value.type)) continue;
          this.#callbackParams.set(value.startIndex, this.#mapFieldArgs(key, value));
        }
      }
    }
    // `tools.forEach((tool) => …)`: the callback's first parameter is an element of the collection.
    if (receiverNode && ELEMENT_CALLBACKS.has(name) && argNodes[0] && FUNCTIONS.has(unwrap(argNodes[0]).type)) {
      const keys = this.elementKeys(receiverNode, frame);
      if (keys.length) this.#elementParams.set(unwrap(argNodes[0]).startIndex, keys.join('|'));
      // `Object.entries(tools).forEach(([name, register]) => register(server, key))`: the pair's value.
      const pairs = this.pairKeys(receiverNode, frame);
      if (pairs.length) this.#elementParams.set(unwrap(argNodes[0]).startIndex, `[]${pairs.join('|')}`);
    }
    // `request.headers.forEach((value, key) => …)`, `Object.entries(headers).forEach(([k, v]) => …)`: the callback
    // is handed each header, as `for … of` is; so is `map`/`filter`/… over an array holding the credential
    // (`[token, backup].map((t) => send(t))`).
    // (A header map's entries mapped to new values are rewritten, as a log formatter's redaction is: `forEach` only.)
    if (receiverNode && ELEMENT_CALLBACKS.has(name) && argNodes[0] && FUNCTIONS.has(unwrap(argNodes[0]).type)) {
      const each = name === 'forEach' ? only(receiver, 'headers', 'cred') : only(receiver, 'cred');
      if (each.length) this.#entryParams.set(unwrap(argNodes[0]).startIndex, hop(each, argNodes[0], 'each entry'));
    }
    // Servers whose handler is handed the inbound request whatever its name: `Deno.serve((r) => …)`, `Bun.serve({ fetch(r) {} })`,
    // h3 / Nitro / Nuxt's `defineEventHandler((event) => …)` (its `event.headers`, `event.req`, `event.node.req`), and
    // an Elysia route's context (`app.post('/mcp', ({ headers, request }) => …)`).
    const entry = this.#serverHandler(name, receiverNode, argNodes);
    if (entry) {
      const first = entry.childForFieldName('parameters')?.namedChildren.find((p) => p && p.type !== 'comment') ?? entry.childForFieldName('parameter');
      if (first) this.#entryParams.set(entry.startIndex, [source('request', first, `source: \`${short(first.text, 40)}\`, the inbound request the server hands its handler`)]);
    }
    // Smithery's `createStatefulServer(({ sessionId, config }) => …)`: `config` is the session configuration the
    // client sent with its request (its keys included).
    if (SMITHERY_SERVERS.has(name) && argNodes[0] && FUNCTIONS.has(unwrap(argNodes[0]).type) && this.resolve(name)?.kind === 'package') {
      const callback = unwrap(argNodes[0]);
      const session = callback.childForFieldName('parameters')?.namedChildren.find((p) => p && p.type !== 'comment') ?? callback.childForFieldName('parameter') ?? callback;
      this.#entryParams.set(callback.startIndex, [source('headers', session, `source: \`${short(session.text, 40)}\`, the session a Smithery client opens (its \`config\` is the client's)`)]);
    }
    const args: Taints[] = argNodes.map((a) => this.eval(a, frame));
    // A path getter (`get(req, 'headers.authorization')` of lodash or es-toolkit, `_.get`, dot-prop's `getProperty`):
    // the member at that path, read one key at a time.
    const path = PATH_GETTERS.has(name) && args[0]?.length ? this.#propertyPath(argNodes[1]) : undefined;
    if (path && PATH_GETTER_PACKAGES.has(this.calleeModule(node) ?? '')) {
      let held = args[0]!;
      for (const key of path) held = this.indexOf(held, key, node);
      return held;
    }

    // Sinks are recognised by what the callee really is: `undiciRequest` imported as `request` from 'undici'.
    // A default import (or `require`) is the module's main export: `import fetch from 'node-fetch'` is a Fetch API.
    // So is `axios_1.default(…)`, as tsc calls a default import (`(0, axios_1.default)(…)`).
    const moduleDefault = name === 'default' && receiverNode?.type === 'identifier' ? this.imports.bindings.get(receiverNode.text) : undefined;
    const binding = callee.type === 'identifier' ? this.imports.bindings.get(name) : moduleDefault && moduleDefault.name === undefined ? { ...moduleDefault, name: 'default' } : undefined;
    const importedAs = binding && (binding.name === 'default' || binding.name === undefined) ? (FETCH_PACKAGES.has(binding.module) ? 'fetch' : moduleDefault ? binding.module.split('/').pop()! : name) : binding?.name;
    // Nuxt / Nitro's auto-imported `$fetch(url, { headers })` is ofetch, which takes Fetch API options.
    const nitroFetch = name === '$fetch' && callee.type === 'identifier' && !this.resolve(name) ? 'fetch' : undefined;
    this.sinks(node, nitroFetch ?? importedAs ?? name, moduleDefault ? undefined : receiverNode, argNodes, args, frame);

    if (exemptResult(name, () => (isNew ? undefined : this.calleeSummary(callee, name, receiverNode, frame)))) return NONE;
    // `super(apiKey, …)` in a constructor: what the base class's constructor does with it (stores it in a field its
    // methods send), for this class's constructor parameters.
    if (callee.type === 'super' && frame.className) {
      const base = this.bases.get(frame.className);
      const baseKey = base ? (this.classesWithMembers.has(base) ? base : this.importedKey(this.resolve(base))) : undefined;
      if (baseKey) {
        const ctor = this.classMethod(baseKey, 'constructor');
        if (ctor) this.applySummary(frame, ctor, args, node, `super (${base})`);
        this.applyConstructor(frame, baseKey, args, node, `super (${base})`);
      }
      return NONE;
    }
    let out: Taints = !isNew && FUNCTIONS.has(callee.type) ? hop(invoked, node, 'returned by the function invoked here') : NONE;
    // Next.js: `headers()` / `cookies()` from 'next/headers' are the inbound request's.
    if (callee.type === 'identifier') {
      const r = this.resolve(name);
      // …and the same helpers of other frameworks (`xmcp/headers`), also under another name (`import { headers as h }`).
      if (r?.kind === 'package' && /(^|\/)headers$/.test(r.module) && ['headers', 'cookies'].includes(r.name ?? name)) out = union(out, [source('headers', node)]);
      // h3 / Nitro / Nuxt / Vinxi: `getHeader(event, 'authorization')`, `getRequestHeaders(event)`, `getQuery(event)`.
      const h3 = r?.kind === 'package' && H3_MODULES.test(r.module) ? r.name ?? name : undefined;
      if (h3 && H3_HEADER_GETTERS.has(h3)) {
        const key = stringValue(argNodes[1]);
        if (key === undefined || isCredentialHeader(key)) out = union(out, [source('cred', node)]);
      } else if (h3 && H3_HEADER_MAPS.has(h3)) out = union(out, [source('headers', node)]);
    }
    // An MCP framework's tool context asked for the request's token (`ctx.getToken()` on a `ctx: ToolContext` of
    // `@lovable.dev/mcp-js`, or any context type of an MCP package): the caller's bearer.
    if (TOKEN_GETTERS.has(name) && !argNodes.length && receiverNode && this.#mcpContextParam(unwrap(receiverNode))) out = union(out, [source('cred', node)]);
    // NestJS guards, interceptors and filters: `context.switchToHttp().getRequest()` is the inbound request.
    if (name === 'getRequest' && receiverNode && calleeName(unwrap(receiverNode)) === 'switchToHttp') out = union(out, [source('request', node)]);
    if (receiverNode) {
      const req = only(receiver, 'request');
      if (req.length && REQUEST_GETTERS.has(name)) {
        const key = stringValue(argNodes[0]);
        if (!argNodes.length) out = union(out, req.map((t) => derive(t, 'headers', node)));
        else if ((key === undefined && !this.#namesNoCredential(argNodes[0], node)) || (key !== undefined && isCredentialHeader(key)) || boundToCredentialName(node)) out = union(out, req.map((t) => derive(t, 'cred', node)));
      }
      const hdrs = only(receiver, 'headers');
      if (hdrs.length && HEADER_GETTERS.has(name)) {
        const key = stringValue(argNodes[0]);
        if ((key === undefined && !this.#namesNoCredential(argNodes[0], node)) || (key !== undefined && (isCredentialHeader(key) || isSettingsBlob(key))) || boundToCredentialName(node)) out = union(out, hdrs.map((t) => derive(t, 'cred', node)));
      }
      // `headers.get('x-api-key')` on a parameter (`function credsFrom(headers: Headers)`): the credential its callers'
      // headers hold, as `headers['x-api-key']` is.
      // …and under a name its callers choose (`for (const n of names) headers.get(n)` in a `resolveHeader(headers, names)`
      // helper): whatever they pass may be the credential.
      if (HEADER_GETTERS.has(name) && (isCredentialHeader(stringValue(argNodes[0]) ?? '') || (argNodes[0] && stringValue(argNodes[0]) === undefined && /headers$/i.test(receiverNode.text)))) {
        out = union(out, receiver.filter((t) => isPlaceholder(t) && t.kind === 'cred').map((t) => ({ ...t, kind: 'cred' as const })));
      }
      // Hono / Fastify style `c.req.query('apiKey')`.
      if (req.length && name === 'query') {
        const key = stringValue(argNodes[0]);
        if (!argNodes.length) out = union(out, req.map((t) => derive(t, 'headers', node)));
        else if (key === undefined || isCredentialHeader(key) || isSettingsBlob(key)) out = union(out, req.map((t) => derive(t, 'cred', node)));
      }
      if (HEADER_VIEWS.has(name)) out = union(out, only(receiver, 'headers', 'options'));
      // `tok.split(';').entries()`: the parts of a credential, still the credential.
      if ((name === 'entries' || name === 'values') && !argNodes.length) out = union(out, only(receiver, 'cred'));
      // (`tok.slice(0, 8)`, `tok.slice(-4)`: a few characters shown in a log line, not the credential.)
      if (STRING_METHODS.has(name) && !displayFragment(name, argNodes)) out = union(out, only(receiver, 'cred'));
      // `params.toString()` of a `URLSearchParams` given the credential (`params.append('access_token', tok)`): a query string holding it.
      if (name === 'toString' && !argNodes.length) out = union(out, retag(only(receiver, 'headers'), 'cred'));
      // `Buffer.from(config, 'base64').toString('utf-8')`: the decoded text of a settings blob, still that blob.
      else if (name === 'toString') out = union(out, only(receiver, 'headers'));
      // A regular expression applied to the credential: `/^Bearer (.+)$/.exec(header)?.[1]`.
      if (REGEX_METHODS.has(name) && !receiver.length) for (const a of args) out = union(out, retag(only(a, 'cred'), 'cred'));
      if (name === 'concat' || name === 'join') for (const a of args) out = union(out, retag(carriesCredential(a), 'cred'));
      // `headers.set('Authorization', tok)` on a Headers object being built here taints it.
      // `headers.delete('authorization')` on a copy of the inbound headers: what remains is not the caller's credential.
      if (name === 'delete' && receiverNode?.type === 'identifier' && lookup(frame, receiverNode.text) && this.#removesCredential(argNodes[0], node) && unconditional(node)) {
        stripHeaders(frame, receiverNode.text);
      }
      if (HEADER_SETTERS.has(name) && args[1]) {
        const path = memberPath(receiverNode);
        if (path && !path.names.includes('headers') && (isLocal(frame, path.root) || lookup(frame, path.root))) {
          holder(frame, path.root).vars.set(path.root, union(lookup(frame, path.root) ?? NONE, retag(carriesCredential(args[1]), 'headers')));
          if (!path.names.length) this.recordFill(frame, path.root, retag(carriesCredential(args[1]), 'headers'));
        }
        // `superagent.get(url).set('Authorization', tok)`: a header set on a request an HTTP package is building.
        const builder = this.chainedFromHttp(receiverNode);
        if (builder) this.reportSink(frame, node.childForFieldName('arguments') ?? node, carriesCredential(args[1]), `the headers of an outbound HTTP request (\`.${name}(…)\` on a request \`${builder}\` builds)`);
        // `config.headers.set('X-API-Key', key)` in an axios interceptor, `request.headers.set(…)` in a ky hook.
        if (path && path.root === frame.outgoing && path.names.at(-1) === 'headers') {
          this.reportSink(frame, node, carriesCredential(args[1]), 'the headers of an outbound HTTP request (set in its client\'s request hook)');
        }
      }
    }
    if (name === 'assign' && argNodes[0]) {
      const all = union(...args);
      const path = memberPath(argNodes[0]);
      // `Object.assign(ctx, { props: { key } })` on a Worker's execution context: what the McpAgent reads as `this.props`.
      // (also a copy of it, `Object.assign(Object.create(ctx), ctx, { props })`)
      if (/(^|\.)(ctx|executionCtx|context)$/i.test(unwrap(argNodes[0]).text) || /^Object\.create\(\s*[\w.]*\b(ctx|executionCtx|context)\s*\)$/i.test(unwrap(argNodes[0]).text)) {
        for (const a of argNodes.slice(1)) this.#contextProps(a, frame, `the \`props\` merged into \`${unwrap(argNodes[0]).text}\``);
      }
      if (path && path.names.includes('headers') && (!isLocal(frame, path.root) || this.clients.has(path.root))) {
        this.reportSink(frame, node, carriesCredential(union(...args.slice(1))), 'the headers of an outbound HTTP request');
      } else if (path && (isLocal(frame, path.root) || lookup(frame, path.root))) {
        frame.vars.set(path.root, union(lookup(frame, path.root) ?? NONE, retag(carriesCredential(all), path.names.includes('headers') ? 'options' : 'headers')));
      }
      out = union(out, only(all, 'headers', 'options', 'cred'));
    } else if (TRANSPARENT_CALLS.has(name)) {
      // `JSON.parse(cred)` is an object of credentials; String/btoa/atob/encodeURI of one is still the credential.
      // A schema's `parse(obj)` (zod, valibot) returns the object it validated.
      for (const a of args) out = union(out, name === 'parse' ? union(retag(only(a, 'cred'), 'headers'), only(a, 'headers', 'options'), receiverNode?.text === 'JSON' ? NONE : retag(a.filter(isPlaceholder), 'headers')) : ['String', 'btoa', 'atob'].includes(name) || name.includes('URI') ? retag(carriesCredential(a), 'cred') : a);
    } else if (SCHEMA_PARSERS.has(name) && receiverNode) {
      // …and `safeParse(obj)` returns it as `.data`, `parseAsync` as a promise of it.
      for (const a of args.slice(0, 1)) out = union(out, only(a, 'headers', 'options'), retag(a.filter(isPlaceholder), 'headers'));
    }
    if (name === 'Headers') for (const a of args) out = union(out, retag(carriesCredential(only(a, 'headers', 'cred')), 'headers'));
    // `JSON.stringify({ key })`: the text of a map holding the credential (a request body).
    if (name === 'stringify' && receiverNode?.text === 'JSON') out = union(out, carriesCredential(args[0] ?? NONE));
    // `names.map((n) => headers[n])`: the array holds what the callback returns; `find`/`filter` keep the elements.
    if (receiverNode && ARRAY_MAPPERS.has(name)) out = union(out, ...args.slice(0, 1), name === 'reduce' ? args[1] ?? NONE : NONE);
    if (receiverNode && ARRAY_PICKERS.has(name) && !displayFragment(name, argNodes)) out = union(out, carriesCredential(receiver));
    // `new URL(req.url, base)` is still the inbound URL; `new URLSearchParams(url.search)` its query, and
    // `new URLSearchParams({ key: apiKey })` a query string holding the credential.
    // …also of a parameter (`function parseConfig(url) { new URL(url).searchParams.get('apiKey') }`): a caller's URL.
    if (name === 'URL' && isNew && !this.classOfNew(node)) out = union(out, only(args[0] ?? NONE, 'url'), (args[0] ?? NONE).filter((t) => t.param !== undefined && t.kind === 'cred').map((t) => ({ ...t, kind: 'url' as const, parsed: true })));
    if (name === 'URLSearchParams' && isNew && !this.classOfNew(node)) out = union(out, retag(only(args[0] ?? NONE, 'url'), 'headers'), retag(carriesCredential(args[0] ?? NONE), 'cred'));
    // `new Request(url, init)` / `new Request(request, init)`: the request object carries its init's headers (and a
    // credential in its URL), sent when it reaches `fetch` or an HTTP client.
    if (name === 'Request' && isNew && !this.classOfNew(node)) {
      // An inbound request given as the init (`new Request(upstreamUrl, request)`) lends it all its headers.
      out = union(out, only(args[0] ?? NONE, 'cred', 'options'), retag(only(args[1] ?? NONE, 'options', 'headers', 'request'), 'options'));
    }
    // `Agent.serve('/mcp').fetch(request, env, { ...ctx, props: config })`: the props of the execution context handed to
    // an agent's handler are what the McpAgent reads as `this.props`.
    if (name === 'fetch' && receiverNode && argNodes.length >= 3) this.#contextProps(argNodes[2]!, frame, 'the `props` of the execution context given to the agent');
    // Per-request storage: AsyncLocalStorage `run(store, fn)` / `enterWith(store)` / `getStore()`, Hono `c.set/c.get`.
    if (receiverNode) out = union(out, this.storageCall(node, name, receiverNode, argNodes, args, frame));
    // Functions and methods of this file or of a scanned module it imports.
    const text = calleeText(node);
    // `(factoryForTests() ?? defaultFactory)(config)`: the call may reach any function named in the callee.
    // `send.call(null, token)`, `send.apply(this, [token])`: the function called with those arguments; `send.bind(null,
    // token)` taken as called where it is built, as Python's `partial` is.
    const through = this.#calledThrough(node, name, receiverNode, argNodes, args, frame);
    if (through) out = union(out, through);
    const summary = isNew || through ? undefined : this.calleeSummary(callee, name, receiverNode, frame) ?? this.alternativeCallees(callee, frame);
    if (summary) {
      this.applyCallbackArgs(frame, summary, argNodes, node, args);
      let result = this.applySummary(frame, summary, args, node, text);
      // …and the objects it fills (`applyAuth(headers, token)`) hold what it put there.
      for (const [i, filled] of this.filledArguments(summary, args, node, text)) {
        const arg = argNodes[i] && unwrap(argNodes[i]!);
        if (arg?.type === 'identifier' && (isLocal(frame, arg.text) || lookup(frame, arg.text))) {
          holder(frame, arg.text).vars.set(arg.text, union(lookup(frame, arg.text) ?? NONE, filled));
        }
      }
      // `provider.getAuthHeader()` on an object built from the credential (`new PatProvider(pat)`), for a method that
      // returns a credential-named field of its own (`Bearer ${this.token}`): the object's credential.
      if (receiverNode && receiverNode.type !== 'this') {
        const held = carriesCredential(receiver).length ? union(only(receiver, 'cred', 'headers', 'options')) : NONE;
        result = union(...result.map((t) => t.field === undefined || t.origin ? [t]
          : isCredentialName(t.field.split('.').pop()!) ? retag(hop(held, node, `\`${text}()\` returns the credential the object holds`), t.kind) : NONE));
      }
      out = union(out, result);
    }
    // `this.factory(headers)`: a function the constructor stored in a field, called by a method.
    if (!summary && receiverNode?.type === 'this' && frame.className && this.ctorAttrs.has(`${frame.className}.${name}`)) {
      this.recordFieldCall(frame.className, name, args, node);
      // …and its result is what the function its callers handed over returns (`this.tokenProvider()`, a function value
      // being worth what it returns).
      out = union(out, hop(this.eval(callee, frame), node, `called \`this.${name}()\``));
    }
    // `this.executors.set(name, executor)` with `executor` a parameter: a setter of that map of functions.
    if (name === 'set' && frame.className && receiverNode && argNodes[1]?.type === 'identifier') {
      const path = memberPath(unwrap(receiverNode));
      const param = (lookup(frame, argNodes[1].text) ?? NONE).find((t) => t.param !== undefined && t.owner === frame.summary && !t.origin && t.field === undefined);
      if (path?.root === 'this' && path.names.length === 1 && param) {
        const key = `${frame.className}.${path.names[0]}`;
        const list = this.#functionMapSetters.get(key) ?? [];
        if (!list.some((x) => x.owner === param.owner && x.param === param.param)) list.push({ owner: param.owner!, param: param.param! });
        this.#functionMapSetters.set(key, list);
      }
    }
    // Calling what such a map holds (`const executor = this.executors.get(name); executor(args, ctx)`): the functions
    // handed to its setter get the arguments.
    const mapField = !isNew && frame.className && !summary && this.#functionMapSetters.size ? this.#functionMapOf(callee, frame) : undefined;
    if (mapField) this.recordFieldCall(frame.className!, mapField, args, node);
    // Calling a variable or parameter that holds a callback gives what the callback returns (see closures in `eval`),
    // also a module variable a setter filled (`let provider; setProvider(fn) { provider = fn }`, then `provider?.()`).
    if (!mapField && !isNew && callee.type === 'identifier') {
      const local = lookup(frame, name);
      const held = local?.length ? local : this.eval(callee, frame);
      if (held.length) out = union(out, hop(held, node, `called \`${name}()\``));
      // A parameter called with the caller's credential (`execute(params, apiKey)` in a `withApiKey(execute)` wrapper):
      // the function its callers hand over gets it (see `applyCallbackArgs`).
      for (const t of local ?? []) {
        if (t.param === undefined || !t.owner || t.field !== undefined) continue;
        // (…also what another parameter of the same function gives, `callApi(path, getApiKey())` beside `callApi`: the
        // call site hands both over.)
        const given = args.map((a) => carriesCredential(a).filter((x) => x.origin || (x.param !== undefined && x.owner === t.owner && x.param !== t.param && x.field === undefined))
          .map((x) => ({ ...x, path: extend(x.path, stepAt(node, `passed to \`${name}()\` (a function given as parameter ${t.param! + 1})`)) })));
        if (!given.some((g) => g.length)) continue;
        const record = (t.owner.callbackArgs ??= {});
        const before = record[t.param] ?? [];
        record[t.param] = given.map((g, i) => union(before[i] ?? NONE, g));
      }
    }
    const cls = isNew ? this.classOfNew(node) : undefined;
    if (cls) {
      // An instance built from a credential holds it (`new ApiClient(new Configuration({ apiKey }))`): as an options
      // bag, so that only a class that reads it back sends it.
      out = union(out, retag(carriesCredential(union(...args)), 'options'));
      // `new Client(tok)` for a class whose constructor stores the parameter on `this`, and methods send it.
      const remote = cls.includes('#');
      const ctor = this.classMethod(cls, 'constructor');
      if (ctor) this.applySummary(frame, ctor, args, node, text);
      // A class of the scan that only names another package's client (`class AcmeCore extends ClientSDK {}`, as SDK
      // generators emit): its constructor is that client's.
      const base = this.program.packageSubclasses.get(remote ? cls : `${this.file}#${cls}`);
      if (base) this.packageCredentialSink(frame, node, `${text} (a ${base})`, args, namedArgs(argNodes, (n) => this.eval(n, frame)), isClientLike(base) || isClientLike(cls.split('#').pop()!) || undefined);
      this.applyConstructor(frame, cls, args, node, text);
      // Functions of the scan handed to the constructor (`new Transport(serverFactory)`), which methods call.
      // (…either side of `options.factory ?? defaultFactory`.)
      this.applyFieldCallbacks(frame, cls, argNodes.map((a) => {
        const value = unwrap(a);
        const op = value.type === 'binary_expression' ? value.childForFieldName('operator')?.text : undefined;
        const sides = op === '??' || op === '||' ? [value.childForFieldName('left')!, value.childForFieldName('right')!].map(unwrap) : [value];
        return mergeSummaries(sides.map((v) => v.type === 'identifier' && !lookup(frame, v.text) ? this.calleeSummary(v, v.text, undefined, frame) : undefined)
          .filter((x): x is Summary => !!x));
      }), node, text);
      if (!remote) {
        for (const [attrKey, params] of this.ctorAttrs) {
          if (!attrKey.startsWith(`${cls}.`)) continue;
          for (const p of params) for (const a of carriesCredential(args[p.param!] ?? [])) if (a.origin) this.addAttr(attrKey, [{ ...a, kind: p.kind, path: hop([a], node, `passed to \`${text}\``)[0]!.path }]);
        }
      }
      // Built from a parameter of the function around it (`constructor(info) { this.api = new HttpClient(info.url,
      // info.token) }`): what that function's callers pass lands in the new instance's fields, where its methods read it.
      for (const [field, params] of this.constructorFields(cls) ?? []) {
        for (const p of params) {
          const given = carriesCredential(args[p.param!] ?? []).filter((a) => !a.origin && a.param !== undefined);
          if (given.length) this.writeStore(`${remote ? cls : `${this.file}#${cls}`}.${field}`, hop(given.map((a) => ({ ...a, kind: p.kind })), node, `passed to \`${text}\``), node, `\`${field}\` of the \`${text}\` built here`);
        }
      }
    } else if (!summary && !isNew && REQUEST_FUNCTION.test(name) && !/client|^create/i.test(name) && !SETS_CREDENTIAL.test(name) && !this.#vendorMcpServer(node, name) && this.fromPackage(callee)) {
      // A request helper of another package given headers (`httpRequest(url, { headers })` from a vendor library).
      for (const arg of argNodes.filter((a) => unwrap(a).type === 'object')) {
        for (const c of unwrap(arg).namedChildren) {
          const key = c?.type === 'pair' ? c.childForFieldName('key') : c?.type === 'shorthand_property_identifier' ? c : undefined;
          if (!c || !key || (stringValue(key) ?? key.text) !== 'headers') continue;
          const value = c.type === 'pair' ? this.eval(c.childForFieldName('value')!, frame) : lookup(frame, 'headers') ?? NONE;
          this.reportSink(frame, c, value, `the headers given to \`${text}\` (a request function outside the scan)`);
        }
      }
    } else if (!summary && (isNew || /client|sdk|^create/i.test(name) || CREDENTIAL_SETTER.test(name) || PACKAGE_SETUP.test(name) || SETS_CREDENTIAL_FLOW.test(name) || this.#vendorMcpServer(node, name)) && (this.fromPackage(callee) ||
      // `auth.setCredentials({ access_token })` on an instance of another package's class (`new OAuth2Client()`), or a
      // builder's `client.withExistingTokenFlow(`Bearer ${tok}`)` (`client = new ClientBuilder().with…()`).
      ((CREDENTIAL_SETTER.test(name) || SETS_CREDENTIAL_FLOW.test(name)) && !CHECKS_CREDENTIAL.test(name) && receiverNode?.type === 'identifier' && this.packageInstances.has(receiverNode.text)) ||
      // A client factory the code was handed (`this._createApiClient(token)`, `deps.createRequestClient(key)`, a
      // parameter `createValidationClient(key)`: injected, with a default or by code the scan does not see): it
      // builds the client that sends the credential.
      (/^_*(create|make|build)\w*client$/i.test(name) && this.#injected(callee, receiverNode)))) {
      // (HTTP libraries are not `fromPackage`: a class named `Client` there is undici's; here it is an SDK's.)
      // A client of another package given the credential: `new Octokit({ auth })`, `new WebClient(token)`, `createClient({ apiKey })`.
      // A package's credential setter takes it positionally (`sgMail.setApiKey(key)`, `client.setToken(tok)`).
      // A Supabase client made with the caller's JWT and only asked who the caller is (`client.auth.getUser()`,
      // `client.auth.getClaims(token)`): Supabase Auth, the token's issuer, checks it; no data request is made with it.
      if (/(^|[/:])@supabase\/supabase-js\b/.test(this.calleeModule(node) ?? '') && onlyAsksWhoCalls(node)) return out;
      const named = namedArgs(argNodes, (n) => this.eval(n, frame));
      let given = args;
      // Supabase's server-side clients (`@supabase/ssr`, the auth helpers) read and refresh the session cookies
      // Supabase itself issued (`{ cookies: { getAll: () => cookieStore.getAll() } }`): sending them back to Supabase
      // is their use, not a token of this server replayed.
      if (/^@supabase\/(ssr|auth-helpers)/.test(this.calleeModule(node) ?? '') && named.delete('cookies')) {
        given = args.map((a, i) => (argNodes[i] && unwrap(argNodes[i]).type === 'object' ? NONE : a));
      }
      this.packageCredentialSink(frame, node, text, given, named, this.isSdkClass(callee, isNew) || (SETS_CREDENTIAL.test(name) && !CHECKS_CREDENTIAL.test(name)) || this.#vendorMcpServer(node, name) || undefined, isNew || /^[A-Z]/.test(name) ? argNodes : []);
      // …or given default headers, at any depth of its options (`{ axiosConfigDefaults: { headers } }`).
      // (Not inside a callback among the options: `cookies: { setAll() { NextResponse.next({ request: { headers } }) } }`
      // is code the client runs, not its configuration.)
      for (const arg of argNodes.filter((a) => unwrap(a).type === 'object')) for (const pair of arg.descendantsOfType('pair')) {
        const key = pair?.childForFieldName('key');
        let inCallback = false;
        for (let n = pair?.parent ?? null; n && n.id !== arg.id; n = n.parent) if (FUNCTIONS.has(n.type)) inCallback = true;
        if (pair && key && !inCallback && (stringValue(key) ?? key.text) === 'headers') {
          this.reportSink(frame, pair, this.eval(pair.childForFieldName('value')!, frame), `the default headers of \`${text}\` (a client outside the scan)`);
        }
      }
    } else if (!summary && receiverNode && argNodes.length && (STRICT_SETTER.test(name) || (AUTH_STORE_WRITES.has(name) && AUTH_STORES.test(memberPath(unwrap(receiverNode))?.names.at(-1) ?? ''))) &&
      this.#opaqueReceiver(receiverNode, frame) && !KEEPER_NAME.test(memberPath(unwrap(receiverNode))?.names.at(-1) ?? unwrap(receiverNode).text)) {
      // A client the scan cannot see into given the credential by its setter: `directus.setToken(tok)` on a client
      // handed in, `pb.authStore.save(tok)` on an SDK's auth store.
      argNodes.forEach((arg, i) => this.reportSink(frame, arg, only(args[i] ?? NONE, 'cred', 'headers'), `argument ${i + 1} of \`${text}\` (a client's credential setter outside the scan)`));
    } else if (!summary && receiverNode && this.keptClientMethod(receiverNode, name, callee)) {
      // A method of an API client the code keeps (`state.searchClient.search(q, { apiKey: key })`, also `(q, apiKey)`)
      // given the credential by name: the client sends it.
      argNodes.forEach((arg, i) => {
        const a = unwrap(arg);
        if (a.type === 'object') {
          for (const c of a.namedChildren) {
            const key = c?.type === 'pair' ? c.childForFieldName('key') : c?.type === 'shorthand_property_identifier' ? c : undefined;
            const keyName = key ? stringValue(key) ?? key.text : undefined;
            if (!c || !keyName || !isCredentialName(keyName)) continue;
            const value = c.type === 'pair' ? this.eval(c.childForFieldName('value')!, frame) : lookup(frame, keyName) ?? NONE;
            this.reportSink(frame, c, only(value, 'cred', 'headers'), `the \`${keyName}\` option of \`${text}\` (a client's method outside the scan)`);
          }
        } else if (a.type === 'identifier' && isCredentialName(a.text)) {
          this.reportSink(frame, arg, only(args[i] ?? NONE, 'cred'), `argument ${i + 1} of \`${text}\` (a client's method outside the scan)`);
        }
      });
    }
    return out;
  }

  /** `x.searchClient`, `this.api`, `sdk`: a kept client (not a cache or store), whose method here neither checks nor revokes. */
  keptClientMethod(receiverNode: Node, name: string, callee: Node): boolean {
    const recv = unwrap(receiverNode);
    const last = recv.type === 'identifier' ? recv.text : recv.type === 'member_expression' ? recv.childForFieldName('property')?.text ?? '' : '';
    return /(^|[a-z_])(client|api|sdk)$/i.test(last) && !NOT_A_KEPT_CLIENT.test(last) &&
      !this.fromPackage(callee) && !CHECKS_CREDENTIAL.test(name) && !TO_ISSUER.test(name);
  }

  /**
   * A key that names the Authorization header: a string, a case change of one (`h.toLowerCase()`), or the variable of
   * a loop over a list of names that includes it (`for (const h of HOP_BY_HOP) headers.delete(h)`).
   */
  #removesCredential(key: Node | null | undefined, at: Node): boolean {
    let k = key ? unwrap(key) : undefined;
    while (k?.type === 'call_expression' && /^(toLowerCase|toUpperCase|trim)$/.test(calleeName(k) ?? '')) {
      const fn = unwrap(k.childForFieldName('function')!);
      k = fn.type === 'member_expression' ? unwrap(fn.childForFieldName('object')!) : undefined;
    }
    const text = k ? stringValue(k) : undefined;
    if (text !== undefined) return STRIPPED_CREDENTIAL.test(text);
    return !!this.#loopNames(k, at)?.some((name) => STRIPPED_CREDENTIAL.test(name));
  }

  /**
   * The names `key` takes when it is the variable of a loop over a list (`for (const h of ['x-user-id', configured])`):
   * the list's string literals, or undefined when it is no such variable or the list holds none.
   */
  #loopNames(key: Node | undefined, at: Node): string[] | undefined {
    if (key?.type !== 'identifier') return undefined;
    for (let n: Node | null = at.parent; n && !FUNCTIONS.has(n.type); n = n.parent) {
      if (n.type !== 'for_in_statement' || n.childForFieldName('operator')?.text !== 'of' || n.childForFieldName('left')?.text !== key.text) continue;
      const names = this.#arrayLiteral(n.childForFieldName('right'))?.namedChildren.map((c) => stringValue(c)).filter((v): v is string => v !== undefined);
      return names?.length ? names : undefined;
    }
    return undefined;
  }

  /** A header name computed here (not a literal) that can still be told to name no credential: a loop over non-credential names. */
  #namesNoCredential(key: Node | undefined, at: Node): boolean {
    const names = this.#loopNames(key ? unwrap(key) : undefined, at);
    return !!names && !names.some((name) => isCredentialHeader(name) || isSettingsBlob(name));
  }

  /** An array literal, directly or through a variable declared with one in the module (`const HOP = [...]`) or the function. */
  #arrayLiteral(node: Node | null | undefined): Node | undefined {
    const n = node ? unwrap(node) : undefined;
    if (n?.type === 'array') return n;
    if (n?.type !== 'identifier') return undefined;
    for (let scope: Node | null = n.parent; scope; scope = scope.parent) {
      if (!FUNCTIONS.has(scope.type) && scope.type !== 'program') continue;
      let arrays = this.#arraysByScope.get(scope.id);
      if (!arrays) {
        arrays = new Map();
        for (const d of scope.descendantsOfType('variable_declarator')) {
          const value = d?.childForFieldName('value');
          const name = d?.childForFieldName('name');
          if (value && name?.type === 'identifier' && unwrap(value).type === 'array' && !arrays.has(name.text)) arrays.set(name.text, unwrap(value));
        }
        this.#arraysByScope.set(scope.id, arrays);
      }
      const found = arrays.get(n.text);
      if (found) return found;
    }
    return undefined;
  }
  readonly #arraysByScope = new Map<number, Map<string, Node>>();

  /** A parameter of the function around it whose declared type is a context type of an MCP package (`ctx: ToolContext`). */
  #mcpContextParam(receiver: Node): boolean {
    if (receiver.type !== 'identifier') return false;
    let fn: Node | null = receiver.parent;
    while (fn && !FUNCTIONS.has(fn.type)) fn = fn.parent;
    const param = fn?.childForFieldName('parameters')?.namedChildren.find((p) => (p?.type === 'required_parameter' || p?.type === 'optional_parameter') && p.childForFieldName('pattern')?.text === receiver.text);
    const type = param?.childForFieldName('type')?.namedChildren[0]?.text.split(/[.<]/)[0];
    if (!type || !/Context$/.test(type)) return false;
    const r = this.resolve(type);
    return r?.kind === 'package' && MCP_PACKAGE.test(r.module);
  }

  /** Whether a call starts a child process: Node's child_process, execa / cross-spawn, Deno and Bun, the MCP SDK's stdio client. */
  #spawns(node: Node, name: string, receiverNode: Node | undefined): boolean {
    if (receiverNode?.text === 'Deno' && name === 'Command' && node.type === 'new_expression') return true;
    if (receiverNode?.text === 'Bun' && (name === 'spawn' || name === 'spawnSync')) return true;
    if (name === 'StdioClientTransport') return true;
    const mod = this.calleeModule(node)?.replace(/^node:/, '');
    if (mod === 'child_process') return CHILD_PROCESS_CALLS.has(name);
    return mod === 'execa' || mod === 'cross-spawn' || mod === 'tinyexec';
  }

  /** The handler function of a server call that hands it the inbound request as its first argument, if `call` is one. */
  #serverHandler(name: string, receiverNode: Node | undefined, argNodes: Node[]): Node | undefined {
    const fnArg = (n: Node | undefined): Node | undefined => (n && FUNCTIONS.has(unwrap(n).type) ? unwrap(n) : undefined);
    const method = (n: Node | undefined, key: string): Node | undefined => {
      const o = n ? unwrap(n) : undefined;
      if (o?.type !== 'object') return undefined;
      for (const c of o.namedChildren) {
        if (c?.type === 'method_definition' && c.childForFieldName('name')?.text === key) return c;
        if (c?.type === 'pair' && propertyKey(c) === key) return fnArg(c.childForFieldName('value') ?? undefined);
      }
      return undefined;
    };
    if (name === 'serve' && (receiverNode?.text === 'Deno' || receiverNode?.text === 'Bun')) {
      return receiverNode.text === 'Bun' ? method(argNodes[0], 'fetch') : fnArg(argNodes.at(-1)) ?? method(argNodes[0], 'handler');
    }
    if (!receiverNode && H3_HANDLERS.has(name)) {
      const r = this.resolve(name);
      if (r && !(r.kind === 'package' && H3_MODULES.test(r.module))) return undefined;
      // Auto-imported (Nuxt, Nitro) only when the file does not declare a function of that name itself.
      if (!r && (this.summaries.has(name) || this.imports.defines.has(name))) return undefined;
      return fnArg(argNodes[0]) ?? method(argNodes[0], 'handler');
    }
    // Elysia: a route whose handler destructures its context (Express, Fastify and Hono handlers take positional objects).
    if (receiverNode && ROUTE_METHODS.has(name) && stringValue(argNodes[0]) !== undefined) {
      const handler = fnArg(argNodes[1]);
      const first = handler?.childForFieldName('parameters')?.namedChildren.find((p) => p && p.type !== 'comment');
      const pattern = first?.type === 'required_parameter' || first?.type === 'optional_parameter' ? first.childForFieldName('pattern') : first;
      if (pattern?.type === 'object_pattern' && pattern.namedChildren.some((c) => ['headers', 'request'].includes(propertyKey(c) ?? ''))) return handler;
    }
    return undefined;
  }

  /** `fetch(…)`, or a call on axios / got / ky / undici / node-fetch (imported), as opposed to any `.get(…)`. */
  /**
   * `new Resend(key)`, `new Stripe(key)`, `new OpenAI(…)`: the class a package is named after is its client, whatever
   * the class name says.
   */
  isSdkClass(callee: Node, isNew: boolean): boolean {
    if (!isNew) return false;
    const root = callee.type === 'identifier' ? callee.text : memberPath(callee)?.root;
    const r = root ? this.resolve(root) : undefined;
    if (r?.kind !== 'package') return false;
    const pkg = r.module.split('/').map((p) => p.replace(/[^a-z0-9]/gi, '').toLowerCase()).filter(Boolean);
    const cls = (callee.type === 'identifier' ? callee.text : callee.childForFieldName('property')?.text ?? '').toLowerCase();
    return cls.length >= 3 && pkg.some((p) => p === cls || p.startsWith(cls) || cls.startsWith(p));
  }

  /** The merged summaries of the functions a `a ?? b` / `a || b` / `c ? a : b` callee may be. */
  alternativeCallees(callee: Node, frame: Frame): Summary | undefined {
    if (callee.type !== 'binary_expression' && callee.type !== 'ternary_expression') return undefined;
    const found: Summary[] = [];
    for (const c of callee.namedChildren) {
      const n = c ? unwrap(c) : undefined;
      if (n?.type === 'identifier') {
        const sm = this.calleeSummary(n, n.text, undefined, frame);
        if (sm) found.push(sm);
      } else if (n && (n.type === 'binary_expression' || n.type === 'ternary_expression')) {
        const sm = this.alternativeCallees(n, frame);
        if (sm) found.push(sm);
      }
    }
    return mergeSummaries(found);
  }

  /**
   * Names (`this.fetchImpl`, `doFetch`) assigned the global fetch, possibly as a fallback (`opts.fetch ?? fetch`), or
   * handed in to make HTTP requests (`this.httpRequest`, see `#callsInjectedFetch`).
   */
  readonly fetchAliases = new Set<string>();

  /** The value is, or falls back to, the global fetch (`fetch`, `globalThis.fetch.bind(globalThis)`, `a ?? fetch`). */
  holdsGlobalFetch(value: Node): boolean {
    const v = unwrap(value);
    if (v.type === 'binary_expression' || v.type === 'ternary_expression' || v.type === 'parenthesized_expression') {
      return v.namedChildren.some((c) => !!c && this.holdsGlobalFetch(c));
    }
    if (v.type === 'call_expression') {
      const fn = v.childForFieldName('function');
      return fn?.type === 'member_expression' && fn.childForFieldName('property')?.text === 'bind' && this.isGlobalFetch(fn.childForFieldName('object')!);
    }
    return this.isGlobalFetch(v);
  }

  isHttpCall(node: Node, name: string): boolean {
    if (node.type === 'call_expression' && (this.fetchAliases.has(calleeText(node)) || this.#callsTypedFetch(node, name))) return true;
    const fn = unwrap(node.childForFieldName(node.type === 'new_expression' ? 'constructor' : 'function')!);
    if (fn.type === 'identifier' && (fn.text === 'fetch' || fn.text === '$fetch') && name === 'fetch' && !this.resolve(fn.text)) return true;
    // Hono's `proxy(url, init)` helper is `fetch` with the hop-by-hop headers cleaned.
    const r = fn.type === 'identifier' ? this.resolve(fn.text) : undefined;
    if (r?.kind === 'package' && r.module === 'hono/proxy') return true;
    return HTTP_PACKAGES.has(this.calleePackage(node) ?? '');
  }

  /** Functions of the scan handed to a parameter the callee calls with the caller's credential: called with it here. */
  applyCallbackArgs(frame: Frame, summary: Summary, argNodes: Node[], call: Node, args: Taints[]): void {
    for (const [index, passed] of Object.entries(summary.callbackArgs ?? {})) {
      let value = argNodes[Number(index)] ? unwrap(argNodes[Number(index)]!) : undefined;
      // What the callee's other parameters gave is what this call passes there (a key getter's result).
      let given = passed.map((g) => union(...g.map((t) => t.param !== undefined && t.owner === summary && !t.origin
        ? hop(carriesCredential(args[t.param] ?? NONE).filter((a) => a.origin), call, `passed to \`${calleeText(call)}\``) : [t])));
      // `this.execute.bind(this)` (with arguments bound after `this`, the callback's first ones are taken).
      const bindCallee = value?.type === 'call_expression' ? value.childForFieldName('function') : undefined;
      if (bindCallee?.type === 'member_expression' && bindCallee.childForFieldName('property')?.text === 'bind') {
        given = [...argumentsOf(value!).slice(1).map(() => NONE), ...given];
        value = unwrap(bindCallee.childForFieldName('object')!);
      }
      if (value?.type !== 'identifier' && value?.type !== 'member_expression' && value?.type !== 'subscript_expression') continue;
      // …also any function of a registry (`registerTool(name, actions[name])` for each name of `actions`).
      const fn = value.type === 'identifier' ? this.calleeSummary(value, value.text, undefined, frame)
        : value.type === 'subscript_expression' ? this.elementsSummary(value, undefined, frame)
        : this.calleeSummary(value, value.childForFieldName('property')?.text ?? '', value.childForFieldName('object') ?? undefined, frame);
      if (fn && fn !== summary) this.applySummary(frame, fn, given, call, value.text);
    }
  }

  /**
   * The class of the scan a field is declared with: `private readonly client: TasksClient;` in the class body, or a
   * constructor parameter property `constructor(private client: TasksClient)`.
   */
  #fieldClass(className: string, field: string): string | undefined {
    const memo = `${className}.${field}`;
    if (this.#fieldClasses.has(memo)) return this.#fieldClasses.get(memo);
    const found = this.#declaredFieldClass(className, field);
    this.#fieldClasses.set(memo, found);
    return found;
  }

  readonly #fieldClasses = new Map<string, string | undefined>();

  #declaredFieldClass(className: string, field: string): string | undefined {
    const cls = this.ctx.tree.rootNode.descendantsOfType('class_declaration').find((c) => c?.childForFieldName('name')?.text === className);
    const body = cls?.childForFieldName('body');
    if (!body || !field) return undefined;
    let typeName: string | undefined;
    for (const member of body.namedChildren) {
      if (member?.type === 'public_field_definition' && member.childForFieldName('name')?.text === field) typeName = typeText(member.childForFieldName('type'));
      if (member?.type === 'method_definition' && member.childForFieldName('name')?.text === 'constructor') {
        for (const p of member.childForFieldName('parameters')?.namedChildren ?? []) {
          if (p?.type === 'required_parameter' && p.childForFieldName('pattern')?.text === field && p.children.some((c) => c?.type === 'accessibility_modifier' || c?.type === 'readonly')) typeName = typeText(p.childForFieldName('type'));
        }
      }
    }
    return this.#classOfType(typeName);
  }

  /** The class of the scan a type annotation names (`TasksClient`: this file's, or `file#TasksClient` imported). */
  #classOfType(typeName: string | undefined): string | undefined {
    if (!typeName || !/^[A-Z]/.test(typeName)) return undefined;
    return this.classesWithMembers.has(typeName) ? typeName : this.importedKey(this.resolve(typeName));
  }

  /** What calls of the functions a map field holds (`Class.field`) pass, for a function put there. */
  #mapFieldArgs(key: string, fn: Node): Taints[] {
    return this.fieldCallArgs(`${this.file}#${key}`, fn, `the arguments given to the functions kept in \`this.${key.slice(key.indexOf('.') + 1)}\``);
  }

  /**
   * The map field a called function comes from: `this.executors.get(name)(…)`, or a local assigned from it in the
   * function (`const executor = this.executors.get(name)`).
   */
  #functionMapOf(callee: Node, frame: Frame): string | undefined {
    const value = callee.type === 'identifier' ? assignedBefore(callee) : callee;
    const call = value ? unwrap(value) : undefined;
    const getter = call?.type === 'call_expression' ? unwrap(call.childForFieldName('function')!) : undefined;
    if (getter?.type !== 'member_expression' || getter.childForFieldName('property')?.text !== 'get') return undefined;
    const path = memberPath(unwrap(getter.childForFieldName('object')!));
    return path?.root === 'this' && path.names.length === 1 && this.#functionMapSetters.has(`${frame.className}.${path.names[0]}`) ? path.names[0] : undefined;
  }

  /**
   * An object whose code the scan does not hold: rooted at a parameter or local that is not an instance of a class of
   * the scan, nor a module or definition of the scan (`directus` handed in as `directus: Directus`, `pb = new PocketBase()`).
   */
  #opaqueReceiver(receiver: Node, frame: Frame): boolean {
    const root = memberPath(unwrap(receiver))?.root ?? (unwrap(receiver).type === 'identifier' ? unwrap(receiver).text : undefined);
    if (!root || root === 'this') return false;
    if (typeOf(frame, root)) return false;
    const r = this.resolve(root);
    return !r || (r.kind === 'package' && !KEEPER_PACKAGES.includes(packageRoot(r.module)));
  }

  /** The keys of a path given as `'a.b.c'` or `['a', 'b', 'c']`. */
  #propertyPath(node: Node | undefined): string[] | undefined {
    if (!node) return undefined;
    const text = stringValue(node);
    if (text !== undefined) return text.split('.');
    const keys = node.type === 'array' ? node.namedChildren.map((k) => stringValue(k)) : [];
    return keys.length && keys.every((k) => k !== undefined) ? (keys as string[]) : undefined;
  }

  /** The package a call's callee is imported from (`axios.get` → `axios`, `https.request` → `https`), if any. */
  calleePackage(node: Node): string | undefined {
    return this.calleeModule(node)?.replace(/^node:/, '').split('/')[0];
  }

  /** The module specifier of the package a call's callee is imported from (`@supabase/ssr`), if any. */
  calleeModule(node: Node): string | undefined {
    const fn = this.#boundClass(unwrap(node.childForFieldName(node.type === 'new_expression' ? 'constructor' : 'function')!));
    const root = fn.type === 'identifier' ? fn.text : memberPath(fn)?.root;
    const r = root ? this.resolve(root) : undefined;
    return r?.kind === 'package' ? r.module : undefined;
  }

  storageCall(node: Node, name: string, receiverNode: Node, argNodes: Node[], args: Taints[], frame: Frame): Taints {
    const recv = unwrap(receiverNode);
    // A collection kept in a field (`this.sessions.set(id, { bearerAuth })`, later `this.sessions.get(id)?.bearerAuth`):
    // what is put in is what the class's methods take out.
    const field = memberPath(recv);
    if (frame.className && field?.root === 'this' && field.names.length === 1 && COLLECTION_CALLS.has(name)) {
      // Under its literal key when there is one (`this.values.set('token', …)` is not `this.values.get('baseUrl')`).
      const literal = name === 'set' || name === 'get' ? stringValue(argNodes[0]) : undefined;
      const key = `${this.file}#${frame.className}.${field.names[0]}[${literal ?? ''}]`;
      const label = `\`this.${field.names[0]}\``;
      const put = name === 'set' ? args[1] : name === 'get' ? undefined : args[0];
      if (put?.length) this.writeStore(key, hop(put, node, `stored in ${label}`), node, label);
      if (name === 'get' && args.length === 1) return this.readStore(key, node, label);
    }
    // Async-local storage: a shared one (`storage.run(ctx, fn)`, `storage.getStore()`), or one kept in a field
    // (`private static storage = new AsyncLocalStorage()`, read as `this.storage.getStore()` in the class's methods).
    const inField = frame.className && field?.root === 'this' && field.names.length === 1 ? field.names[0]! : undefined;
    const storage = inField ? { key: `${this.file}#${frame.className}.${inField}()`, label: `async-local storage \`this.${inField}\``, guess: inField }
      : recv.type === 'identifier' && this.sharedHolder(recv.text, frame) ? { key: `${this.storeKey(recv.text)}()`, label: `async-local storage \`${recv.text}\``, guess: recv.text } : undefined;
    if (storage) {
      if ((name === 'run' && args.length >= 1) || (name === 'enterWith' && args.length === 1)) this.writeStore(storage.key, args[0]!, node, storage.label);
      if (name === 'getStore' && !args.length) return this.readStore(storage.key, node, storage.label, storage.guess);
    }
    // Hono's per-request variables: `c.set('token', tok)`, `c.get('token')`.
    if (recv.type === 'identifier' && (recv.text === 'c' || recv.text === 'ctx' || recv.text === 'context')) {
      const key = stringValue(argNodes[0]);
      if (key !== undefined && name === 'set' && args.length === 2) this.writeStore(`ctx.${key}`, args[1]!, node, `\`c.set('${key}')\``);
      if (key !== undefined && name === 'get' && args.length === 1) return this.readStore(`ctx.${key}`, node, `\`c.get('${key}')\``, key);
    }
    return NONE;
  }

  /** The summary of what a call invokes: a function of this file, a method of this class, or a scanned import's. */
  calleeSummary(callee: Node, name: string, receiverNode: Node | undefined, frame: Frame): Summary | undefined {
    if (callee.type === 'identifier') {
      // A helper nested in the function making the call (or one around it).
      const nested = this.nestedSummary(frame, name);
      if (nested) return nested;
      // `const factory = registry[name]; factory(context)`: any function of the registry.
      const element = typeOf(frame, name);
      if (element && !this.summaries.has(name)) return this.elementsSummary(undefined, element, frame);
      const held = lookup(frame, name);
      // A parameter named for a function of another module (`{ todoistApiResolver }: Params`, handed on to the code
      // that calls it): that function.
      if (held && held.every((t) => t.param !== undefined && !t.origin) && !this.summaries.has(name)) return this.namedFunction(name);
      if (held?.length && !this.summaries.has(name)) return undefined;
      // The global `fetch`, not a record's method of that name (`{ async fetch(path) { … } }`, kept under its plain name).
      if (name === 'fetch' && !this.imports.defines.has(name)) return this.importedSummary(this.resolve(name));
      return this.summaries.get(name) ?? this.importedSummary(this.resolve(name));
    }
    // `handlers[name](args, token)`: any function of the registry.
    if (callee.type === 'subscript_expression') return this.elementsSummary(callee, undefined, frame);
    if (!receiverNode) return undefined;
    if (receiverNode.type === 'this') return frame.className ? this.methodSummary(frame.className, name) ?? this.inheritedMethod(frame.className, name) : undefined;
    // `registry[name].handler(args, token)`, `tools.find(…)!.execute(…)`: that method of any element.
    const element = this.elementOf(receiverNode, frame);
    if (element) return this.elementsSummary(undefined, element, frame, name);
    // `new Client().list(tok)`, `getClient().list(tok)`: the method of the class built there, or the one class the
    // factory returns.
    const receiver = unwrap(receiverNode);
    const made = receiver.type === 'new_expression' || receiver.type === 'call_expression' ? this.classOfNew(receiver) ?? this.factoryClass(receiver, frame) : undefined;
    if (made && !made.includes('|')) return this.classMethod(made, name);
    // `this.client.delete(path, token)` on a field declared with a class of the scan (`private client: TasksClient`):
    // that class's method, even when its name is an HTTP verb.
    const field = receiver.type === 'member_expression' && receiver.childForFieldName('object')?.type === 'this' && frame.className ? this.#fieldClass(frame.className, receiver.childForFieldName('property')?.text ?? '') : undefined;
    if (field) return this.classMethod(field, name);
    if (receiverNode.type !== 'identifier') return receiverNode.type === 'member_expression' || receiver.type === 'call_expression' ? this.uniqueMethod(name) : undefined;
    // An instance of another package's class runs that package's code, not a same-named method of the scan.
    if (this.packageInstances.has(receiverNode.text) && !typeOf(frame, receiverNode.text)) return undefined;
    return this.receiverSummary(frame, receiverNode.text, name);
  }

  /** An execution context built as an object literal with `props` (`{ ...ctx, props }`): what the McpAgent reads as `this.props`. */
  #contextProps(node: Node, frame: Frame, label: string): void {
    const props = objectLiteralOf(node)?.namedChildren.find((c) => c?.type === 'pair' && (stringValue(c.childForFieldName('key')) ?? c.childForFieldName('key')?.text) === 'props');
    const value = props?.childForFieldName('value');
    if (value) this.writeStore('props.*', this.eval(value, frame).filter((t) => t.origin), value, label);
  }

  /** Whether some class a name may hold (`Class` or `file#Class`, `|`-joined) stores a constructor parameter in `field`. */
  ctorField(type: string | undefined, field: string): boolean {
    return !!type && type.split('|').some((c) => this.constructorFields(c.startsWith(`${this.file}#`) ? c.slice(this.file.length + 1) : c)?.has(field));
  }

  /** The merged summaries of `method` on each element (or, without a method, of each element as a function). */
  elementsSummary(subscript: Node | undefined, keys: string | undefined, frame: Frame, method?: string): Summary | undefined {
    const all = keys ?? (subscript ? this.elementOf(subscript, frame) : undefined);
    if (!all) return undefined;
    const found = all.split('|').map((k) => {
      if (method) return this.classMethod(k, method);
      const hash = k.indexOf('#');
      return k.slice(0, hash) === this.file ? this.summaries.get(k.slice(hash + 1)) : this.importedSummary({ kind: 'symbol', file: k.slice(0, hash), name: k.slice(hash + 1) });
    });
    return mergeSummaries(found.filter((s): s is Summary => !!s));
  }

  /** The class of what a call to a factory returns (`const runner = await getRunner()`). */
  factoryClass(node: Node, frame: Frame): string | undefined {
    const n = unwrap(node);
    if (n.type !== 'call_expression') return undefined;
    const callee = unwrap(n.childForFieldName('function')!);
    const receiver = callee.type === 'member_expression' ? callee.childForFieldName('object') ?? undefined : undefined;
    return this.calleeSummary(callee, calleeName(n) ?? '', receiver, frame)?.returnsClass?.join('|');
  }

  /** The class `new C(…)` constructs, when defined in this file (`C`) or in a scanned module (`file#C`). */
  classOfNew(node: Node): string | undefined {
    const n = unwrap(node);
    if (n.type !== 'new_expression') return undefined;
    const ctor = n.childForFieldName('constructor');
    if (ctor?.type === 'identifier') {
      const name = ctor.text;
      if (this.classesWithMembers.has(name)) return name;
      return this.importedKey(this.resolve(name));
    }
    if (ctor?.type === 'member_expression' && ctor.childForFieldName('object')?.type === 'identifier') {
      const target = this.resolve(ctor.childForFieldName('object')!.text);
      return target?.kind === 'module' ? this.importedKey(target, ctor.childForFieldName('property')!.text) : undefined;
    }
    return undefined;
  }

  /** `new Octokit()`, or a builder chain on one (`new ClientBuilder().withHttpMiddleware(…).withLogger()`). */
  builtFromPackage(node: Node): boolean {
    let n: Node | null = node;
    while (n && (n.type === 'call_expression' || n.type === 'member_expression' || n.type === 'await_expression')) {
      n = n.type === 'call_expression' ? n.childForFieldName('function') : n.type === 'member_expression' ? n.childForFieldName('object') : n.namedChildren[0] ?? null;
      if (n?.type === 'parenthesized_expression') n = n.namedChildren[0] ?? null;
    }
    return n?.type === 'new_expression' && this.fromPackage(n.childForFieldName('constructor')!);
  }

  /** Whether the callee's root name is imported from another package that is an API client (not a server framework). */
  fromPackage(callee: Node): boolean {
    const target = this.#boundClass(callee);
    // `new (Lib.default ?? Lib)(…)`: the first name in the callee expression.
    const root = memberPath(target)?.root ?? (target.type === 'identifier' ? target.text : target.descendantsOfType('identifier')[0]?.text);
    if (!root || root === 'this' || root === 'Response') return false;
    const r = this.resolve(root);
    if (r?.kind !== 'package') return false;
    const mod = packageRoot(r.module);
    return !NOT_CLIENT_PACKAGES.has(mod) && !mod.startsWith('@modelcontextprotocol/');
  }

  /**
   * A class-like local bound to another module's export, what it stands for (`const ClientClass = mod.AcmeClient as
   * new (o: Options) => Client` after `const mod = await import(packageName)`); else the callee itself.
   */
  #boundClass(callee: Node): Node {
    if (callee.type !== 'identifier' || !/^[A-Z]/.test(callee.text) || GLOBAL_CLASSES.test(callee.text) || this.classesWithMembers.has(callee.text) || this.resolve(callee.text)) return callee;
    const bound = assignedBefore(callee);
    return bound && unwrap(bound).type === 'member_expression' ? unwrap(bound) : callee;
  }

  /** A module-level or imported name (not a local, not an HTTP client): a candidate storage holder. */
  sharedHolder(name: string, frame: Frame): boolean {
    if (lookupOwnedBelowModule(frame, name, this.#module) || this.clients.has(name)) return false;
    if (this.imports.defines.has(name)) return true;
    const r = this.resolve(name);
    return r !== undefined && r.kind !== 'module';
  }

  /** A module-level or imported variable read inside a function: its storage cell. */
  sharedName(name: string, frame: Frame): string | undefined {
    if (frame === this.#module || lookupOwnedBelowModule(frame, name, this.#module)) return undefined;
    if (this.imports.defines.has(name)) return `${this.file}#${name}`;
    const r = this.resolve(name);
    return r?.kind === 'symbol' ? `${r.file}#${r.name}` : undefined;
  }

  /**
   * Storage reached through a member: `req.token` set by middleware, `res.locals.x`, Hono `c.var.x`, Cloudflare
   * `this.props.x`, `globalThis.x`, and `obj.x` on a module-level or imported object. Undefined for anything local.
   */
  storeCell(member: Node, frame: Frame): { key: string; label: string; guess?: string } | undefined {
    const path = memberPath(member);
    // A container middleware hangs on the request (`request.mcpContext[TOKEN_KEY] = token`, read back by a handler as
    // `httpRequest.mcpContext?.[TOKEN_KEY]`): one cell per container, whatever the key.
    if (path?.names.length === 2 && !REQUEST_FIELDS.has(path.names[0]!) && (REQUEST_NAMES.has(path.root) || only(lookup(frame, path.root) ?? NONE, 'request').length)) {
      return { key: `req.${path.names[0]}.*`, label: `\`${path.root}.${path.names[0]}[…]\`` };
    }
    if (!path || !path.names.length || path.names.includes('*')) return undefined;
    const { root, names } = path;
    const last = names[names.length - 1]!;
    if (root === 'this') {
      if (names[0] !== 'props' || names.length > 2) return undefined;
      return names.length === 2 ? { key: `props.${last}`, label: `\`this.props.${last}\`` } : { key: 'props.*', label: '`this.props`' };
    }
    if (root === 'globalThis' || root === 'global' || root === 'window') return names.length === 1 ? { key: `global.${last}`, label: `\`${root}.${last}\`` } : undefined;
    if (names.length === 2 && names[0] === 'locals') return { key: `locals.${last}`, label: `\`res.locals.${last}\``, guess: last };
    if (names.length === 2 && names[0] === 'var' && (root === 'c' || root === 'ctx' || root === 'context')) return { key: `ctx.${last}`, label: `\`c.var.${last}\``, guess: last };
    if ((names.length === 2 || names.length === 3) && names.at(-2) === 'props') return { key: `props.${last}`, label: `\`${root}.${names.join('.')}\`` };
    if (names.length !== 1) return undefined;
    if (last === 'session' && !REQUEST_NAMES.has(root)) return { key: 'session.*', label: '`the FastMCP session`' };
    if (REQUEST_NAMES.has(root) || only(lookup(frame, root) ?? NONE, 'request').length) {
      if (REQUEST_FIELDS.has(last)) return undefined;
      // Guess only inside an HTTP handler or middleware (`(req, res, next)`, `(request, reply)`): a tool's own
      // `request` argument is something else.
      const handler = ['res', 'reply', 'response', 'next'].some((n) => lookup(frame, n));
      return { key: `req.${last}`, label: `\`${root}.${last}\``, guess: handler ? last : undefined };
    }
    if (lookupOwnedBelowModule(frame, root, this.#module) || frame === this.#module || this.clients.has(root)) return undefined;
    const r = this.resolve(root);
    if (!this.imports.defines.has(root) && r?.kind !== 'symbol' && r?.kind !== 'module') return undefined;
    return { key: this.storeKey(root, last), label: `\`${root}.${last}\`` };
  }

  sinks(node: Node, name: string, receiverNode: Node | undefined, argNodes: Node[], args: Taints[], frame: Frame): void {
    // `new Request(url, { headers })` only describes a request: it is outbound when it reaches `fetch` or an HTTP
    // client (its value carries the headers, see `call`), not when it is handed to an in-process handler.
    if (name === 'Request' && node.type === 'new_expression' && !this.classOfNew(node)) return;
    // `x.fetch(request, env, ctx)`: a Worker / Hono app's handler called in process, not the Fetch API (input, init);
    // so is `app.fetch(request, opts)` / `mcpHandler.fetch(…)` on an object named for an in-process handler.
    if (name === 'fetch' && receiverNode && argNodes.length >= 3) return;
    // …also one a getter returns (`getMcpHandler().fetch(request)`).
    if (name === 'fetch' && receiverNode) {
      const recv = unwrap(receiverNode);
      const handlerName = recv.type === 'call_expression' ? calleeName(recv) ?? '' : memberPath(recv)?.names.at(-1) ?? recv.text;
      if (IN_PROCESS_HANDLER.test(handlerName)) return;
    }
    // `this.fetchImpl(url, init)` where the field holds the global fetch (`options.fetch ?? fetch`).
    if ((this.fetchAliases.has(calleeText(node)) || this.#callsTypedFetch(node, name) || this.#callsInjectedFetch(node, name, receiverNode, frame)) && name !== 'fetch') return this.sinks(node, 'fetch', undefined, argNodes, args, frame);
    // A child process given the credential in its environment: a spawned CLI or a stdio MCP server
    // (`spawn(cmd, args, { env })`, `new Deno.Command(cmd, { env })`, `new StdioClientTransport({ command, env })`)
    // calls its API with it.
    if (this.#spawns(node, name, receiverNode)) {
      for (const a of argNodes) {
        const options = objectLiteralOf(a);
        for (const member of options?.namedChildren ?? []) {
          if (propertyKey(member) !== 'env') continue;
          const value = member!.type === 'pair' ? this.eval(member!.childForFieldName('value')!, frame) : lookup(frame, 'env') ?? NONE;
          const inside = member!.startIndex >= node.startIndex && member!.endIndex <= node.endIndex;
          this.reportSink(frame, inside ? member! : node, retag(carriesCredential(value), 'cred'), `the environment of a child process (\`${calleeText(node)}\`)`);
        }
      }
      // `execFile('curl', ['-H', `Authorization: Bearer ${tok}`, url])`, `execSync(`curl -H … ${tok}`)`: the program
      // is an HTTP client.
      const program = httpCliProgram(argNodes[0]);
      if (program) argNodes.slice(0, 2).forEach((a, i) => this.reportSink(frame, a, retag(carriesCredential(args[i] ?? NONE), 'cred'), `the command line of \`${program}\` (an outbound HTTP request)`));
      return;
    }
    // An MCP client's request whose `_meta` carries a credential the code put there (`upstream.callTool({ name,
    // arguments, _meta: { ...meta, authorization } })` in a gateway): the upstream MCP server receives it. The
    // client's own `_meta` relayed whole is the request relayed, as a body is.
    if (receiverNode && MCP_CLIENT_REQUESTS.has(name)) {
      for (const a of argNodes) {
        for (const member of objectLiteralOf(a)?.namedChildren ?? []) {
          if (!member || propertyKey(member) !== '_meta') continue;
          const value = member.type === 'pair' ? this.eval(member.childForFieldName('value')!, frame) : lookup(frame, '_meta') ?? NONE;
          // (The client's own `_meta`, relayed or spread beside what the code adds, is the request relayed, whatever the
          // helpers it passed through made of it.)
          const put = carriesCredential(value).filter((t) => !/(^|\.)_meta$/.test(t.origin?.text ?? ''));
          this.reportSink(frame, member, put, `the \`_meta\` of an MCP request to another server (\`${calleeText(node)}\`)`);
        }
      }
    }
    // OAuth libraries' calls that present an access token to a resource (`fetchUserInfo(config, token, sub)`,
    // `fetchProtectedResource(config, token, url, 'GET')`): the token argument is sent.
    const presents = OAUTH_RESOURCE_FUNCTIONS.has(name) ? OAUTH_RESOURCE_CALLS.get(`${this.calleePackage(node) ?? ''}:${name}`) : undefined;
    if (presents !== undefined) return this.reportSink(frame, argNodes[presents] ?? node, only(args[presents] ?? NONE, 'cred'), `the access token of \`${calleeText(node)}\` (sent as a bearer token)`);
    // …or the client itself called (`apiClient(config)` on an `axios.create(…)` instance).
    const calledClient = !receiverNode && node.type === 'call_expression' && unwrap(node.childForFieldName('function')!).type === 'identifier' && this.clients.has(name);
    const receiverIsClient = calledClient || (!!receiverNode && (this.clients.has(receiverNode.text) || this.clients.has(memberPath(receiverNode)?.root ?? '')));
    const httpish = HTTP_METHOD_NAMES.has(name) || HTTP_CONSTRUCTORS.has(name) || name === 'axios' || name === 'got' || name === 'ky' || receiverIsClient ||
      (name === 'proxy' && this.isHttpCall(node, name));
    // `url.searchParams.set('access_token', tok)`: the credential travels in the query string.
    if ((name === 'append' || name === 'set') && receiverNode && memberPath(receiverNode)?.names.at(-1) === 'searchParams') {
      const key = stringValue(argNodes[0]);
      if (key !== undefined && isCredentialHeader(key)) this.reportSink(frame, node, only(args[1] ?? NONE, 'cred'), 'the query string of an outbound request URL');
      return;
    }
    // `new StreamableHTTPClientTransport(url, { requestInit: { headers } })`: every request to that MCP server.
    // (also a subclass, `RequestContextAwareStreamableHTTPClientTransport`, and options built in a variable first).
    if (MCP_CLIENT_TRANSPORTS.has(name) || (node.type === 'new_expression' && /(StreamableHTTP|SSE)ClientTransport$/.test(name))) {
      for (const pair of argNodes.slice(1).flatMap((a) => (objectLiteralOf(a) ?? a).descendantsOfType(['pair', 'shorthand_property_identifier']))) {
        const key = pair?.type === 'pair' ? pair.childForFieldName('key') : pair;
        if (pair && key && (stringValue(key) ?? key.text) === 'headers') {
          const value = pair.type === 'pair' ? this.eval(pair.childForFieldName('value')!, frame) : lookup(frame, 'headers') ?? NONE;
          const inside = pair.startIndex >= node.startIndex && pair.endIndex <= node.endIndex;
          this.reportSink(frame, inside ? pair : node, value, `the headers of a connection to a remote MCP server (\`${calleeText(node)}\`)`);
        }
      }
      return;
    }
    // `fetch` handed to a wrapper (`tracer.traceFetch(fetch, url, init)`, `withRetry(fetch, url, init)`): the wrapper
    // calls it with the arguments that follow, so they are the URL and options of a Fetch API request.
    const fetchArg = argNodes.findIndex((a) => this.isGlobalFetch(a));
    if (fetchArg >= 0 && argNodes.length > fetchArg + 1) {
      const label = `an outbound HTTP request (\`fetch\` passed to \`${calleeText(node)}\`)`;
      const rest = argNodes.slice(fetchArg + 1);
      if (['template_string', 'binary_expression', 'identifier'].includes(unwrap(rest[0]!).type)) this.reportSink(frame, rest[0]!, only(args[fetchArg + 1] ?? NONE, 'cred'), `the URL of ${label}`);
      this.optionsSinks(rest, args.slice(fetchArg + 1), frame, label, true);
      return;
    }
    if (!httpish || name === 'Headers') return;
    const label = `an outbound HTTP request (\`${calleeText(node)}\`)`;
    // A URL built with the credential in it (`?token=${tok}`, `/bot${tok}/`).
    // A token handed back to the authorization server that issued it (RFC 7009 revocation, RFC 7662 introspection,
    // Google's tokeninfo) is not replayed to another service.
    if (argNodes[0] && this.isHttpCall(node, name) && ['template_string', 'binary_expression', 'identifier'].includes(unwrap(argNodes[0]).type) && !TO_ISSUER.test(argNodes[0].text) && !looksUpByCredential(node)) {
      this.reportSink(frame, argNodes[0], only(args[0] ?? NONE, 'cred'), `the URL of ${label}`);
    }
    const http = this.isHttpCall(node, name);
    // axios's `post(url, data, config)` (and a client made by it): the second argument is the body. got and ky take
    // options there, whose `json` / `form` / `body` the options below cover.
    if ((http || receiverIsClient) && DATA_SECOND.has(name) && argNodes[1] && !this.optionsSecond(node)) {
      this.bodySink(frame, argNodes[1], args[1] ?? NONE, label);
    }
    // Only a Fetch API call takes a Request as its init (`fetch(url, request)`, Hono's `proxy(url, c.req.raw)`).
    // A request to the issuer (an OAuth proxy relaying to its token endpoint, a tokeninfo check) is addressed to it.
    if (addressedToIssuer(argNodes[0]) || addressedToSelf(argNodes[0])) return;
    this.optionsSinks(argNodes, args, frame, label, http, http || receiverIsClient, http && (name === 'fetch' || name === 'proxy'));
  }

  /** The HTTP package building a request by chained calls under `node` (`superagent.get(url).accept('json')`), if any. */
  chainedFromHttp(node: Node | null | undefined): string | undefined {
    for (let n = node ? unwrap(node) : undefined; n?.type === 'call_expression'; ) {
      const fn = unwrap(n.childForFieldName('function')!);
      if (this.isHttpCall(n, calleeName(n) ?? '')) return this.calleePackage(n) ?? calleeText(n);
      n = fn.type === 'member_expression' ? unwrap(fn.childForFieldName('object')!) : undefined;
    }
    return undefined;
  }

  /** A credential in the body of an outbound request (a login, a form key, a refresh grant), unless it is traded there. */
  bodySink(frame: Frame, node: Node, taints: Taints, label: string): void {
    if (!tradesTokenInBody(node)) this.reportSink(frame, node, bodyCredential(taints), `the body of ${label}`);
  }

  /** got / ky / ofetch / node-fetch / undici, called as imported, take options, not a body, after the URL. */
  optionsSecond(node: Node): boolean {
    return OPTIONS_SECOND.has(this.calleePackage(node) ?? '');
  }

  /** The global Fetch API itself as a value (`fetch`, `globalThis.fetch`), not a call to it or a local named so. */
  isGlobalFetch(arg: Node): boolean {
    const a = unwrap(arg);
    if (a.type === 'identifier') return (a.text === 'fetch' && !this.resolve('fetch') && !lookup(this.#module, 'fetch')) || (/fetch/i.test(a.text) && this.fetchTypedNames().has(a.text));
    const path = a.type === 'member_expression' ? memberPath(a) : undefined;
    return !!path && ['globalThis', 'self', 'window'].includes(path.root) && path.names.length === 1 && path.names[0] === 'fetch';
  }

  /** The headers in an outbound request's arguments: `{ headers }` pairs, spread options, an options object passed whole. */
  optionsSinks(argNodes: Node[], args: Taints[], frame: Frame, label: string, http: boolean, body = http, wholeRequestInit = false): void {
    argNodes.forEach((arg, i) => {
      const a = unwrap(arg);
      if (a.type === 'object') {
        for (const c of a.namedChildren) {
          if (c?.type === 'pair') {
            const keyNode = c.childForFieldName('key')!;
            const key = stringValue(keyNode) ?? keyNode.text;
            if (key === 'headers') this.reportSink(frame, c, this.eval(c.childForFieldName('value')!, frame), `the headers of ${label}`);
            // axios `params`, got `searchParams`, ofetch `query`: the credential travels in the query string.
            else if (http && QUERY_OPTIONS.has(key)) this.reportSink(frame, c, this.eval(c.childForFieldName('value')!, frame), `the query parameters of ${label}`);
            // axios / node:http `auth`, got `username` / `password`: HTTP Basic credentials.
            else if (http && AUTH_OPTIONS.has(key)) this.reportSink(frame, c, this.eval(c.childForFieldName('value')!, frame), `the credentials of ${label}`);
            // fetch `body`, axios `data`, got/ky `json` / `form`: the credential travels in the request body.
            else if (body && BODY_OPTIONS.has(key)) this.bodySink(frame, c, this.eval(c.childForFieldName('value')!, frame), label);
          } else if (c?.type === 'shorthand_property_identifier' && c.text === 'headers') {
            this.reportSink(frame, c, lookup(frame, 'headers') ?? NONE, `the headers of ${label}`);
          } else if (c?.type === 'spread_element') {
            const spread = this.eval(c.namedChildren[0]!, frame);
            this.reportSink(frame, c, retag(only(spread, 'options'), 'headers'), `the options of ${label}`);
            if (i > 0 && http) this.reportOptionsParam(frame, c, spread, `the options of ${label}`);
          }
        }
      } else {
        // The inbound request itself as the options (`fetch(upstreamUrl, c.req.raw)`): all its headers go along.
        if (i === 1 && http && wholeRequestInit) this.reportSink(frame, arg, retag(only(args[i] ?? NONE, 'request').filter((t) => t.origin), 'headers'), `the options of ${label} (the inbound request, with all its headers)`);
        this.reportSink(frame, arg, retag(only(args[i] ?? NONE, 'options'), 'headers'), `the options of ${label}`);
        if (i > 0 && http) this.reportOptionsParam(frame, arg, args[i] ?? NONE, `the options of ${label}`);
      }
    });
  }
}

/** Names of functions that send a request (`httpRequest`, `makeApiCall`, `sendQuery`, `postJson`). */
const REQUEST_FUNCTION = /request|fetch|call|send|http|^(get|post|put|patch|delete)|api|query|^defaults$|^configure/i;

/** A type annotation that says the value is a set of headers (`: http.IncomingHttpHeaders`, `: Headers`). */
const HEADERS_TYPE = /^:?\s*(?:[\w$]+\.)?(?:IncomingHttpHeaders|OutgoingHttpHeaders|Headers|HeadersInit)\s*$/;

/** Smithery SDK server factories, whose callback gets the client's session (`{ sessionId, config }`). */
const SMITHERY_SERVERS = new Set(['createStatefulServer', 'createStatelessServer']);

/** Methods a client's base class calls for the headers of every request it sends. */
const HEADER_HOOKS = /^(authHeaders|defaultHeaders|getAuthHeaders|getDefaultHeaders|buildHeaders|getHeaders|headers)$/;

/** Setters of a client's credential (`setToken`, `setApiKey`, `setAccessToken`, `setCredentials`). */
const STRICT_SETTER = /^set(Api|Access|Auth|Bearer|Session|User|Personal|Refresh)?(Token|Key|ApiKey|Credentials?|Auth|Password)$/;
/** An SDK's auth store written (`pb.authStore.save(tok)`, `client.credentials.set(…)`). */
const AUTH_STORES = /^(authStore|auth|credentials|tokenStore|session)$/;
const AUTH_STORE_WRITES = new Set(['save', 'set', 'update', 'load']);

/** Names of what an MCP server's handler is handed, whose `_meta` is the client's (`extra._meta`, `request.params._meta`). */
const INBOUND_META_HOLDERS = new Set(['extra', 'context', 'ctx', 'params', 'request', 'req', 'rpc', 'message', 'msg', 'call', 'toolCall', 'handlerExtra', 'requestExtra']);

/** Path getters (`get(obj, 'a.b')`) and the packages they come from. */
const PATH_GETTERS = new Set(['get', 'getProperty', 'getPath']);
const PATH_GETTER_PACKAGES = new Set(['lodash', 'lodash-es', 'lodash.get', 'lodash/get', 'lodash/fp', 'es-toolkit', 'es-toolkit/compat', 'dot-prop', 'object-path', 'just-safe-get', 'radash', 'remeda']);

/**
 * A package's set-up call, given its credentials by option name (`fal.config({ credentials })`, `mailchimp.setConfig({
 * apiKey })`, the Graph SDK's `Client.initWithMiddleware({ authProvider })`).
 */
const PACKAGE_SETUP = /^(config|configure|setConfig|init|initWith\w+|initialize|setup)$/;

/** What a credential setter is named for (`…ApiKey`, `…Token`, `…Credentials`). */
const CREDENTIAL_WORDS = '(api_?key|token|auth|credentials?|bearer|password|secret)';
/** Package functions named for the credential they take: `sgMail.setApiKey(key)`, `client.setToken(tok)`, `login(…)`. */
const CREDENTIAL_SETTER = new RegExp(`^(set|use|with)?\\w*${CREDENTIAL_WORDS}$|^(login|authenticate|connect)$`, 'i');
/** …of them, the setters proper (`set…`, `use…`, `with…`): they take the credential positionally. */
const SETS_CREDENTIAL = new RegExp(`^(set|use|with)\\w*${CREDENTIAL_WORDS}$`, 'i');
/** …and a builder's step that takes one (`withExistingTokenFlow(header)`, `useBearerAuth(tok)`), of a package's instance. */
const SETS_CREDENTIAL_FLOW = new RegExp(`^(set|use|with)\\w*?${CREDENTIAL_WORDS}(flow|auth|header|provider|middleware)?$`, 'i');

/** Schema validators that hand back the object they were given (`.data` of `safeParse`). */
const SCHEMA_PARSERS = new Set(['safeParse', 'parseAsync', 'safeParseAsync']);

const ARRAY_MAPPERS = new Set(['map', 'flatMap', 'reduce']);
/** Calls that put an element into a Map, Set or array, or take one out (`get`). */
const COLLECTION_CALLS = new Set(['set', 'get', 'push', 'add', 'unshift']);
/** A type annotation naming the Fetch API. */
const FETCH_TYPE = /^typeof\s+(?:globalThis\.)?fetch$/;
/** The runtime's own classes (`new Error(…)`, `new Map()`): never a local bound to another module's export. */
const GLOBAL_CLASSES = /^(?:\w*Error|Map|Set|WeakMap|WeakSet|WeakRef|Date|URL|URLSearchParams|Promise|Response|Request|Headers|RegExp|Array|Object|\w*Array|Buffer|TextEncoder|TextDecoder|AbortController|FormData|Blob|File|Proxy|Symbol|Number|String|Boolean|Function|BigInt|Intl|ReadableStream|WritableStream|TransformStream|\w*Event|EventTarget|EventEmitter|WebSocket|Worker|MessageChannel|Math|JSON|Reflect)$/;
/** Names of a function handed in to make HTTP requests: `fetchImpl`, `customFetch`, `fetcher`, `httpRequest`. */
const INJECTED_FETCH = /^_?(?:(?:custom|base|raw|inner|wrapped|native|traced|patched|http|api)?[Ff]etch(?:Fn|Impl|Func|Function|er)|(?:custom|base|raw|inner|wrapped|native|traced|patched)Fetch|http(?:Request|Fetch|Call)(?:Fn|Impl|Func)?)$/;
/** Methods of a tool context that hand back the request's bearer token. */
const TOKEN_GETTERS = new Set(['getToken', 'getAccessToken', 'getBearerToken', 'getAuthToken']);
/** npm packages of MCP frameworks and SDKs. */
const MCP_PACKAGE = /(^|[/@-])mcp([/-]|$)|modelcontextprotocol/;

/** Requests of an MCP client (the SDK's `Client`), which send their `params._meta` to the server. */
const MCP_CLIENT_REQUESTS = new Set(['callTool', 'getPrompt', 'readResource', 'listTools', 'listPrompts', 'listResources', 'complete']);

/** `node:child_process` functions that start a program (their options' `env` is its environment). */
const CHILD_PROCESS_CALLS = new Set(['spawn', 'spawnSync', 'exec', 'execSync', 'execFile', 'execFileSync', 'fork']);
/** Array methods whose callback's first parameter is an element. */
const ELEMENT_CALLBACKS = new Set(['forEach', 'map', 'flatMap', 'filter', 'find', 'findLast', 'some', 'every']);
/** Calls that pick one element of a collection. */
const ELEMENT_PICKERS = new Set(['find', 'findLast', 'at', 'get']);
const ARRAY_PICKERS = new Set(['find', 'filter', 'at', 'slice', 'flat', 'findLast', 'toSorted', 'toReversed']);

/** Objects whose `fetch(request, …)` is an in-process handler (`app.fetch`, `mcpHandler.fetch`, `pipeline.fetch`). */
const IN_PROCESS_HANDLER = /(app|handler|router|server|pipeline|hono|worker|transport|mcp)$/i;

/** Properties of any value, not sections of a config object. */
const NOT_A_SECTION = new Set(['length', 'constructor', 'prototype', 'size', 'name', 'url', 'baseUrl', 'baseURL', 'host', 'endpoint', 'timeout']);
const QUERY_OPTIONS = new Set(['params', 'searchParams', 'query']);
/** The header SDK and API-client generators put on their output (Speakeasy, Stainless, OpenAPI Generator, Fern, Kiota). */
const GENERATED = /\bCode generated by\b|\bDO NOT EDIT\b|@generated\b|\bauto-?generated by\b/i;

const BODY_OPTIONS = new Set(['body', 'data', 'json', 'form']);
const AUTH_OPTIONS = new Set(['auth', 'username', 'password']);
/** HTTP packages whose `post(url, options)` takes options, not a body, second. */
const OPTIONS_SECOND = new Set(['got', 'ky', 'ofetch', 'node-fetch', 'undici']);
/** Client methods whose second argument is the body (axios). */
const DATA_SECOND = new Set(['post', 'put', 'patch']);

const AUTH_WRAPPER_PACKAGES = new Set(['mcp-handler', '@vercel/mcp-adapter']);

/** Packages whose default export is a Fetch API implementation. */
const FETCH_PACKAGES = new Set(['node-fetch', 'cross-fetch', 'isomorphic-fetch', 'isomorphic-unfetch', 'unfetch', 'make-fetch-happen']);

const HTTP_PACKAGES = new Set(['axios', 'got', 'ky', 'undici', 'node-fetch', 'cross-fetch', 'isomorphic-fetch', 'isomorphic-unfetch', 'unfetch', 'make-fetch-happen', 'superagent', 'http', 'https', 'needle', 'ofetch']);

/** Fields of inbound request objects that are not per-request storage set by middleware. */
const REQUEST_FIELDS = new Set([
  'headers', 'cookies', 'signedCookies', 'body', 'query', 'params', 'url', 'originalUrl', 'path', 'method', 'ip', 'ips',
  'hostname', 'protocol', 'raw', 'auth', 'authInfo', 'socket', 'header', 'get', 'json', 'text', 'formData', 'signal',
  'routeOptions', 'server', 'log', 'id', 'baseUrl', 'route', 'app', 'res', 'nextUrl', 'geo', 'valid', 'param', 'session',
]);

/**
 * A client bound to a name (`const c = createClient(…)`, also awaited) whose every use in the function is an identity
 * question to Supabase Auth (`c.auth.getUser()`, `c.auth.getClaims(t)`, `c.auth.getSession()`); unused counts too.
 */
function onlyAsksWhoCalls(call: Node): boolean {
  let n: Node = call;
  while (n.parent && (n.parent.type === 'await_expression' || n.parent.type === 'parenthesized_expression')) n = n.parent;
  const decl = n.parent;
  const name = decl?.type === 'variable_declarator' && decl.childForFieldName('value')?.id === n.id ? decl.childForFieldName('name') : null;
  if (name?.type !== 'identifier') return false;
  let scope: Node | null = decl!.parent;
  while (scope && !FUNCTIONS.has(scope.type) && scope.type !== 'program') scope = scope.parent;
  if (!scope) return false;
  // (Every use, a shorthand property `{ supabase }` handing it on included.)
  return scope.descendantsOfType(['identifier', 'shorthand_property_identifier']).every((id) => {
    if (!id || id.text !== name.text || id.id === name.id) return true;
    const auth = id.parent;
    const method = auth?.parent;
    return auth?.type === 'member_expression' && auth.childForFieldName('object')?.id === id.id && auth.childForFieldName('property')?.text === 'auth' &&
      method?.type === 'member_expression' && ['getUser', 'getClaims', 'getSession'].includes(method.childForFieldName('property')?.text ?? '') && method.parent?.type === 'call_expression';
  });
}

/**
 * The OS keychain and local stores (keytar, a settings file, an in-process cache): given a credential, they keep it on
 * this machine; they send it nowhere (`keytar.setPassword(service, account, token)`).
 */
const KEEPER_PACKAGES = ['keytar', '@napi-rs/keyring', 'keyring', 'cross-keychain', 'conf', 'configstore', 'electron-store', 'node-persist', 'lru-cache', 'node-cache', 'keyv'];

/** …and a receiver named for one (`keytar`, `keychain`, `this.secretStore`, `vault`), however it was loaded. */
const KEEPER_NAME = /^(keytar|keychain|keyring|vault|storage|store|(secret|token|credential)s?_?(store|storage))$/i;

/** Server frameworks, validation, JWT and HTTP libraries: not API clients that send a credential handed to them. */
const NOT_CLIENT_PACKAGES = new Set([
  'express', 'hono', 'fastify', 'koa', 'next', 'zod', 'jsonwebtoken', 'jose', 'jwks-rsa', 'axios', 'got', 'ky', 'undici',
  'node-fetch', 'cross-fetch', 'http', 'https', 'crypto', 'url', 'events', 'stream', 'buffer', 'util', 'fs', 'path',
  'async_hooks', 'fastmcp', 'mcp-handler', 'agents', 'openid-client', 'oauth4webapi', '@cloudflare/workers-oauth-provider',
  // MCP server frameworks (the SDK's own packages are excluded by scope).
  '@vercel/mcp-adapter', '@hono/mcp', 'mcp-framework', 'xmcp', 'tmcp', 'mcp-lite', '@rekog/mcp-nest',
  // Authorization servers and token verifiers: they check the request's credential here (`new OAuthRequest(req)` for
  // `oauth.authenticate`), they do not send it.
  '@node-oauth/oauth2-server', 'oauth2-server', 'express-oauth-server', 'oidc-provider', 'passport', 'passport-http-bearer',
  'passport-jwt', 'express-jwt', 'express-oauth2-jwt-bearer', 'jwt-decode', '@auth/core', 'next-auth', 'better-auth',
  '@clerk/backend', '@clerk/express', '@clerk/nextjs', 'firebase-admin', '@supabase/auth-js', 'aws-jwt-verify',
  ...KEEPER_PACKAGES,
]);

const OPTION_BAG_WORDS = new Set(['options', 'opts', 'config', 'configuration', 'settings', 'params', 'props', 'security', 'context']);
/** Names of nested configuration objects: `clientOptions`, `apiConfig`, `connection_settings`, a Worker's `props`. */
function isOptionsBag(name: string): boolean {
  const w = words(name);
  return w.length > 0 && OPTION_BAG_WORDS.has(w[w.length - 1]!);
}

/** Whether `name` is bound in a function frame between `frame` and the module (a parameter, a local, a closure variable). */
/** Object taints placed under `key` of an enclosing object literal remember the key (see `Taint.holders`). */
function nestUnder(taints: Taints, key: string | undefined): Taints {
  if (!key || key === 'headers') return taints;
  return taints.map((t) => t.kind === 'headers' ? heldUnder(t, key) : t.kind === 'cred' ? { ...t, keyed: true, at: key } : t);
}

/** The frame whose variable `name` is (the nearest that binds it), or `frame` itself. */
function holder(frame: Frame, name: string): Frame {
  for (let f: Frame | undefined = frame; f; f = f.parent) if (f.vars.has(name)) return f;
  return frame;
}

function lookupOwnedBelowModule(frame: Frame, name: string, module: Frame | undefined): boolean {
  // A class body's frame is the module's with a class name (same variables): its methods' parent is the module.
  for (let f: Frame | undefined = frame; f && f !== module && f.vars !== module?.vars; f = f.parent) if (f.vars.has(name) || f.locals.has(name)) return true;
  return false;
}

/** `package:function` → the position of the access token it presents to a resource server. */
const OAUTH_RESOURCE_CALLS = new Map([
  ['openid-client:fetchUserInfo', 1],
  ['openid-client:fetchProtectedResource', 1],
  ['oauth4webapi:userInfoRequest', 2],
  ['oauth4webapi:protectedResourceRequest', 0],
]);

const OAUTH_RESOURCE_FUNCTIONS = new Set([...OAUTH_RESOURCE_CALLS.keys()].map((k) => k.split(':')[1]!));

/** The text of the object a member or subscript expression reads from (`req` in `req.query`, `req.query['x']`). */
function memberObjectText(node: Node): string {
  const obj = node.type === 'member_expression' || node.type === 'subscript_expression' ? node.childForFieldName('object') : undefined;
  return obj?.text ?? '';
}

/** Properties of object-literal arguments (`{ apiKey: tok }`), for credential-taking constructors. */
function namedArgs(argNodes: Node[], evaluate: (n: Node) => Taints): Map<string, { node: Node; taints: Taints }> {
  const out = new Map<string, { node: Node; taints: Taints }>();
  for (const a of argNodes) {
    const o = unwrap(a);
    if (o.type !== 'object') continue;
    for (const c of o.namedChildren) {
      if (c?.type === 'pair') {
        const k = c.childForFieldName('key')!;
        out.set(stringValue(k) ?? k.text, { node: c, taints: evaluate(c.childForFieldName('value')!) });
      } else if (c?.type === 'shorthand_property_identifier') out.set(c.text, { node: c, taints: evaluate(c) });
    }
  }
  return out;
}

function isStatementType(type: string): boolean {
  return type.endsWith('_statement') || type.endsWith('_declaration') || type === 'statement_block' || type === 'else_clause' ||
    type === 'catch_clause' || type === 'finally_clause' || type === 'switch_body' || type === 'switch_case' || type === 'switch_default';
}

/** The object literal a node is, or that the identifier it is was declared with in the enclosing function. */
function objectLiteralOf(node: Node): Node | undefined {
  const n = unwrap(node);
  if (n.type === 'object') return n;
  if (n.type !== 'identifier') return undefined;
  let scope: Node | null = n.parent;
  while (scope && !FUNCTIONS.has(scope.type) && scope.type !== 'program') scope = scope.parent;
  const decl = scope?.descendantsOfType('variable_declarator').find((d) => d?.childForFieldName('name')?.text === n.text && d.startIndex < n.startIndex);
  const value = decl?.childForFieldName('value');
  return value && unwrap(value).type === 'object' ? unwrap(value) : undefined;
}

function argumentsOf(call: Node): Node[] {
  const args = call.childForFieldName('arguments');
  return (args?.type === 'arguments' ? args.namedChildren : []).filter((a): a is Node => !!a && a.type !== 'comment');
}

/** The value name of a `[key, value]` destructuring pattern. */
function pairValue(pattern: Node): string | undefined {
  if (pattern.type !== 'array_pattern') return undefined;
  let position = 0;
  for (const c of pattern.children) {
    if (c?.type === ',') position++;
    else if (position === 1 && c?.type === 'identifier') return c.text;
  }
  return undefined;
}

function unwrap(node: Node): Node {
  let n = node;
  for (;;) {
    // (`<T>value`: the type comes first.)
    if (n.type === 'type_assertion' && n.namedChildren.at(-1)) n = n.namedChildren.at(-1)!;
    else if (WRAPPERS.has(n.type) && n.namedChildren[0]) n = n.namedChildren[0];
    // `(0, server_1.getToken)(req)`: how tsc and Babel call an imported function.
    else if (n.type === 'sequence_expression' && indirectCallee(n)) n = indirectCallee(n)!;
    else return n;
  }
}

/** The package a module specifier is in: `@scope/name` or `name` (`@supabase/ssr/dist` → `@supabase/ssr`). */
function packageRoot(module: string): string {
  return module.startsWith('@') ? module.split('/').slice(0, 2).join('/') : module.split('/')[0]!;
}

/** An import of a FastMCP package (punkpeye's `fastmcp`, forks such as `@missionsquad/fastmcp`). */
const FASTMCP_IMPORT = /\bfrom\s+['"](?:@[\w.-]+\/)?fastmcp['"]/;

/** `slice(0, 8)`, `substring(0, 8)`, `slice(-4)`: a short prefix or suffix of a string (`slice(7)` drops a `Bearer ` prefix). */
function displayFragment(name: string, args: Node[]): boolean {
  if (!['slice', 'substring', 'substr'].includes(name)) return false;
  const [a, b] = args.map((x) => Number(unwrap(x).text));
  return (args.length === 2 && a === 0 && Number.isInteger(b) && b! > 0 && b! <= 16) || (args.length === 1 && name === 'slice' && Number.isInteger(a) && a! < 0 && a! >= -16);
}

/**
 * The handler of this server's own OAuth redirect: a route whose path names the callback (`app.get('/oauth/callback',
 * …)`), or the handler of a loopback server started by a function that builds the authorization URL
 * (`client.generateAuthUrl(…)` then `http.createServer((req) => …)`). What arrives there (a code, or the tokens a relay
 * hands back) is the result of the server's own login, not a credential its MCP caller sent.
 */
function isOAuthRedirectHandler(fn: Node): boolean {
  if (fn.parent?.type !== 'arguments') return false;
  const call = fn.parent.parent;
  const callee = call?.type === 'call_expression' ? unwrap(call.childForFieldName('function')!) : undefined;
  if (!callee) return false;
  const method = callee.type === 'member_expression' ? callee.childForFieldName('property')?.text : callee.text;
  const first = fn.parent.namedChildren.find((a) => a && a.type !== 'comment');
  if (method && ROUTE_METHODS.has(method) && first && first.id !== fn.id && /callback/i.test(stringValue(first) ?? '')) return true;
  if (!method || !/^createServer$/.test(method)) return false;
  for (let n: Node | null = call!.parent; n; n = n.parent) {
    if (FUNCTIONS.has(n.type) && AUTH_URL_CALL.test(n.text)) return true;
  }
  return false;
}
/** Building the URL that sends a person to an authorization server's login (googleapis, openid-client, oauth4webapi, arctic). */
const AUTH_URL_CALL = /\b(generateAuthUrl|authorizationUrl|buildAuthorizationUrl|createAuthorizationURL|getAuthorizationUrl|getAuthorizeUrl)\s*\(/;

/**
 * A copy of the instance a method runs on (`Object.create(Object.getPrototypeOf(this))`, `Object.assign(…, this)`,
 * `{ ...this }`): an object of the method's class, whose fields its methods read (`withUser(opts)` returning a copy
 * holding the user's token).
 */
function cloneOfThis(value: Node, frame: Frame): string | undefined {
  if (!frame.className) return undefined;
  const v = unwrap(value);
  if (v.type === 'call_expression' && /^Object\.(create|assign)$/.test(v.childForFieldName('function')?.text ?? '') && /\bthis\b/.test(v.childForFieldName('arguments')?.text ?? '')) return frame.className;
  if (v.type === 'object' && v.namedChildren.some((c) => c?.type === 'spread_element' && c.namedChildren[0]?.type === 'this')) return frame.className;
  return undefined;
}

/** Type names of settings and credentials objects. */
const SETTINGS_TYPE = /(Config|Configuration|Settings|Credentials|Creds|Secrets|Keys|Tokens)$/;

function typeText(typeAnnotation: Node | null): string | undefined {
  if (!typeAnnotation) return undefined;
  const t = typeAnnotation.namedChildren[0];
  if (!t) return undefined;
  // `express.Request`, `Request<Params>` → `Request`
  const base = t.type === 'generic_type' ? t.namedChildren[0] : t;
  return base?.text.split('.').pop();
}

/** `process.env.NAME` / `process.env['NAME']` → NAME. */
function envName(node: Node): string | undefined {
  const path = memberPath(node);
  return path?.root === 'process' && path.names.length === 2 && path.names[0] === 'env' && path.names[1] !== '*' ? path.names[1] : undefined;
}

/** `a.b['c'].d` → { root: 'a', names: ['b', 'c', 'd'] }; `this.x` → root 'this'. */
function memberPath(node: Node): { root: string; names: string[] } | undefined {
  const names: string[] = [];
  let n: Node | null = unwrap(node);
  while (n && (n.type === 'member_expression' || n.type === 'subscript_expression')) {
    if (n.type === 'member_expression') names.unshift(n.childForFieldName('property')?.text ?? '');
    else names.unshift(stringValue(n.childForFieldName('index')) ?? '*');
    n = n.childForFieldName('object');
    if (n) n = unwrap(n);
  }
  if (!n) return undefined;
  if (n.type === 'identifier') return { root: n.text, names };
  if (n.type === 'this') return { root: 'this', names };
  return undefined;
}

/** The callee of a call, `f` also in `await (0, f)(x)` (see `indirectCallee`). */
function calleeOf(call: Node): Node | null {
  const fn = call.childForFieldName(call.type === 'new_expression' ? 'constructor' : 'function');
  return (fn?.type === 'call_expression' && indirectCallee(fn)) || fn;
}

function calleeName(call: Node): string | undefined {
  const fn = calleeOf(call);
  if (!fn) return undefined;
  const f = unwrap(fn);
  if (f.type === 'identifier') return f.text;
  if (f.type === 'member_expression') return f.childForFieldName('property')?.text;
  return undefined;
}

function calleeText(call: Node): string {
  const fn = call.childForFieldName(call.type === 'new_expression' ? 'constructor' : 'function');
  const t = (call.type === 'new_expression' ? 'new ' : '') + (fn?.text.replace(/\s+/g, '') ?? '');
  return t.length > 40 ? '…' + t.slice(-39) : t;
}

/**
 * A function an HTTP client calls with the request it is about to send: an axios request interceptor
 * (`api.interceptors.request.use((config) => …)`), a ky/got hook (`hooks: { beforeRequest: [(request) => …] }`,
 * `hooks.beforeRequest.push(…)`), a fetch wrapper's `onRequest`.
 */
function isRequestHook(fn: Node): boolean {
  let n = fn.parent;
  if (n?.type === 'arguments') {
    const callee = n.parent?.childForFieldName('function');
    if (n.namedChildren[0]?.id !== fn.id) return false;
    return !!callee && /(^|\.)interceptors\.request\.use$|(^|\.)(beforeRequest|onRequest)\.push$/.test(callee.text);
  }
  if (n?.type === 'array') n = n.parent;
  if (n?.type === 'pair') return ['beforeRequest', 'onRequest'].includes(stringValue(n.childForFieldName('key')) ?? n.childForFieldName('key')?.text ?? '');
  // `{ async onRequest({ request }) { … } }` (openapi-fetch middleware): not a server's hook (Fastify's
  // `onRequest(request, reply)`), which is handed the reply too.
  if (fn.type !== 'method_definition' || !['beforeRequest', 'onRequest'].includes(fn.childForFieldName('name')?.text ?? '') || fn.parent?.type !== 'object') return false;
  const second = fn.childForFieldName('parameters')?.namedChildren.filter((p) => p && p.type !== 'comment')[1];
  return !/^(reply|res|response|h)$/.test(second?.childForFieldName('pattern')?.text ?? second?.text ?? '');
}

/**
 * A `request` parameter whose own URL the function fetches (`fetch(request.url, …)`, `new Request(request.url, init)`)
 * describes a request to send, as an HTTP client's transport gets it (bundled into a package's build): it is not the
 * inbound request.
 */
function describesOutgoing(name: string, param: Node): boolean {
  let fn: Node | null = param.parent;
  while (fn && !FUNCTIONS.has(fn.type)) fn = fn.parent;
  const body = fn?.childForFieldName('body')?.text;
  return !!body && new RegExp(`\\b(?:fetch|new\\s+Request)\\(\\s*${reQuote(name)}\\.url\\b`).test(body);
}

/** A member expression read as an object: the object of another member (`config.portal.apiKey`) or destructured. */
function readAsObject(node: Node): boolean {
  let n = node;
  while (n.parent && (WRAPPERS.has(n.parent.type) || n.parent.type === 'optional_chain')) n = n.parent;
  const p = n.parent;
  if (!p) return false;
  if ((p.type === 'member_expression' || p.type === 'subscript_expression') && p.childForFieldName('object')?.id === n.id) return true;
  return p.type === 'variable_declarator' && p.childForFieldName('value')?.id === n.id && p.childForFieldName('name')?.type === 'object_pattern';
}

/** The key of an object literal's or object pattern's member (`a`, `'a': …`, `a = 1`, `a() {}`), if it has a plain one. */
function propertyKey(member: Node | null): string | undefined {
  if (!member) return undefined;
  if (member.type === 'shorthand_property_identifier' || member.type === 'shorthand_property_identifier_pattern') return member.text;
  if (member.type === 'object_assignment_pattern') return member.childForFieldName('left')?.text;
  const key = member.type === 'pair' || member.type === 'pair_pattern' || member.type === 'method_definition' ? member.childForFieldName(member.type === 'method_definition' ? 'name' : 'key') : null;
  return key ? (stringValue(key) ?? key.text) : undefined;
}

/**
 * Whether a statement runs whenever its function does, as far as the headers copy is concerned: not under an `if`, a
 * `switch` or a `try`, nor in a loop other than one over a deny list (`for (const h of HOP) delete headers[h]`).
 */
function unconditional(node: Node): boolean {
  for (let n: Node | null = node.parent; n && !FUNCTIONS.has(n.type); n = n.parent) {
    if (['if_statement', 'switch_statement', 'try_statement', 'ternary_expression', 'while_statement', 'do_statement', 'for_statement'].includes(n.type)) return false;
    if (n.type === 'binary_expression' && /^(&&|\|\||\?\?)$/.test(n.childForFieldName('operator')?.text ?? '')) return false;
  }
  return true;
}

/** The node is the function a call calls (`a.b` in `a.b()`). */
function isCallee(node: Node): boolean {
  return node.parent?.type === 'call_expression' && node.parent.childForFieldName('function')?.id === node.id;
}
