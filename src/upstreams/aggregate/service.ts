// The aggregated endpoint `/mcp`: one MCP server merging every upstream the principal may use.
// Listings fan out to all members in parallel, each bounded by its timeout_ms; a member that is down
// or slow is left out (logged, noted in the audit event) instead of failing the listing. Names are
// namespaced (names.ts), calls are routed back by name or URI, and per-tool policy decides what is
// listed and what may be called, with the same decision on /mcp/<upstream>.
import { GATED_LIST_CHANGED, LIST_CHANGED_OF, LIST_OF, type PinKind, type ToolPins } from '../../governance/pins.ts';
import { wholeList } from '../../governance/list-changed-gate.ts';
import { principalKey, type Principal } from '../../inbound/principal.ts';
import { log, throttledWarning } from '../../log.ts';
import { decide, enforce } from '../../policy/enforce.ts';
import type { ToolPolicy } from '../../policy/tools.ts';
import { INVALID_PARAMS, JsonRpcError, METHOD_NOT_FOUND } from '../../protocol/jsonrpc.ts';
import type { McpService, ServiceContext } from '../../protocol/local-endpoint.ts';
import { MODERN_VERSIONS } from '../../protocol/era.ts';
import type { BearerToken } from '../../inbound/principal.ts';
import type { AggregateConfig } from './config.ts';
import { decodeCursor, encodeCursor, type MemberCursors } from './cursor.ts';
import { MemberUnavailable, type AggregateMember, type MemberContext } from './member.ts';
import type { Quotas, ToolHints } from '../../admission/quota.ts';
import { NameMapper, NameRegistry, type Target } from './names.ts';

export interface AggregateEntry {
  member: AggregateMember;
  policy: ToolPolicy;
}

export interface AggregateOptions {
  entries: AggregateEntry[];
  config: AggregateConfig;
  quotas?: Quotas;
  version?: string;
  /** Serving one upstream under its own names (2026 translation on /mcp/<name>): its identity. */
  serverInfo?: { name: string; version: string; title?: string };
  instructions?: string;
  /** Tool-definition pinning: listings reviewed, calls to withheld changes refused. */
  pins?: ToolPins;
}

/** The pinned kind of each list. */
const PIN_KINDS: Partial<Record<Kind, PinKind>> = { tools: 'tool', prompts: 'prompt', resourceTemplates: 'resource_template' };

type Kind = 'tools' | 'prompts' | 'resources' | 'resourceTemplates';
const LIST_METHODS: Record<string, Kind> = { 'tools/list': 'tools', 'prompts/list': 'prompts', 'resources/list': 'resources', 'resources/templates/list': 'resourceTemplates' };
const CAPABILITY: Record<Kind, string> = { tools: 'tools', prompts: 'prompts', resources: 'resources', resourceTemplates: 'resources' };
const MAX_QUEUED = 100;
/** A member that is down is left out of every listing: one log line per member per minute, not one per listing. */
const leftOut = throttledWarning('aggregate listing: upstream left out');
/** Bound on initialize waiting for upstream capabilities it has never seen. */
const CAPABILITY_WAIT_MS = 5000;

type Item = Record<string, unknown>;
type Notification = { method: string; params: Record<string, unknown> };

let services = 0;

export class AggregateService implements McpService {
  readonly serverInfo: { name: string; version: string; title?: string };
  readonly instructions: string | undefined;
  readonly #entries = new Map<string, AggregateEntry>();
  readonly #mapper: NameMapper;
  readonly #pins?: ToolPins;
  readonly #quotas?: Quotas;
  /** Tool annotations last listed per member (read-only/destructive hints for quota fail-open/closed). */
  readonly #hints = new Map<string, ToolHints>();
  /** Capabilities last seen per member, so initialize does not have to reconnect every time. */
  readonly #knownCapabilities = new Map<string, Record<string, unknown>>();
  readonly #registries = new Map<string, { tools: NameRegistry; prompts: NameRegistry }>();
  /** Deputy sessions per principal, and what to tell them on their next request. */
  readonly #sessionsOf = new Map<string, Set<string>>();
  readonly #principalOf = new Map<string, string>();
  readonly #queued = new Map<string, Notification[]>();
  /** 2026-era listens per principal (subscriptions/listen). */
  readonly #listens = new Map<string, Set<(method: string, params: Record<string, unknown>) => void>>();
  /** Requests in flight per Deputy session: notifications go out on their streams right away. */
  readonly #active = new Map<string, Set<ServiceContext>>();
  readonly #stopApprovals?: () => void;
  /** Sets this service apart from the others over the same upstreams (/mcp and each translation) in the pins' record of what was served. */
  readonly #servedId = `svc${++services}`;

  constructor(opts: AggregateOptions) {
    this.serverInfo = opts.serverInfo ?? { name: 'deputy', title: 'Deputy (all upstreams)', version: opts.version ?? '1.0.0' };
    this.instructions = opts.serverInfo ? opts.instructions : 'Deputy: tools, prompts and resources of several MCP servers. Names are <upstream>__<name>; resource URIs are deputy://<upstream>/<uri>.';
    this.#quotas = opts.quotas;
    this.#pins = opts.pins;
    for (const e of opts.entries) this.#entries.set(e.member.name, e);
    this.#mapper = new NameMapper([...this.#entries.keys()], opts.config.separator, opts.config.unprefixed);
    for (const e of opts.entries) e.member.listen?.((key, method, params, caller) => this.#serverNotification(e.member.name, key, method, params, caller));
    // An approved change is news for everyone connected: their next listing shows it.
    const enforced = [...this.#entries.keys()].some((name) => this.#pins?.mode(name) === 'enforce');
    if (enforced) this.#stopApprovals = this.#pins?.onApproval((upstream, kind) => {
      if (!this.#entries.has(upstream)) return;
      for (const key of new Set([...this.#sessionsOf.keys(), ...this.#listens.keys()])) this.#deliver(key, LIST_CHANGED_OF[kind], {});
    });
  }

  async capabilities(principal: Principal, bearer?: BearerToken): Promise<Record<string, unknown>> {
    const usable = this.#usable(principal);
    const unknown = usable.filter((e) => !this.#knownCapabilities.has(e.member.name));
    if (unknown.length && bearer) {
      const ctx = { principal, bearer, requestId: 'initialize', signal: AbortSignal.timeout(CAPABILITY_WAIT_MS) };
      await Promise.allSettled(unknown.map((e) => this.#capabilitiesOf(e.member, ctx)));
    }
    const caps = usable.map((e) => this.#knownCapabilities.get(e.member.name) ?? {});
    const has = (k: string) => caps.some((c) => c[k] !== undefined);
    const flag = (k: string, f: string) => caps.some((c) => Boolean((c[k] as Record<string, unknown> | undefined)?.[f]));
    // Tools are always offered (members that are down now may come back); list changes are relayed.
    const out: Record<string, unknown> = { tools: { listChanged: true } };
    if (has('prompts')) out.prompts = { listChanged: true };
    if (has('resources')) out.resources = { listChanged: true, ...(flag('resources', 'subscribe') ? { subscribe: true } : {}) };
    if (has('completions')) out.completions = {};
    if (has('logging')) out.logging = {};
    return out;
  }

  /**
   * MCP 2026-07-28 server/discover on /mcp, after capabilities(): the versions every 2026 member this
   * principal can use also speaks (handshake members are translated, so they restrict nothing), and
   * the shortest ttlMs any of them gave.
   */
  discovery(principal: Principal): { supportedVersions: string[]; ttlMs: number } {
    let versions: string[] = [...MODERN_VERSIONS];
    let ttlMs: number | undefined;
    for (const e of this.#usable(principal)) {
      const d = e.member.discovery?.();
      if (!d) continue;
      const shared = versions.filter((v) => d.supportedVersions.includes(v));
      if (shared.length === 0) continue; // speaks none of Deputy's versions: its calls fail on their own
      versions = shared;
      if (d.ttlMs !== undefined) ttlMs = Math.min(ttlMs ?? Infinity, d.ttlMs);
    }
    return { supportedVersions: versions, ttlMs: ttlMs ?? 0 };
  }

  async request(method: string, params: Record<string, unknown>, ctx: ServiceContext): Promise<unknown> {
    const sessionId = ctx.sessionId;
    if (sessionId !== undefined) this.#track(sessionId, ctx);
    try {
      this.#flush(ctx);
      const result = await this.#dispatch(method, params, ctx);
      this.#flush(ctx);
      return result;
    } finally {
      if (sessionId !== undefined) this.#active.get(sessionId)?.delete(ctx);
    }
  }

  subscribe(principal: Principal, listener: (method: string, params: Record<string, unknown>) => void): () => void {
    const key = principalKey(principal);
    let set = this.#listens.get(key);
    if (!set) this.#listens.set(key, (set = new Set()));
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0 && this.#listens.get(key) === set) this.#listens.delete(key);
    };
  }

  sessionClosed(sessionId: string): void {
    const key = this.#principalOf.get(sessionId);
    this.#principalOf.delete(sessionId);
    this.#queued.delete(sessionId);
    this.#active.delete(sessionId);
    if (key === undefined) return;
    const sessions = this.#sessionsOf.get(key);
    sessions?.delete(sessionId);
    if (sessions && sessions.size > 0) return;
    // The principal's last Deputy session ended: close its upstream sessions too.
    this.#sessionsOf.delete(key);
    this.#registries.delete(key);
    for (const e of this.#entries.values()) e.member.release?.(key);
  }

  async close(): Promise<void> {
    this.#stopApprovals?.();
    await Promise.all([...this.#entries.values()].map((e) => e.member.close().catch(() => {})));
  }

  async #dispatch(method: string, params: Record<string, unknown>, ctx: ServiceContext): Promise<unknown> {
    const kind = LIST_METHODS[method];
    if (kind) return this.#list(kind, params.cursor, ctx);
    switch (method) {
      case 'tools/call':
        return this.#callNamed('tools', method, params, ctx);
      case 'prompts/get':
        return this.#callNamed('prompts', method, params, ctx);
      case 'resources/read':
      case 'resources/subscribe':
      case 'resources/unsubscribe':
        return this.#callUri(method, params, ctx);
      case 'completion/complete':
        return this.#complete(params, ctx);
      case 'logging/setLevel':
        return this.#setLevel(params, ctx);
      default:
        throw new JsonRpcError(METHOD_NOT_FOUND, `Method not found: ${method}`);
    }
  }

  /**
   * One merged page: every member with pages left, in parallel, each bounded by its own timeout.
   * `noted`: whether left-out members and hidden tools go into the audit detail.
   */
  async #list(kind: Kind, cursor: unknown, ctx: ServiceContext, noted = true): Promise<Item> {
    const method = Object.keys(LIST_METHODS).find((m) => LIST_METHODS[m] === kind)!;
    const cursors = decodeCursor(kind, cursor, new Set(this.#entries.keys()));
    const entries = this.#usable(ctx.principal).filter((e) => cursors === undefined || cursors[e.member.name] !== undefined);
    const settled = await Promise.allSettled(entries.map(async (e) => {
      const mctx = this.#memberContext(ctx);
      return bounded(e.member, ctx.signal, async (signal) => {
        const caps = await this.#capabilitiesOf(e.member, { ...mctx, signal });
        if (caps[CAPABILITY[kind]] === undefined) return {} as Item;
        const memberCursor = cursors?.[e.member.name];
        return e.member.request(method, memberCursor === undefined ? {} : { cursor: memberCursor }, { ...mctx, signal });
      });
    }));

    // Pinning: each member's definitions against their pins (changes withheld under enforce).
    const pinKind = PIN_KINDS[kind];
    const pinned: string[] = [];
    if (this.#pins && pinKind) {
      await Promise.all(settled.map(async (s, i) => {
        if (s.status !== 'fulfilled' || !Array.isArray(s.value[kind])) return;
        const firstPage = cursors?.[entries[i]!.member.name] === undefined;
        const reviewed = await this.#pins!.review(entries[i]!.member.name, pinKind, s.value[kind] as Item[], firstPage ? this.#servedTo(principalKey(ctx.principal)) : undefined);
        s.value = { ...s.value, [kind]: reviewed.items };
        for (const n of reviewed.withheld) pinned.push(`${entries[i]!.member.name}/${n}`);
      }));
    }
    const failures: string[] = [];
    const next: MemberCursors = {};
    const found: { entry: AggregateEntry; item: Item }[] = [];
    let hidden = 0;
    settled.forEach((s, i) => {
      const entry = entries[i]!;
      if (s.status === 'rejected') {
        const why = s.reason instanceof MemberUnavailable || s.reason instanceof JsonRpcError ? s.reason.message : 'internal error';
        failures.push(`${entry.member.name}: ${why}`);
        leftOut(entry.member.name, { method, error: why, requestId: ctx.requestId });
        return;
      }
      const page = s.value;
      if (typeof page.nextCursor === 'string') next[entry.member.name] = page.nextCursor;
      const items = Array.isArray(page[kind]) ? (page[kind] as Item[]) : [];
      for (const item of items) {
        if (!item || typeof item !== 'object') continue;
        if (kind === 'tools' && item.annotations && typeof item.annotations === 'object') this.#rememberHints(entry.member.name, String(item.name), item.annotations as ToolHints);
        if (kind === 'tools' && !entry.policy.tool(ctx.principal, String(item.name)).allowed) {
          hidden++;
          continue;
        }
        found.push({ entry, item });
      }
    });

    const out = this.#publish(kind, found, ctx.principal);
    const notes = [];
    if (failures.length) notes.push(`upstreams left out: ${failures.join('; ')}`);
    if (hidden) notes.push(`policy hid ${hidden} tool${hidden > 1 ? 's' : ''}`);
    if (pinned.length) notes.push(`changed definitions withheld until approved: ${pinned.join(', ')}`);
    if (notes.length && noted) ctx.audit.note(notes.join('; '));
    const nextCursor = encodeCursor(kind, next);
    return nextCursor ? { [kind]: out, nextCursor } : { [kind]: out };
  }

  /** Rename for the merged view. Names are assigned in a sorted pass so collisions resolve the same way every time. */
  #publish(kind: Kind, found: { entry: AggregateEntry; item: Item }[], principal: Principal): Item[] {
    if (kind === 'resources') return found.map(({ entry, item }) => ({ ...item, uri: this.#mapper.uri(entry.member.name, String(item.uri)) }));
    if (kind === 'resourceTemplates') return found.map(({ entry, item }) => ({ ...item, uriTemplate: this.#mapper.uri(entry.member.name, String(item.uriTemplate)) }));
    const registry = this.#registry(principal)[kind];
    const order = found.map((f, i) => i).sort((a, b) => compare(found[a]!, found[b]!));
    const names = new Map<number, string>();
    for (const i of order) names.set(i, registry.assign(found[i]!.entry.member.name, String(found[i]!.item.name)));
    return found.map(({ item }, i) => ({ ...item, name: names.get(i)! }));
  }

  async #callNamed(kind: 'tools' | 'prompts', method: string, params: Record<string, unknown>, ctx: ServiceContext): Promise<unknown> {
    const name = params.name;
    if (typeof name !== 'string') throw new JsonRpcError(INVALID_PARAMS, `Invalid params: ${method} needs params.name`);
    const target = await this.#resolve(kind, name, ctx);
    const what = kind === 'tools' ? 'tool' : 'prompt';
    if (!target) throw new JsonRpcError(INVALID_PARAMS, `Unknown ${what}: ${name}`);
    const entry = this.#entries.get(target.member)!;
    this.#authorize(entry, method, target.original, ctx);
    try {
      await this.#pins?.check(entry.member.name, kind === 'tools' ? 'tool' : 'prompt', target.original);
    } catch (error) {
      ctx.audit.upstream(entry.member.name);
      throw error;
    }
    return this.#forward(entry, method, { ...params, name: target.original }, ctx);
  }

  async #callUri(method: string, params: Record<string, unknown>, ctx: ServiceContext): Promise<unknown> {
    const uri = params.uri;
    if (typeof uri !== 'string') throw new JsonRpcError(INVALID_PARAMS, `Invalid params: ${method} needs params.uri`);
    const target = this.#mapper.parseUri(uri);
    const entry = target && this.#entries.get(target.member);
    if (!target || !entry) throw new JsonRpcError(INVALID_PARAMS, `Unknown resource ${uri}: resources on this endpoint are deputy://<upstream>/<uri>, as listed by resources/list`);
    this.#authorize(entry, method, undefined, ctx);
    const result = (await this.#forward(entry, method, { ...params, uri: target.original }, ctx)) as Item;
    if (method === 'resources/read' && Array.isArray(result.contents)) {
      return { ...result, contents: (result.contents as Item[]).map((c) => (typeof c?.uri === 'string' ? { ...c, uri: this.#mapper.uri(entry.member.name, c.uri) } : c)) };
    }
    return result;
  }

  async #complete(params: Record<string, unknown>, ctx: ServiceContext): Promise<unknown> {
    const ref = params.ref as Item | undefined;
    let target: Target | undefined;
    let mapped: Item | undefined;
    if (ref?.type === 'ref/prompt' && typeof ref.name === 'string') {
      target = await this.#resolve('prompts', ref.name, ctx);
      if (target) mapped = { ...ref, name: target.original };
    } else if (ref?.type === 'ref/resource' && typeof ref.uri === 'string') {
      target = this.#mapper.parseUri(ref.uri);
      if (target) mapped = { ...ref, uri: target.original };
    }
    const entry = target && this.#entries.get(target.member);
    if (!entry || !mapped) throw new JsonRpcError(INVALID_PARAMS, 'Invalid params: completion/complete needs a ref to a listed prompt or resource template');
    this.#authorize(entry, 'completion/complete', undefined, ctx);
    return this.#forward(entry, 'completion/complete', { ...params, ref: mapped }, ctx);
  }

  /** Sets the level on every member that logs; members that fail are skipped (and noted in the audit event). */
  async #setLevel(params: Record<string, unknown>, ctx: ServiceContext): Promise<unknown> {
    const failures: string[] = [];
    await Promise.all(this.#usable(ctx.principal).map(async (e) => {
      try {
        await bounded(e.member, ctx.signal, async (signal) => {
          const mctx = { ...this.#memberContext(ctx), signal };
          if ((await this.#capabilitiesOf(e.member, mctx)).logging !== undefined) await e.member.request('logging/setLevel', params, mctx);
        });
      } catch (error) {
        failures.push(`${e.member.name}: ${(error as Error).message}`);
      }
    }));
    if (failures.length) ctx.audit.note(`logging/setLevel not applied on: ${failures.join('; ')}`);
    return {};
  }

  async #forward(entry: AggregateEntry, method: string, params: Record<string, unknown>, ctx: ServiceContext): Promise<unknown> {
    ctx.audit.upstream(entry.member.name, entry.member.credentialMode);
    const tool = method === 'tools/call' ? String(params.name) : undefined;
    await this.#quotas?.checkUpstream(ctx.principal, entry.member.name, tool, tool === undefined ? undefined : this.#hints.get(`${entry.member.name}\u0000${tool}`));
    return entry.member.request(method, params, this.#memberContext(ctx)); // a MemberUnavailable is answered in-band (ERR_UPSTREAM_*)
  }

  /** The one policy step, once the member is known (the HTTP layer adds the route's scopes to a step-up). */
  #authorize(entry: AggregateEntry, method: string, tool: string | undefined, ctx: ServiceContext): void {
    const decision = decide(entry.policy, ctx.principal, method, tool);
    if (!decision.allowed) ctx.audit.upstream(entry.member.name);
    enforce(decision, ctx.audit);
  }

  /** Name → member: the names this principal was shown, else re-list once, else a plain-name parse. */
  async #resolve(kind: 'tools' | 'prompts', name: string, ctx: ServiceContext): Promise<Target | undefined> {
    const registry = this.#registry(ctx.principal)[kind];
    let target = registry.resolve(name);
    if (!target) {
      let cursor: unknown;
      for (let page = 0; page < 20 && !registry.resolve(name); page++) {
        const r = await this.#list(kind, cursor, ctx, false);
        cursor = r.nextCursor;
        if (cursor === undefined) break;
      }
      target = registry.resolve(name) ?? this.#mapper.parse(name);
    }
    return target && this.#entries.has(target.member) ? target : undefined;
  }

  #rememberHints(member: string, tool: string, a: ToolHints): void {
    const key = `${member}\u0000${tool}`;
    if (!this.#hints.has(key) && this.#hints.size >= 10_000) return; // bounded: upstreams choose the names
    this.#hints.set(key, { readOnlyHint: a.readOnlyHint === true ? true : undefined, destructiveHint: a.destructiveHint === false ? false : undefined });
  }

  #usable(principal: Principal): AggregateEntry[] {
    // Upstream-wide conditions (required_scopes, policy scopes/claims) hide a member from this principal entirely.
    return [...this.#entries.values()].filter((e) => e.policy.upstreamAccess(principal).allowed);
  }

  async #capabilitiesOf(member: AggregateMember, ctx: MemberContext): Promise<Record<string, unknown>> {
    const caps = await member.capabilities(ctx);
    this.#knownCapabilities.set(member.name, caps);
    return caps;
  }

  #memberContext(ctx: ServiceContext): MemberContext {
    return {
      principal: ctx.principal, bearer: ctx.bearer, requestId: ctx.requestId, signal: ctx.signal, progressToken: ctx.progressToken,
      onNotification: (method, params) => ctx.notify(method, params),
      onRequest: (method, params) => ctx.request(method, params),
    };
  }

  #registry(principal: Principal): { tools: NameRegistry; prompts: NameRegistry } {
    const key = principalKey(principal);
    let r = this.#registries.get(key);
    if (!r) this.#registries.set(key, (r = { tools: new NameRegistry(this.#mapper), prompts: new NameRegistry(this.#mapper) }));
    return r;
  }

  #track(sessionId: string, ctx: ServiceContext): void {
    const key = principalKey(ctx.principal);
    if (!this.#principalOf.has(sessionId)) {
      this.#principalOf.set(sessionId, key);
      let set = this.#sessionsOf.get(key);
      if (!set) this.#sessionsOf.set(key, (set = new Set()));
      set.add(sessionId);
    }
    let active = this.#active.get(sessionId);
    if (!active) this.#active.set(sessionId, (active = new Set()));
    active.add(ctx);
  }

  /**
   * A notification of Deputy's own for one principal's sessions (e.g. notifications/elicitation/complete
   * once a connect link was followed): to its open streams, else queued for its next request.
   */
  notifyPrincipal(key: string, method: string, params: Record<string, unknown>): void {
    this.#deliver(key, method, params);
  }

  /**
   * An upstream notification outside any request: to the principal's open streams, else queued for
   * its next request. Under pinning (enforce), a tools or prompts list_changed goes on only when what
   * the principal is served changed (not for a change that waits for approval).
   */
  #serverNotification(member: string, key: string, method: string, params: Record<string, unknown>, caller?: Pick<MemberContext, 'principal' | 'bearer'>): void {
    const gated = GATED_LIST_CHANGED[method];
    const entry = this.#entries.get(member);
    if (gated && this.#pins && entry && caller) {
      const fetch = async () => wholeList(gated, await entry.member.request(LIST_OF[gated].method, {}, { ...caller, requestId: 'list_changed', signal: AbortSignal.timeout(entry.member.timeoutMs) }));
      void this.#pins.listChanged(member, gated, this.#servedTo(key), fetch)
        .catch(() => true) // when the check cannot be made, the notification goes through
        .then((relay) => relay && this.#deliver(key, method, params))
        .catch((error: unknown) => log.warn('a list_changed notification could not be delivered', { upstream: member, error: (error as Error).message }));
      return;
    }
    let out = params;
    if (method === 'notifications/resources/updated' && typeof params.uri === 'string') out = { ...params, uri: this.#mapper.uri(member, params.uri) };
    this.#deliver(key, method, out);
  }

  #servedTo(principalKey: string): string {
    return `${this.#servedId}\u0000${principalKey}`;
  }

  #deliver(key: string, method: string, out: Record<string, unknown>): void {
    for (const listener of this.#listens.get(key) ?? []) listener(method, out);
    for (const sessionId of this.#sessionsOf.get(key) ?? []) {
      const active = this.#active.get(sessionId);
      const ctx = active && [...active][0];
      if (ctx) {
        ctx.notify(method, out);
        continue;
      }
      const queue = this.#queued.get(sessionId) ?? [];
      // list_changed carries no data: one pending instance per method is enough.
      if (!(method.endsWith('/list_changed') && queue.some((n) => n.method === method)) && queue.length < MAX_QUEUED) queue.push({ method, params: out });
      this.#queued.set(sessionId, queue);
    }
  }

  #flush(ctx: ServiceContext): void {
    if (ctx.sessionId === undefined) return;
    const queue = this.#queued.get(ctx.sessionId);
    if (!queue?.length) return;
    this.#queued.delete(ctx.sessionId);
    for (const n of queue) ctx.notify(n.method, n.params);
  }
}

function compare(a: { entry: AggregateEntry; item: Item }, b: { entry: AggregateEntry; item: Item }): number {
  return a.entry.member.name.localeCompare(b.entry.member.name) || String(a.item.name).localeCompare(String(b.item.name));
}

/** Run with the member's timeout; a member that ignores the abort still cannot hold the caller longer. */
function bounded<T>(member: AggregateMember, parent: AbortSignal, fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const signal = AbortSignal.any([parent, AbortSignal.timeout(member.timeoutMs)]);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new MemberUnavailable(member.name, parent.aborted ? 'the client went away' : `upstream '${member.name}' did not answer within ${member.timeoutMs} ms`, true));
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    fn(signal).then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
