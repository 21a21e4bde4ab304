// MCP 2026-07-28 has no server-to-client requests: a server that needs input mid-call answers
// `input_required` and the client retries with `inputResponses`. A handshake-era upstream still asks
// the old way (elicitation/create, sampling/createMessage, roots/list on its stream) and then waits.
// When Deputy serves a 2026 client from such an upstream, the call is parked here: the client gets an
// input_required result naming what the upstream asked, its retry (whose requestState names the
// parked call) delivers the answers to the waiting upstream request, and the call runs on, possibly
// asking again. A parked call lives in this process; it is bounded in number and in time.
import { randomUUID } from 'node:crypto';

export type Step =
  | { kind: 'done'; result: unknown }
  | { kind: 'failed'; error: unknown }
  | { kind: 'input'; id: string; inputRequests: Record<string, { method: string; params: Record<string, unknown> }> };

/** How long a parked call waits for the client's retry before its questions are withdrawn. */
export const PARK_TTL_MS = 5 * 60_000;
const MAX_PARKED = 1000;
const MAX_PARKED_PER_PRINCIPAL = 16;

interface Ask {
  method: string;
  params: Record<string, unknown>;
  resolve(result: unknown): void;
  reject(error: Error): void;
}

class Parked<W> {
  readonly id = randomUUID();
  readonly principalKey: string;
  /** What the call is (method and target): a retry must name the same. */
  readonly call: string;
  readonly abort = new AbortController();
  readonly asks = new Map<string, Ask>();
  /** The client request now waiting on this call (the first one, then each retry): where progress goes. */
  waiter: W;
  done?: { result: unknown } | { error: unknown };
  timer?: NodeJS.Timeout;
  #n = 0;
  #wake?: () => void;

  constructor(principalKey: string, call: string, waiter: W) {
    this.principalKey = principalKey;
    this.call = call;
    this.waiter = waiter;
  }

  ask(method: string, params: Record<string, unknown>): Promise<unknown> {
    return new Promise((resolve, reject) => {
      this.asks.set(`input-${++this.#n}`, { method, params, resolve, reject });
      this.wake();
    });
  }

  wake(): void {
    const w = this.#wake;
    this.#wake = undefined;
    w?.();
  }

  /** The call's next visible state: its result, its failure, or the questions it waits on. */
  async step(): Promise<Step> {
    for (;;) {
      if (this.done) return 'result' in this.done ? { kind: 'done', result: this.done.result } : { kind: 'failed', error: this.done.error };
      if (this.asks.size > 0) {
        await new Promise((r) => setImmediate(r)); // questions asked together are answered together
        if (this.done) continue;
        const inputRequests: Record<string, { method: string; params: Record<string, unknown> }> = {};
        for (const [key, a] of this.asks) inputRequests[key] = { method: a.method, params: a.params };
        return { kind: 'input', id: this.id, inputRequests };
      }
      await new Promise<void>((r) => (this.#wake = r));
    }
  }
}

export class ParkedCalls<W> {
  readonly #calls = new Map<string, Parked<W>>();
  readonly #ttlMs: number;

  constructor(ttlMs = PARK_TTL_MS) {
    this.#ttlMs = ttlMs;
  }

  get size(): number {
    return this.#calls.size;
  }

  /**
   * Runs `run` with an `ask` that parks the call when the upstream needs input. Resolves with the
   * first visible step; `ask` rejects (the upstream hears "cannot ask") when no room is left.
   * `waiter()` is the client request currently waiting on the call. Until the call parks, the
   * client going away (`clientGone`) aborts it, as for any request.
   */
  async start(principalKey: string, call: string, waiter: W, clientGone: AbortSignal, run: (ask: (method: string, params: Record<string, unknown>) => Promise<unknown>, waiter: () => W, signal: AbortSignal) => Promise<unknown>): Promise<Step> {
    const p = new Parked(principalKey, call, waiter);
    clientGone.addEventListener('abort', () => {
      if (!this.#calls.has(p.id)) p.abort.abort();
    }, { once: true });
    const room = this.#calls.size < MAX_PARKED && [...this.#calls.values()].filter((c) => c.principalKey === principalKey).length < MAX_PARKED_PER_PRINCIPAL;
    const ask = (method: string, params: Record<string, unknown>) => {
      if (!room) return Promise.reject(new Error(`too many calls are waiting for input; ${method} could not be relayed`));
      this.#calls.set(p.id, p);
      return p.ask(method, params);
    };
    run(ask, () => p.waiter, p.abort.signal).then((result) => (p.done = { result }), (error: unknown) => (p.done = { error })).finally(() => p.wake());
    return this.#next(p);
  }

  /**
   * The client's retry: answers the questions it names and resolves with the call's next step;
   * undefined when no such call is parked for this principal and call (expired, finished, or parked
   * on another replica).
   */
  async resume(id: string, principalKey: string, call: string, waiter: W, responses: Record<string, unknown>): Promise<Step | undefined> {
    const p = this.#calls.get(id);
    if (!p || p.principalKey !== principalKey || p.call !== call) return undefined;
    clearTimeout(p.timer);
    p.waiter = waiter;
    for (const [key, value] of Object.entries(responses)) {
      const a = p.asks.get(key);
      if (!a) continue;
      p.asks.delete(key);
      a.resolve(value);
    }
    return this.#next(p);
  }

  async #next(p: Parked<W>): Promise<Step> {
    const step = await p.step();
    if (step.kind !== 'input') {
      clearTimeout(p.timer);
      this.#calls.delete(p.id);
      return step;
    }
    clearTimeout(p.timer);
    p.timer = setTimeout(() => this.#expire(p), this.#ttlMs);
    p.timer.unref();
    return step;
  }

  #expire(p: Parked<W>): void {
    this.#calls.delete(p.id);
    for (const a of p.asks.values()) a.reject(new Error('the client did not answer in time'));
    p.asks.clear();
    p.abort.abort();
  }

  close(): void {
    for (const p of [...this.#calls.values()]) this.#expire(p);
  }
}
