// The audit hash chain on SQLite: written per replica, migrated onto databases from before the
// chain, and `deputy audit verify` names the first edited or deleted row.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { test } from 'node:test';
import { createHash } from 'node:crypto';
import { canonical, chainHash, ChainHead, GENESIS_HASH, verifyChain, type ChainRow } from '../../src/audit/chain.ts';
import { SqliteAuditSink } from '../../src/audit/sqlite.ts';
import { deputyCli, event } from './helpers.ts';

const dir = mkdtempSync(join(tmpdir(), 'deputy-chain-'));

test('chainHash is SHA-256 over prev_hash, a newline and the canonical row (chains written by earlier versions still verify)', () => {
  const e = event(1, { detail: 'ünïcode détail' });
  const streamed = createHash('sha256').update(GENESIS_HASH).update('\n').update(canonical(e, 'r1', 1)).digest('hex');
  assert.equal(chainHash(GENESIS_HASH, e, 'r1', 1), streamed);
});

test('verifyChain: intact chains pass; edits, deletions, reordering and a missing start are each named', async () => {
  const head = new ChainHead('r1');
  const rows: ChainRow[] = Array.from({ length: 6 }, (_, i) => ({ ...head.link(event(i)), id: i + 1 }));
  const other = new ChainHead('r2');
  const rows2: ChainRow[] = Array.from({ length: 3 }, (_, i) => ({ ...other.link(event(i)), id: 100 + i }));
  const ok = await verifyChain([...rows, ...rows2]);
  assert.equal(ok.ok, true);
  assert.deepEqual(ok.replicas.map((r) => [r.replicaId, r.events]), [['r1', 6], ['r2', 3]]);

  const edited = rows.map((r) => (r.seq === 3 ? { ...r, subject: 'mallory' } : r));
  assert.deepEqual((await verifyChain(edited)).breaks, [{ replicaId: 'r1', id: 3, seq: 3, problem: 'hash does not match the row: the row was edited' }]);
  const deleted = rows.filter((r) => r.seq !== 4);
  assert.match((await verifyChain(deleted)).breaks[0]!.problem, /seq 4 missing/);
  assert.equal((await verifyChain(deleted)).breaks[0]!.seq, 5);
  const rehashed = rows.map((r) => (r.seq === 2 ? { ...r, hash: 'f'.repeat(64) } : r));
  assert.equal((await verifyChain(rehashed)).breaks[0]!.seq, 2);
  const headless = rows.slice(1);
  assert.match((await verifyChain(headless)).breaks[0]!.problem, /starts at seq 2/);
  // Only r1 is broken; r2 is still reported intact.
  const mixed = await verifyChain([...edited, ...rows2]);
  assert.equal(mixed.breaks.length, 1);
});

test('SQLite: old databases are migrated (columns added), new events are chained, verify passes', async () => {
  const path = join(dir, 'old.db');
  const old = new DatabaseSync(path);
  old.exec(`CREATE TABLE audit_events (id INTEGER PRIMARY KEY AUTOINCREMENT, time TEXT NOT NULL, request_id TEXT NOT NULL, issuer TEXT, subject TEXT, client_id TEXT, upstream TEXT,
    route TEXT NOT NULL, http_method TEXT NOT NULL, rpc_method TEXT, target TEXT, credential_mode TEXT, outcome TEXT NOT NULL, status INTEGER NOT NULL, latency_ms REAL NOT NULL, detail TEXT);
    INSERT INTO audit_events (time, request_id, route, http_method, outcome, status, latency_ms) VALUES ('2025-01-01T00:00:00.000Z', 'legacy-1', '/mcp/notes', 'POST', 'ok', 200, 1), ('2025-01-01T00:00:01.000Z', 'legacy-2', '/mcp/notes', 'POST', 'ok', 200, 1);`);
  old.close();

  const sink = new SqliteAuditSink(path, { replicaId: 'replica-a' });
  for (let i = 0; i < 25; i++) sink.write(event(i, i % 5 === 0 ? { outcome: 'denied', status: 403, detail: 'missing scope "notes:write"', target: undefined } : {}));
  await sink.flush();
  for (let i = 25; i < 40; i++) sink.write(event(i));
  await sink.close();

  const r = await deputyCli(['audit', 'verify', '--store', `sqlite:${path}`]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /ok {5}replica replica-a: 40 event\(s\)/);
  assert.match(r.stdout, /2 event\(s\) were written before the hash chain/);
  assert.match(r.stderr, /chain intact: 40 event\(s\) in 1 replica chain/);
  const list = await deputyCli(['audit', '--store', `sqlite:${path}`, '--limit', '3', '--since', '2020-01-01']);
  assert.equal(list.code, 0, list.stderr);
  assert.match(list.stderr, /3 event\(s\)/);
});

test('SQLite: tampering with one row → deputy audit verify names it (exit 1); a deleted row is named too', async () => {
  const path = join(dir, 'tamper.db');
  const sink = new SqliteAuditSink(path, { replicaId: 'replica-t' });
  for (let i = 0; i < 30; i++) sink.write(event(i));
  await sink.close();
  assert.equal((await deputyCli(['audit', 'verify', '--store', `sqlite:${path}`])).code, 0);

  const db = new DatabaseSync(path);
  const target = db.prepare('SELECT id FROM audit_events WHERE seq = 17').get() as { id: number };
  db.prepare("UPDATE audit_events SET subject = 'someone-else' WHERE id = ?").run(target.id);
  db.close();
  const edited = await deputyCli(['audit', 'verify', '--store', `sqlite:${path}`]);
  assert.equal(edited.code, 1);
  assert.match(edited.stdout, /BROKEN replica replica-t: 30 event\(s\)/);
  assert.match(edited.stdout, new RegExp(`first broken row: id ${target.id}, seq 17: hash does not match the row: the row was edited`));
  const json = JSON.parse((await deputyCli(['audit', 'verify', '--store', `sqlite:${path}`, '--json'])).stdout);
  assert.deepEqual(json.breaks, [{ replicaId: 'replica-t', id: target.id, seq: 17, problem: 'hash does not match the row: the row was edited' }]);

  const path2 = join(dir, 'delete.db');
  const sink2 = new SqliteAuditSink(path2, { replicaId: 'replica-d' });
  for (let i = 0; i < 10; i++) sink2.write(event(i));
  await sink2.close();
  const db2 = new DatabaseSync(path2);
  db2.exec('DELETE FROM audit_events WHERE seq = 6');
  db2.close();
  const deleted = await deputyCli(['audit', 'verify', '--store', `sqlite:${path2}`]);
  assert.equal(deleted.code, 1);
  assert.match(deleted.stdout, /first broken row: id 7, seq 7: seq 6 missing before this row: events were deleted/);
});

test('SQLite: a replica id kept across restarts continues its chain, and writes happen off the request thread', async () => {
  const path = join(dir, 'restart.db');
  for (const run of [1, 2]) {
    const sink = new SqliteAuditSink(path, { replicaId: 'deputy-0' });
    for (let i = 0; i < 5; i++) sink.write({ ...event(i), requestId: `run${run}-${i}` });
    if (run === 1) {
      // Not yet written: the batch waits for the flush timer, then goes to the writer thread.
      const db = new DatabaseSync(path);
      assert.equal((db.prepare('SELECT count(*) AS n FROM audit_events').get() as { n: number }).n, 0);
      db.close();
      assert.equal(sink.queueDepth, 5);
    }
    await sink.close();
  }
  const db = new DatabaseSync(path);
  const rows = db.prepare("SELECT request_id, seq FROM audit_events WHERE replica_id = 'deputy-0' ORDER BY seq").all() as { request_id: string; seq: number }[];
  db.close();
  assert.deepEqual(rows.map((r) => [r.request_id, r.seq]), [1, 2].flatMap((run) => Array.from({ length: 5 }, (_, i) => [`run${run}-${i}`, (run - 1) * 5 + i + 1])));
  const r = await deputyCli(['audit', 'verify', '--store', `sqlite:${path}`]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stderr, /chain intact: 10 event\(s\) in 1 replica chain/);
});

test('SQLite: a write failure is reported through onError and the events are retried, not dropped', async () => {
  const path = join(dir, 'locked.db');
  const sink = new SqliteAuditSink(path, { replicaId: 'locked' });
  const errors: string[] = [];
  sink.onError = (e) => errors.push(e.message);
  // Another connection holds the write lock past the writer's busy timeout.
  const blocker = new DatabaseSync(path);
  blocker.exec('PRAGMA busy_timeout = 0; BEGIN IMMEDIATE');
  for (let i = 0; i < 3; i++) sink.write(event(i));
  const until = Date.now() + 15_000;
  while (errors.length === 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
  assert.match(errors[0] ?? '', /audit events could not be written to .*locked\.db: database is locked/);
  blocker.exec('COMMIT');
  blocker.close();
  await sink.flush(); // the writer retries what it holds
  assert.equal(sink.queueDepth, 0);
  const rows = await sink.query({ limit: 10 });
  assert.equal(rows.length, 3);
  await sink.close();
});
