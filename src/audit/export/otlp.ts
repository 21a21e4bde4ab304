// Audit events as OpenTelemetry logs: an OTLP/HTTP ExportLogsServiceRequest in the JSON Protobuf
// encoding (opentelemetry-proto logs.proto; OTLP spec "JSON Protobuf Encoding"): lowerCamelCase keys,
// enums as integers, 64-bit integers (timeUnixNano, intValue) as decimal strings, values in AnyValue
// wrappers ({ stringValue }, { intValue }, { kvlistValue: { values: [{ key, value }] } }…). One
// ResourceLogs per replica (service.name deputy, service.instance.id the replica id), one LogRecord
// per event in chain order. The record carries nothing the audit row does not hold.
import type { ChainRow } from '../chain.ts';
import { document, type ExportFormat } from './formats.ts';

export type AnyValue =
  | { stringValue: string }
  | { boolValue: boolean }
  | { intValue: string }
  | { doubleValue: number | string }
  | { arrayValue: { values: AnyValue[] } }
  | { kvlistValue: { values: KeyValue[] } }
  | Record<string, never>;

export interface KeyValue {
  key: string;
  value: AnyValue;
}

export interface OtlpLogRecord {
  timeUnixNano: string;
  observedTimeUnixNano: string;
  severityNumber: number;
  severityText: string;
  body: AnyValue;
  attributes: KeyValue[];
  eventName: string;
}

export interface ExportLogsServiceRequest {
  resourceLogs: { resource: { attributes: KeyValue[] }; scopeLogs: { scope: { name: string }; logRecords: OtlpLogRecord[] }[] }[];
}

/** The instrumentation scope of every record, and its event name. */
export const OTLP_SCOPE = 'deputy.audit';

/**
 * Syslog severity (what the syslog sink sends for the outcome) to OpenTelemetry SeverityNumber and its
 * short name, per the logs data model's example mapping (Appendix B: Informational → INFO 9, Notice →
 * INFO2 10, Warning → WARN 13, Error → ERROR 17…).
 */
const SEVERITY: Record<number, [number, string]> = { 0: [21, 'FATAL'], 1: [19, 'ERROR3'], 2: [18, 'ERROR2'], 3: [17, 'ERROR'], 4: [13, 'WARN'], 5: [10, 'INFO2'], 6: [9, 'INFO'], 7: [5, 'DEBUG'] };

export function otlpSeverity(syslogSeverity: number): [number, string] {
  return SEVERITY[syslogSeverity] ?? [9, 'INFO'];
}

/** A JavaScript value as an OTLP AnyValue (undefined members are left out, null is the empty AnyValue). */
export function anyValue(v: unknown): AnyValue {
  if (typeof v === 'string') return { stringValue: v };
  if (typeof v === 'boolean') return { boolValue: v };
  if (typeof v === 'bigint') return { intValue: v.toString() };
  if (typeof v === 'number') {
    if (Number.isSafeInteger(v)) return { intValue: String(v) };
    return { doubleValue: Number.isFinite(v) ? v : String(v) }; // proto3 JSON spells these "NaN", "Infinity", "-Infinity"
  }
  if (Array.isArray(v)) return { arrayValue: { values: v.map(anyValue) } };
  if (v !== null && typeof v === 'object') return { kvlistValue: { values: attributes(v as Record<string, unknown>) } };
  return {};
}

function attributes(o: Record<string, unknown>): KeyValue[] {
  return Object.entries(o).filter(([, v]) => v !== undefined).map(([key, v]) => ({ key, value: anyValue(v) }));
}

/** Milliseconds since the epoch (or an ISO time) as fixed64 nanoseconds, a decimal string; 0 (unknown) if unparsable. */
export function unixNano(time: string | number): string {
  const ms = typeof time === 'number' ? time : Date.parse(time);
  return Number.isFinite(ms) ? (BigInt(Math.trunc(ms)) * 1_000_000n).toString() : '0';
}

/** The attributes of one event: the chain fields, then who, where and what, then the result. Absent fields are left out. */
export function recordAttributes(e: ChainRow): KeyValue[] {
  return attributes({
    'deputy.replica_id': e.replicaId,
    'deputy.seq': e.seq,
    'deputy.hash': e.hash,
    'deputy.prev_hash': e.prevHash,
    'deputy.request_id': e.requestId,
    'deputy.outcome': e.outcome,
    'user.id': e.subject,
    'deputy.issuer': e.issuer,
    'deputy.client_id': e.clientId,
    'deputy.upstream': e.upstream,
    'deputy.route': e.route,
    'http.request.method': e.httpMethod === '-' ? undefined : e.httpMethod,
    'mcp.method.name': e.rpcMethod,
    'deputy.target': e.target,
    'gen_ai.tool.name': e.rpcMethod === 'tools/call' ? e.target : undefined,
    'deputy.credential_mode': e.credentialMode,
    'http.response.status_code': e.status > 0 ? e.status : undefined,
  });
}

export function resourceAttributes(replicaId: string): KeyValue[] {
  return attributes({ 'service.name': 'deputy', 'service.instance.id': replicaId });
}

export function logRecord(e: ChainRow, kind: ExportFormat, syslogSeverity: number, observedMs: number): OtlpLogRecord {
  const [severityNumber, severityText] = otlpSeverity(syslogSeverity);
  return {
    timeUnixNano: unixNano(e.time),
    observedTimeUnixNano: unixNano(observedMs),
    severityNumber,
    severityText,
    body: anyValue(document(kind, e)),
    attributes: recordAttributes(e),
    eventName: OTLP_SCOPE,
  };
}

/** One request for a batch: the rows grouped by replica (a batch normally holds one), chain order kept. */
export function logsRequest(rows: ChainRow[], kind: ExportFormat, severities: number[], observedMs = Date.now()): ExportLogsServiceRequest {
  const byReplica = new Map<string, OtlpLogRecord[]>();
  rows.forEach((e, i) => {
    let records = byReplica.get(e.replicaId);
    if (!records) byReplica.set(e.replicaId, (records = []));
    records.push(logRecord(e, kind, severities[i] ?? 6, observedMs));
  });
  return {
    resourceLogs: [...byReplica].map(([replicaId, logRecords]) => ({
      resource: { attributes: resourceAttributes(replicaId) },
      scopeLogs: [{ scope: { name: OTLP_SCOPE }, logRecords }],
    })),
  };
}

/**
 * The partial success of an ExportLogsServiceResponse (JSON), if the server set one: how many records it
 * rejected (0 with a message is a warning) and its message. An empty or non-JSON body is full success.
 */
export function partialSuccess(body: string): { rejected: number; message: string } | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return undefined;
  }
  const p = (parsed as { partialSuccess?: unknown; partial_success?: unknown } | null)?.partialSuccess ?? (parsed as { partial_success?: unknown } | null)?.partial_success;
  if (!p || typeof p !== 'object') return undefined;
  const f = p as Record<string, unknown>;
  const n = Number(f.rejectedLogRecords ?? f.rejected_log_records ?? 0); // int64: a string in proto3 JSON, a number from some servers
  const m = f.errorMessage ?? f.error_message;
  const message = typeof m === 'string' ? m.replace(/[\x00-\x1f\x7f]+/g, ' ').slice(0, 200) : '';
  if (!(n > 0) && !message) return undefined;
  return { rejected: Number.isFinite(n) && n > 0 ? n : 0, message };
}
