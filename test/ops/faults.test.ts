// Upstream faults, each with a bounded, specific answer: an upstream that dies in the middle of an SSE
// answer, one that answers with garbage, and one whose answer never ends, on /mcp/<upstream> and on
// the aggregated /mcp. (The AS going down mid token exchange: test/outbound/token-exchange.test.ts;
// slow-loris clients: test/http/listener.test.ts.)
import assert from 'node:assert/strict';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { before, test } from 'node:test';
import type { Gateway } from '../../src/gateway.ts';
import { onCleanup } from '../support/cleanup.ts';
import { waitFor } from '../support/ports.ts';
import { mcpPost, startAs, startDeputy, userToken } from '../support/stack.ts';

/** A raw MCP upstream whose tools misbehave on purpose; initialize and tools/list behave. */
async function faultyUpstream(): Promise<string> {
  const server = createServer((req, res) => {
    let raw = '';
    req.on('data', (d) => (raw += d));
    req.on('end', () => {
      if (req.method !== 'POST') return void res.writeHead(405).end();
      const msg = JSON.parse(raw || '{}');
      const json = (result: unknown) => res.writeHead(200, { 'content-type': 'application/json', 'mcp-session-id': 's1' }).end(JSON.stringify({ jsonrpc: '2.0', id: msg.id, result }));
      if (msg.method === 'initialize') return json({ protocolVersion: '2025-06-18', capabilities: { tools: {} }, serverInfo: { name: 'faulty', version: '0' } });
      if (msg.id === undefined) return void res.writeHead(202).end();
      if (msg.method === 'tools/list') return json({ tools: ['dies', 'garbage', 'endless'].map((name) => ({ name, inputSchema: { type: 'object' } })) });
      const tool = msg.params?.name;
      if (tool === 'dies') {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write(`event: message\ndata: ${JSON.stringify({ jsonrpc: '2.0', method: 'notifications/progress', params: { progressToken: 1, progress: 1 } })}\n\n`);
        return void setTimeout(() => res.socket?.destroy(), 50);
      }
      if (tool === 'garbage') return void res.writeHead(200, { 'content-type': 'application/json' }).end('<html>upstream exploded</html>');
      if (tool === 'endless') return endless(res);
      json({ content: [] });
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  onCleanup(() => (server.closeAllConnections(), server.close()));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp`;
}

function endless(res: ServerResponse): void {
  res.writeHead(200, { 'content-type': 'application/json' });
  res.write('{"jsonrpc":"2.0","id":1,"result":{"content":[{"type":"text","text":"');
  const t = setInterval(() => res.write('aaaaaaaa'), 20);
  res.on('close', () => clearInterval(t));
}

let deputy: Gateway;
let token: string;
let aggToken: string;

before(async () => {
  const as = await startAs();
  deputy = await startDeputy(as, {
    upstreams: [{ name: 'faulty', type: 'mcp', url: await faultyUpstream(), timeout_ms: 1000, credentials: { type: 'static', headers: { 'X-Tenant': 'a' } }, limits: { max_call_ms: 800 } }],
  });
  token = await userToken(as, `${deputy.url}/mcp/faulty`);
  aggToken = await userToken(as, `${deputy.url}/mcp`);
});

const call = (path: string, t: string, tool: string) => mcpPost(`${deputy.url}${path}`, { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: tool, arguments: {}, _meta: { progressToken: 1 } } }, { authorization: `Bearer ${t}` });

async function audited(match: (detail: string) => boolean, what: string): Promise<void> {
  await waitFor(async () => {
    await deputy.audit.flush();
    return (await deputy.audit.query({ limit: 50 })).some((e) => e.outcome === 'upstream_error' && match(e.detail ?? ''));
  }, what, 5000);
}

test('an upstream dying mid-SSE: the client stream ends with an error, the call is audited as upstream_error', async () => {
  const res = await call('/mcp/faulty', token, 'dies');
  assert.equal(res.status, 200);
  await assert.rejects(res.text(), 'the relayed stream is cut, not ended as if complete');
  await audited((d) => /stream broke/.test(d), 'the broken stream in the audit trail');
  // On /mcp the same failure is an in-band JSON-RPC error after the progress notification.
  const agg = await call('/mcp', aggToken, 'faulty__dies');
  const body = await agg.text();
  assert.match(body, /notifications\/progress/);
  assert.match(body, /-32010/);
});

test('an upstream answering garbage: relayed byte for byte on /mcp/<upstream> (bounded), a JSON-RPC error on /mcp', async () => {
  const res = await call('/mcp/faulty', token, 'garbage');
  assert.equal(await res.text(), '<html>upstream exploded</html>');
  const agg = await (await call('/mcp', aggToken, 'faulty__garbage')).json();
  assert.equal(agg.error.code, -32010);
  assert.match(agg.error.message, /without a JSON-RPC response/);
});

test('an answer that never ends is cut at max_call_ms on /mcp/<upstream> and at timeout on /mcp; Deputy keeps serving', async () => {
  const started = Date.now();
  const res = await call('/mcp/faulty', token, 'endless');
  await res.text().catch(() => {});
  assert.ok(Date.now() - started < 3000, `cut after ${Date.now() - started} ms`);
  await audited((d) => /max_call_ms/.test(d), 'the cut answer in the audit trail');
  const t2 = Date.now();
  const agg = await (await call('/mcp', aggToken, 'faulty__endless')).json();
  assert.ok(Date.now() - t2 < 5000);
  assert.equal(agg.error.code, -32010);
  assert.equal((await fetch(`${deputy.url}/healthz`)).status, 200);
});
