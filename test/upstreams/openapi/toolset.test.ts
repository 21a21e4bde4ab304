// End to end: a hand-written spec served as tools, called against a recording HTTP server with a
// real static credential provider. Asserts exactly what goes on the wire and what comes back.
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { ListToolsResultSchema } from '@modelcontextprotocol/sdk/types.js';
import { INVALID_PARAMS, JsonRpcError } from '../../../src/protocol/jsonrpc.ts';
import { prefixedToolName, toolNameBudget } from '../../../src/upstreams/openapi/index.ts';
import type { OpenApiToolset } from '../../../src/upstreams/openapi/toolset.ts';
import { CANARY, ctx, openApiToolset, SERVICE_TOKEN, startRecordingServer, wire, type RecordingServer } from './support.ts';

let api: RecordingServer;
let ts: OpenApiToolset;
const SPEC = 'fixtures/bank.openapi.yaml';

before(async () => {
  api = await startRecordingServer();
  ts = await openApiToolset({ spec: SPEC, baseUrl: `${api.url}/prefix/` });
});

async function call(name: string, args: Record<string, unknown>) {
  const before = api.requests.length;
  const result = await ts.callTool(name, args, ctx());
  const sent = api.requests.slice(before);
  if (process.env.DBG) console.log(name, JSON.stringify(result).slice(0, 300));
  for (const r of sent) assert.ok(!wire(r).includes(CANARY), 'the client token must never reach the upstream');
  return { result, sent, req: sent[0] };
}

const text = (r: { content: unknown[] }) => (r.content[0] as { text: string }).text;

describe('tools', () => {
  test('listTools is a valid MCP tools/list result with annotations, schemas and the report', async () => {
    const tools = await ts.listTools();
    ListToolsResultSchema.parse({ tools });
    const byName = new Map(tools.map((t) => [t.name, t]));
    assert.deepEqual(byName.get('getAccount')!.annotations, { title: 'Get an account', readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true });
    assert.equal(byName.get('deleteAccount')!.annotations!.destructiveHint, true);
    assert.equal(byName.get('createAccount')!.annotations!.idempotentHint, false);
    // Excluded and reported: deprecated, and an XML-only body (never exposed without its body).
    assert.ok(!byName.has('oldThing') && !byName.has('postXml'));
    assert.deepEqual(ts.report.excluded, [
      { operation: 'GET /old', reason: 'deprecated (set include_deprecated: true to expose it)' },
      { operation: 'POST /xml', reason: 'request body media type application/xml cannot be sent (supported: JSON, form-urlencoded, multipart, text/plain, binary)' },
    ]);
    assert.equal(ts.report.operations, 21);
    assert.equal(ts.report.tools, 19);
    const ajv = new Ajv2020({ strict: false });
    for (const t of tools) {
      ajv.compile(t.inputSchema);
      if (t.outputSchema) ajv.compile(t.outputSchema);
    }
  });

  test('parameters: path-item inherited and overridden, credential and forbidden headers hidden, clashes renamed', async () => {
    const t = (await ts.listTools()).find((x) => x.name === 'getAccount')!;
    const props = t.inputSchema.properties as Record<string, any>;
    assert.deepEqual(Object.keys(props).sort(), ['X-Request-Id', 'accountId', 'header_id', 'id', 'verbose']);
    assert.equal(props.verbose.type, 'integer'); // the operation's definition wins over the path item's
    assert.equal(props.verbose.exclusiveMaximum, 2); // 3.0 boolean form converted
    assert.equal(props.verbose.maximum, undefined);
    assert.match(props.header_id.description, /header parameter "id"/);
    assert.deepEqual(t.inputSchema.required, ['accountId']);
  });

  test('schemas: readOnly dropped from inputs, writeOnly from outputs, allOf merged, nullable and example converted', async () => {
    const tools = await ts.listTools();
    const create = tools.find((x) => x.name === 'createAccount')!;
    assert.deepEqual((create.inputSchema.properties as any).body, { $ref: '#/$defs/NewAccount' });
    const body = (create.inputSchema as any).$defs.NewAccount;
    assert.equal(body.allOf, undefined);
    assert.deepEqual(Object.keys(body.properties).sort(), ['balance', 'currency', 'nickname', 'owner', 'pin']);
    assert.deepEqual(body.required.sort(), ['currency', 'owner']);
    assert.deepEqual(body.properties.nickname, { type: ['string', 'null'], examples: ['Savings'] });
    assert.deepEqual(body.properties.balance, { type: 'number', exclusiveMinimum: 0 });
    const get = tools.find((x) => x.name === 'getAccount')!;
    const account = (get.outputSchema as any).$defs.Account;
    assert.ok(account.properties.id && !account.properties.pin);
    assert.equal((get.outputSchema as any).$ref, '#/$defs/Account');
    assert.equal(JSON.stringify(tools).includes('#/components'), false, 'no pointer into the spec document');
  });

  test('cyclic schemas stay references and validate nested data', async () => {
    const t = (await ts.listTools()).find((x) => x.name === 'plantTree')!;
    const schema = t.inputSchema as any;
    assert.deepEqual(schema.properties.body, { $ref: '#/$defs/Node' });
    assert.deepEqual(schema.$defs.Node.properties.children.items, { $ref: '#/$defs/Node' });
    const { result, req } = await call('plantTree', { body: { name: 'a', children: [{ name: 'b', children: [{ name: 'c' }] }] } });
    assert.equal(result.isError, undefined);
    assert.deepEqual(JSON.parse(req!.body.toString()), { name: 'a', children: [{ name: 'b', children: [{ name: 'c' }] }] });
    const bad = await call('plantTree', { body: { name: 'a', children: [{ name: 'b', children: [{ name: 7 }] }] } });
    assert.equal(bad.result.isError, true);
    assert.match(text(bad.result), /body\.children\.0\.children\.0\.name: must be string/);
    assert.equal(bad.sent.length, 0);
  });

  test('names: sanitized, unique (a collision gets a stable hash) and budgeted with the upstream prefix', async () => {
    const names = (await ts.listTools()).map((t) => t.name);
    assert.ok(names.includes('get_a_collide'));
    const other = names.find((n) => n.startsWith('get_a_collide_'));
    assert.match(other!, /^get_a_collide_[0-9a-f]{8}$/);
    assert.equal(toolNameBudget('bank'), 58);
    for (const n of names) assert.ok(prefixedToolName('bank', n).length <= 64 && /^[A-Za-z0-9_-]+$/.test(n));
    const again = await openApiToolset({ spec: SPEC, baseUrl: api.url });
    assert.deepEqual((await again.listTools()).map((t) => t.name), names);
  });

  test('unknown tool is a JSON-RPC invalid-params error', async () => {
    await assert.rejects(ts.callTool('nope', {}, ctx()), (e: unknown) => e instanceof JsonRpcError && e.code === INVALID_PARAMS);
  });
});

describe('requests', () => {
  test('host and prefix come from base_url; path values stay inside their segment', async () => {
    for (const [value, encoded] of [['../admin', '..%2Fadmin'], ['a/b', 'a%2Fb'], ['a?x=1#f', 'a%3Fx%3D1%23f'], ['..', '%2E%2E'], ['.', '%2E'], ['é 1', '%C3%A9%201']]) {
      const { req } = await call('getAccount', { accountId: value });
      assert.equal(req!.url, `/prefix/accounts/${encoded}`);
      assert.equal(req!.headers.host, new URL(api.url).host);
    }
  });

  test('the service credential is a bearer token; the client token and argument-supplied credentials never pass', async () => {
    api.respond((_r, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ id: 'x', owner: 'alice' }));
    });
    const { req, result } = await call('getAccount', { accountId: 'x', 'X-Request-Id': 'r1', verbose: 1, id: 'q', header_id: 'h' });
    assert.equal(result.isError, undefined);
    assert.equal(req!.headers.authorization, `Bearer ${SERVICE_TOKEN}`);
    assert.equal(req!.headers['x-request-id'], 'r1');
    assert.equal(req!.headers.id, 'h');
    assert.equal(req!.url, '/prefix/accounts/x?verbose=1&id=q');
    const sneaky = await call('getAccount', { accountId: 'x', Authorization: `Bearer ${CANARY}` });
    assert.equal(sneaky.result.isError, true);
    assert.match(text(sneaky.result), /Authorization: is not an accepted argument/);
    assert.equal(sneaky.sent.length, 0);
  });

  test('query styles: form explode, csv, deepObject, spaceDelimited, pipeDelimited; cookie parameters', async () => {
    const { req } = await call('listAccounts', { ids: ['a', 'b&c'], csv: [1, 2], filter: { status: 'open', owner: { name: 'A B' } }, spaced: ['x', 'y'], piped: ['p', 'q'], session: 's 1' });
    assert.equal(req!.url, '/prefix/accounts?ids=a&ids=b%26c&csv=1,2&filter[status]=open&filter[owner][name]=A%20B&spaced=x%20y&piped=p|q');
    assert.equal(req!.headers.cookie, 'session=s%201');
  });

  test('matrix and label path styles', async () => {
    const { req } = await call('styles', { m: ['a', 'b/c'], l: 'x' });
    assert.equal(req!.url, '/prefix/matrix/;m=a;m=b%2Fc/.x');
  });

  test('JSON, urlencoded, multipart and binary bodies', async () => {
    api.respond((r, res) => {
      res.writeHead(201, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ id: 'acc_1', owner: 'alice' }));
    });
    const created = await call('createAccount', { body: { owner: 'alice', currency: 'EUR' } });
    assert.equal(created.req!.headers['content-type'], 'application/json');
    assert.deepEqual(JSON.parse(created.req!.body.toString()), { owner: 'alice', currency: 'EUR' });
    assert.deepEqual(created.result.structuredContent, { id: 'acc_1', owner: 'alice' });

    api.respond((_r, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('thanks');
    });
    const form = await call('submitForm', { body: { name: 'a b', tags: ['x', 'y'], meta: { k: 'v' } } });
    assert.equal(form.req!.headers['content-type'], 'application/x-www-form-urlencoded');
    assert.equal(form.req!.body.toString(), 'name=a%20b&tags=x&tags=y&meta[k]=v');
    assert.deepEqual(form.result.content, [{ type: 'text', text: 'thanks' }]);

    const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 1, 2, 255]);
    api.respond((_r, res) => {
      res.writeHead(200, { 'content-type': 'image/png' });
      res.end(png);
    });
    const up = await call('upload', { body: { file: png.toString('base64'), note: 'hi' } });
    const raw = up.req!.body.toString('latin1');
    assert.match(String(up.req!.headers['content-type']), /^multipart\/form-data; boundary=/);
    assert.match(raw, /name="file"; filename="file"\r\nContent-Type: image\/png\r\n\r\n\x89PNG\x00\x01\x02\xff\r\n/);
    assert.match(raw, /name="note"\r\n\r\nhi\r\n/);
    assert.deepEqual(up.result.content, [{ type: 'image', data: png.toString('base64'), mimeType: 'image/png' }]);

    api.respond((_r, res) => {
      res.writeHead(204);
      res.end();
    });
    const put = await call('putFile', { name: 'f.bin', body: Buffer.from('hello').toString('base64') });
    assert.equal(put.req!.headers['content-type'], 'application/octet-stream');
    assert.equal(put.req!.body.toString(), 'hello');
    assert.equal(put.result.isError, undefined);
    assert.match(text(put.result), /HTTP 204 No Content/);
    const bad = await call('putFile', { name: 'f', body: 'not base64!' });
    assert.equal(bad.result.isError, true);
    assert.equal(bad.sent.length, 0);
  });

  test('security schemes decide placement: apiKey header/query/cookie, basic, OR-alternatives, optional, none', async () => {
    api.respond((r, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ method: r.method, url: r.url }));
    });
    const header = await call('keyInHeader', {});
    assert.equal(header.req!.headers['x-api-key'], SERVICE_TOKEN);
    assert.equal(header.req!.headers.authorization, undefined);
    const tools = await ts.listTools();
    assert.deepEqual(Object.keys((tools.find((t) => t.name === 'keyInHeader')!.inputSchema.properties) ?? {}), [], 'the apiKey parameter is hidden');
    assert.deepEqual(Object.keys((tools.find((t) => t.name === 'keyInQuery')!.inputSchema.properties) ?? {}), []);
    const query = await call('keyInQuery', {});
    assert.equal(query.req!.url, `/prefix/keys/query?api_key=${SERVICE_TOKEN}`);
    // A query-placed secret echoed back by the API is redacted from the result.
    assert.ok(!JSON.stringify(query.result).includes(SERVICE_TOKEN));
    assert.match(text(query.result), /api_key=\[redacted\]/);
    const cookie = await call('keyInCookie', {});
    assert.equal(cookie.req!.headers.cookie, `sid=${SERVICE_TOKEN}`);
    const basic = await call('basicAuth', {});
    assert.equal(basic.req!.headers.authorization, `Basic ${Buffer.from(SERVICE_TOKEN).toString('base64')}`);
    const either = await call('eitherAuth', {}); // http digest cannot be filled, the oauth2 alternative can
    assert.equal(either.req!.headers.authorization, `Bearer ${SERVICE_TOKEN}`);
    const optional = await call('optionalAuth', {});
    assert.equal(optional.req!.headers['x-api-key'], SERVICE_TOKEN);
    const none = await call('getFile', { name: 'x' }); // security: []
    assert.equal(none.req!.headers.authorization, undefined);
    assert.ok(!wire(none.req!).includes(SERVICE_TOKEN));
  });

  test('static headers mode: configured headers are sent, token placement is not needed', async () => {
    const ts2 = await openApiToolset({ spec: SPEC, baseUrl: api.url, credentials: { type: 'static', headers: { Authorization: { env: 'BANK_AUTH' }, 'X-Tenant': 'acme' } }, env: { BANK_AUTH: 'Bearer header-secret-123' } });
    const before = api.requests.length;
    await ts2.callTool('getAccount', { accountId: 'a' }, ctx());
    const req = api.requests[before]!;
    assert.equal(req.headers.authorization, 'Bearer header-secret-123');
    assert.equal(req.headers['x-tenant'], 'acme');
    assert.ok(!wire(req).includes(CANARY));
  });
});

describe('responses', () => {
  test('JSON arrays are wrapped to match the advertised outputSchema; scalars too', async () => {
    api.respond((_r, res) => {
      res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' });
      res.end(JSON.stringify([{ id: '1', owner: 'a' }]));
    });
    const tools = await ts.listTools();
    const list = tools.find((t) => t.name === 'listAccounts')!;
    assert.deepEqual((list.outputSchema as any).required, ['result']);
    const { result } = await call('listAccounts', {});
    assert.deepEqual(result.structuredContent, { result: [{ id: '1', owner: 'a' }] });
    const validate = new Ajv2020({ strict: false }).compile(list.outputSchema!);
    assert.ok(validate(result.structuredContent));
    api.respond((_r, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('42');
    });
    assert.deepEqual((await call('count', {})).result.structuredContent, { result: 42 });
  });

  test('a response contradicting the advertised schema is an error that still carries the data', async () => {
    api.respond((_r, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ id: 5 }));
    });
    const { result } = await call('getAccount', { accountId: 'a' });
    assert.equal(result.isError, true);
    assert.match(text(result), /does not match the operation's response schema/);
    assert.match(text(result), /\{"id":5\}/);
  });

  test('non-2xx is an error with the status and a capped body; binary is embedded, never garbled', async () => {
    api.respond((_r, res) => {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ message: 'no such account', pad: 'x'.repeat(5000) }));
    });
    const nf = await call('getAccount', { accountId: 'a' });
    assert.equal(nf.result.isError, true);
    assert.match(text(nf.result), /^bank responded HTTP 404 to GET \/accounts\/\{accountId\}:\n\{"message":"no such account"/);
    assert.ok(text(nf.result).length < 2300);
    const blob = Buffer.from([0, 1, 2, 3, 254, 255]);
    api.respond((_r, res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      res.end(blob);
    });
    const bin = await call('getFile', { name: 'x' });
    assert.deepEqual(bin.result.content[1], { type: 'resource', resource: { uri: 'deputy://bank/getFile/response', mimeType: 'application/octet-stream', blob: blob.toString('base64') } });
    api.respond((_r, res) => {
      res.writeHead(302, { location: 'https://evil.example.com/' });
      res.end();
    });
    const redirect = await call('getFile', { name: 'x' });
    assert.equal(redirect.result.isError, true);
    assert.match(text(redirect.result), /HTTP 302 \(redirects are not followed\)/);
  });

  test('response size cap and timeout are errors with short messages', async () => {
    const small = await openApiToolset({ spec: SPEC, baseUrl: api.url, options: { max_response_bytes: 1024 }, timeoutMs: 300 });
    api.respond((_r, res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      res.end(Buffer.alloc(4096));
    });
    const big = await small.callTool('getFile', { name: 'x' }, ctx());
    assert.equal(big.isError, true);
    assert.match(text(big), /over the response size limit \(max_response_bytes: 1024\)/);
    api.respond(() => {}); // never answers
    const slow = await small.callTool('getFile', { name: 'x' }, ctx());
    assert.equal(slow.isError, true);
    assert.equal(text(slow), 'bank did not respond within 300 ms (GET /files/{name})');
  });
});
