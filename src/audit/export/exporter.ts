// Ships this replica's audit chain to a SIEM. The stored chain is the spool: the exporter reads rows
// after its cursor (kept in the audit database, per sink and replica), sends them in chain order, and
// moves the cursor only after the sink took the whole batch. A sink that is down, slow or answering
// errors is retried with backoff, so every event arrives, in order, once per successful send (at
// least once across a crash between send and cursor write; the chain fields let the receiver drop a
// repeat). Lag and failures are counted for /metrics.
import type { ChainRow } from '../chain.ts';
import { log, throttledWarning } from '../../log.ts';
import { format, type ExportFormat } from './formats.ts';
import type { ExportSink } from './sinks.ts';

export interface ExportableStore {
  chainAfter(seq: number, limit: number): Promise<ChainRow[]>;
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
          await this.#sink.send(rows.map((r) => format(this.#opts.format, r)), rows.map((r) => SYSLOG_SEVERITY[r.outcome] ?? 5));
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
