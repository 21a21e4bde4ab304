// The audit chain shipped as OpenTelemetry logs (OTLP/HTTP, JSON) to a real HTTP receiver. Deputy's
// requests are checked against the official OpenTelemetry JS SDK: the same record emitted through the
// SDK's OTLPLogExporter (http/json) to the same receiver must come out identical once the proto3 JSON
// equivalences are applied (int64 as string or number, a 0 count left out). Then the delivery
// guarantees: a collector answering 500 and a partial success that rejects records gets every event
// exactly once in chain order; the ingest secret stays in the Authorization header and out of logs,
// errors and the audit trail; and the lag gauges rise while the collector is down and fall to 0
// (SQLite through /metrics, PostgreSQL at the exporter, through a database outage).
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { OTLPLogExporter } from '@opentelemetry/exporter-logs-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { LoggerProvider, SimpleLogRecordProcessor } from '@opentelemetry/sdk-logs';
import { verifyChain, type ChainRow } from '../../src/audit/chain.ts';
import type { AuditEvent } from '../../src/audit/event.ts';
import { AuditExporter, isExportable } from '../../src/audit/export/exporter.ts';
import { format } from '../../src/audit/export/formats.ts';
import { otlpSink } from '../../src/audit/export/sinks.ts';
import { PostgresAuditSink } from '../../src/audit/postgres.ts';
import { parseConfig } from '../../src/config/schema.ts';
import type { AuthorizationServer } from '../../src/demo/authorization-server.ts';
import { startGateway, type Gateway } from '../../src/gateway.ts';
import { onCleanup } from '../support/cleanup.ts';
import { waitFor } from '../support/ports.ts';
import { startPostgres } from '../support/postgres.ts';
import { connectClient, logLines, startAs, startUpstream, userToken } from '../support/stack.ts';

const SECRET = 'Bearer otlp-ingest-secret-7f3a9c';

let as: AuthorizationServer;
let upstreamUrl: string;
before(async () => {
  as = await startAs();
  upstreamUrl = (await startUpstream({ stateless: true })).url;
});

type Json = Record<string, any>;
interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: Json;
  /** What the receiver answered: the status and whether it counts as taking the records. */
  status: number;
  accepted: boolean;
}

/** An OTLP/HTTP receiver on 127.0.0.1: `answer(n)` picks the response to the n-th request (from 1). */
async function receiver(answer: (n: number) => { status: number; body?: Json; accepted: boolean } = () => ({ status: 200, body: {}, accepted: true })) {
  const requests: Received[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const a = answer(requests.length + 1);
      requests.push({ path: req.url!, headers: req.headers, body: JSON.parse(Buffer.concat(chunks).toString('utf8')), status: a.status, accepted: a.accepted });
      res.writeHead(a.status, { 'content-type': 'application/json' }).end(JSON.stringify(a.body ?? (a.status === 200 ? {} : { code: 14, message: 'unavailable' })));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  onCleanup(() => new Promise<void>((r) => server.close(() => r())));
  return { requests, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

async function deputy(auditExport: unknown[], metrics = false): Promise<Gateway> {
  const dir = mkdtempSync(join(tmpdir(), 'deputy-otlp-'));
  const config = parseConfig({
    server: { host: '127.0.0.1', port: 0 },
    auth: { issuers: [{ issuer: as.issuer }] },
    upstreams: [{ name: 'notes', type: 'mcp', url: upstreamUrl, credentials: { type: 'static', headers: { 'X-Tenant': 'a' } } }],
    audit: { store: `sqlite:${join(dir, 'audit.db')}`, export: auditExport },
    metrics: { enabled: metrics },
  }, { baseDir: dir, env: { ...process.env, OTLP_TOKEN: SECRET } });
  const gw = await startGateway(config);
  onCleanup(() => gw.close());
  return gw;
}

/** `n` tool calls and one unauthenticated request; resolves once all are in the store. Returns the chain's length. */
async function traffic(gw: Gateway, n: number): Promise<number> {
  const client = await connectClient(`${gw.url}/mcp/notes`, await userToken(as, `${gw.url}/mcp/notes`, { sub: 'sam' }));
  for (let i = 0; i < n; i++) await client.callTool({ name: 'echo', arguments: { text: `m${i}` } });
  // The client stays connected until the test's clean-up: closing it ends its GET stream, an event written a moment later.
  await fetch(`${gw.url}/mcp/notes`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' }); // a 401
  await gw.audit.flush();
  return (await chain(gw)).length;
}

async function chain(gw: Gateway): Promise<ChainRow[]> {
  assert.ok(isExportable(gw.audit));
  return gw.audit.chainAfter(0, 10_000);
}

const records = (reqs: Received[]): Json[] => reqs.flatMap((r) => r.body.resourceLogs.flatMap((rl: Json) => rl.scopeLogs.flatMap((sl: Json) => sl.logRecords)));
const attr = (rec: Json, key: string): Json | undefined => rec.attributes.find((a: Json) => a.key === key)?.value;
const seqOf = (rec: Json): number => Number(attr(rec, 'deputy.seq')!.intValue);

/** An OTLP AnyValue back to the JavaScript value (int64 arrives as a decimal string). */
function fromAnyValue(v: Json): unknown {
  if ('stringValue' in v) return v.stringValue;
  if ('boolValue' in v) return v.boolValue;
  if ('intValue' in v) return Number(v.intValue);
  if ('doubleValue' in v) return Number(v.doubleValue);
  if ('arrayValue' in v) return (v.arrayValue.values ?? []).map(fromAnyValue);
  if ('kvlistValue' in v) return Object.fromEntries((v.kvlistValue.values ?? []).map((kv: Json) => [kv.key, fromAnyValue(kv.value)]));
  return null;
}

/**
 * Two OTLP JSON payloads made comparable under the proto3 JSON mapping: 64-bit integers (fixed64
 * times, AnyValue.intValue) may be strings or numbers, and a count of 0 may be left out.
 */
function proto3(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(proto3);
  if (v === null || typeof v !== 'object') return v;
  const out: Json = {};
  for (const [k, x] of Object.entries(v)) {
    if (x === undefined || (k === 'droppedAttributesCount' && x === 0)) continue;
    out[k] = ['timeUnixNano', 'observedTimeUnixNano', 'intValue'].includes(k) ? String(x) : proto3(x);
  }
  return out;
}

/** The attributes the docs promise for an event, built from the chain row (not from Deputy's payload). */
function expectedAttributes(e: ChainRow): Record<string, string | number> {
  const a: Record<string, string | number | undefined> = {
    'deputy.replica_id': e.replicaId, 'deputy.seq': e.seq, 'deputy.hash': e.hash, 'deputy.prev_hash': e.prevHash, 'deputy.request_id': e.requestId,
    'deputy.outcome': e.outcome, 'user.id': e.subject, 'deputy.issuer': e.issuer, 'deputy.client_id': e.clientId, 'deputy.upstream': e.upstream,
    'deputy.route': e.route, 'http.request.method': e.httpMethod === '-' ? undefined : e.httpMethod, 'mcp.method.name': e.rpcMethod, 'deputy.target': e.target,
    'gen_ai.tool.name': e.rpcMethod === 'tools/call' ? e.target : undefined, 'deputy.credential_mode': e.credentialMode, 'http.response.status_code': e.status > 0 ? e.status : undefined,
  };
  return Object.fromEntries(Object.entries(a).filter(([, v]) => v !== undefined)) as Record<string, string | number>;
}

test('OTLP/HTTP JSON: the payload is what the OpenTelemetry SDK sends for the same record; json, ocsf and cef bodies; the chain re-verifies from the logs alone', async () => {
  const otlp = await receiver();
  const gw = await deputy([
    { sink: 'otlp', endpoint: `${otlp.url}/json/v1/logs`, format: 'json', interval_ms: 50, headers: { Authorization: { env: 'OTLP_TOKEN' }, 'X-Scope-OrgID': 'tenant-a' } },
    { sink: 'otlp', endpoint: `${otlp.url}/ocsf/v1/logs`, format: 'ocsf', interval_ms: 50 },
    { sink: 'otlp', endpoint: `${otlp.url}/cef/v1/logs`, format: 'cef', interval_ms: 50 },
  ]);
  const total = await traffic(gw, 4);
  const rows = await chain(gw);
  const byPath = (p: string) => otlp.requests.filter((r) => r.path === p);
  await waitFor(() => ['/json/v1/logs', '/ocsf/v1/logs', '/cef/v1/logs'].every((p) => records(byPath(p)).length >= total), `${total} log records on each endpoint`);

  const json = byPath('/json/v1/logs');
  for (const r of json) {
    assert.equal(r.headers['content-type'], 'application/json', 'OTLP/HTTP JSON requires Content-Type: application/json');
    assert.equal(r.headers.authorization, SECRET, 'the header secret is sent as configured');
    assert.equal(r.headers['x-scope-orgid'], 'tenant-a');
    assert.equal(r.body.resourceLogs.length, 1, 'one replica, one ResourceLogs');
    const rl = r.body.resourceLogs[0];
    assert.deepEqual(rl.resource.attributes, [{ key: 'service.name', value: { stringValue: 'deputy' } }, { key: 'service.instance.id', value: { stringValue: rows[0]!.replicaId } }]);
    assert.deepEqual(rl.scopeLogs.map((s: Json) => s.scope), [{ name: 'deputy.audit' }]);
  }
  assert.equal(byPath('/ocsf/v1/logs')[0]!.headers.authorization, undefined, 'headers belong to their own sink');

  const recs = records(json);
  assert.deepEqual(recs.map(seqOf), rows.map((r) => r.seq), 'one record per event, in chain order');
  recs.forEach((rec, i) => {
    const e = rows[i]!;
    // proto3 JSON: fixed64 and int64 as decimal strings; enums as integers; lowerCamelCase keys.
    assert.equal(rec.timeUnixNano, String(BigInt(Date.parse(e.time)) * 1_000_000n));
    assert.match(rec.observedTimeUnixNano, /^\d{19}$/);
    assert.ok(BigInt(rec.observedTimeUnixNano) >= BigInt(rec.timeUnixNano), 'observed after it happened');
    assert.equal(attr(rec, 'deputy.seq')!.intValue, String(e.seq));
    assert.equal(attr(rec, 'http.response.status_code')!.intValue, String(e.status));
    assert.deepEqual(Object.fromEntries(rec.attributes.map((a: Json) => [a.key, fromAnyValue(a.value)])), expectedAttributes(e));
    assert.equal(rec.eventName, 'deputy.audit');
    const [number, text] = e.outcome === 'ok' ? [9, 'INFO'] : e.outcome === 'unauthenticated' ? [13, 'WARN'] : [undefined, undefined];
    if (number) assert.deepEqual([rec.severityNumber, rec.severityText], [number, text], `severity of ${e.outcome}`);
  });
  assert.ok(rows.some((e) => e.outcome === 'unauthenticated') && rows.some((e) => e.rpcMethod === 'tools/call' && e.outcome === 'ok'));

  // The receiving side re-verifies the hash chain from the log bodies alone.
  const bodies = recs.map((rec, i) => ({ ...(fromAnyValue(rec.body) as ChainRow), id: i + 1 }));
  assert.deepEqual(bodies.map(({ id: _, ...b }) => b), rows.map((r) => JSON.parse(format('json', r))), 'the json body is the native event');
  assert.equal((await verifyChain(bodies)).ok, true);

  // ocsf: a structured body with OCSF's typed fields; cef: the line as a string body.
  const ocsf = records(byPath('/ocsf/v1/logs')).map((rec) => fromAnyValue(rec.body) as Json);
  assert.deepEqual(ocsf.map((o) => o.metadata.sequence), rows.map((r) => r.seq));
  assert.ok(ocsf.every((o) => o.class_uid === 6003 && o.category_uid === 6));
  const ocsfRec = records(byPath('/ocsf/v1/logs'))[0]!;
  assert.deepEqual(ocsfRec.body.kvlistValue.values.find((kv: Json) => kv.key === 'class_uid').value, { intValue: '6003' });
  const cef = records(byPath('/cef/v1/logs'));
  assert.deepEqual(cef.map((rec) => rec.body.stringValue), rows.map((r) => format('cef', r)));

  // The same events through the official SDK (LoggerProvider → OTLPLogExporter, http/json) to the same receiver.
  const sdk = new LoggerProvider({
    resource: resourceFromAttributes({ 'service.name': 'deputy', 'service.instance.id': rows[0]!.replicaId }),
    processors: [new SimpleLogRecordProcessor({ exporter: new OTLPLogExporter({ url: `${otlp.url}/sdk/v1/logs` }) })],
  });
  const compared = [rows.find((e) => e.outcome === 'ok' && e.rpcMethod === 'tools/call')!, rows.find((e) => e.outcome === 'unauthenticated')!];
  for (const e of compared) {
    const mine = recs[rows.indexOf(e)]!;
    const observed = BigInt(mine.observedTimeUnixNano);
    sdk.getLogger('deputy.audit').emit({
      timestamp: new Date(e.time),
      observedTimestamp: [Number(observed / 1_000_000_000n), Number(observed % 1_000_000_000n)],
      severityNumber: e.outcome === 'ok' ? 9 : 13,
      severityText: e.outcome === 'ok' ? 'INFO' : 'WARN',
      eventName: 'deputy.audit',
      body: JSON.parse(format('json', e)),
      attributes: expectedAttributes(e),
    });
    await sdk.forceFlush();
    await waitFor(() => byPath('/sdk/v1/logs').length === compared.indexOf(e) + 1, 'the SDK\'s request');
    const theirs = byPath('/sdk/v1/logs').at(-1)!;
    assert.equal(theirs.headers['content-type'], 'application/json');
    const single = (rec: Json) => ({ resourceLogs: [{ resource: json[0]!.body.resourceLogs[0].resource, scopeLogs: [{ scope: { name: 'deputy.audit' }, logRecords: [rec] }] }] });
    assert.deepEqual(proto3(single(mine)), proto3(theirs.body), `Deputy's OTLP JSON for seq ${e.seq} equals the SDK's`);
  }
  await sdk.shutdown();
  assert.equal(byPath('/sdk/v1/logs').length, compared.length);
});

test('OTLP delivery: 500s and a partial success that rejects records are retried; every event arrives once, in chain order; the ingest secret is never logged or audited', async () => {
  const logStart = logLines.length;
  // Down (503) until the traffic is all stored, so that every batch is full; then a scripted sequence.
  let open = false;
  let scripted = 0;
  const otlp = await receiver(() => {
    if (!open) return { status: 503, accepted: false };
    const n = ++scripted;
    if (n === 1) return { status: 500, accepted: false };
    if (n === 2) return { status: 500, accepted: false };
    if (n === 3) return { status: 200, body: { partialSuccess: { rejectedLogRecords: '2', errorMessage: 'attribute deputy.hash\ttoo long' } }, accepted: false };
    if (n === 4) return { status: 200, body: { partialSuccess: { rejectedLogRecords: '0', errorMessage: 'deprecated field' } }, accepted: true }; // a warning: taken
    return { status: 200, body: {}, accepted: true };
  });
  const gw = await deputy([{ sink: 'otlp', endpoint: `${otlp.url}/v1/logs`, batch_size: 3, interval_ms: 50, headers: { Authorization: { env: 'OTLP_TOKEN' } } }]);
  const total = await traffic(gw, 6);
  const exporter = gw.shared.exporters[0]!;
  const early = otlp.requests.length;
  open = true;
  await waitFor(() => records(otlp.requests.filter((r) => r.accepted)).length >= total, `${total} records taken`, 30_000);

  const taken = otlp.requests.filter((r) => r.accepted);
  assert.deepEqual(records(taken).map(seqOf), Array.from({ length: total }, (_, i) => i + 1), 'every event exactly once among the batches the collector took, in chain order');
  assert.ok(otlp.requests.slice(0, early).every((r) => records([r])[0] && seqOf(records([r])[0]!) === 1), 'while down, every attempt starts at the first event');
  const [first, second, partial, afterPartial] = otlp.requests.slice(otlp.requests.findIndex((r, i) => i >= early && r.status === 500));
  assert.deepEqual(records([first!]).map(seqOf), [1, 2, 3]);
  assert.deepEqual(records([second!]).map(seqOf), [1, 2, 3], 'after a 500 the same batch again');
  assert.deepEqual(records([partial!]).map(seqOf), [1, 2, 3]);
  assert.equal(partial!.status, 200);
  assert.deepEqual(records([afterPartial!]).map(seqOf), [1, 2, 3], 'a partial success with rejected records is a failure: the batch is sent again');
  assert.ok(afterPartial!.accepted);
  assert.equal(exporter.sent, total);
  assert.equal(exporter.failures, 0, 'recovered');

  const logs = logLines.slice(logStart);
  const failing = logs.filter((l) => l.includes('audit export is failing'));
  assert.ok(failing.some((l) => /the OTLP endpoint answered HTTP 50[03]/.test(l)), failing.join('\n'));
  const rejection = logs.map((l) => JSON.parse(l) as Json).find((l) => l.msg.includes('rejected audit log records'));
  assert.deepEqual([rejection?.rejected, rejection?.of, rejection?.message], [2, 3, 'attribute deputy.hash too long'], 'the rejection and the collector\'s reason are logged');
  assert.ok(logs.some((l) => l.includes('accepted the audit events with a warning') && l.includes('deprecated field')));
  assert.ok(otlp.requests.every((r) => r.headers.authorization === SECRET));
  const secretPart = SECRET.split(' ')[1]!;
  assert.ok(!logs.some((l) => l.includes(secretPart)), 'the ingest secret is never logged');
  assert.ok(!otlp.requests.some((r) => JSON.stringify(r.body).includes(secretPart)), 'nor in any payload');
  assert.ok(!JSON.stringify(await chain(gw)).includes(secretPart), 'nor in the audit trail');
  assert.ok(!(exporter.lastError ?? '').includes(secretPart));
});

test('lag gauges: a collector that is down makes deputy_audit_export_lag_events and _seconds grow; after recovery both are 0', async () => {
  let down = true;
  const otlp = await receiver(() => (down ? { status: 503, accepted: false } : { status: 200, accepted: true }));
  const gw = await deputy([{ sink: 'otlp', name: 'collector', endpoint: `${otlp.url}/v1/logs`, interval_ms: 50, headers: { Authorization: { env: 'OTLP_TOKEN' } } }], true);
  const gauge = async (name: string): Promise<number | undefined> => {
    const text = await (await fetch(`${gw.url}/metrics`)).text();
    const m = new RegExp(`^${name}\\{exporter="collector"\\} (\\S+)$`, 'm').exec(text);
    return m ? Number(m[1]) : undefined;
  };

  const first = await traffic(gw, 2);
  await waitFor(async () => (await gauge('deputy_audit_export_lag_events')) === first, `lag of ${first} events`);
  const total = await traffic(gw, 3);
  assert.ok(total > first);
  await waitFor(async () => (await gauge('deputy_audit_export_lag_events')) === total, `lag growing to ${total} events`);
  await waitFor(async () => ((await gauge('deputy_audit_export_lag_seconds')) ?? 0) > 0.3, 'the oldest waiting event ages');
  const failures = await gauge('deputy_audit_export_failures');
  assert.ok(failures! > 0, 'the failures gauge shows the stall too');
  assert.ok(otlp.requests.length > 0 && otlp.requests.every((r) => !r.accepted), 'the exporter kept trying');

  down = false;
  await waitFor(async () => (await gauge('deputy_audit_export_lag_events')) === 0, 'lag back to 0 events', 30_000);
  assert.equal(await gauge('deputy_audit_export_lag_seconds'), 0);
  assert.equal(await gauge('deputy_audit_exported_total'), total);
  assert.deepEqual(records(otlp.requests.filter((r) => r.accepted)).map(seqOf), Array.from({ length: total }, (_, i) => i + 1));
});

test('lag on PostgreSQL: head minus cursor while the collector is down, 0 after; the last figure stands while the database is down', async () => {
  const pgServer = await startPostgres();
  const store = new PostgresAuditSink(pgServer.url, { replicaId: 'pg-lag-1', spoolDir: mkdtempSync(join(tmpdir(), 'deputy-spool-')) });
  await store.start();
  onCleanup(() => store.close());
  let down = true;
  const otlp = await receiver(() => (down ? { status: 502, accepted: false } : { status: 200, accepted: true }));
  const exporter = new AuditExporter(store, otlpSink(`${otlp.url}/v1/logs`, () => ({}), 'json'), { name: 'otlp-pg', format: 'json', batchSize: 50, intervalMs: 50, maxBackoffMs: 200 });
  onCleanup(() => exporter.close());
  const event = (i: number): AuditEvent => ({ time: new Date(Date.now() - 5000).toISOString(), requestId: `r${i}`, route: '/mcp/notes', httpMethod: 'POST', rpcMethod: 'tools/call', target: 'echo', upstream: 'notes', subject: 'pat', outcome: 'ok', status: 200, latencyMs: 1 });
  for (let i = 0; i < 7; i++) store.write(event(i));
  await store.flush();
  assert.equal(await store.chainHead(), 7);
  exporter.start();
  await waitFor(() => otlp.requests.length >= 2, 'attempts while the collector is down');
  await new Promise((r) => setTimeout(r, 1100)); // past the one-second reuse of a measurement
  const lag = await exporter.lag();
  assert.equal(lag?.events, 7);
  assert.ok(lag!.seconds >= 5, `the oldest event is over 5 s old: ${lag!.seconds}`);

  await pgServer.stop();
  await new Promise((r) => setTimeout(r, 1100));
  assert.deepEqual(await exporter.lag(), lag, 'while the store cannot answer, the last figure stands');
  await pgServer.start();
  down = false;
  await waitFor(async () => (await exporter.lag())?.events === 0, 'lag 0 after recovery', 30_000);
  assert.deepEqual(records(otlp.requests.filter((r) => r.accepted)).map(seqOf), [1, 2, 3, 4, 5, 6, 7]);
});
