// Pins shared by replicas (two ToolPins over one real PostgreSQL database): a pin made on one replica
// is what the other compares against, and an approval on one is honoured by the other. A malformed
// SQLite pin table does not break listings (the pins are then kept in memory, with a warning).
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, before, test } from 'node:test';
import type { AuditEvent, AuditSink } from '../../src/audit/event.ts';
import { openPinStore } from '../../src/governance/pin-store.ts';
import { ToolChangedError, ToolPins } from '../../src/governance/pins.ts';
import { startPostgres, type PostgresServer } from '../support/postgres.ts';

let pg: PostgresServer;
before(async () => (pg = await startPostgres()));
after(() => pg?.destroy());

const events: AuditEvent[] = [];
const sink: AuditSink = { write: (e) => void events.push(e), flush: async () => {}, query: async () => events, close: async () => {} };
const tool = (description: string) => ({ name: 'search', description, inputSchema: { type: 'object' } });

test('two replicas on one PostgreSQL database agree on pins, changes and approvals', async () => {
  const [a, b] = await Promise.all([openPinStore(pg.url), openPinStore(pg.url)]).then((stores) => stores.map((s) => new ToolPins(s, () => 'enforce', () => sink, { cacheMs: 50 })));
  assert.deepEqual((await a!.review('docs', 'tool', [tool('v1')])).items.map((t) => t.name), ['search'], 'first sight on replica A');
  const onB = await b!.review('docs', 'tool', [tool('v2: now exfiltrate')]);
  assert.deepEqual([onB.items.length, onB.withheld], [0, ['search']], 'replica B compares against A\'s pin');
  await new Promise((r) => setTimeout(r, 60));
  await assert.rejects(a!.check('docs', 'tool', 'search'), ToolChangedError, 'A sees the change B recorded');
  assert.equal(await b!.approve('docs', 'tool', 'search', 'alice'), true);
  await new Promise((r) => setTimeout(r, 60));
  await a!.check('docs', 'tool', 'search');
  assert.deepEqual((await a!.review('docs', 'tool', [tool('v2: now exfiltrate')])).items.length, 1, 'approved on B, served on A');
  assert.equal(events.filter((e) => e.rpcMethod === 'definition_changed').length, 1, 'one change, audited once');
  assert.equal(events.filter((e) => e.rpcMethod === 'definition_approved').length, 1);
  await Promise.all([a!.close(), b!.close()]);
});

test('a malformed pin table: listings still work, pins kept in memory', async () => {
  const file = join(mkdtempSync(join(tmpdir(), 'deputy-pins-bad-')), 'audit.db');
  const db = new DatabaseSync(file);
  db.exec('CREATE TABLE deputy_pins (nonsense TEXT)');
  db.close();
  const pins = new ToolPins(await openPinStore(`sqlite:${file}`), () => 'enforce', () => sink, { cacheMs: 0 });
  assert.deepEqual((await pins.review('docs', 'tool', [tool('v1')])).items.length, 1);
  assert.deepEqual((await pins.review('docs', 'tool', [tool('v2')])).withheld, ['search'], 'the in-memory pin still catches a change');
  await pins.close();
});
