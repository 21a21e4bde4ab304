// How an exported audit event reads at the receiving end: Deputy's native JSON, OCSF (API Activity,
// class 6003), CEF (ArcSight and most SIEMs) or LEEF 2.0 (IBM QRadar). Every format carries the chain fields (replica, seq, hash, previous hash), so a
// SIEM can check that nothing is missing or altered, and none carries more than the audit row does
// (no token, no header, no body can be in it).
import type { ChainRow } from '../chain.ts';

export type ExportFormat = 'json' | 'ocsf' | 'cef' | 'leef';
/** Formats that are a line of text rather than a JSON document. */
export const TEXT_FORMATS: ReadonlySet<ExportFormat> = new Set(['cef', 'leef']);

const OK = new Set(['ok']);
const FAILURE_SEVERITY: Record<string, number> = { denied: 3, unauthenticated: 3, rejected: 2, throttled: 2, overloaded: 3, consent_required: 1, aborted: 1, upstream_error: 4, credential_error: 4, error: 4 };

export function format(kind: ExportFormat, e: ChainRow): string {
  const d = document(kind, e);
  return typeof d === 'string' ? d : JSON.stringify(d);
}

/** The event in a format before serialization: an object for json and ocsf (a structured OTLP body), text for cef and leef. */
export function document(kind: ExportFormat, e: ChainRow): Record<string, unknown> | string {
  switch (kind) {
    case 'json':
      return native(e);
    case 'ocsf':
      return ocsf(e);
    case 'cef':
      return cef(e);
    case 'leef':
      return leef(e);
  }
}

function native(e: ChainRow): Record<string, unknown> {
  const { id: _id, ...rest } = e;
  return rest;
}

/** OCSF 1.x API Activity (class_uid 6003, category 6 Application Activity). */
export function ocsf(e: ChainRow): Record<string, unknown> {
  const activity = activityOf(e.rpcMethod);
  const ok = OK.has(e.outcome);
  return {
    activity_id: activity,
    category_uid: 6,
    class_uid: 6003,
    type_uid: 6003 * 100 + activity,
    time: Date.parse(e.time),
    severity_id: ok ? 1 : (FAILURE_SEVERITY[e.outcome] ?? 3),
    status_id: ok ? 1 : 2,
    status: ok ? 'Success' : 'Failure',
    status_code: String(e.status),
    ...(e.detail ? { status_detail: e.detail } : {}),
    message: `${e.rpcMethod ?? e.httpMethod} ${e.target ?? e.route} → ${e.outcome}`,
    metadata: {
      version: '1.5.0',
      product: { name: 'Deputy', vendor_name: 'Deputy', feature: { name: 'audit' } },
      uid: e.hash,
      correlation_uid: e.requestId,
      sequence: e.seq,
      log_name: e.replicaId,
    },
    actor: { user: { uid: e.subject ?? '', ...(e.issuer ? { domain: e.issuer } : {}) }, ...(e.clientId ? { app_uid: e.clientId } : {}) },
    api: {
      operation: e.rpcMethod ?? e.httpMethod,
      service: { name: e.upstream ?? 'deputy' },
      request: { uid: e.requestId },
      response: { code: e.status },
    },
    src_endpoint: { svc_name: e.clientId ?? 'unknown' },
    http_request: { http_method: e.httpMethod, url: { path: e.route } },
    ...(e.target ? { resources: [{ name: e.target, type: 'mcp' }] } : {}),
    duration: e.latencyMs,
    unmapped: { outcome: e.outcome, credential_mode: e.credentialMode, replica_id: e.replicaId, seq: e.seq, prev_hash: e.prevHash, hash: e.hash },
  };
}

function activityOf(method: string | undefined): number {
  if (!method) return 99;
  if (/\/(list|get|read)$|^server\/discover$/.test(method)) return 2; // Read
  if (method === 'tools/call') return 99; // Other: a call can do anything
  return 99;
}

/** CEF and LEEF severity, 0–10: ok is 1, refusals 6, upstream and credential failures 7, errors 8, others 4. */
function siemSeverity(e: ChainRow): number {
  return OK.has(e.outcome) ? 1 : ({ denied: 6, unauthenticated: 6, upstream_error: 7, credential_error: 7, error: 8 } as Record<string, number>)[e.outcome] ?? 4;
}

/** What kind of event it is, for a SIEM's event id or signature: `<mcp|accounts|pins>:<outcome>`. */
function eventClass(e: ChainRow): string {
  return `${e.route === 'accounts' || e.route === 'pins' ? e.route : 'mcp'}:${e.outcome}`;
}

/** ArcSight CEF:0, with header and extension escaping. */
export function cef(e: ChainRow): string {
  const h = (s: string) => s.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/[\r\n]+/g, ' ');
  const x = (s: string) => s.replace(/\\/g, '\\\\').replace(/=/g, '\\=').replace(/\r?\n|\r/g, '\\n');
  const severity = siemSeverity(e);
  const signature = eventClass(e);
  const name = `${e.rpcMethod ?? e.httpMethod} ${e.outcome}`;
  const ext: [string, string | number | undefined][] = [
    ['rt', Date.parse(e.time)], ['externalId', e.requestId], ['suser', e.subject], ['suid', e.clientId], ['cs1Label', 'issuer'], ['cs1', e.issuer],
    ['request', e.route], ['requestMethod', e.httpMethod], ['act', e.rpcMethod], ['cs2Label', 'target'], ['cs2', e.target], ['destinationServiceName', e.upstream],
    ['outcome', e.outcome], ['cn1Label', 'status'], ['cn1', e.status], ['cs3Label', 'credentialMode'], ['cs3', e.credentialMode], ['msg', e.detail],
    ['deviceExternalId', e.replicaId], ['cn2Label', 'seq'], ['cn2', e.seq], ['cs4Label', 'hash'], ['cs4', e.hash], ['cs5Label', 'prevHash'], ['cs5', e.prevHash],
  ];
  return `CEF:0|Deputy|Deputy|1.0|${h(signature)}|${h(name)}|${severity}|${ext.filter(([, v]) => v !== undefined && v !== '').map(([k, v]) => `${k}=${x(String(v))}`).join(' ')}`;
}

/** The delimiter between LEEF 2.0 attributes, declared in the header. */
const LEEF_DELIMITER = '^';

/**
 * IBM QRadar LEEF 2.0: `LEEF:2.0|Deputy|Deputy|1.0|<event id>|^|key=value^key=value…`, with QRadar's
 * predefined attributes where one fits (devTime, cat, sev 1–10, usrName, identSrc, url, proto) and
 * the chain fields as custom ones. LEEF has no escaping: a delimiter, tab or line break in a value
 * becomes a space, and a pipe in a header field a slash.
 */
export function leef(e: ChainRow): string {
  const h = (s: string) => s.replace(/[|\r\n]/g, (c) => (c === '|' ? '/' : ' '));
  const v = (s: string) => s.replace(/[\^\t\r\n]/g, ' ');
  const sev = siemSeverity(e);
  const eventId = eventClass(e);
  const attrs: [string, string | number | undefined][] = [
    ['devTime', e.time], ['devTimeFormat', "yyyy-MM-dd'T'HH:mm:ss.SSSX"], ['cat', e.rpcMethod ?? e.httpMethod], ['sev', sev],
    ['usrName', e.subject], ['identSrc', e.clientId], ['issuer', e.issuer], ['url', e.route], ['proto', 'HTTP'], ['requestMethod', e.httpMethod],
    ['target', e.target], ['upstream', e.upstream], ['outcome', e.outcome], ['status', e.status], ['credentialMode', e.credentialMode],
    ['requestId', e.requestId], ['latencyMs', e.latencyMs], ['msg', e.detail],
    ['replicaId', e.replicaId], ['seq', e.seq], ['hash', e.hash], ['prevHash', e.prevHash],
  ];
  return `LEEF:2.0|Deputy|Deputy|1.0|${h(eventId)}|${LEEF_DELIMITER}|${attrs.filter(([, x]) => x !== undefined && x !== '').map(([k, x]) => `${k}=${v(String(x))}`).join(LEEF_DELIMITER)}`;
}
