// One recorder per request decides its audit outcome. Many steps can refuse or fail a request (the
// gate, policy, quotas, the credential, the upstream); the first decision is the one recorded, so a
// later symptom (a 502 after a refused credential, a closed stream after a denial) never overwrites
// the cause. Notes add context without changing the outcome. The event is written once, on close.
import type { DeputyError } from '../errors.ts';
import type { Principal } from '../inbound/principal.ts';
import type { CredentialMode } from '../config/schema.ts';
import { clipEvent, type AuditEvent, type AuditSink, type Outcome } from './event.ts';

const MAX_NOTE_CHARS = 500;

export class AuditRecord {
  readonly #event: AuditEvent;
  #decided = false;
  #written = false;

  constructor(init: { requestId: string; route: string; httpMethod: string }) {
    this.#event = { time: new Date().toISOString(), ...init, outcome: 'ok', status: 0, latencyMs: 0 };
  }

  /** The outcome so far (`ok` until something decides otherwise). */
  get outcome(): Outcome {
    return this.#event.outcome;
  }

  get detail(): string | undefined {
    return this.#event.detail;
  }

  /** True once a step has decided the outcome. */
  get decided(): boolean {
    return this.#decided;
  }

  /** Decides the outcome, unless an earlier step already did: the first decision wins. */
  decide(outcome: Outcome, detail: string): void {
    if (this.#decided) return;
    this.#decided = true;
    this.#event.outcome = outcome;
    this.#event.detail = detail.slice(0, MAX_NOTE_CHARS);
  }

  /** A typed refusal: its outcome comes from the one table in src/errors.ts. */
  refuse(error: DeputyError): void {
    this.decide(error.outcome, error.message);
  }

  deny(reason: string): void {
    this.decide('denied', reason);
  }

  reject(reason: string): void {
    this.decide('rejected', reason);
  }

  upstreamError(reason: string): void {
    this.decide('upstream_error', reason);
  }

  credentialError(reason: string): void {
    this.decide('credential_error', reason);
  }

  error(reason: string): void {
    this.decide('error', reason);
  }

  /** Context for a request that succeeded or was already decided (hidden tools, a redacted echo). */
  note(text: string): void {
    const detail = this.#event.detail ? `${this.#event.detail}; ${text}` : text;
    this.#event.detail = detail.slice(0, MAX_NOTE_CHARS);
  }

  principal(p: Principal): void {
    this.#event.issuer = p.issuer;
    this.#event.subject = p.subject;
    this.#event.clientId = p.clientId;
  }

  rpc(method: string | undefined, target: string | undefined): void {
    this.#event.rpcMethod = method;
    this.#event.target = target;
  }

  upstream(name: string, credentialMode?: CredentialMode): void {
    this.#event.upstream = name;
    if (credentialMode !== undefined) this.#event.credentialMode = credentialMode;
  }

  /**
   * Writes the event once, when the response has closed (notes made in the same turn included). An undecided outcome follows the status
   * sent; nothing sent means the client left first (499, nginx's "client closed request").
   */
  close(sink: AuditSink, res: { headersSent: boolean; statusCode: number; writableFinished: boolean }, latencyMs: number): AuditEvent | undefined {
    if (this.#written) return undefined;
    this.#written = true;
    const e = this.#event;
    e.status = res.headersSent ? res.statusCode : 499;
    e.latencyMs = Math.round(latencyMs * 1000) / 1000;
    if (!this.#decided) e.outcome = res.headersSent ? classify(res.statusCode) : 'aborted';
    if (!res.writableFinished && (e.outcome === 'ok' || e.outcome === 'aborted')) e.detail ??= 'client disconnected before the response completed';
    // Written a turn later, so what the handler notes right after the last byte (a redacted echo)
    // still lands; then copied, so a call that outlives its request (parked for input) cannot alter it.
    setImmediate(() => sink.write(clipEvent({ ...e })));
    return e;
  }
}

function classify(status: number): Outcome {
  if (status < 400) return 'ok';
  if (status === 401) return 'unauthenticated';
  if (status === 403) return 'denied';
  if (status === 502 || status === 504) return 'upstream_error';
  return status >= 500 ? 'error' : 'rejected';
}
