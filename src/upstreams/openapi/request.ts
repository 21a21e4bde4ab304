// Tool arguments → an HTTP request against the configured base_url. Nothing in the arguments or the
// spec can change the host: path values are percent-encoded per segment (`/`, `?`, `#` and dot
// segments stay inside one segment), and headers that carry credentials or framing are never taken
// from arguments. Parameter serialization follows OpenAPI `style`/`explode`.
import { FormData } from 'undici';
import { upstreamHeaders } from '../../client/upstream-headers.ts';
import type { BodyBinding, OperationPlan, ParamBinding } from './operations.ts';
import type { Placement } from './security.ts';

export interface HttpRequestPlan {
  method: string;
  /** Raw request target (path + query), already encoded; sent as-is. */
  path: string;
  headers: Record<string, string>;
  body?: string | Buffer | FormData;
}

/** A bad argument value discovered while serializing; the message names the argument. */
export class ArgumentError extends Error {
  override name = 'ArgumentError';
}

type Obj = Record<string, any>;

/** RFC 3986 unreserved characters stay; everything else is percent-encoded (stricter than encodeURIComponent). */
export function encodeStrict(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** One path segment's worth of a value: `.` and `..` would be dot segments, so their dots are encoded too. */
export function encodePathValue(s: string): string {
  const e = encodeStrict(s);
  return /^\.+$/.test(e) ? e.replace(/\./g, '%2E') : e;
}

function scalar(v: unknown): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (v === null) return '';
  return JSON.stringify(v);
}

function pathValue(b: ParamBinding, v: unknown): string {
  if (b.json) return encodePathValue(JSON.stringify(v));
  const enc = (x: unknown) => encodePathValue(scalar(x));
  const prefix = b.style === 'label' ? '.' : b.style === 'matrix' ? `;${encodeStrict(b.name)}` : '';
  if (Array.isArray(v)) {
    if (b.style === 'matrix') return b.explode ? v.map((x) => `;${encodeStrict(b.name)}=${enc(x)}`).join('') : `${prefix}=${v.map(enc).join(',')}`;
    return `${prefix}${v.map(enc).join(b.style === 'label' && b.explode ? '.' : ',')}`;
  }
  if (v && typeof v === 'object') {
    const entries = Object.entries(v as Obj);
    if (b.style === 'matrix') return b.explode ? entries.map(([k, x]) => `;${encodeStrict(k)}=${enc(x)}`).join('') : `${prefix}=${entries.flatMap(([k, x]) => [encodeStrict(k), enc(x)]).join(',')}`;
    const sep = b.style === 'label' && b.explode ? '.' : ',';
    return `${prefix}${b.explode ? entries.map(([k, x]) => `${encodeStrict(k)}=${enc(x)}`).join(sep) : entries.flatMap(([k, x]) => [encodeStrict(k), enc(x)]).join(',')}`;
  }
  return b.style === 'matrix' ? `${prefix}=${enc(v)}` : `${prefix}${enc(v)}`;
}

/** Query pairs (already encoded) for one parameter. */
function queryPairs(name: string, v: unknown, style: string, explode: boolean, json: boolean): [string, string][] {
  const n = encodeStrict(name);
  if (json) return [[n, encodeStrict(JSON.stringify(v))]];
  if (style === 'deepObject') return deepPairs(n, v);
  if (Array.isArray(v)) {
    if (style === 'form' && explode) return v.map((x) => [n, encodeStrict(scalar(x))]);
    const sep = style === 'spaceDelimited' ? '%20' : style === 'pipeDelimited' ? '|' : style === 'x-tabDelimited' ? '%09' : ',';
    return [[n, v.map((x) => encodeStrict(scalar(x))).join(sep)]];
  }
  if (v && typeof v === 'object') {
    const entries = Object.entries(v as Obj);
    if (explode) return entries.map(([k, x]) => [encodeStrict(k), encodeStrict(scalar(x))]);
    return [[n, entries.flatMap(([k, x]) => [encodeStrict(k), encodeStrict(scalar(x))]).join(',')]];
  }
  return [[n, encodeStrict(scalar(v))]];
}

/** `filter[status]=open&filter[tags][0]=a`: brackets stay literal, names and values are encoded. */
function deepPairs(prefix: string, v: unknown): [string, string][] {
  if (Array.isArray(v)) return v.flatMap((x, i) => deepPairs(`${prefix}[${i}]`, x));
  if (v && typeof v === 'object') return Object.entries(v as Obj).flatMap(([k, x]) => deepPairs(`${prefix}[${encodeStrict(k)}]`, x));
  return [[prefix, encodeStrict(scalar(v))]];
}

function headerValue(b: ParamBinding, v: unknown): string {
  let s: string;
  if (b.json) s = JSON.stringify(v);
  else if (Array.isArray(v)) s = v.map(scalar).join(',');
  else if (v && typeof v === 'object') s = Object.entries(v as Obj).map(([k, x]) => (b.explode ? `${k}=${scalar(x)}` : `${k},${scalar(x)}`)).join(',');
  else s = scalar(v);
  // No CR/LF/NUL: a header value must not start a new header.
  if (/[\0\r\n]/.test(s)) throw new ArgumentError(`${b.arg}: header values cannot contain line breaks`);
  return s;
}

export interface CredentialPlacement {
  placements: Placement[];
  token: string;
}

export function buildRequest(plan: OperationPlan, basePath: string, args: Obj, credential: { headers: Record<string, string>; place?: CredentialPlacement }): HttpRequestPlan {
  let path = plan.path;
  const query: [string, string][] = [];
  const cookies: string[] = [];
  const own: Record<string, string> = { accept: plan.accept };
  for (const b of plan.params) {
    const v = args[b.arg];
    if (v === undefined) continue;
    switch (b.in) {
      case 'path':
        path = path.split(`{${b.name}}`).join(pathValue(b, v));
        break;
      case 'query':
        query.push(...queryPairs(b.name, v, b.style, b.explode, b.json));
        break;
      case 'header':
        own[b.name.toLowerCase()] = headerValue(b, v);
        break;
      case 'cookie':
        cookies.push(`${encodeStrict(b.name)}=${encodeStrict(b.json ? JSON.stringify(v) : Array.isArray(v) ? v.map(scalar).join(',') : scalar(v))}`);
        break;
    }
  }
  // Deputy's credential last, so nothing above can replace it: its headers, then where the spec places its token.
  const headers = upstreamHeaders({ own, credential: credential.headers });
  for (const p of credential.place?.placements ?? []) {
    const token = credential.place!.token;
    if (p.kind === 'bearer') headers.authorization = `Bearer ${token}`;
    else if (p.kind === 'basic') headers.authorization = `Basic ${Buffer.from(token, 'utf8').toString('base64')}`;
    else if (p.in === 'header') headers[p.name.toLowerCase()] = token;
    else if (p.in === 'query') query.push([encodeStrict(p.name), encodeStrict(token)]);
    else cookies.push(`${encodeStrict(p.name)}=${encodeStrict(token)}`);
  }
  if (cookies.length) headers.cookie = [headers.cookie, ...cookies].filter(Boolean).join('; ');
  const target = `${basePath}${path}${query.length ? `?${query.map(([k, v]) => `${k}=${v}`).join('&')}` : ''}`;
  const out: HttpRequestPlan = { method: plan.method.toUpperCase(), path: target, headers };
  if (plan.body && args.body !== undefined) {
    const { body, contentType } = encodeBody(plan.body, args.body);
    out.body = body;
    if (contentType) headers['content-type'] = contentType;
  }
  return out;
}

function encodeBody(b: BodyBinding, v: unknown): { body: string | Buffer | FormData; contentType?: string } {
  switch (b.kind) {
    case 'json':
      return { body: JSON.stringify(v), contentType: b.mediaType === '*/*' ? 'application/json' : b.mediaType };
    case 'text':
      return { body: typeof v === 'string' ? v : JSON.stringify(v), contentType: b.mediaType.includes('charset') ? b.mediaType : `${b.mediaType}; charset=utf-8` };
    case 'binary':
      return { body: decodeBase64(v, 'body'), contentType: b.mediaType === '*/*' ? 'application/octet-stream' : b.mediaType };
    case 'form': {
      const pairs: [string, string][] = [];
      for (const [k, x] of Object.entries(asObject(v))) {
        if (x === undefined) continue;
        const e = b.encoding[k];
        const style = e?.style ?? 'form';
        // Nested objects without an encoding are sent as JSON text (the only unambiguous choice).
        if (x && typeof x === 'object' && !Array.isArray(x) && style !== 'deepObject' && e?.explode !== true) pairs.push([encodeStrict(k), encodeStrict(JSON.stringify(x))]);
        else pairs.push(...queryPairs(k, x, style, e?.explode ?? style === 'form', false));
      }
      return { body: pairs.map(([k, x]) => `${k}=${x}`).join('&'), contentType: 'application/x-www-form-urlencoded' };
    }
    case 'multipart': {
      const form = new FormData();
      for (const [k, x] of Object.entries(asObject(v))) {
        if (x === undefined) continue;
        const values = Array.isArray(x) ? x : [x];
        for (const item of values) {
          if (b.fileFields.includes(k)) {
            const type = b.encoding[k]?.contentType?.split(',')[0]?.trim() || 'application/octet-stream';
            form.append(k, new Blob([new Uint8Array(decodeBase64(item, `body.${k}`))], { type }), k);
          } else if (item && typeof item === 'object') {
            form.append(k, new Blob([JSON.stringify(item)], { type: 'application/json' }));
          } else {
            form.append(k, scalar(item));
          }
        }
      }
      return { body: form };
    }
  }
}

function asObject(v: unknown): Obj {
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw new ArgumentError('body: expected an object of form fields');
  return v as Obj;
}

function decodeBase64(v: unknown, where: string): Buffer {
  if (typeof v !== 'string') throw new ArgumentError(`${where}: expected a base64-encoded string`);
  const s = v.replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/_-]*={0,2}$/.test(s) || s.length % 4 === 1) throw new ArgumentError(`${where}: not valid base64`);
  return Buffer.from(s, s.includes('-') || s.includes('_') ? 'base64url' : 'base64');
}
