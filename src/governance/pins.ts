// Tool-definition pinning, against the "rug pull": an upstream that silently changes a tool (a
// description that turns into a prompt injection, a schema that starts asking for secrets). On first
// sight Deputy records a hash of each tool's, prompt's and resource template's definition; a later,
// different definition is a pending change. Under `warn` it is served and flagged; under `enforce`
// it is withheld from lists and calls to it are refused, until an operator approves it
// (`deputy tools diff` / `deputy tools approve`). Every change and approval is audited. Pins live in
// the audit store's database, so replicas agree and pins survive restarts.
import { createHash } from 'node:crypto';
import { systemEvent, type AuditEvent, type AuditSink } from '../audit/event.ts';
import { DeputyError } from '../errors.ts';
import { log, throttledWarning } from '../log.ts';
import type { PinStore, PinRow } from './pin-store.ts';

export type PinMode = 'off' | 'warn' | 'enforce';
export type PinKind = 'tool' | 'prompt' | 'resource_template';

/** The fields that make a definition: what a model reads and what a call must send. */
const DEFINING: Record<PinKind, string[]> = {
  tool: ['name', 'title', 'description', 'inputSchema', 'outputSchema', 'annotations'],
  prompt: ['name', 'title', 'description', 'arguments'],
  resource_template: ['name', 'title', 'description', 'uriTemplate', 'mimeType'],
};
/** A definition larger than this is refused outright (never stored, never served). */
export const MAX_DEFINITION_BYTES = 256 * 1024;
/** How long a replica trusts its cached pins before re-reading the store (another replica may have approved). */
const CACHE_MS = 5000;

/** A call to a tool whose changed definition waits for approval (enforce). */
export class ToolChangedError extends DeputyError {
  constructor(upstream: string, kind: PinKind, name: string) {
    super('ERR_DEFINITION_CHANGED', `${kind.replace('_', ' ')} '${name}' of upstream '${upstream}' changed since it was approved; an operator must review the change (deputy tools diff --upstream ${upstream}) before it can be used`);
  }
}

export function canonicalDefinition(kind: PinKind, item: Record<string, unknown>): string {
  const picked: Record<string, unknown> = {};
  for (const k of DEFINING[kind]) if (item[k] !== undefined) picked[k] = item[k];
  return stableJson(picked);
}

function stableJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stableJson).join(',')}]`;
  if (v && typeof v === 'object') return `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${stableJson((v as Record<string, unknown>)[k])}`).join(',')}}`;
  return JSON.stringify(v) ?? 'null';
}

/** The fields of an item outside its pinned definition. */
function otherFields(kind: PinKind, item: Record<string, unknown>): string {
  const rest = { ...item };
  for (const k of DEFINING[kind]) delete rest[k];
  return stableJson(rest);
}

/** One value for a served list: its items' approved definitions and other fields, in any order. */
const hashOf = (definition: string) => createHash('sha256').update(definition).digest('hex');
const fingerprintOf = (approved: string[]) => hashOf([...approved].sort().join('\n'));
/** The key of one pin (name) or of one listener's served list (servedTo), per upstream and kind. */
const keyOf = (upstream: string, kind: PinKind, name: string) => `${upstream}\u0000${kind}\u0000${name}`;
const storeDown = throttledWarning('the pin store is unreachable; the pins last read stay in force');
/** Served-listing fingerprints kept (per upstream, kind and principal); the oldest go first. */
const MAX_SERVED = 10_000;
/** The MCP list each kind of definition comes from: its method and the key of the result's items. */
export const LIST_OF: Record<PinKind, { method: string; key: 'tools' | 'prompts' | 'resourceTemplates' }> = {
  tool: { method: 'tools/list', key: 'tools' },
  prompt: { method: 'prompts/list', key: 'prompts' },
  resource_template: { method: 'resources/templates/list', key: 'resourceTemplates' },
};
/** The notification that tells clients a list of this kind changed. */
export const LIST_CHANGED_OF: Record<PinKind, string> = {
  tool: 'notifications/tools/list_changed',
  prompt: 'notifications/prompts/list_changed',
  resource_template: 'notifications/resources/list_changed',
};
/**
 * The upstream notifications Deputy holds back until it knows what changed. Not resources'
 * list_changed: it also covers resources, which are not pinned, so it always goes through.
 */
export const GATED_LIST_CHANGED: Record<string, PinKind> = { [LIST_CHANGED_OF.tool]: 'tool', [LIST_CHANGED_OF.prompt]: 'prompt' };
/** Approved changes become visible: listeners tell their clients the list changed. */
export type ApprovalListener = (upstream: string, kind: PinKind) => void;

export class ToolPins {
  readonly #store: PinStore;
  readonly #modeOf: (upstream: string) => PinMode;
  readonly #audit: () => AuditSink;
  #cache = new Map<string, PinRow>();
  /** For /metrics: definitions changed and approvals, by upstream. */
  readonly counts = { changed: new Map<string, number>(), approved: new Map<string, number>() };
  #loadedAt = 0;
  #loading?: Promise<void>;
  /** What each principal was last served, per (upstream, kind): a hash of the served definitions. */
  readonly #served = new Map<string, string>();
  /** list_changed checks in flight per listener, and the one queued behind each. */
  readonly #checks = new Map<string, { running: Promise<boolean>; queued?: Promise<boolean> }>();
  readonly #approvalListeners = new Set<ApprovalListener>();
  #watch?: NodeJS.Timeout;

  readonly #cacheMs: number;

  constructor(store: PinStore, modeOf: (upstream: string) => PinMode, audit: () => AuditSink, opts: { cacheMs?: number } = {}) {
    this.#cacheMs = opts.cacheMs ?? CACHE_MS;
    this.#store = store;
    this.#modeOf = modeOf;
    this.#audit = audit;
  }

  mode(upstream: string): PinMode {
    return this.#modeOf(upstream);
  }

  /**
   * Re-reads the pins every few seconds. While the store is unreachable the last pins read stay in
   * force (and what is new is pinned in memory); it is tried again a second later.
   */
  async #fresh(): Promise<void> {
    if (Date.now() - this.#loadedAt < this.#cacheMs) return;
    this.#loading ??= this.#store.list().then((rows) => {
      // A change approved elsewhere (another replica, the CLI) becomes visible here now.
      const approved = new Set<string>();
      for (const r of rows) {
        const before = this.#cache.get(keyOf(r.upstream, r.kind, r.name));
        if (before?.pendingHash !== undefined && r.pendingHash === undefined && r.hash === before.pendingHash) approved.add(`${r.upstream}\u0000${r.kind}`);
      }
      const pendingHere = [...this.#cache.values()].filter((r) => !rows.some((x) => x.upstream === r.upstream && x.kind === r.kind && x.name === r.name));
      this.#cache = new Map([...pendingHere, ...rows].map((r) => [keyOf(r.upstream, r.kind, r.name), r]));
      this.#loadedAt = Date.now();
      for (const a of approved) this.#announce(...(a.split('\u0000') as [string, PinKind]));
    }, (error: unknown) => {
      this.#loadedAt = Date.now() - this.#cacheMs + Math.min(1000, this.#cacheMs);
      storeDown((error as Error).message);
    }).finally(() => (this.#loading = undefined));
    await this.#loading;
  }

  /** A store write that fails is logged; the in-memory pin still applies. */
  async #write(fn: () => Promise<void>): Promise<void> {
    await fn().catch((error: unknown) => storeDown((error as Error).message));
  }

  /**
   * Reviews one upstream's listing: first sight pins a definition, a different one is recorded as a
   * pending change. Returns what to serve: everything under off/warn (changes flagged in the audit
   * and log), without pending changes under enforce.
   */
  async review(upstream: string, kind: PinKind, items: Record<string, unknown>[], servedTo?: string): Promise<{ items: Record<string, unknown>[]; withheld: string[]; changed: string[] }> {
    const mode = this.#modeOf(upstream);
    if (mode === 'off') return { items, withheld: [], changed: [] };
    const { approved, ...reviewed } = await this.#review(upstream, kind, items, mode);
    if (servedTo !== undefined) this.#remember(upstream, kind, servedTo, approved);
    return reviewed;
  }

  /**
   * An upstream said one of its lists changed. Under enforce the client is told only when what it is
   * served changed: a tool added or removed, or a change approved. A definition that changed and
   * waits for approval is withheld, so telling the client would only make it list the same tools
   * again. `fetch` gets the upstream's current list as this principal sees it, or undefined when it
   * is not the whole list (more pages). Whenever the check cannot be made, the notification goes
   * through: it is only a hint, and the client's next listing is filtered anyway.
   */
  async listChanged(upstream: string, kind: PinKind, servedTo: string, fetch: () => Promise<Record<string, unknown>[] | undefined>): Promise<boolean> {
    if (this.#modeOf(upstream) !== 'enforce') return true;
    const key = keyOf(upstream, kind, servedTo);
    // One check at a time per listener; notifications arriving during it share one more check after
    // it, so an upstream that floods notifications does not multiply listings with users' credentials.
    const slot = this.#checks.get(key);
    if (slot) return (slot.queued ??= slot.running.then(() => this.#check(key, upstream, kind, fetch), () => this.#check(key, upstream, kind, fetch)));
    return this.#check(key, upstream, kind, fetch);
  }

  #check(key: string, upstream: string, kind: PinKind, fetch: () => Promise<Record<string, unknown>[] | undefined>): Promise<boolean> {
    const running = this.#decide(key, upstream, kind, fetch);
    this.#checks.set(key, { running });
    const done = () => {
      if (this.#checks.get(key)?.running === running) this.#checks.delete(key);
    };
    void running.then(done, done);
    return running;
  }

  /**
   * Compares the upstream's current list, as the client would be served it, with what the client was
   * last served (recorded by its own listings only: every stream of the client compares against the
   * same, and none of these checks moves it).
   */
  async #decide(key: string, upstream: string, kind: PinKind, fetch: () => Promise<Record<string, unknown>[] | undefined>): Promise<boolean> {
    let items;
    try {
      items = await fetch();
    } catch {
      return true;
    }
    if (!items) return true;
    const { approved } = await this.#review(upstream, kind, items, this.#modeOf(upstream));
    const served = this.#served.get(key);
    return served === undefined || served !== fingerprintOf(approved);
  }

  /** Called with (upstream, kind) when an approved change becomes visible. */
  onApproval(listener: ApprovalListener): () => void {
    this.#approvalListeners.add(listener);
    // Approvals made elsewhere (the CLI, another replica) are noticed on the next read of the store,
    // so while anyone listens the store is read every few seconds even without traffic.
    this.#watch ??= setInterval(() => void this.#fresh(), this.#cacheMs).unref();
    return () => {
      this.#approvalListeners.delete(listener);
      if (this.#approvalListeners.size === 0) (clearInterval(this.#watch), (this.#watch = undefined));
    };
  }

  #announce(upstream: string, kind: PinKind): void {
    for (const [k] of this.#served) if (k.startsWith(keyOf(upstream, kind, ''))) this.#served.delete(k);
    for (const l of this.#approvalListeners) {
      try {
        l(upstream, kind);
      } catch (error) {
        log.warn('an approval listener failed', { upstream, error: (error as Error).message });
      }
    }
  }

  /** `approved`: the approved definition's hash of each item listed (a pending change does not count). */
  #remember(upstream: string, kind: PinKind, principalKey: string, approved: string[]): void {
    const fingerprint = fingerprintOf(approved);
    const key = keyOf(upstream, kind, principalKey);
    this.#served.delete(key); // re-inserted last: the map's order is its age
    this.#served.set(key, fingerprint);
    if (this.#served.size > MAX_SERVED) this.#served.delete(this.#served.keys().next().value!);
  }

  async #review(upstream: string, kind: PinKind, items: Record<string, unknown>[], mode: PinMode): Promise<{ items: Record<string, unknown>[]; withheld: string[]; changed: string[]; approved: string[] }> {
    await this.#fresh();
    const out: Record<string, unknown>[] = [];
    const withheld: string[] = [];
    const changed: string[] = [];
    const approved: string[] = [];
    for (const item of items) {
      const name = typeof item?.name === 'string' ? item.name : typeof item?.uriTemplate === 'string' ? item.uriTemplate : undefined;
      if (!name) continue;
      const definition = canonicalDefinition(kind, item);
      if (Buffer.byteLength(definition) > MAX_DEFINITION_BYTES) {
        withheld.push(name);
        log.warn('an upstream definition is too large to pin or serve', { upstream, kind, name: name.slice(0, 100), bytes: Buffer.byteLength(definition) });
        continue;
      }
      const hash = hashOf(definition);
      const key = keyOf(upstream, kind, name);
      const pin = this.#cache.get(key);
      // What the principal is served of this item: its approved definition (the pending one is not
      // served), and every field pinning does not hash (icons, _meta: a change there is news too).
      approved.push(`${name}\u0000${pin && mode === 'enforce' ? pin.hash : hash}\u0000${hashOf(otherFields(kind, item))}`);
      if (!pin) {
        const row: PinRow = { upstream, kind, name, hash, definition, pinnedAt: Date.now() };
        this.#cache.set(key, row);
        await this.#write(() => this.#store.pin(row)); // first sight (a concurrent first sight elsewhere keeps the earlier pin)
        out.push(item);
        continue;
      }
      if (pin.hash === hash) {
        out.push(item);
        continue;
      }
      changed.push(name);
      if (pin.pendingHash !== hash) {
        const at = Date.now();
        this.#cache.set(key, { ...pin, pendingHash: hash, pendingDefinition: definition, changedAt: at });
        await this.#write(() => this.#store.setPending(upstream, kind, name, hash, definition, at));
        this.counts.changed.set(upstream, (this.counts.changed.get(upstream) ?? 0) + 1);
        this.#event(upstream, kind, name, 'definition_changed', mode === 'enforce' ? 'denied' : 'ok', `${kind.replace('_', ' ')} definition changed (${mode}): ${mode === 'enforce' ? 'withheld until approved' : 'served, flagged'}`);
        log.warn('an upstream definition changed since it was pinned', { upstream, kind, name: name.slice(0, 100), mode });
      }
      if (mode === 'enforce') withheld.push(name);
      else out.push(item);
    }
    return { items: out, withheld, changed, approved };
  }

  /** Refuses a call to something whose change waits for approval (enforce only). */
  async check(upstream: string, kind: PinKind, name: string): Promise<void> {
    if (this.#modeOf(upstream) !== 'enforce') return;
    await this.#fresh();
    const pin = this.#cache.get(keyOf(upstream, kind, name));
    if (pin?.pendingHash !== undefined) throw new ToolChangedError(upstream, kind, name);
  }

  /**
   * The approved definitions of one upstream's tools (or prompts, templates), as pinned: what Deputy
   * shows someone who cannot list the upstream yet (a person who has not connected their account).
   * Shared by replicas and kept across restarts, like the pins. Empty when pinning is off.
   */
  async approved(upstream: string, kind: PinKind): Promise<Record<string, unknown>[]> {
    if (this.#modeOf(upstream) === 'off') return [];
    await this.#fresh();
    const out: Record<string, unknown>[] = [];
    for (const r of this.#cache.values()) {
      if (r.upstream !== upstream || r.kind !== kind) continue;
      try {
        out.push(JSON.parse(r.definition) as Record<string, unknown>);
      } catch {
        // a malformed row is skipped, as listings skip it
      }
    }
    return out.sort((a, b) => String(a.name).localeCompare(String(b.name)));
  }

  /** Pending changes, for `deputy tools diff` and the console. */
  async pending(upstream?: string): Promise<PinRow[]> {
    return (await this.#store.list()).filter((r) => r.pendingHash !== undefined && (upstream === undefined || r.upstream === upstream));
  }

  /** Accepts a pending change: its definition becomes the pin. False when nothing was pending. */
  async approve(upstream: string, kind: PinKind, name: string, by: string): Promise<boolean> {
    const ok = await this.#store.approve(upstream, kind, name);
    if (ok) {
      this.#loadedAt = 0;
      const key = keyOf(upstream, kind, name);
      const pin = this.#cache.get(key);
      if (pin?.pendingHash !== undefined) this.#cache.set(key, { ...pin, hash: pin.pendingHash, definition: pin.pendingDefinition ?? pin.definition, pendingHash: undefined, pendingDefinition: undefined });
      this.counts.approved.set(upstream, (this.counts.approved.get(upstream) ?? 0) + 1);
      this.#event(upstream, kind, name, 'definition_approved', 'ok', `approved by ${by.slice(0, 100)}`);
      this.#announce(upstream, kind);
    }
    return ok;
  }

  #event(upstream: string, kind: PinKind, name: string, what: string, outcome: AuditEvent['outcome'], detail: string): void {
    this.#audit().write(systemEvent('pins', { rpcMethod: what, upstream, target: `${kind}:${name}`.slice(0, 256), outcome, detail }));
  }

  close(): Promise<void> {
    clearInterval(this.#watch);
    return this.#store.close();
  }
}
