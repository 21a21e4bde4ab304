// The audit recorder: the first step to decide a request's outcome is the one recorded, notes add
// context without changing it, and the event is written once, when the response closes.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { AuditEvent, AuditSink } from '../../src/audit/event.ts';
import { AuditRecord } from '../../src/audit/record.ts';
import { CredentialError } from '../../src/outbound/provider.ts';
import { MemberUnavailable } from '../../src/upstreams/aggregate/member.ts';

function sink(): AuditSink & { events: AuditEvent[] } {
  const events: AuditEvent[] = [];
  return { events, write: (e) => void events.push(structuredClone(e)), flush: async () => {}, query: async () => events, close: async () => {} };
}
const tick = () => new Promise((r) => setImmediate(r));
const sent = (statusCode: number, writableFinished = true) => ({ headersSent: true, statusCode, writableFinished });

test('the first decision wins: a later symptom never overwrites the cause', async () => {
  const s = sink();
  const r = new AuditRecord({ requestId: 'r1', route: '/mcp/notes', httpMethod: 'POST' });
  r.refuse(new CredentialError('notes', 'the token endpoint refused the request'));
  r.upstreamError('upstream answered HTTP 502'); // what the 502 would have said
  r.deny('policy: too late');
  r.close(s, sent(502), 12.3456);
  await tick();
  assert.equal(s.events.length, 1);
  assert.equal(s.events[0]!.outcome, 'credential_error');
  assert.match(s.events[0]!.detail!, /token endpoint refused/);
  assert.equal(s.events[0]!.status, 502);
  assert.equal(s.events[0]!.latencyMs, 12.346);
});

test('notes add context to an ok or decided request without deciding it', async () => {
  const s = sink();
  const r = new AuditRecord({ requestId: 'r2', route: '/mcp', httpMethod: 'POST' });
  r.note('policy hid 2 tools');
  assert.equal(r.decided, false);
  r.close(s, sent(200), 1);
  r.note("the upstream echoed Deputy's credential: overwritten in the answer"); // same turn as the close: still recorded
  await tick();
  assert.equal(s.events[0]!.outcome, 'ok');
  assert.equal(s.events[0]!.detail, "policy hid 2 tools; the upstream echoed Deputy's credential: overwritten in the answer");
});

test('undecided outcomes follow the status; nothing sent is an abort (499); the event is written once', async () => {
  const cases: [number, AuditEvent['outcome']][] = [[200, 'ok'], [401, 'unauthenticated'], [403, 'denied'], [404, 'rejected'], [502, 'upstream_error'], [504, 'upstream_error'], [500, 'error']];
  for (const [status, outcome] of cases) {
    const s = sink();
    new AuditRecord({ requestId: 'r', route: '/mcp', httpMethod: 'POST' }).close(s, sent(status), 0);
    await tick();
    assert.equal(s.events[0]!.outcome, outcome, `HTTP ${status}`);
  }
  const s = sink();
  const r = new AuditRecord({ requestId: 'r3', route: '/mcp', httpMethod: 'POST' });
  r.close(s, { headersSent: false, statusCode: 200, writableFinished: false }, 0);
  r.close(s, sent(200), 0);
  await tick();
  assert.equal(s.events.length, 1);
  assert.deepEqual([s.events[0]!.outcome, s.events[0]!.status, s.events[0]!.detail], ['aborted', 499, 'client disconnected before the response completed']);
});

test('a typed error decides with the outcome from the one table (a timeout is recognised by code)', async () => {
  const s = sink();
  const r = new AuditRecord({ requestId: 'r4', route: '/mcp', httpMethod: 'POST' });
  const timeout = new MemberUnavailable('notes', "upstream 'notes' did not answer within 10 ms", true);
  assert.equal(timeout.code, 'ERR_UPSTREAM_TIMEOUT');
  assert.equal(timeout.timedOut, true);
  r.refuse(timeout);
  r.close(s, sent(504), 0);
  await tick();
  assert.equal(s.events[0]!.outcome, 'upstream_error');
});
