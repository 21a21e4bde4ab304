// Concurrency limits: at most `max` holders at once, a short bounded queue behind them, and a clear
// refusal beyond that. A gateway that queues without bound turns overload into hangs for everyone;
// one that refuses at once turns a burst into errors. A short queue absorbs bursts, then the client
// gets 503 with Retry-After and can come back.
import { DeputyError } from '../errors.ts';

/** A limit was reached: 503 (a shared limit) or 429 (the caller's own), with Retry-After. */
export class OverloadedError extends DeputyError {
  /** What was full, for the audit detail and metrics: `gateway`, `upstream:<name>`, `streams:<name>`, `sessions`. */
  readonly scope: string;
  constructor(scope: string, message: string, retryAfterSeconds = 1, code: 'ERR_OVERLOADED' | 'ERR_STREAM_LIMIT' = 'ERR_OVERLOADED') {
    super(code, message, { headers: { 'retry-after': String(retryAfterSeconds) } });
    this.scope = scope;
  }
}

export type Release = () => void;

interface Waiter {
  grant(release: Release): void;
  timer?: NodeJS.Timeout;
}

export class ConcurrencyLimiter {
  readonly scope: string;
  readonly max: number;
  readonly maxQueued: number;
  readonly queueTimeoutMs: number;
  #active = 0;
  readonly #queue: Waiter[] = [];

  constructor(scope: string, max: number, opts: { maxQueued?: number; queueTimeoutMs?: number } = {}) {
    this.scope = scope;
    this.max = max;
    this.maxQueued = opts.maxQueued ?? 0;
    this.queueTimeoutMs = opts.queueTimeoutMs ?? 0;
  }

  get active(): number {
    return this.#active;
  }

  get queued(): number {
    return this.#queue.length;
  }

  /** A slot now, or undefined (no waiting). */
  tryAcquire(): Release | undefined {
    if (this.#active >= this.max) return undefined;
    this.#active++;
    return this.#releaser();
  }

  /**
   * A slot, waiting in the queue for at most `queueTimeoutMs`. Rejects with OverloadedError when the
   * queue is full or the wait runs out, and with `signal`'s reason when the caller gives up first.
   */
  acquire(signal?: AbortSignal): Promise<Release> {
    const now = this.tryAcquire();
    if (now) return Promise.resolve(now);
    if (this.#queue.length >= this.maxQueued || this.queueTimeoutMs === 0) return Promise.reject(this.#refuse());
    return new Promise<Release>((resolve, reject) => {
      const waiter: Waiter = {
        grant: (release) => {
          clearTimeout(waiter.timer);
          signal?.removeEventListener('abort', onAbort);
          resolve(release);
        },
      };
      const leave = () => {
        const i = this.#queue.indexOf(waiter);
        if (i !== -1) this.#queue.splice(i, 1);
      };
      const onAbort = () => {
        leave();
        clearTimeout(waiter.timer);
        reject(signal!.reason);
      };
      waiter.timer = setTimeout(() => {
        leave();
        signal?.removeEventListener('abort', onAbort);
        reject(this.#refuse());
      }, this.queueTimeoutMs);
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#queue.push(waiter);
    });
  }

  #refuse(): OverloadedError {
    return new OverloadedError(this.scope, `${describe(this.scope)} is at its limit of ${this.max} concurrent ${this.scope.startsWith('streams') ? 'streams' : 'requests'}; retry shortly`);
  }

  #releaser(): Release {
    let done = false;
    return () => {
      if (done) return;
      done = true;
      const next = this.#queue.shift();
      if (next) next.grant(this.#releaser()); // the slot passes straight on: #active is unchanged
      else this.#active--;
    };
  }
}

/** Counts per key (e.g. GET streams per principal), refusing past `max` per key. Keys with no holders are forgotten. */
export class KeyedCounter {
  readonly max: number;
  readonly #counts = new Map<string, number>();

  constructor(max: number) {
    this.max = max;
  }

  tryAcquire(key: string): Release | undefined {
    const n = this.#counts.get(key) ?? 0;
    if (n >= this.max) return undefined;
    this.#counts.set(key, n + 1);
    let done = false;
    return () => {
      if (done) return;
      done = true;
      const left = (this.#counts.get(key) ?? 1) - 1;
      if (left <= 0) this.#counts.delete(key);
      else this.#counts.set(key, left);
    };
  }
}

function describe(scope: string): string {
  if (scope === 'gateway') return 'Deputy';
  const [kind, name] = scope.split(':');
  return kind === 'streams' ? `upstream '${name}' (streams)` : `upstream '${name}'`;
}
