// An HTTP response → an MCP CallToolResult. JSON becomes structuredContent (non-objects wrapped as
// `{ result }` when the tool's outputSchema says so) plus text; images become image content; other
// binary an embedded blob; non-2xx an error with the status and a short body. Secrets Deputy placed
// in the request are scrubbed from anything echoed back.
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { isJson, type OperationPlan } from './operations.ts';

const ERROR_BODY_CHARS = 2048;

export interface HttpResponse {
  status: number;
  contentType: string;
  body: Buffer;
}

export type Redact = (text: string) => string;

export function errorResult(message: string): CallToolResult {
  return { isError: true, content: [{ type: 'text', text: message }] };
}

export function toToolResult(plan: OperationPlan, upstream: string, res: HttpResponse, redact: Redact, checkOutput: (value: unknown) => string | undefined): CallToolResult {
  const mediaType = res.contentType.split(';')[0]!.trim().toLowerCase();
  if (res.status < 200 || res.status > 299) {
    const text = isTextual(mediaType) || mediaType === '' ? redact(res.body.toString('utf8')) : `(${res.body.length} bytes of ${mediaType})`;
    const shown = text.length > ERROR_BODY_CHARS ? `${text.slice(0, ERROR_BODY_CHARS)}… (${text.length} characters in total)` : text;
    const what = res.status >= 300 && res.status < 400 ? ' (redirects are not followed)' : '';
    return errorResult(`${upstream} responded HTTP ${res.status}${what} to ${plan.method.toUpperCase()} ${plan.path}${shown ? `:\n${shown}` : ''}`);
  }
  if (res.body.length === 0) {
    const text = `HTTP ${res.status}${res.status === 204 ? ' No Content' : ''}: ${plan.method.toUpperCase()} ${plan.path} succeeded`;
    // An advertised outputSchema needs structuredContent; an empty body is an empty object for unwrapped schemas.
    if (plan.output && !plan.output.wrap) return { content: [{ type: 'text', text }], structuredContent: {} };
    return { content: [{ type: 'text', text }] };
  }
  if (isJson(mediaType) && mediaType !== '*/*') {
    const text = redact(res.body.toString('utf8'));
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      return { content: [{ type: 'text', text }] };
    }
    if (!plan.output) {
      const structuredContent = isPlainObject(value) ? (value as Record<string, unknown>) : { result: value };
      return { content: [{ type: 'text', text }], structuredContent };
    }
    const structured = plan.output.wrap ? { result: value } : value;
    const problem = checkOutput(structured);
    if (problem) {
      // The client would reject structuredContent that contradicts the advertised schema; say why and still give the data.
      return errorResult(`${upstream} returned HTTP ${res.status} with a body that does not match the operation's response schema (${problem}). Body:\n${text}`);
    }
    return { content: [{ type: 'text', text }], structuredContent: structured as Record<string, unknown> };
  }
  if (plan.output) {
    return errorResult(`${upstream} returned HTTP ${res.status} with ${mediaType || 'no content type'} where the operation's response schema promises JSON (${res.body.length} bytes)`);
  }
  if (mediaType.startsWith('image/')) return { content: [{ type: 'image', data: res.body.toString('base64'), mimeType: mediaType }] };
  if (mediaType.startsWith('audio/')) return { content: [{ type: 'audio', data: res.body.toString('base64'), mimeType: mediaType }] };
  if (isTextual(mediaType) || (mediaType === '' && isUtf8Text(res.body))) return { content: [{ type: 'text', text: redact(res.body.toString('utf8')) }] };
  return {
    content: [
      { type: 'text', text: `HTTP ${res.status}: ${res.body.length} bytes of ${mediaType || 'binary data'} (embedded below)` },
      { type: 'resource', resource: { uri: `deputy://${upstream}/${plan.tool.name}/response`, mimeType: mediaType || 'application/octet-stream', blob: res.body.toString('base64') } },
    ],
  };
}

export function isTextual(mediaType: string): boolean {
  return mediaType.startsWith('text/') || isJson(mediaType) || /(^application\/(xml|javascript|ecmascript|x-yaml|yaml|x-www-form-urlencoded|graphql|csv|problem\+xml)$)|\+xml$/.test(mediaType);
}

function isUtf8Text(b: Buffer): boolean {
  const s = b.subarray(0, 4096).toString('utf8');
  return !s.includes('\uFFFD') && !/[\0-\x08\x0E-\x1F]/.test(s);
}

function isPlainObject(v: unknown): boolean {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
