// Small JSON GET used for metadata and JWKS: bounded time and size, specific error messages.
import { request } from 'undici';
import { readCapped } from './read-capped.ts';

export class FetchError extends Error {
  override name = 'FetchError';
}

export async function fetchJson(url: string, opts: { timeoutMs?: number; maxBytes?: number } = {}): Promise<unknown> {
  const timeoutMs = opts.timeoutMs ?? 5000;
  const maxBytes = opts.maxBytes ?? 1_048_576;
  let res;
  try {
    res = await request(url, {
      method: 'GET',
      headers: { accept: 'application/json' },
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
      signal: AbortSignal.timeout(timeoutMs),
      maxRedirections: 0,
    } as Parameters<typeof request>[1]);
  } catch (error) {
    throw new FetchError(`GET ${url} failed: ${describeNetworkError(error)}`);
  }
  const body = await readCapped(res.body, maxBytes);
  if (!body) throw new FetchError(`GET ${url}: response larger than ${maxBytes} bytes`);
  if (res.statusCode !== 200) throw new FetchError(`GET ${url}: HTTP ${res.statusCode}`);
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    throw new FetchError(`GET ${url}: response is not JSON`);
  }
}

const TIMEOUT_CODES = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'UND_ERR_CONNECT_TIMEOUT']);

/** A timeout, recognised by error name or code (never by message text). */
export function isTimeout(error: unknown): boolean {
  const e = error as { name?: string; code?: string; cause?: { name?: string; code?: string } } | undefined;
  return e?.name === 'TimeoutError' || TIMEOUT_CODES.has(e?.code ?? '') || e?.cause?.name === 'TimeoutError' || TIMEOUT_CODES.has(e?.cause?.code ?? '');
}

/** `ECONNREFUSED 127.0.0.1:9` instead of undici's nested `fetch failed`. */
export function describeNetworkError(error: unknown): string {
  const e = error as { name?: string; code?: string; message?: string; cause?: { code?: string; message?: string } };
  if (isTimeout(error)) return 'timed out';
  const code = e?.cause?.code ?? e?.code;
  const message = e?.cause?.message ?? e?.message ?? String(error);
  return code && !message.includes(code) ? `${code} ${message}` : message;
}
