// `stdout` store: one JSON line per event (for log shippers); `none`: audit disabled.
import type { AuditEvent, AuditSink } from './event.ts';

export class JsonLinesAuditSink implements AuditSink {
  readonly #out: NodeJS.WritableStream;
  constructor(out: NodeJS.WritableStream = process.stdout) {
    this.#out = out;
  }
  write(event: AuditEvent): void {
    this.#out.write(`${JSON.stringify({ audit: event })}\n`);
  }
  async flush(): Promise<void> {}
  async query(): Promise<AuditEvent[]> {
    throw new Error('the stdout audit store cannot be queried; read your log pipeline instead');
  }
  async close(): Promise<void> {}
}

export class NullAuditSink implements AuditSink {
  write(): void {}
  async flush(): Promise<void> {}
  async query(): Promise<AuditEvent[]> {
    return [];
  }
  async close(): Promise<void> {}
}
