// Rewrites of relayed SSE bodies: a large or endless event is relayed as it arrives when the rewrite
// only looks at small ones (bounded memory, each byte searched once), a small event after it is still
// seen, and bytes of Deputy's own wait for the end of an event being passed through.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sseEventTransform } from '../../src/client/body-transform.ts';

const seenBy = () => {
  const seen: string[] = [];
  return { seen, map: (e: string) => (seen.push(e), e.includes('drop me') ? undefined : e) };
};

test('an event longer than passOver is relayed as it arrives; what is held stays small; the next small event is mapped', () => {
  const { seen, map } = seenBy();
  const t = sseEventTransform(map, { passOver: 4096 });
  let sent = 0;
  let pushed = 0;
  const chunk = Buffer.from(`data: ${'x'.repeat(64 * 1024)}`);
  pushed += chunk.length;
  sent += t.push(Buffer.from('event: message\n')).length + t.push(chunk).length;
  for (let i = 0; i < 200; i++) {
    const c = Buffer.from('y'.repeat(64 * 1024));
    pushed += c.length;
    sent += t.push(c).length;
    assert.ok(pushed + 15 - sent <= 4097, `held ${pushed + 15 - sent} bytes`);
  }
  const tail = t.push(Buffer.from('\n\ndata: {"method":"drop me"}\n\ndata: kept\n\n')).toString();
  assert.ok(tail.startsWith('\n\n'), 'the long event ends where the upstream ended it');
  assert.ok(!tail.includes('drop me'), 'the small event after it is mapped (and dropped)');
  assert.ok(tail.endsWith('data: kept\n\n'));
  assert.deepEqual(seen, ['data: {"method":"drop me"}', 'data: kept'], 'map never saw the long event');
});

test('a blank line split across the point where a long event was let through still ends it', () => {
  const { seen, map } = seenBy();
  const t = sseEventTransform(map, { passOver: 10 });
  const out = [t.push(Buffer.from('data: 0123456789abcdef\n')), t.push(Buffer.from('\ndata: {"method":"drop me"}\n\n'))].map(String).join('');
  assert.equal(out, 'data: 0123456789abcdef\n\n');
  assert.deepEqual(seen, ['data: {"method":"drop me"}']);
});

test('bytes of Deputy\'s own wait until the event being passed through has ended', () => {
  let emit!: (b: Buffer) => void;
  const direct: string[] = [];
  const t2 = sseEventTransform((e) => e, { passOver: 10, attach: (send) => (emit = send) });
  t2.attach!((b) => direct.push(b.toString())); // what dispatch does: the way to the client
  const first = t2.push(Buffer.from('data: a long event without its end')).toString();
  emit(Buffer.from('data: mine\n\n'));
  assert.deepEqual(direct, [], 'not inside the event');
  const rest = t2.push(Buffer.from(' yet\n\n')).toString();
  assert.equal(first + rest, 'data: a long event without its end yet\n\ndata: mine\n\n');
  emit(Buffer.from('data: now\n\n'));
  assert.deepEqual(direct, ['data: now\n\n'], 'between events it goes at once');
});
