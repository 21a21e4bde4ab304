// Ships this replica's audit chain to a SIEM. The stored chain is the spool: the exporter reads rows
// after its cursor (kept in the audit database, per sink and replica), sends them in chain order, and
// moves the cursor only after the sink took the whole batch. A sink that is down, slow or answering
// errors is retried with backoff, so every event arrives, in order, once per successful send (at
// least once across a crash between send and cursor write; the chain fields let the receiver drop a
// repeat). Lag (events and seconds behind the chain's head) and failures are counted for /metrics.
import type { ChainRow } from '../chain.ts';
import { log, throttledWarning } from '../../log.ts';
import { format, type ExportFormat } from './formats.ts';
import type { ExportSink } from './sinks.ts';

export interface ExportableStore {
  chainAfter(seq: number, limit: number): Promise<ChainRow[]>;
  /** The last seq this replica has written (0 before the first). */
  chainHead(): Promise<number>;
  exportCursor(sink: string): Promise<number>;
  setExportCursor(sink: string, seq: number): Promise<void>;
  flush(): Promise<void>;
}

export function isExportable(sink: unknown): sink is ExportableStore {
  return typeof (sink as { chainAfter?: unknown }).chainAfter === 'function';
}

export interface ExporterOptions {
  name: string;
  format: ExportFormat;
  batchSize: number;
  intervalMs: number;
  /** The longest pause between retries. */
  maxBackoffMs?: number;
}

export interface ExportLag {
  /** Events written on this replica and not yet delivered by this sink. */
  events: number;
  /** Age of the oldest of them, in seconds (0 when there are none). */
  seconds: number;
}

const SYSLOG_SEVERITY: Record<string, number> = { ok: 6, consent_required: 6, aborted: 6, rejected: 5, throttled: 5, denied: 4, unauthenticated: 4, overloaded: 4, upstream_error: 3, credential_error: 3, error: 3 };

export class AuditExporter {
  readonly name: string;
  readonly #store: ExportableStore;
  readonly #sink: ExportSink;
  readonly #opts: ExporterOptions;
  #cursor = 0;
  #stopped = false;
  #wake?: () => void;
  #loop?: Promise<void>;
  /** Events sent, failed attempts in a row, and the last error (for metrics and readiness). */
  sent = 0;
  failures = 0;
  lastError?: string;
  readonly #warn = throttledWarning('audit export is failing; events wait in the audit store and are retried');
  /** The last lag measured, shared by the scrapes of one second (two gauges read it) and kept when the store cannot answer. */
  #lag?: { at: number; value: Promise<ExportLag | undefined> };
  #lastLag?: ExportLag;

  constructor(store: ExportableStore, sink: ExportSink, opts: ExporterOptions) {
    this.name = opts.name;
    this.#store = store;
    this.#sink = sink;
    this.#opts = opts;
  }

  /** The seq of the last event this sink has taken. */
  get cursor(): number {
    return this.#cursor;
  }

  /**
   * How far this sink is behind: events this replica wrote that it has not taken yet (the chain's head
   * seq minus the cursor) and the age in seconds of the oldest of them (0 when caught up). Read from
   * the store at most once a second; undefined until the store has answered once.
   */
  lag(): Promise<ExportLag | undefined> {
    const now = Date.now();
    if (this.#lag && now - this.#lag.at < 1000) return this.#lag.value;
    const value = this.#measureLag().then(
      (l) => (this.#lastLag = l),
      () => this.#lastLag, // the store is unreachable: the last figure stands
    );
    this.#lag = { at: now, value };
    return value;
  }

  async #measureLag(): Promise<ExportLag> {
    const cursor = this.#cursor || (await this.#store.exportCursor(this.name));
    const head = await this.#store.chainHead();
    const events = Math.max(0, head - cursor);
    if (!events) return { events: 0, seconds: 0 };
    const [oldest] = await this.#store.chainAfter(cursor, 1);
    const age = oldest ? (Date.now() - Date.parse(oldest.time)) / 1000 : 0;
    return { events, seconds: Number.isFinite(age) ? Math.max(0, age) : 0 };
  }

  start(): void {
    this.#loop ??= this.#run();
  }

  /** Run a pass now (e.g. after a flush), instead of waiting for the interval. */
  kick(): void {
    this.#wake?.();
  }

  async #run(): Promise<void> {
    let backoff = 0;
    for (;;) {
      if (this.#stopped) return;
      try {
        if (this.#cursor === 0) this.#cursor = await this.#store.exportCursor(this.name);
        const rows = await this.#store.chainAfter(this.#cursor, this.#opts.batchSize);
        if (rows.length) {
          await this.#sink.send(rows.map((r) => format(this.#opts.format, r)), rows.map((r) => SYSLOG_SEVERITY[r.outcome] ?? 5), rows);
          this.#cursor = rows.at(-1)!.seq;
          await this.#store.setExportCursor(this.name, this.#cursor);
          this.sent += rows.length;
          if (this.failures) log.info('audit export recovered', { sink: this.#sink.describe, after: this.failures });
          this.failures = 0;
          this.lastError = undefined;
          backoff = 0;
          if (rows.length === this.#opts.batchSize) continue; // more waiting: no pause
        }
      } catch (error) {
        this.failures++;
        this.lastError = (error as Error).message.slice(0, 300);
        this.#warn(this.name, { sink: this.#sink.describe, error: this.lastError });
        backoff = Math.min(this.#opts.maxBackoffMs ?? 30_000, backoff ? backoff * 2 : 250);
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, backoff || this.#opts.intervalMs);
        timer.unref();
        this.#wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.#wake = undefined;
    }
  }

  async close(): Promise<void> {
    this.#stopped = true;
    this.#wake?.();
    await this.#loop;
    await this.#sink.close();
  }
}
