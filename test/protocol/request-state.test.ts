// The requestState envelope and the answer rewriter, as units: sealing binds the principal, the
// upstream and an expiry; the rewriter keeps text intact when a chunk boundary splits a character.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RequestStateSealer } from '../../src/protocol/request-state.ts';

test('an envelope opens only for its principal and upstream, before it expires', () => {
  const s = new RequestStateSealer('a shared secret');
  const sealed = s.seal('state-1', 'iss\u0000alice', 'notes', 1000);
  assert.equal(s.open(sealed, 'iss\u0000alice', 'notes', 2000), 'state-1');
  assert.equal(s.open(sealed, 'iss\u0000bob', 'notes', 2000), undefined);
  assert.equal(s.open(sealed, 'iss\u0000alice', 'other', 2000), undefined);
  assert.equal(s.open(sealed, 'iss\u0000alice', 'notes', 1000 + 11 * 60_000), undefined);
  assert.equal(new RequestStateSealer('a shared secret').open(sealed, 'iss\u0000alice', 'notes', 2000), 'state-1', 'the same secret opens it on another replica');
  assert.equal(new RequestStateSealer('another secret').open(sealed, 'iss\u0000alice', 'notes', 2000), undefined);
});

test('the rewriter seals requestState in SSE and JSON, and keeps a character split across chunks whole', () => {
  const s = new RequestStateSealer('k');
  const answer = JSON.stringify({ jsonrpc: '2.0', id: 1, result: { resultType: 'input_required', requestState: 'st', note: 'café ✓' } });
  for (const sse of [true, false]) {
    const bytes = Buffer.from(sse ? `event: message\ndata: ${answer}\n\n` : answer);
    const cut = bytes.indexOf(Buffer.from('✓')) + 1; // inside the three-byte character
    const rw = s.rewriter('iss\u0000alice', 'notes', sse);
    const out = Buffer.concat([rw.push(bytes.subarray(0, cut)), rw.push(bytes.subarray(cut)), rw.end()]).toString('utf8');
    const json = JSON.parse(sse ? out.slice(out.indexOf('data: ') + 6).trim() : out);
    assert.equal(json.result.note, 'café ✓');
    assert.equal(s.open(json.result.requestState, 'iss\u0000alice', 'notes'), 'st');
  }
});

test('the rewriter seals SSE events whose lines end in CRLF or CR, with a CRLF split across chunks', () => {
  const s = new RequestStateSealer('k');
  const answer = JSON.stringify({ jsonrpc: '2.0', id: 1, result: { resultType: 'input_required', requestState: 'st' } });
  for (const eol of ['\r\n', '\r']) {
    const bytes = Buffer.from(`event: message${eol}data: ${answer}${eol}${eol}`);
    for (let cut = 1; cut < bytes.length; cut += 7) {
      const rw = s.rewriter('iss\u0000alice', 'notes', true);
      const first = rw.push(bytes.subarray(0, cut));
      const out = Buffer.concat([first, rw.push(bytes.subarray(cut)), rw.end()]).toString('utf8');
      const data = out.split('\n').find((l) => l.startsWith('data: '));
      assert.ok(data, `${JSON.stringify(eol)} cut at ${cut}: ${out}`);
      const json = JSON.parse(data.slice(6));
      assert.equal(s.open(json.result.requestState, 'iss\u0000alice', 'notes'), 'st', `${JSON.stringify(eol)} cut at ${cut}: not sealed`);
      assert.ok(out.endsWith('\n\n'), 'the event still ends with a blank line');
    }
  }
});
