// Step 7 of the request path: one event per boundary crossing. Fields are an allow-list: there is no
// free-form "request" or "headers" field through which a token could slip into the audit trail.
import type { CredentialMode } from '../config/schema.ts';

export type Outcome = 'ok' | 'denied' | 'unauthenticated' | 'rejected' | 'upstream_error' | 'credential_error' | 'error';

export interface AuditEvent {
  time: string;
  requestId: string;
  issuer?: string;
  subject?: string;
  clientId?: string;
  upstream?: string;
  route: string;
  httpMethod: string;
  rpcMethod?: string;
  /** Tool, prompt or resource the request targets. */
  target?: string;
  credentialMode?: CredentialMode;
  outcome: Outcome;
  status: number;
  latencyMs: number;
  /** Short human-readable reason for non-ok outcomes; never token material. */
  detail?: string;
}

export interface AuditQuery {
  since?: Date;
  limit?: number;
}

export interface AuditSink {
  /** Enqueue; never blocks the request path and never throws. */
  write(event: AuditEvent): void;
  flush(): Promise<void>;
  query(q: AuditQuery): Promise<AuditEvent[]>;
  close(): Promise<void>;
}
