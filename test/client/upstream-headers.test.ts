// The one upstream header builder: what a relayed client request may pass on, and that Deputy's
// credential is applied last (nothing a client or an operation argument sets can replace it).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { upstreamHeaders } from '../../src/client/upstream-headers.ts';

const client = {
  authorization: 'Bearer client-token-canary',
  cookie: 'sid=client-cookie-canary',
  host: 'deputy.example',
  connection: 'keep-alive, x-smuggled',
  'x-forwarded-for': '10.0.0.1',
  'proxy-authorization': 'Basic Y2FuYXJ5',
  'content-type': 'application/json',
  accept: 'application/json, text/event-stream',
  'mcp-protocol-version': '2026-07-28',
  'mcp-method': 'tools/call',
  'mcp-name': 'search',
  'mcp-param-q': 'x',
  'mcp-session-id': 'client-session',
  traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
};

test('a relayed request passes on the allow-list only; never the client\'s credentials, cookies, host or hop-by-hop headers', () => {
  const h = upstreamHeaders({ requestId: 'r1', relay: { headers: client, modern: false }, credential: { Authorization: 'Bearer deputy-own' } });
  assert.deepEqual(h, {
    'user-agent': 'deputy', 'x-request-id': 'r1',
    'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': '2026-07-28',
    traceparent: client.traceparent,
    authorization: 'Bearer deputy-own',
  });
  assert.ok(!JSON.stringify(h).includes('canary'));
});

test('2026-era mirrored headers travel with a relayed 2026 request (never its session id)', () => {
  const h = upstreamHeaders({ relay: { headers: client, modern: true }, credential: {} });
  assert.equal(h['mcp-method'], 'tools/call');
  assert.equal(h['mcp-name'], 'search');
  assert.equal(h['mcp-param-q'], 'x');
  assert.equal(h['mcp-session-id'], undefined);
  assert.equal(h.authorization, undefined);
});

test('the credential is applied last: an operation argument or own header with the same name cannot replace it', () => {
  const h = upstreamHeaders({ own: { Authorization: 'Bearer from-an-argument', 'X-Api-Key': 'arg', 'mcp-session-id': undefined }, credential: { 'X-API-Key': 'deputy-key' } });
  assert.equal(h['x-api-key'], 'deputy-key');
  assert.equal(h.authorization, 'Bearer from-an-argument', 'a header the credential does not set is the caller\'s to set');
  assert.ok(!('mcp-session-id' in h), 'undefined parts are left out');
});
