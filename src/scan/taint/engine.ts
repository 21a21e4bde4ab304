// The walker-independent part of the passthrough engine: the passes over a file until function summaries and attribute
// taints settle, sink reporting (one finding per sink, with the path that led there), summary application at call
// sites (same file or imported), constructor-to-field-to-sink links, shared storage, and publishing what this file
// exports to the `Program` for the files that import it.
import type { Finding, PathStep } from '../finding.ts';
import { snippetOf, type FileContext } from '../context.ts';
import type { Imports } from '../imports.ts';
import type { Node } from '../parser.ts';
import { signature, type Program, type Resolved } from '../program.ts';
import {
  CHECKS_CREDENTIAL, HTTP_METHOD_NAMES, NONE, applyReturns, assigned, mergeSummaries, carriesCredential, current, emptySummary, extend, isCredentialName, isLocal, lookup, nestedKey, only, retag, short, source, stepAt, typeOf, union,
  type Frame, type Kind, type SinkLoc, type SinkSite, type Summary, type Taint, type Taints,
} from './core.ts';

export const PASSTHROUGH_RULE = 'authorization-passthrough';
/** At most this many passes over a file: each lets summaries reach callers defined before them, one level further. */
const PASSES = 6;

export const PASSTHROUGH_FIX =
  "Don't forward the caller's token. Get a token for the downstream API yourself: OAuth client credentials, " +
  'an on-behalf-of / RFC 8693 token exchange, or the server\'s own secret.';

export abstract class Engine {
  readonly ctx: FileContext;
  readonly imports: Imports;
  readonly program: Program;
  /** Function summaries keyed by name (`f`, or `Class.m` for methods). */
  readonly summaries = new Map<string, Summary>();
  /** Taints of `self.x` / `this.x`, keyed `Class.x`, accumulated over all methods. */
  readonly attrs = new Map<string, Taints>();
  /** `Class.x` → constructor-parameter placeholders stored in that field. */
  readonly ctorAttrs = new Map<string, Taints>();
  /** `Class.x` → sinks a method of the class sends the field to. */
  readonly fieldSinks = new Map<string, SinkSite[]>();
  /**
   * Classes of this file with at least one summarised method (`Class.m`), which a call can construct. Constructor
   * fields are only ever recorded inside a summarised constructor, so they need no separate check.
   */
  readonly classesWithMembers = new Set<string>();
  /** Class → the name of the class it extends (for methods a base class calls on `this` that a subclass defines). */
  readonly bases = new Map<string, string>();
  /** Class → the interfaces it implements (TypeScript `implements`): a call on the interface may reach it. */
  readonly implementations = new Map<string, string[]>();
  /** `file#name` of another module's function → this file's function assigned over it (`api.get_token = patched`). */
  readonly patches = new Map<string, string>();
  /** Names bound to HTTP client objects (`client = httpx.Client()`), whose `.headers` are sent. */
  readonly clients = new Set<string>();
  /** What this analysis read from the program, with the version it saw: re-analyse when one moves on. */
  readonly deps = new Map<string, number>();
  readonly #findings = new Map<string, Finding>();
  protected pass = 0;
  /** The summary of the function whose parameters are being bound (placeholders remember it as their owner). */
  protected currentSummary: Summary | undefined;

  constructor(ctx: FileContext, imports: Imports, program: Program) {
    this.ctx = ctx;
    this.imports = imports;
    this.program = program;
  }

  protected abstract walkModule(root: Node): void;

  /** Module-level string constants (name → value), for files that import them. */
  protected moduleConstants(): ReadonlyMap<string, string> {
    return new Map();
  }

  /** The value of a string constant another module of the scan defines and this one imports. */
  importedConstant(local: string): string | undefined {
    const target = this.resolve(local);
    if (target?.kind !== 'symbol') return undefined;
    const key = `${target.file}#${target.name}`;
    this.#dep(`const:${key}`);
    return this.program.constants.get(key);
  }

  /** Names bound at module level to instances of known classes (name → class key). */
  protected moduleInstances(): ReadonlyMap<string, string> {
    return new Map();
  }

  /** Names bound at module level to a dependency marker (`ApiKeyDep = Depends(get_api_key)`): name → its function. */
  protected moduleDependencies(): ReadonlyMap<string, string> {
    return new Map();
  }

  /** The function a dependency marker of another module of the scan stands for (`from .deps import ApiKeyDep`). */
  importedDependency(local: string): Summary | undefined {
    const target = this.resolve(local);
    if (target?.kind !== 'symbol') return undefined;
    const key = `${target.file}#${target.name}`;
    this.#dep(`depends:${key}`);
    const fn = this.program.dependencies.get(key);
    return fn ? this.importedSummary({ kind: 'symbol', file: fn.slice(0, fn.indexOf('#')), name: fn.slice(fn.indexOf('#') + 1) }) : undefined;
  }

  run(): Finding[] {
    current.file = this.ctx.file;
    const before = current.sources;
    let last = -1;
    for (this.pass = 0; this.pass < PASSES; this.pass++) {
      this.walkModule(this.ctx.tree.rootNode);
      // No inbound source anywhere (nor anything imported that carries one): later passes cannot find one either.
      if (current.sources === before && this.pass >= 1) break;
      // Past the third pass, only while the last one learnt something (a summary, a field or a finding grew).
      const now = this.#progress();
      if (now === last && this.pass >= 2) break;
      last = now;
    }
    this.publish();
    return [...this.#findings.values()];
  }

  /** How much the passes have learnt so far: what summaries return, send and store, fields, findings. */
  #progress(): number {
    let n = this.#findings.size + this.attrs.size;
    for (const s of this.summaries.values()) n += s.returns.length + s.sinks.length + (s.stores?.length ?? 0);
    for (const t of this.attrs.values()) n += t.length;
    return n;
  }

  get file(): string {
    return this.ctx.file;
  }

  // ---- sinks ----

  /** A tainted value reached an outbound request at `node`: report it, or record it in the summary for placeholders. */
  reportSink(frame: Frame, node: Node, taints: Taints, what: string): void {
    const bad = carriesCredential(taints);
    if (!bad.length || frame.exempt) return;
    const loc = locOf(this.ctx, node);
    for (const t of bad) this.#record(frame, t, loc, what);
  }

  /**
   * A parameter handed whole to an HTTP call as its options (`fetch(url, init)` in a `fetchJSON(url, init)` wrapper):
   * callers' options objects whose `headers` hold the credential reach the sink. Plain strings passed there do not.
   */
  reportOptionsParam(frame: Frame, node: Node, taints: Taints, what: string): void {
    if (frame.exempt) return;
    const loc = locOf(this.ctx, node);
    for (const t of taints) {
      if (t.param === undefined || t.origin) continue;
      const summary = t.owner ?? frame.summary;
      if (summary && !summary.sinks.some((s) => s.param === t.param && sameLoc(s.loc, loc))) summary.sinks.push({ param: t.param, loc, what, path: t.path ?? [], kinds: ['options'] });
    }
  }

  #record(frame: Frame, t: Taint, loc: SinkLoc, what: string, via: PathStep[] = []): void {
    const path = extend(t.path, ...via);
    const summary = t.owner ?? frame.summary;
    if (t.param !== undefined && summary) {
      if (!summary.sinks.some((s) => s.param === t.param && sameLoc(s.loc, loc))) summary.sinks.push({ param: t.param, loc, what, path, ...(t.fromRequest ? { kinds: ['cred', 'headers', 'options', 'request'] as Kind[] } : {}) });
    }
    if (t.field !== undefined) {
      const list = this.fieldSinks.get(t.field) ?? [];
      if (!list.some((s) => sameLoc(s.loc, loc))) list.push({ field: t.field, loc, what, path });
      this.fieldSinks.set(t.field, list);
    }
    if (t.origin) this.#report(loc, t, what, path);
  }

  #report(loc: SinkLoc, taint: Taint, what: string, path: readonly PathStep[]): void {
    const key = `${loc.file}:${loc.line}:${loc.column}`;
    if (this.#findings.has(key)) return;
    const o = taint.origin!;
    const where = o.file === loc.file ? `line ${o.line}` : `${o.file}:${o.line}`;
    // Picked out of what another file read (`this.params.token` of what a handler stored from `extra.authInfo.token`):
    // name that first read too.
    // (The most specific of those reads: `req.headers.authorization` rather than the `req` it came from.)
    const first = path[0]?.file !== o.file ? path.findLast((s) => s.message.startsWith('source: ') && s.file !== o.file) : undefined;
    const from = first ? `; first read as ${first.message.slice('source: '.length)} at ${first.file === loc.file ? 'line ' : `${first.file}:`}${first.line}` : '';
    const message = `Inbound credential \`${o.text}\` (${where}${from}) is forwarded into ${what}. ` +
      'A token issued to this server must not be replayed to another service (MCP security best practices: token passthrough).';
    const steps = extend(path, { file: loc.file, line: loc.line, column: loc.column, message: `sink: ${what}` });
    this.#findings.set(key, {
      ruleId: PASSTHROUGH_RULE, level: 'error', message, file: loc.file, line: loc.line, column: loc.column,
      endLine: loc.endLine, endColumn: loc.endColumn, snippet: loc.snippet, fix: PASSTHROUGH_FIX, path: steps,
    });
  }

  /** Applies a function summary at a call site: its sinks fire for tainted arguments; returns what it returns. */
  applySummary(frame: Frame, summary: Summary, args: Taints[], call: Node, callee: string): Taints {
    for (const s of summary.stores ?? []) {
      const arg = args[s.param] ?? [];
      // What is stored keeps its own shape: a request, a token object, or a header mapping handed to a setter
      // (`set_request_headers(headers)` → `_ctx.set(headers)`) is read back as one.
      const keep = (k: Kind) => k === 'request' || k === 'tokenobj' || ((k === 'headers' || k === 'options') && s.kind === 'cred');
      const passed = arg.map((t) => nested({ ...t, kind: keep(t.kind) ? t.kind : s.kind, path: extend(t.path, stepAt(call, `passed to \`${callee}\``)) }, s.under));
      this.#storeParams(s.key, passed, s.label);
      this.#storeValues(s.key, passed, call, s.label);
    }
    for (const sink of summary.sinks) {
      if (sink.param === undefined || frame.exempt) continue;
      // An options object whose `headers` hold the credential counts too: the callee reached the sink through it.
      const arg = only(args[sink.param] ?? [], ...(sink.kinds ?? ['cred', 'headers', 'options'] as Kind[]));
      for (const t of arg) this.#record(frame, t, sink.loc, sink.what, [stepAt(call, `passed to \`${callee}\``), ...sink.path]);
    }
    const out = applyReturns(summary, args, call, callee);
    const given = summary.returnsType ? carriesCredential(out).filter((t) => t.origin) : NONE;
    if (given.length) this.writeStore(`type:${summary.returnsType}`, given, call, `a \`${summary.returnsType}\``);
    return out;
  }

  /**
   * The field sinks of a class of this file: its methods', and those of the base classes whose methods it inherits
   * (`BaseClient._get` sending `self._auth_headers` for `class BitpandaClient(BaseClient)`).
   */
  #localFieldSinks(className: string, depth = 0): Map<string, SinkSite[]> | undefined {
    const own = prefixed(this.fieldSinks, className);
    const base = depth > 4 ? undefined : this.baseKey(className);
    if (!base) return own;
    if (base.includes('#')) this.#dep(`class:${base}`);
    const inherited = base.includes('#') ? this.program.fieldSinks.get(base) : this.#localFieldSinks(base, depth + 1);
    if (!inherited?.size) return own;
    const out = new Map(own ?? []);
    for (const [field, list] of inherited) out.set(field, [...(out.get(field) ?? []), ...list]);
    return out;
  }

  /**
   * `super().__init__(…)` in the constructor of `className`: the fields the base's constructor stores its parameters in
   * are this class's too, holding what this constructor passed (its own parameters: its callers' arguments).
   */
  inheritFields(frame: Frame, className: string, args: Taints[]): void {
    const base = this.baseKey(className);
    const fields = base ? this.constructorFields(base) : undefined;
    for (const [field, params] of fields ?? []) {
      for (const p of params) {
        const given = (args[p.param!] ?? []).filter((t) => t.param !== undefined && t.owner === frame.summary);
        if (given.length) this.ctorAttrs.set(`${className}.${field}`, union(this.ctorAttrs.get(`${className}.${field}`) ?? [], given));
      }
    }
  }

  /**
   * `new C(args)` / `C(args)` for a class whose constructor stores parameters in fields that its methods send:
   * each tainted argument is reported at those sinks. `classKey` is `Class` here or `file#Class` elsewhere.
   */
  applyConstructor(frame: Frame, classKey: string, args: Taints[], call: Node, callee: string): void {
    if (frame.exempt) return;
    const remote = classKey.includes('#');
    const fields = this.constructorFields(classKey);
    const sinks = remote ? this.program.fieldSinks.get(classKey) : this.#localFieldSinks(classKey);
    if (!fields || !sinks) return;
    for (const [field, params] of fields) {
      const list = sinks.get(field);
      if (!list) continue;
      for (const p of params) {
        for (const t of only(args[p.param!] ?? [], 'cred', 'headers', 'options')) {
          for (const sink of list) {
            this.#record(frame, t, sink.loc, sink.what, [stepAt(call, `passed to \`${callee}\`, stored in \`${field}\``), ...sink.path]);
          }
        }
      }
    }
  }

  /**
   * The fields a class's constructor stores its parameters in (field → parameter placeholders): this file's `Class`,
   * or another's `file#Class` (recorded as a dependency).
   */
  constructorFields(classKey: string): Map<string, Taints> | undefined {
    if (!classKey.includes('#')) return prefixed(this.ctorAttrs, classKey);
    this.#dep(`class:${classKey}`);
    return this.program.ctorFields.get(classKey);
  }

  /**
   * A function handed to a constructor that stores it in a field (`OAuthMiddleware(inject_headers=set_headers)`),
   * which a method then calls (`self._inject_headers(get_http_headers())`): what the method passes is what the
   * function gets. `fns[i]` is the summary of the function given as parameter `i`, if any.
   */
  applyFieldCallbacks(frame: Frame, classKey: string, fns: (Summary | undefined)[], call: Node, callee: string): void {
    if (!fns.some(Boolean)) return;
    const remote = classKey.includes('#');
    const fields = this.constructorFields(classKey);
    if (!fields) return;
    const key = remote ? classKey : `${this.file}#${classKey}`;
    for (const [field, params] of fields) {
      for (const p of params) {
        const fn = fns[p.param!];
        if (!fn) continue;
        const args = this.fieldCallArgs(`${key}.${field}`, call, `the arguments \`${callee}\` passes to \`${field}\``);
        if (args.some((a) => a.length)) this.applySummary(frame, fn, args, call, `${callee} → ${field}`);
      }
    }
  }

  /** What the methods of a class pass to the function(s) a field holds (`file#Class.field`, see `recordFieldCall`), by position. */
  fieldCallArgs(fieldKey: string, node: Node, label: string): Taints[] {
    return [0, 1, 2, 3].map((i) => this.readStore(`${FIELD_CALL}${fieldKey}#${i}`, node, label));
  }

  /**
   * The summary of a helper nested in a function, for a plain call `name(…)`: the one nested in the function making the
   * call (or one around it); else, when nothing at module level has the name, the only nested one so named (a closure
   * walked later than its surroundings, as a returned record's method is).
   */
  nestedSummary(frame: Frame, name: string): Summary | undefined {
    const key = nestedKey(frame, name, (k) => this.summaries.has(k));
    if (key) return this.summaries.get(key);
    if (this.summaries.has(name)) return undefined;
    const keys = this.#nested.get(name);
    return keys?.length === 1 ? this.summaries.get(keys[0]!) : undefined;
  }

  /** Bare name → the keys of the nested functions so named (`Class.method>name`), kept by `summaryFor`. */
  readonly #nested = new Map<string, string[]>();

  /**
   * A method calls a field that holds a constructor parameter (a function), or a function a map field holds
   * (`this.executors.get(name)(args, ctx)`): remember what it passes, also what its own callers pass it
   * (`forKey(apiKey) { return this.factory({ ...this.base, apiKey }) }`: a setter of that cell).
   */
  recordFieldCall(className: string, field: string, args: Taints[], node: Node): void {
    args.slice(0, 4).forEach((a, i) => {
      const passed = a.filter((t) => !t.field && (t.origin ? t.param === undefined : t.param !== undefined));
      if (passed.length) this.writeStore(`${FIELD_CALL}${this.file}#${className}.${field}#${i}`, passed, node, `argument ${i + 1} of the function held in \`${field}\``);
    });
  }

  /**
   * A credential handed to a constructor or factory of another package (`Octokit({ auth })`, `WebClient(token)`,
   * `SomeApi(api_key=tok)`): the package sends it, so the call is the sink.
   */
  packageCredentialSink(frame: Frame, call: Node, callee: string, positional: Taints[], named: Map<string, { node: Node; taints: Taints }>, clientLike = isClientLike(callee), argNodes: readonly Node[] = []): void {
    const reported = new Set<string>();
    const keyOf = (t: Taint) => `${t.origin?.file}:${t.origin?.line}:${t.origin?.text}:${t.param}`;
    // Next to a bucket, `Key` names an object in it (S3's `GetObjectCommand({ Bucket, Key })`), not a credential.
    const objectStore = [...named.keys()].some((k) => /^bucket(_?name)?$/i.test(k));
    for (const [name, arg] of named) {
      if (objectStore && /^(object_?)?key$/i.test(name)) continue;
      // `**kw`: a dict of keyword arguments that holds a credential.
      const splat = name.startsWith('**');
      // `authProvider: new AccessTokenAuthProvider(token)`: an object the client asks for the token, built from it.
      const provider = AUTH_PROVIDER_OPTION.test(name);
      if (!splat && !provider && (!isCredentialName(name) || CLIENT_SECRET.test(name))) continue;
      const given = union(only(arg.taints, 'cred', 'headers'), provider ? retag(only(arg.taints, 'options'), 'cred') : NONE);
      this.reportSink(frame, arg.node, given, splat ? `the keyword arguments \`${name}\` of \`${callee}\` (code outside the scan that takes a credential)` : `the \`${name}\` credential of \`${callee}\` (code outside the scan that takes a credential)`);
      for (const t of given) reported.add(keyOf(t));
    }
    // A positional credential to a client-like class, or a config object holding one (`new FirecrawlApp(config)`);
    // one already reported under its option's name is the same flow.
    // …or one passed in a variable or field named for a credential (`Driver(tenant, server, self.api_key)`).
    positional.forEach((a, i) => {
      if (objectStore && argNodes[i]?.type === 'object') return; // the `{ Bucket, Key }` literal itself
      if (argNodes[i] && CLIENT_SECRET.test(argNodes[i].text.split(/[.?]+/).pop()!)) return;
      const credentialNamed = argNodes[i] && /^[\w.]+$/.test(argNodes[i].text) && isCredentialName(argNodes[i].text.split('.').pop()!);
      const given = (clientLike || credentialNamed ? only(a, 'cred', 'headers') : only(a, 'headers').filter((t) => t.origin || t.param !== undefined)).filter((t) => !reported.has(keyOf(t)));
      this.reportSink(frame, call, given, `argument ${i + 1} of \`${callee}\` (a client outside the scan)`);
    });
  }

  // ---- the program: other files and shared storage ----

  resolve(local: string): Resolved | undefined {
    return this.program.resolveName(this.file, local);
  }

  /**
   * The summary under `key`, merged with those of the functions some module assigns over it at run time
   * (`auth.get_current_access_token = get_token_with_http_support`): a call may reach either.
   */
  withPatches(key: string, summary: Summary | undefined): Summary | undefined {
    this.#dep(`patches:${key}`);
    const keys = this.program.patches.get(key);
    if (!keys) return summary; // (the usual case, on every call resolved)
    const patched = [...keys].map((k) => {
      this.#dep(k);
      return this.program.summaries.get(k);
    }).filter((s): s is Summary => !!s && s !== summary);
    return patched.length ? mergeSummaries([...(summary ? [summary] : []), ...patched]) : summary;
  }

  /**
   * Records that the function fills its parameter `root` (a dict or object it was given) with `t`: see `Summary.fills`.
   * Only what comes from a source or from another parameter counts.
   */
  recordFill(frame: Frame, root: string, t: Taints): void {
    const param = !isLocal(frame, root) ? frame.summary?.params.indexOf(root) ?? -1 : -1;
    const filled = param >= 0 ? t.filter((x) => x.origin || (x.param !== undefined && x.param !== param)) : NONE;
    if (filled.length) (frame.summary!.fills ??= {})[param] = union(frame.summary!.fills?.[param] ?? NONE, filled);
  }

  /** What a call of `summary` leaves in the arguments the function fills: argument position → taints. */
  filledArguments(summary: Summary, args: Taints[], call: Node, callee: string): [number, Taints][] {
    return Object.entries(summary.fills ?? {}).map(([i, held]) => [+i, applyReturns({ ...emptySummary(), returns: held }, args, call, callee)]);
  }

  /** Summary of an imported function or of `module.f` (recorded as a dependency). */
  importedSummary(target: Resolved | undefined, member?: string): Summary | undefined {
    const key = this.importedKey(target, member);
    if (key === undefined) return undefined;
    this.#dep(key);
    const summary = this.withPatches(key, this.program.summaries.get(key));
    // A credential another file's function hands back is one this file now carries: later passes may need it.
    if (summary?.returns.some((t) => t.origin)) current.sources++;
    return summary;
  }

  /** The `file#name` key of the scanned definition an imported name (or `module.member`) stands for. */
  importedKey(target: Resolved | undefined, member?: string): string | undefined {
    let sym = target;
    if (target?.kind === 'module' && member) sym = this.program.member(target.file, member);
    else if (member) return undefined;
    return sym?.kind === 'symbol' ? `${sym.file}#${sym.name}` : undefined;
  }

  /** The storage cell a module-level or imported name is: `file#name`. */
  storeKey(local: string, attr?: string): string {
    const r = this.resolve(local);
    const base = r?.kind === 'symbol' ? `${r.file}#${r.name}` : r?.kind === 'module' ? `${r.file}#` : r?.kind === 'package' ? `pkg:${r.module}#${r.name ?? ''}` : `${this.file}#${local}`;
    return attr === undefined ? base : r?.kind === 'module' ? `${base}${attr}` : `${base}.${attr}`;
  }

  /** Cells named after framework objects (`state.token`, `req.token`, `props.*`) are shared within one project only. */
  #scoped(key: string): string {
    return key.includes('#') ? key : `${this.program.scopes.get(this.file) ?? ''}::${key}`;
  }

  /**
   * `name = value` in a function: the name holds the value (added to what it held, in a branch), is local, and is
   * remembered as an HTTP client or as an instance of `cls` for the method calls that follow.
   */
  bindLocal(frame: Frame, name: string, held: Taints, client: boolean, cls: string | undefined): void {
    frame.vars.set(name, assigned(frame, name, held));
    frame.locals.add(name);
    if (client) this.clients.add(name);
    if (cls) (frame.types ??= new Map()).set(name, cls);
    else frame.types?.delete(name);
  }

  /** What a name holds in the function, plus what its storage cell holds (a module variable another function set). */
  held(frame: Frame, name: string, node: Node, cell: string | undefined): Taints | undefined {
    const value = lookup(frame, name);
    const stored = cell ? this.readStore(cell, node, `module variable \`${name}\``) : NONE;
    if (value) return stored.length ? union(value, stored) : value;
    return stored.length ? stored : undefined;
  }

  readStore(cell: string, node: Node, label: string, guess?: string): Taints {
    const key = this.#scoped(cell);
    this.#dep(`store:${key}`);
    const stored = this.program.stores.get(key);
    if (stored?.length) {
      if (stored.some((t) => t.origin)) current.sources++;
      return stored.map((t) => ({ ...t, path: extend(t.path, stepAt(node, `read from ${label}`)) }));
    }
    // Nothing seen written (its writer is not in the scan): a per-request cell named like a credential holds one.
    if (guess && !this.program.written.has(key) && isCredentialName(guess)) return [source('cred', node, `source: ${label}, set per request (\`${short(node.text)}\`)`)];
    return [];
  }

  /**
   * Every cell under `prefix` (`fastmcp_state.` for `ctx.get_state(key)` in a helper handed the key): what any of them
   * holds, for the caller's key to pick (the taints carry `keyParam`). Cells written later re-run the reader.
   */
  readStoreFamily(prefix: string, node: Node, label: string): Taints {
    const scoped = this.#scoped(prefix);
    this.#dep(`family:${scoped}`);
    let out: Taints = [];
    for (const [key, stored] of this.program.stores) {
      if (!key.startsWith(scoped)) continue;
      const cellKey = key.slice(scoped.length);
      out = union(out, stored.map((t) => ({ ...t, cellKey, path: extend(t.path, stepAt(node, `read from ${label} \`${cellKey}\``)) })));
    }
    if (out.some((t) => t.origin)) current.sources++;
    return out;
  }

  writeStore(cell: string, taints: Taints, node: Node, label: string): void {
    const key = this.#scoped(cell);
    this.#storeParams(key, taints, label);
    this.#storeValues(key, taints, node, label);
  }

  /** A parameter written to storage makes its function a setter: callers' arguments land there. */
  #storeParams(key: string, taints: Taints, label: string): void {
    for (const p of taints) {
      if (p.param === undefined || !p.owner) continue;
      const list = (p.owner.stores ??= []);
      // Stored inside an object (`config = { baseUrl, auth }`): callers' values are read back under that key.
      const under = p.kind === 'headers' && (p.at || p.holders?.length) ? [...(p.holders ?? []), ...(p.at ? [p.at] : [])] : undefined;
      if (!list.some((s) => s.param === p.param && s.key === key)) list.push({ param: p.param, key, label, kind: p.kind, ...(under ? { under } : {}) });
    }
  }

  #storeValues(key: string, taints: Taints, node: Node, label: string): void {
    // An options bag keeps its headers (`als.run({ headers: req.headers }, …)`, read back as `store.headers[…]`).
    const kept = only(taints, 'cred', 'headers', 'tokenobj', 'request', 'options').filter((t) => t.origin);
    if (!this.program.written.has(key)) {
      this.program.written.add(key);
      this.program.bump(`store:${key}`);
    }
    if (!kept.length) return;
    const before = this.program.stores.get(key) ?? [];
    const next = union(before, kept.map((t) => ({ ...t, path: extend(t.path, stepAt(node, `stored in ${label}`)) })));
    if (next.length !== before.length) {
      this.program.stores.set(key, next);
      this.program.bump(`store:${key}`);
      const family = key.lastIndexOf('.');
      if (family > 0) this.program.bump(`family:${key.slice(0, family + 1)}`);
    }
  }

  #dep(key: string): void {
    if (!this.deps.has(key)) this.deps.set(key, this.program.version(key));
  }

  /**
   * `this.m(…)` / `self.m(…)` inside `className`: its own method, else what its subclasses define (a base class
   * calling an abstract `execute` that each tool class implements, here or in another file).
   */
  methodSummary(className: string, method: string): Summary | undefined {
    const own = this.summaries.get(`${className}.${method}`);
    if (own) return own;
    const found: Summary[] = [];
    for (const [sub, base] of this.bases) if (base === className) { const s = this.summaries.get(`${sub}.${method}`); if (s) found.push(s); }
    for (const [sub, ifaces] of this.implementations) if (ifaces.includes(className)) { const s = this.summaries.get(`${sub}.${method}`); if (s) found.push(s); }
    this.#dep(`subclasses:${className}`);
    for (const sub of this.program.subclasses.get(className) ?? []) {
      const key = `${sub}.${method}`;
      this.#dep(key);
      const s = this.program.summaries.get(key);
      if (s) found.push(s);
    }
    return mergeSummaries(found);
  }

  /** A method a class of this file inherits from a base class of the scan (`class BucketResource(TosResource)`). */
  inheritedMethod(className: string, method: string, depth = 0): Summary | undefined {
    if (depth > 4 || className.includes('#')) return undefined;
    const base = this.baseKey(className);
    if (!base) return undefined;
    return this.classMethod(base, method) ?? (base.includes('#') ? undefined : this.inheritedMethod(base, method, depth + 1));
  }

  /** The base class of a class of this file: `Base` when this file defines it, `file#Base` when another scanned one does. */
  baseKey(className: string): string | undefined {
    const base = this.bases.get(className);
    if (!base || this.classesWithMembers.has(base)) return base;
    const target = this.resolve(base);
    return target?.kind === 'symbol' ? `${target.file}#${target.name}` : undefined;
  }

  /**
   * `recv.m(…)` for a named receiver: an instance of a known class (`api = ApiClient()`), a class (static method,
   * `Manager.set_token(t)`), an imported module, or failing all of those the one class in the scan defining `m`.
   */
  receiverSummary(frame: Frame, recv: string, method: string): Summary | undefined {
    const type = typeOf(frame, recv);
    // A parameter typed with an interface or abstract base (`verifier: TokenVerifier`): what its implementations do.
    // (a record of functions that is also a registry of them, `const api = { listItems }`: its own members too)
    if (type) {
      const found = mergeSummaries(type.split('|').map((c) => this.classMethod(c, method) ?? this.methodSummary(c.slice(c.indexOf('#') + 1), method)).filter((s): s is Summary => !!s));
      if (found || !this.summaries.has(`${recv}.${method}`)) return found;
      return this.summaries.get(`${recv}.${method}`);
    }
    const held = lookup(frame, recv);
    // A parameter (or an element picked from one, `tools.find(…)`) whose method is not a built-in one: the one class or
    // record of the scan defining it (`tool.run(args, ctx)` for a registry handed in as `tools: Tool[]`).
    if (held?.length) return held.every((t) => t.param !== undefined && !t.origin) && !BUILTIN_METHODS.has(method) ? this.uniqueMethod(method) : undefined;
    if (/^[A-Z]/.test(recv) && this.summaries.has(`${recv}.${method}`)) return this.summaries.get(`${recv}.${method}`);
    const target = this.resolve(recv);
    if (target?.kind === 'symbol') {
      // An instance another module made at its top level (`from .tasks import task_manager`).
      const key = `${target.file}#${target.name}`;
      // …or a record of functions another module exports (`export default { issueRequest }`), whose members are its
      // methods even when it is also a registry of those functions.
      const held = this.importedInstance(key)?.split('|') ?? [];
      return mergeSummaries([...held, ...(held.includes(key) ? [] : [key])].map((c) => this.classMethod(c, method)).filter((s): s is Summary => !!s));
    }
    if (target?.kind === 'module') return this.importedSummary(target, method);
    // A module of the repository's own that the scan does not hold (an index re-exporting its folder's files, left out):
    // the one function of the scan so named (`transport_1.initStreamableServer(getNewServer)` of `require("../transport")`).
    if (target && target.name === undefined && (target.kind === 'unseen' || target.module.startsWith('.'))) {
      const named = this.namedFunction(method);
      if (named) return named;
    }
    return target ? undefined : this.uniqueMethod(method);
  }

  /** What a module-level name of another file holds: a class key, or `|`-joined element keys of a registry. */
  importedInstance(key: string): string | undefined {
    this.#dep(`instance:${key}`);
    return this.program.instances.get(key);
  }

  /** The index of the current function's parameter that `key` is (a name it was handed), if it is one. */
  keyParamOf(key: Node | null | undefined, frame: Frame): number | undefined {
    if (key?.type !== 'identifier' || !frame.summary) return undefined;
    const index = frame.summary.params.indexOf(key.text);
    const held = lookup(frame, key.text);
    return index >= 0 && held?.every((t) => t.param === index && t.owner === frame.summary) ? index : undefined;
  }

  /** Records that the function being summarised returns an instance of `classKey` (a factory). */
  returnsInstance(frame: Frame, classKey: string | undefined): void {
    if (!classKey || !frame.summary) return;
    const key = classKey.includes('#') ? classKey : `${this.file}#${classKey}`;
    const list = (frame.summary.returnsClass ??= []);
    if (!list.includes(key)) list.push(key);
  }

  /** A method of a class of this file (`Class`) or of another (`file#Class`). */
  classMethod(classKey: string, method: string): Summary | undefined {
    const hash = classKey.indexOf('#');
    if (hash < 0 || classKey.slice(0, hash) === this.file) {
      const name = `${classKey.slice(hash + 1)}.${method}`;
      return this.withPatches(`${this.file}#${name}`, this.summaries.get(name));
    }
    return this.importedSummary({ kind: 'symbol', file: classKey.slice(0, hash), name: `${classKey.slice(hash + 1)}.${method}` });
  }

  /**
   * `obj.m(…)` where nothing says what `obj` is (a factory's result, a parameter): the one class in the scan that
   * defines a method `m`, if exactly one does and the name is not a generic verb an HTTP client also has.
   */
  uniqueMethod(method: string): Summary | undefined {
    if (HTTP_METHOD_NAMES.has(method) || method.length < 4) return undefined;
    const local = [...this.summaries.keys()].filter((k) => k.endsWith(`.${method}`) && k.split('.').length === 2);
    this.#dep(`methods:${method}`);
    // …in a file of the same language: a Python call never reaches a TypeScript method of the same name.
    const remote = [...(this.program.methods.get(method) ?? [])].filter((c) => !c.startsWith(`${this.file}#`) && this.program.modules.get(c.slice(0, c.indexOf('#')))?.family === this.ctx.family);
    if (!local.length && !remote.length) return undefined;
    const all = [
      ...local.map((k) => this.summaries.get(k)),
      ...remote.map((c) => {
        this.#dep(`${c}.${method}`);
        return this.program.summaries.get(`${c}.${method}`);
      }),
    ].filter((x): x is Summary => !!x);
    if (all.length === 1) return all[0];
    // Several classes define it: a `Protocol` / ABC stub (`...`, `pass`, `raise NotImplementedError`) does nothing, so
    // what remains is what the call does; a few real implementations are merged (the call may reach any of them).
    const real = all.filter((x) => x.returns.length || x.sinks.length || x.stores?.length);
    return real.length <= 3 ? mergeSummaries(real) : undefined;
  }

  /**
   * A helper called through a parameter of its own name (`def register_tools(mcp, api_request): … api_request(…)`,
   * registered as `register_tools(mcp, api_request)`): the one top-level function of the scan so named, in this
   * language. Generic callback names (`fn`, `handler`, `call_next`) are not followed.
   */
  namedFunction(name: string): Summary | undefined {
    if (name.length < 6 || GENERIC_CALLBACKS.has(name)) return undefined;
    this.#dep(`functions:${name}`);
    let files = [...(this.program.functions.get(name) ?? [])].filter((f) => f !== this.file && this.program.modules.get(f)?.family === this.ctx.family);
    // (Several: the one module defining it at its top level, not a record's member of the same name.)
    if (files.length > 1) files = files.filter((f) => this.program.modules.get(f)?.imports.defines.has(name));
    if (files.length !== 1) return undefined;
    const key = `${files[0]}#${name}`;
    this.#dep(key);
    return this.program.summaries.get(key);
  }

  // ---- local state ----

  summaryFor(key: string): Summary {
    let s = this.summaries.get(key);
    if (!s) {
      this.summaries.set(key, (s = emptySummary()));
      const nested = key.indexOf('>');
      if (nested >= 0) this.#nested.set(key.slice(nested + 1), [...(this.#nested.get(key.slice(nested + 1)) ?? []), key]);
      const dot = key.indexOf('.');
      if (dot > 0) this.classesWithMembers.add(key.slice(0, dot));
    }
    return s;
  }

  addAttr(key: string, taints: Taints): void {
    if (!taints.length) return;
    this.attrs.set(key, union(this.attrs.get(key) ?? [], taints));
  }

  /** Module-level records of functions (`const api = { get, list }`), whose members are methods like a class's. */
  protected recordOwners(): ReadonlySet<string> {
    return new Set();
  }

  /** Publishes summaries, constructor fields and field sinks as `file#…` for importers; bumps what changed. */
  publish(): void {
    const put = <T>(map: Map<string, T>, key: string, value: T, dep: string) => {
      const before = map.get(key);
      if (before === undefined || signature(before) !== signature(value)) {
        map.set(key, value);
        this.program.bump(dep);
      }
    };
    for (const [name, summary] of this.summaries) put(this.program.summaries, `${this.file}#${name}`, summary, `${this.file}#${name}`);
    const register = (index: Map<string, Set<string>>, key: string, member: string, dep: string) => {
      const set = index.get(key) ?? new Set();
      if (set.has(member)) return;
      index.set(key, set.add(member));
      this.program.bump(dep);
    };
    for (const [sub, base] of this.bases) register(this.program.subclasses, base, `${this.file}#${sub}`, `subclasses:${base}`);
    for (const [target, fn] of this.patches) register(this.program.patches, target, fn, `patches:${target}`);
    for (const [sub, ifaces] of this.implementations) for (const i of ifaces) register(this.program.subclasses, i, `${this.file}#${sub}`, `subclasses:${i}`);
    for (const key of this.summaries.keys()) if (!key.includes('.')) register(this.program.functions, key, this.file, `functions:${key}`);
    for (const key of this.summaries.keys()) {
      const [cls, method] = key.split('.');
      if (!method || !(/^_*[A-Z]/.test(cls!) || this.recordOwners().has(cls!)) || method === 'constructor' || method === '__init__') continue;
      register(this.program.methods, method, `${this.file}#${cls}`, `methods:${method}`);
    }
    for (const [name, value] of this.moduleConstants()) put(this.program.constants, `${this.file}#${name}`, value, `const:${this.file}#${name}`);
    for (const [name, fn] of this.moduleDependencies()) put(this.program.dependencies, `${this.file}#${name}`, `${this.file}#${fn}`, `depends:${this.file}#${name}`);
    // Module-level instances (`task_manager = TaskManager()`), for files that import them by name.
    for (const [name, cls] of this.moduleInstances()) {
      put(this.program.instances, `${this.file}#${name}`, cls.includes('#') ? cls : `${this.file}#${cls}`, `instance:${this.file}#${name}`);
    }
    const classes = new Set([...this.ctorAttrs.keys(), ...this.fieldSinks.keys()].map((k) => k.split('.')[0]!));
    for (const c of classes) {
      const key = `${this.file}#${c}`;
      put(this.program.ctorFields, key, prefixed(this.ctorAttrs, c) ?? new Map(), `class:${key}`);
      put(this.program.fieldSinks, key, this.#localFieldSinks(c) ?? new Map(), `class:${key}`);
    }
  }
}

/** Methods of JavaScript's and Python's built-in values (strings, arrays, maps, promises, dicts): never a class of the scan's. */
const BUILTIN_METHODS = new Set([
  'replace', 'replaceAll', 'split', 'trim', 'trimStart', 'trimEnd', 'startsWith', 'endsWith', 'includes', 'indexOf', 'slice',
  'substring', 'toLowerCase', 'toUpperCase', 'toString', 'valueOf', 'padStart', 'padEnd', 'match', 'matchAll', 'search',
  'charAt', 'concat', 'filter', 'find', 'findIndex', 'forEach', 'reduce', 'some', 'every', 'push', 'shift', 'unshift', 'join',
  'keys', 'values', 'entries', 'json', 'text', 'then', 'catch', 'finally', 'bind', 'call', 'apply', 'clone', 'append',
  'delete', 'items', 'lower', 'upper', 'strip', 'lstrip', 'rstrip', 'format', 'encode', 'decode', 'update', 'setdefault',
  'copy', 'pop', 'extend', 'insert', 'remove', 'sort', 'reverse', 'count', 'index', 'startswith', 'endswith', 'splitlines',
]);

const GENERIC_CALLBACKS = new Set(['callback', 'handler', 'call_next', 'callNext', 'function', 'factory', 'resolve', 'reject', 'wrapped', 'original']);

/**
 * An OAuth client secret (`new google.auth.OAuth2(clientId, clientSecret, redirectUri)`, `Client(client_secret=…)`):
 * the client presents it to the authorization server in a grant (a code, a refresh, client credentials), which is
 * the sanctioned trade, even when a person typed it in for their own OAuth app.
 */
const CLIENT_SECRET = /client_?secret$/i;

/** Options taking an object the client asks for its credential (the Microsoft Graph SDK's `authProvider`). */
const AUTH_PROVIDER_OPTION = /^(auth|authentication|credentials?|token)_?provider$/i;

/** Storage cells for what a method passes to a function held in a field (see `applyFieldCallbacks`). */
const FIELD_CALL = 'fieldcall#';

/** Entries `Class.x` of a map, keyed `x`. */
function prefixed<T>(map: Map<string, T>, className: string): Map<string, T> | undefined {
  let out: Map<string, T> | undefined;
  for (const [k, v] of map) {
    if (!k.startsWith(`${className}.`)) continue;
    (out ??= new Map()).set(k.slice(className.length + 1), v);
  }
  return out;
}

function sameLoc(a: SinkLoc, b: SinkLoc): boolean {
  return a.file === b.file && a.line === b.line && a.column === b.column;
}

export function locOf(ctx: FileContext, node: Node): SinkLoc {
  return {
    file: ctx.file, line: node.startPosition.row + 1, column: node.startPosition.column + 1,
    endLine: node.endPosition.row + 1, endColumn: node.endPosition.column + 1, snippet: snippetOf(node),
  };
}

export function isClientLike(callee: string): boolean {
  const name = callee.replace(/^new\s+/, '').split('.').pop()!;
  return /(client|api|sdk|service|octokit|github|gitlab|connection|app|engine|pool)$/i.test(name) || /^create\w*client$/i.test(name) ||
    // A credential object of another package, made to be handed to its client (`new Credentials(id, secret)`,
    // `AzureKeyCredential(key)`, `HTTPBasicAuth(user, pw)`, `StaticTokenProvider(tok)`).
    (/^[A-Z]/.test(name) && /(Credentials?|Auth|Token|TokenProvider|ApiKey)$/.test(name) && !CHECKS_CREDENTIAL.test(name)) ||
    // A function of another package named for what it takes: `use_api_key(key)`, `set_token(tok)`, `login(user, pw)`.
    // Not one that only handles the credential here: looks it up, stores, refreshes, parses, logs or mints one from it.
    (/^[a-z_]/.test(name) && /(^|_|[a-z])(api_?key|token|auth|credentials?|login|connect|password|secret)(_|$|[A-Z])/i.test(name) && !CHECKS_CREDENTIAL.test(name) &&
      !/^_*(get|find|lookup|load|store|save|cache|refresh|revoke|ensure|parse|extract|read|is|has|mask|redact|log|compare|strip|normalize|format|resolve|create|generate|sign|mint|issue|make|build|encode|encrypt|decrypt)(_|[A-Z]|$)/.test(name) &&
      !drawsAPage(name));
}

/** A function named for a page or link about the credential (`render_login_page`, `showAuthForm`, `login_url`). */
export function drawsAPage(name: string): boolean {
  return /^_*(render|show|display|redirect)(_|[A-Z]|$)/.test(name) || /(_|[a-z])(page|view|template|html|form|screen|url|uri)$/i.test(name);
}

/** A value stored under keys of an object (`under`, outermost first) is read back through them. */
function nested(t: Taint, under: readonly string[] | undefined): Taint {
  if (!under?.length) return t;
  if (t.kind === 'cred') return { ...t, kind: 'headers', keyed: true, at: under.at(-1), holders: [...(t.holders ?? []), ...under.slice(0, -1)] };
  if (t.kind === 'headers') return { ...t, holders: [...(t.holders ?? []), ...under] };
  return t;
}
