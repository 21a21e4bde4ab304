// The audit chain shipped to a SIEM, with real receivers: an RFC 5424 syslog listener over TCP
// (octet counting) getting CEF, a webhook that fails and redirects for a while then recovers (every
// event arrives exactly once, in chain order, as OCSF API Activity), and JSON lines in a file whose
// chain fields verify. A syslog receiver that refuses connections at first loses nothing.
import assert from 'node:assert/strict';
import { createServer as createHttp } from 'node:http';
import { createServer as createTcp, type Server } from 'node:net';
import { mkdtempSync, readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { cef, leef } from '../../src/audit/export/formats.ts';
import { verifyChain, type ChainRow } from '../../src/audit/chain.ts';
import type { AuthorizationServer } from '../../src/demo/authorization-server.ts';
import type { Gateway } from '../../src/gateway.ts';
import { onCleanup } from '../support/cleanup.ts';
import { freePort, waitFor } from '../support/ports.ts';
import { connectClient, startAs, startDeputy, startUpstream, userToken } from '../support/stack.ts';

let as: AuthorizationServer;
let upstreamUrl: string;
before(async () => {
  as = await startAs();
  upstreamUrl = (await startUpstream({ stateless: true })).url;
});

/** A syslog receiver over TCP with octet-counting framing (RFC 6587): the messages, in arrival order. */
function syslogReceiver(port: number): Promise<{ messages: string[]; server: Server }> {
  const messages: string[] = [];
  const server = createTcp((socket) => {
    let buf = Buffer.alloc(0);
    socket.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      for (;;) {
        const sp = buf.indexOf(0x20);
        if (sp < 0) return;
        const len = Number(buf.subarray(0, sp).toString());
        if (buf.length < sp + 1 + len) return;
        messages.push(buf.subarray(sp + 1, sp + 1 + len).toString('utf8'));
        buf = buf.subarray(sp + 1 + len);
      }
    });
  });
  return new Promise((r) => server.listen(port, '127.0.0.1', () => (onCleanup(() => new Promise<void>((c) => server.close(() => c()))), r({ messages, server }))));
}

async function traffic(deputy: Gateway, n: number): Promise<void> {
  const client = await connectClient(`${deputy.url}/mcp/notes`, await userToken(as, `${deputy.url}/mcp/notes`, { sub: 'sam' }));
  onCleanup(() => client.close().catch(() => {}));
  for (let i = 0; i < n; i++) await client.callTool({ name: 'echo', arguments: { text: `m${i}` } });
  await fetch(`${deputy.url}/mcp/notes`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' }); // a 401
  await deputy.audit.flush();
}

test('syslog (TCP, CEF) with a receiver that is down at first; a webhook that fails, redirects, then recovers (OCSF); JSON lines that verify', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'deputy-export-'));
  const syslogPort = await freePort(); // nothing listens yet: connections are refused
  let webhookCalls = 0;
  const delivered: Record<string, unknown>[] = [];
  let redirectTargetHits = 0;
  const target = createHttp((_req, res) => (redirectTargetHits++, res.writeHead(200).end()));
  await new Promise<void>((r) => target.listen(0, '127.0.0.1', () => r()));
  onCleanup(() => new Promise<void>((r) => target.close(() => r())));
  const hook = createHttp((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      webhookCalls++;
      if (webhookCalls <= 2) return void res.writeHead(500).end('down');
      if (webhookCalls === 3) return void res.writeHead(307, { location: `http://127.0.0.1:${(target.address() as AddressInfo).port}/` }).end();
      assert.equal(req.headers.authorization, 'Bearer siem-ingest-token');
      delivered.push(...(JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>[]));
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => hook.listen(0, '127.0.0.1', () => r()));
  onCleanup(() => new Promise<void>((r) => hook.close(() => r())));

  const deputy = await startDeputy(as, {
    upstreams: [{ name: 'notes', type: 'mcp', url: upstreamUrl, credentials: { type: 'static', headers: { 'X-Tenant': 'a' } } }],
    audit: `sqlite:${join(dir, 'audit.db')}`,
    auditExport: [
      { sink: 'syslog', address: `tcp://127.0.0.1:${syslogPort}`, format: 'cef', interval_ms: 50 },
      { sink: 'webhook', url: `http://127.0.0.1:${(hook.address() as AddressInfo).port}/ingest`, format: 'ocsf', batch_size: 5, interval_ms: 50, headers: { Authorization: { env: 'SIEM_TOKEN' } } },
      { sink: 'file', path: join(dir, 'audit.jsonl'), format: 'json', interval_ms: 50 },
      { sink: 'file', path: join(dir, 'audit.leef'), format: 'leef', interval_ms: 50 },
    ],
    env: { SIEM_TOKEN: 'Bearer siem-ingest-token' },
  });
  await traffic(deputy, 7);
  const total = (await deputy.audit.query({ limit: 1000 })).length;
  assert.ok(total >= 9, `events written: ${total}`);

  await new Promise((r) => setTimeout(r, 500));
  const syslogExporter = deputy.shared.exporters.find((x) => x.name === 'syslog-0')!;
  assert.ok(syslogExporter.failures > 0 && syslogExporter.sent === 0, 'the refused connection is counted, nothing is lost');
  const syslog = await syslogReceiver(syslogPort);
  await waitFor(() => syslog.messages.length >= total, `${total} syslog messages`, 40_000);
  await waitFor(() => delivered.length >= total, `${total} webhook events`, 20_000);
  await waitFor(() => readFileSync(join(dir, 'audit.jsonl'), 'utf8').trim().split('\n').length >= total, 'the JSON lines', 10_000);

  // syslog: RFC 5424 header, CEF body with the chain fields, in chain order.
  const seqs: number[] = [];
  for (const m of syslog.messages.slice(0, total)) {
    assert.match(m, /^<1\d\d>1 \d{4}-\d\d-\d\dT[\d:.]+Z \S+ deputy \d+ audit - CEF:0\|Deputy\|Deputy\|1\.0\|[^|]+\|[^|]+\|\d+\|/);
    const ext = m.slice(m.indexOf('|', m.indexOf('|', m.indexOf('|', m.indexOf('|', m.indexOf('|', m.indexOf('|', m.indexOf('|') + 1) + 1) + 1) + 1) + 1) + 1) + 1);
    assert.match(ext, /(^| )rt=\d+ /);
    assert.match(ext, /cs4Label=hash cs4=[0-9a-f]{64}/);
    seqs.push(Number(/cn2=(\d+)/.exec(ext)![1]));
  }
  assert.deepEqual(seqs, Array.from({ length: total }, (_, i) => i + 1), 'syslog: every event once, in chain order');
  assert.ok(syslog.messages.some((m) => /\|mcp:unauthenticated\|/.test(m) && m.startsWith('<108>')), 'a 401 is severity 4 (warning) in syslog, outcome in the CEF signature');

  // webhook: exactly once, in order, despite two 500s and a redirect (not followed).
  assert.equal(redirectTargetHits, 0, 'the redirect was not followed');
  assert.deepEqual(delivered.map((e) => (e.metadata as { sequence: number }).sequence), Array.from({ length: total }, (_, i) => i + 1), 'webhook: every event once, in chain order');
  for (const e of delivered) {
    for (const field of ['activity_id', 'category_uid', 'class_uid', 'type_uid', 'time', 'severity_id', 'status_id', 'metadata', 'actor', 'api', 'src_endpoint']) assert.ok(e[field] !== undefined, `OCSF API Activity requires ${field}`);
    assert.equal(e.class_uid, 6003);
    assert.equal(e.category_uid, 6);
    assert.equal(e.type_uid, 6003 * 100 + (e.activity_id as number));
    assert.ok([1, 2].includes(e.status_id as number));
    assert.equal((e.metadata as { product: { name: string } }).product.name, 'Deputy');
    assert.ok(typeof (e.api as { operation: unknown }).operation === 'string');
  }

  // JSON lines: the receiving side re-verifies the chain from the exported fields alone.
  const lines = readFileSync(join(dir, 'audit.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as ChainRow);
  const report = await verifyChain(lines.map((l, i) => ({ ...l, id: i + 1 })));
  assert.equal(report.ok, true, JSON.stringify(report));
  assert.ok(!readFileSync(join(dir, 'audit.jsonl'), 'utf8').includes('siem-ingest-token'));

  // LEEF 2.0 lines: header, declared delimiter, QRadar's attributes, the chain in order.
  await waitFor(() => readFileSync(join(dir, 'audit.leef'), 'utf8').trim().split('\n').length >= total, 'the LEEF lines', 10_000);
  const leefSeqs = readFileSync(join(dir, 'audit.leef'), 'utf8').trim().split('\n').slice(0, total).map((line) => {
    const header = /^LEEF:2\.0\|Deputy\|Deputy\|1\.0\|([^|]+)\|\^\|/.exec(line);
    assert.ok(header, line);
    const attrs = Object.fromEntries(line.slice(header[0].length).split('^').map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));
    assert.ok(!Number.isNaN(Date.parse(attrs.devTime!)) && attrs.devTimeFormat === "yyyy-MM-dd'T'HH:mm:ss.SSSX");
    assert.ok(Number(attrs.sev) >= 1 && Number(attrs.sev) <= 10);
    assert.match(attrs.hash!, /^[0-9a-f]{64}$/);
    assert.equal(header[1], `mcp:${attrs.outcome}`);
    return Number(attrs.seq);
  });
  assert.deepEqual(leefSeqs, Array.from({ length: total }, (_, i) => i + 1), 'LEEF: every event once, in chain order');
  await deputy.close();
});

test('LEEF and CEF: a value carrying the delimiter, a pipe or a line break cannot forge a field or a line', () => {
  const row = { id: 1, time: '2026-11-30T06:01:12.201Z', requestId: 'r1', route: '/mcp/notes', httpMethod: 'POST', rpcMethod: 'tools/call', target: 'x^seq=999|a\tb', subject: 'eve\nLEEF:2.0|forged', outcome: 'ok', status: 200, latencyMs: 1, detail: 'a=b^hash=00', replicaId: 'r', seq: 7, prevHash: 'p', hash: 'h' } as unknown as ChainRow;
  const line = leef(row);
  assert.ok(!line.includes('\n') && !line.includes('\t'));
  const header = /^LEEF:2\.0\|Deputy\|Deputy\|1\.0\|mcp:ok\|\^\|/.exec(line);
  assert.ok(header, 'the header ends at the declared delimiter');
  const attrs = line.slice(header[0].length).split('^').map((kv) => kv.slice(0, kv.indexOf('=')));
  assert.equal(attrs.filter((k) => k === 'seq').length, 1);
  assert.equal(attrs.filter((k) => k === 'hash').length, 1);
  const c = cef(row);
  assert.ok(!c.includes('\n'));
  const cefHeader = /^CEF:0\|Deputy\|Deputy\|1\.0\|mcp:ok\|tools\/call ok\|1\|/.exec(c);
  assert.ok(cefHeader, c);
  const ext = c.slice(cefHeader[0].length);
  assert.equal(ext.match(/(^| )cn2=/g)?.length, 1, 'one seq');
  assert.equal(ext.match(/(^| )cs4=/g)?.length, 1, 'one hash');
  assert.ok(ext.includes('x^seq\\=999'), 'an = in a value is escaped');
});
