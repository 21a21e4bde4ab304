// Response helpers shared by every route. All bodies Deputy writes itself are small JSON documents.
import type { ServerResponse } from 'node:http';
import { challenge } from '../inbound/challenge.ts';
import { DeputyError } from '../errors.ts';
import type { AuthError } from '../inbound/errors.ts';
import type { AuditRecord } from '../audit/record.ts';
import { errorBody, type JsonRpcId } from '../protocol/jsonrpc.ts';

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
export function sendSessionNotFound(res: ServerResponse, audit: AuditRecord, id: JsonRpcId): void {
  sendError(res, audit, new DeputyError('ERR_SESSION_NOT_FOUND', 'Session not found: start a new session with initialize'), id);
}

export function sendAuthError(res: ServerResponse, err: AuthError, resourceMetadata: string, scopes: string[]): void {
  const headers: Record<string, string> = { ...err.headers };
  if (err.status !== 503) headers['www-authenticate'] = challenge(err, { resourceMetadata, scopes });
  sendJson(res, err.status, { error: err.error ?? (err.status === 503 ? 'temporarily_unavailable' : 'unauthorized'), error_description: err.message }, headers);
}

/**
 * A refusal with a stable code (limits, quotas, 2026-era rules): its status, headers (Retry-After,
 * Allow) and JSON-RPC error from the one table in src/errors.ts, and the audit outcome with it.
 */
export function sendError(res: ServerResponse, audit: AuditRecord, error: DeputyError, id: JsonRpcId): void {
  audit.refuse(error);
  sendJson(res, error.status, JSON.stringify({ jsonrpc: '2.0', id, error: error.toJsonRpc() }), error.headers);
}
