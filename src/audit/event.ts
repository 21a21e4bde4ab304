// Step 7 of the request path: one event per boundary crossing. Fields are an allow-list: there is no
// free-form "request" or "headers" field through which a token could slip into the audit trail.
import { randomBytes } from 'node:crypto';
import type { CredentialMode } from '../config/schema.ts';

/**
 * `overloaded`: refused by a concurrency limit (503); `throttled`: refused by a quota (429);
 * `aborted`: the client went away before its request was complete; `consent_required`: the user
 * has not connected their account for a user_oauth upstream (the answer carries the connect URL).
 */
export type Outcome = 'ok' | 'denied' | 'unauthenticated' | 'rejected' | 'upstream_error' | 'credential_error' | 'consent_required' | 'overloaded' | 'throttled' | 'aborted' | 'error';

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

/**
 * An event Deputy records outside any request (an account connected, a definition changed): no
 * HTTP status or latency, its own request id.
 */
export function systemEvent(route: string, fields: Omit<AuditEvent, 'time' | 'requestId' | 'route' | 'httpMethod' | 'status' | 'latencyMs'>): AuditEvent {
  return { time: new Date().toISOString(), requestId: randomBytes(8).toString('hex'), route, httpMethod: '-', status: 0, latencyMs: 0, ...fields };
}

/** Longest value kept for names (method, tool, identity fields) and for `detail`; longer values are cut with `…`. */
export const MAX_NAME_CHARS = 256;
export const MAX_DETAIL_CHARS = 1000;

/** Cuts a string to `max` characters, marking the cut. */
export function clip(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, max - 1)}…`;
}

/** Caps every client-influenced field, so no request can make its audit row large. Mutates and returns `e`. */
export function clipEvent(e: AuditEvent): AuditEvent {
  if (e.rpcMethod !== undefined) e.rpcMethod = clip(e.rpcMethod, MAX_NAME_CHARS);
  if (e.target !== undefined) e.target = clip(e.target, MAX_NAME_CHARS);
  if (e.subject !== undefined) e.subject = clip(e.subject, MAX_NAME_CHARS);
  if (e.clientId !== undefined) e.clientId = clip(e.clientId, MAX_NAME_CHARS);
  if (e.issuer !== undefined) e.issuer = clip(e.issuer, MAX_NAME_CHARS);
  if (e.detail !== undefined) e.detail = clip(e.detail, MAX_DETAIL_CHARS);
  e.httpMethod = clip(e.httpMethod, 16);
  return e;
}
