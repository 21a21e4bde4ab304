// The PostgreSQL audit store against a real server: a burst of calls during which PostgreSQL stops
// and restarts loses nothing and doubles nothing, the chain verifies, tampering is named, and a
// replica that starts while the database is down spools until it can create the schema.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { PostgresAuditSink } from '../../src/audit/postgres.ts';
import { parseConfig } from '../../src/config/schema.ts';
import { startGateway, type Gateway } from '../../src/gateway.ts';
import { onCleanup } from '../support/cleanup.ts';
import { waitFor } from '../support/ports.ts';
import { startPostgres } from '../support/postgres.ts';
import { initializeMessage, logLines, mcpPost, startAs, startUpstream, userToken } from '../support/stack.ts';
import { deputyCli } from './helpers.ts';

async function gateway(opts: { as: { issuer: string }; upstreamUrl: string; pgUrl: string; spoolDir: string; replicaId: string }): Promise<Gateway> {
  const config = parseConfig({
    server: { host: '127.0.0.1', port: 0 },
    auth: { issuers: [{ issuer: opts.as.issuer }] },
    upstreams: [{ name: 'notes', type: 'mcp', url: opts.upstreamUrl, credentials: { type: 'static', headers: { Authorization: { env: 'NOTES_AUTH' } } } }],
    audit: { store: opts.pgUrl, spool_dir: opts.spoolDir, replica_id: opts.replicaId },
  }, { baseDir: process.cwd(), env: { ...process.env, NOTES_AUTH: 'Bearer upstream-static' } });
  const gw = await startGateway(config);
  onCleanup(() => gw.close());
  return gw;
}

const call = (url: string, token: string, requestId: string) =>
  mcpPost(url, initializeMessage(requestId), { authorization: `Bearer ${token}`, 'x-request-id': requestId }).then(async (r) => (await r.arrayBuffer(), r.status));

test('PostgreSQL stopped during a burst and restarted: every event present exactly once, chain intact; tampering is named', async () => {
  const pg = await startPostgres();
  const as = await startAs();
  const up = await startUpstream({ stateless: true });
  const spoolDir = mkdtempSync(join(tmpdir(), 'deputy-spool-'));
  const gw = await gateway({ as, upstreamUrl: up.url, pgUrl: pg.url, spoolDir, replicaId: 'pg-replica-1' });
  const url = `${gw.url}/mcp/notes`;
  const token = await userToken(as, url, { sub: 'paula' });
  const versions = await pg.query<{ component: string; version: number }>('SELECT component, version FROM deputy_schema_version');
  assert.deepEqual(versions.map((v) => [v.component, v.version]).sort(), [['audit', 1], ['pins', 1]], 'schema created at start-up (the audit trail and tool pins)');

  const TOTAL = 300;
  let next = 0;
  let done = 0;
  const statuses: number[] = [];
  const worker = async () => {
    while (next < TOTAL) {
      const i = next++;
      statuses.push(await call(url, token, `burst-${i}`));
      done++;
    }
  };
  const burst = Promise.all(Array.from({ length: 4 }, worker));
  await waitFor(() => done >= 60, '60 calls');
  await pg.stop();
  await waitFor(() => gw.audit instanceof PostgresAuditSink && gw.audit.status().status === 'spooling', 'the sink to start spooling', 30_000);
  const spooledDuringOutage = done;
  await waitFor(() => done >= Math.min(TOTAL - 40, spooledDuringOutage + 100), 'calls during the outage', 30_000);
  assert.ok(readdirSync(spoolDir).some((f) => f.endsWith('.jsonl')), 'events were spooled to disk');
  const ready = await (await fetch(`${gw.url}/readyz`)).json() as { status: string; components: { audit: { status: string; spooled: number } } };
  assert.equal(ready.status, 'degraded');
  assert.equal(ready.components.audit.status, 'spooling');
  const spooledPeak = (gw.audit as PostgresAuditSink).status().spooled;
  assert.ok(spooledPeak > 0);
  await pg.start();
  await burst;
  assert.deepEqual(statuses, Array(TOTAL).fill(200), 'no request failed because the audit database was down');
  await gw.audit.flush();
  await waitFor(async () => (await pg.query<{ n: string }>("SELECT count(*) AS n FROM audit_events WHERE request_id LIKE 'burst-%'"))[0]!.n === String(TOTAL), 'the spool to drain', 30_000);

  const perRequest = await pg.query<{ request_id: string; n: string }>("SELECT request_id, count(*) AS n FROM audit_events WHERE request_id LIKE 'burst-%' GROUP BY request_id");
  assert.equal(perRequest.length, TOTAL, 'every event present');
  assert.deepEqual(perRequest.filter((r) => r.n !== '1'), [], 'no event twice');
  const [seqs] = await pg.query<{ n: string; min: string; max: string }>("SELECT count(*) AS n, min(seq) AS min, max(seq) AS max FROM audit_events WHERE replica_id = 'pg-replica-1'");
  assert.deepEqual([seqs!.n, seqs!.min, seqs!.max], [String(TOTAL), '1', String(TOTAL)], 'one gap-free chain for the replica');
  assert.deepEqual(readdirSync(spoolDir).filter((f) => f.endsWith('.jsonl')), [], 'spool removed once drained');
  assert.equal(logLines.filter((l) => l.includes('PostgreSQL is unreachable')).length, 1, 'one warning for the outage');

  const verified = await deputyCli(['audit', 'verify', '--store', pg.url]);
  assert.equal(verified.code, 0, verified.stdout + verified.stderr);
  assert.match(verified.stderr, new RegExp(`chain intact: ${TOTAL} event\\(s\\) in 1 replica chain`));
  const listed = await deputyCli(['audit', '--store', pg.url, '--limit', '5']);
  assert.equal(listed.code, 0, listed.stderr);
  assert.equal(listed.stdout.trim().split('\n').length, 5);
  assert.match(listed.stdout, /200 ok .*paula via test-client +POST \/mcp\/notes initialize \[static\]/);
  console.log(`postgres outage: ${TOTAL} calls sent (outage noticed after ${spooledDuringOutage}; ${spooledPeak} events in the spool before the restart), ${perRequest.length} events present, ${perRequest.filter((r) => r.n !== '1').length} duplicates, seq 1..${seqs!.max}; verify: ${verified.stderr.trim()}`);

  // Tampering with one row is detected and named.
  const [victim] = await pg.query<{ id: string }>("SELECT id FROM audit_events WHERE replica_id = 'pg-replica-1' AND seq = 123");
  await pg.query("UPDATE audit_events SET outcome = 'denied', status = 403 WHERE id = $1", [victim!.id]);
  const broken = await deputyCli(['audit', 'verify', '--store', pg.url]);
  assert.equal(broken.code, 1);
  assert.match(broken.stdout, new RegExp(`BROKEN replica pg-replica-1: ${TOTAL} event\\(s\\)`));
  assert.match(broken.stdout, new RegExp(`first broken row: id ${victim!.id}, seq 123: hash does not match the row`));
  await pg.query("DELETE FROM audit_events WHERE replica_id = 'pg-replica-1' AND seq = 200");
  const json = JSON.parse((await deputyCli(['audit', 'verify', '--store', pg.url, '--json'])).stdout);
  assert.equal(json.breaks[0].seq, 123, 'the first break is still the edited row');
});

test('a replica started while PostgreSQL is down serves, spools, then creates the schema and drains when it returns', async () => {
  const pg = await startPostgres();
  await pg.stop();
  const as = await startAs();
  const up = await startUpstream({ stateless: true });
  const spoolDir = mkdtempSync(join(tmpdir(), 'deputy-spool-'));
  const gw = await gateway({ as, upstreamUrl: up.url, pgUrl: pg.url, spoolDir, replicaId: 'late-db' });
  const url = `${gw.url}/mcp/notes`;
  const token = await userToken(as, url, { sub: 'quentin' });
  for (let i = 0; i < 10; i++) assert.equal(await call(url, token, `late-${i}`), 200);
  await gw.audit.flush();
  assert.equal((gw.audit as PostgresAuditSink).status().spooled, 10);
  await pg.start();
  await gw.audit.flush();
  await waitFor(async () => (await pg.query<{ n: string }>('SELECT count(*) AS n FROM audit_events').catch(() => [{ n: '0' }]))[0]!.n === '10', 'the spool to drain');
  for (let i = 10; i < 15; i++) assert.equal(await call(url, token, `late-${i}`), 200);
  const events = await gw.audit.query({ limit: 100 });
  assert.deepEqual(events.map((e) => e.requestId), Array.from({ length: 15 }, (_, i) => `late-${i}`), 'in order, once each');
  // Where a configured replica's chain ended could not be read, so it started a new one under a derived name.
  const chains = await pg.query<{ replica_id: string; n: string }>('SELECT replica_id, count(*) AS n FROM audit_events GROUP BY replica_id');
  assert.equal(chains.length, 1);
  assert.match(chains[0]!.replica_id, /^late-db\.[0-9a-f]{6}$/);
  assert.equal(chains[0]!.n, '15');
  assert.ok(logLines.some((l) => l.includes('starts a new chain') && l.includes(chains[0]!.replica_id)));
  assert.equal((await deputyCli(['audit', 'verify', '--store', pg.url])).code, 0);
});

test('a replica id kept across restarts (audit.replica_id) continues its chain: nothing dropped, verify passes', async () => {
  const pg = await startPostgres();
  const as = await startAs();
  const up = await startUpstream({ stateless: true });
  const spoolDir = mkdtempSync(join(tmpdir(), 'deputy-spool-'));
  for (const run of [1, 2]) {
    const gw = await gateway({ as, upstreamUrl: up.url, pgUrl: pg.url, spoolDir, replicaId: 'deputy-0' });
    const url = `${gw.url}/mcp/notes`;
    const token = await userToken(as, url, { sub: 'rita' });
    for (let i = 0; i < 5; i++) assert.equal(await call(url, token, `run${run}-${i}`), 200);
    await gw.close();
  }
  const rows = await pg.query<{ request_id: string; seq: string }>("SELECT request_id, seq FROM audit_events WHERE replica_id = 'deputy-0' ORDER BY seq");
  assert.deepEqual(rows.map((r) => [r.request_id, Number(r.seq)]), [1, 2].flatMap((run) => Array.from({ length: 5 }, (_, i) => [`run${run}-${i}`, (run - 1) * 5 + i + 1])));
  const verified = await deputyCli(['audit', 'verify', '--store', pg.url]);
  assert.equal(verified.code, 0, verified.stdout + verified.stderr);
  assert.match(verified.stderr, /chain intact: 10 event\(s\) in 1 replica chain/);
});
