// Response helpers shared by every route. All bodies Deputy writes itself are small JSON documents.
import type { ServerResponse } from 'node:http';
import { challenge } from '../inbound/challenge.ts';
import type { AuthError } from '../inbound/errors.ts';
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

export function sendAuthError(res: ServerResponse, err: AuthError, resourceMetadata: string, scopes: string[]): void {
  const headers: Record<string, string> = {};
  if (err.status === 401 || err.status === 403 || err.status === 400) headers['www-authenticate'] = challenge(err, { resourceMetadata, scopes });
  if (err.status === 503) headers['retry-after'] = '5';
  sendJson(res, err.status, { error: err.error ?? (err.status === 503 ? 'temporarily_unavailable' : 'unauthorized'), error_description: err.message }, headers);
}
