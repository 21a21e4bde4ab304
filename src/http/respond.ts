// Response helpers shared by every route. All bodies Deputy writes itself are small JSON documents.
import type { ServerResponse } from 'node:http';
import { challenge } from '../inbound/challenge.ts';
import type { OverloadedError } from '../admission/concurrency.ts';
import type { QuotaExceededError } from '../admission/quota.ts';
import type { AuthError } from '../inbound/errors.ts';
import type { EraError } from '../protocol/era.ts';
import type { AuditEvent } from '../audit/event.ts';
import { errorBody, OVERLOADED, type JsonRpcId } from '../protocol/jsonrpc.ts';
import { SESSION_NOT_FOUND } from '../protocol/sessions.ts';

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

export function sendRpcError(res: ServerResponse, status: number, code: number, message: string, id: JsonRpcId = null): void {
  sendJson(res, status, errorBody(code, message, id));
}

/** 404 for a session that does not exist (or is not the caller's), recorded on the audit event. */
export function sendSessionNotFound(res: ServerResponse, event: AuditEvent, id: JsonRpcId): void {
  event.outcome = 'rejected';
  event.detail = 'unknown session';
  sendRpcError(res, 404, SESSION_NOT_FOUND, 'Session not found: start a new session with initialize', id);
}

export function sendAuthError(res: ServerResponse, err: AuthError, resourceMetadata: string, scopes: string[]): void {
  const headers: Record<string, string> = {};
  if (err.status === 401 || err.status === 403 || err.status === 400) headers['www-authenticate'] = challenge(err, { resourceMetadata, scopes });
  if (err.status === 503) headers['retry-after'] = '5';
  sendJson(res, err.status, { error: err.error ?? (err.status === 503 ? 'temporarily_unavailable' : 'unauthorized'), error_description: err.message }, headers);
}

/**
 * A limit was reached: 503 (a shared limit) or 429 (the caller's own), Retry-After, and the JSON-RPC
 * error the client's request would otherwise have answered; audited as `overloaded`/`throttled`.
 */
export function sendOverloaded(res: ServerResponse, event: AuditEvent, error: OverloadedError, id: JsonRpcId, status: 503 | 429 = 503): void {
  event.outcome = status === 429 ? 'throttled' : 'overloaded';
  event.detail = error.message;
  sendJson(res, status, errorBody(OVERLOADED, error.message, id), { 'retry-after': String(error.retryAfterSeconds) });
}

/**
 * A quota is used up: 429 with Retry-After and a JSON-RPC error carrying the retry time in `data`
 * (503 when the quota store is unreachable and the quota fails closed); audited as `throttled`.
 */
export function sendQuotaExceeded(res: ServerResponse, event: AuditEvent, error: QuotaExceededError, id: JsonRpcId): void {
  event.outcome = 'throttled';
  event.detail = error.message;
  sendJson(res, error.storeDown ? 503 : 429, JSON.stringify({ jsonrpc: '2.0', id, error: quotaError(error) }), { 'retry-after': String(error.retryAfterSeconds) });
}

/** The JSON-RPC error object for a used-up quota, also sent in-band (inside an SSE stream or on /mcp). */
export function quotaError(error: QuotaExceededError): { code: number; message: string; data: { retryAfterMs: number; scope: string } } {
  return { code: OVERLOADED, message: error.message, data: { retryAfterMs: error.retryAfterMs, scope: error.scope } };
}

/** A 2026-era refusal: its JSON-RPC error with `data` (the supported versions, for -32022). */
export function eraErrorBody(error: EraError): string {
  return JSON.stringify({ jsonrpc: '2.0', id: error.id, error: { code: error.code, message: error.message, ...(error.data === undefined ? {} : { data: error.data }) } });
}
