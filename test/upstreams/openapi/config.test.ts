// Options validation (key-path errors), filters, overrides, Swagger 2.0 conversion and spec loading by URL.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError } from '../../../src/config/errors.ts';
import { parseOpenApiOptions } from '../../../src/upstreams/openapi/index.ts';
import { ctx, openApiToolset, SERVICE_TOKEN, startRecordingServer, wire, CANARY } from './support.ts';

function issues(fn: () => unknown): string[] {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof ConfigError);
    return error.issues.map((i) => `${i.path}: ${i.message}`);
  }
  assert.fail('expected a ConfigError');
}

test('options: every problem is reported with its key path', () => {
  const found = issues(() => parseOpenApiOptions({
    include: { tags: 'ok', methods: ['GET', 'FETCH'], paths: ['repos/**'], tag: ['x'] },
    exclude: {},
    read_onyl: true,
    tool_names: { getPet: 'bad name', 'GET /pets': 'a'.repeat(60), listPets: 'x__y', other: 'dup', more: 'dup' },
    max_response_bytes: 'big',
  }, 'upstreams[2]', 'petstore'));
  assert.deepEqual(found, [
    'upstreams[2].include.methods[1]: "FETCH" is not an HTTP method; use one of GET, PUT, POST, DELETE, OPTIONS, HEAD, PATCH, TRACE',
    'upstreams[2].include.paths[0]: path globs match the spec\'s path templates and start with "/", e.g. "/repos/**"; got "repos/**"',
    "upstreams[2].include.tag: unknown key (did you mean 'tags'?); allowed here: tags, operations, methods, paths",
    'upstreams[2].exclude: exclude needs at least one of tags, methods, operations or paths',
    'upstreams[2].tool_names.getPet: "bad name" is not a valid tool name: use letters, digits, _ and - only (no "__", which separates the upstream prefix)',
    `upstreams[2].tool_names.GET /pets: "${'a'.repeat(60)}" is 60 characters; with the "petstore__" prefix tool names may have at most 54`,
    'upstreams[2].tool_names.listPets: "x__y" is not a valid tool name: use letters, digits, _ and - only (no "__", which separates the upstream prefix)',
    'upstreams[2].tool_names.more: "dup" is already used for other; tool names must be unique',
    'upstreams[2].max_response_bytes: expected an integer, got "big"',
    "upstreams[2].read_onyl: unknown key (did you mean 'read_only'?); allowed here: include, exclude, tool_names, read_only, include_deprecated, output_schema, max_response_bytes, max_output_schema_bytes, spec_timeout_ms, spec_max_bytes, validate_spec, connections",
  ]);
});

test('filters, read_only, overrides and an unknown override key', async () => {
  const api = await startRecordingServer();
  const ts = await openApiToolset({ spec: 'fixtures/bank.openapi.yaml', baseUrl: api.url, options: { include: { tags: ['accounts', 'admin'] }, exclude: { paths: ['/accounts/*'], methods: ['POST'] }, tool_names: { listAccounts: 'accounts', 'get /accounts/{accountId}': 'unused' } } });
  assert.deepEqual((await ts.listTools(undefined as never)).map((t) => t.name), ['accounts']);
  assert.deepEqual(ts.report.excluded.find((e) => e.operation === 'POST /accounts'), { operation: 'POST /accounts', reason: 'matched exclude.methods (POST)' });
  assert.deepEqual(ts.report.excluded.find((e) => e.operation === 'GET /count'), { operation: 'GET /count', reason: 'not matched by include.tags' });
  const ro = await openApiToolset({ spec: 'fixtures/bank.openapi.yaml', baseUrl: api.url, options: { read_only: true, include_deprecated: true } });
  const names = (await ro.listTools(undefined as never)).map((t) => t.name);
  assert.ok(names.includes('oldThing') && names.includes('getAccount') && !names.includes('createAccount') && !names.includes('deleteAccount'));
  await assert.rejects(openApiToolset({ spec: 'fixtures/bank.openapi.yaml', baseUrl: api.url, options: { tool_names: { noSuchOp: 'x' } } }), (e: unknown) =>
    e instanceof ConfigError && e.issues[0]!.path === 'upstreams[0].tool_names.noSuchOp' && /matches no operation/.test(e.issues[0]!.message));
  await assert.rejects(openApiToolset({ spec: 'fixtures/missing.yaml', baseUrl: api.url }), (e: unknown) =>
    e instanceof ConfigError && e.issues[0]!.path === 'upstreams[0].spec' && /no such file/.test(e.issues[0]!.message));
});

test('Swagger 2.0: body and formData parameters, consumes, collectionFormat and securityDefinitions', async () => {
  const spec = {
    swagger: '2.0', info: { title: 'S', version: '1' }, host: 'evil.example.com', basePath: '/v2', consumes: ['application/json'],
    securityDefinitions: { basic: { type: 'basic' }, key: { type: 'apiKey', in: 'query', name: 'key' } },
    security: [{ basic: [] }],
    paths: {
      '/pets': {
        post: { operationId: 'addPet', parameters: [{ in: 'body', name: 'pet', required: true, schema: { $ref: '#/definitions/Pet' } }], responses: { 200: { description: 'ok', schema: { $ref: '#/definitions/Pet' } } } },
        get: { operationId: 'findPets', security: [{ key: [] }], parameters: [{ in: 'query', name: 'tags', type: 'array', items: { type: 'string' } }, { in: 'query', name: 'ids', type: 'array', collectionFormat: 'multi', items: { type: 'integer' } }, { in: 'query', name: 'key', type: 'string' }], responses: { 200: { description: 'ok' } } },
      },
      '/pets/{id}/photo': {
        post: { operationId: 'uploadPhoto', consumes: ['multipart/form-data'], parameters: [{ in: 'path', name: 'id', required: true, type: 'integer' }, { in: 'formData', name: 'file', type: 'file', required: true }, { in: 'formData', name: 'caption', type: 'string' }], responses: { 200: { description: 'ok' } } },
      },
    },
    definitions: { Pet: { type: 'object', required: ['name'], properties: { name: { type: 'string' }, id: { type: 'integer', readOnly: true } } } },
  };
  const api = await startRecordingServer();
  const server = await startRecordingServer();
  server.respond((_r, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(spec));
  });
  const ts = await openApiToolset({ spec: `${server.url}/swagger.json`, baseUrl: api.url });
  assert.match(ts.report.warnings.join('\n'), /Swagger 2\.0 document converted/);
  const tools = new Map((await ts.listTools(undefined as never)).map((t) => [t.name, t]));
  assert.deepEqual((tools.get('addPet')!.inputSchema as any).$defs.Pet.properties, { name: { type: 'string' } });
  assert.deepEqual(Object.keys(tools.get('findPets')!.inputSchema.properties!), ['tags', 'ids']);
  const add = await ts.callTool('addPet', { body: { name: 'Rex' } }, ctx());
  assert.equal(add.isError, true, 'echo body does not match the Pet schema');
  let req = api.requests.at(-1)!;
  assert.equal(req.url, '/pets');
  assert.equal(req.headers.authorization, `Basic ${Buffer.from(SERVICE_TOKEN).toString('base64')}`);
  assert.equal(req.body.toString(), '{"name":"Rex"}');
  await ts.callTool('findPets', { tags: ['a', 'b'], ids: [1, 2] }, ctx());
  req = api.requests.at(-1)!;
  assert.equal(req.url, `/pets?tags=a,b&ids=1&ids=2&key=${SERVICE_TOKEN}`);
  await ts.callTool('uploadPhoto', { id: 7, body: { file: Buffer.from('img').toString('base64'), caption: 'c' } }, ctx());
  req = api.requests.at(-1)!;
  assert.equal(req.url, '/pets/7/photo');
  assert.match(req.body.toString(), /name="file"; filename="file"\r\nContent-Type: application\/octet-stream\r\n\r\nimg\r\n/);
  for (const r of api.requests) assert.ok(!wire(r).includes(CANARY));
});

test('spec by URL: size cap and HTTP errors are config errors on the spec key', async () => {
  const server = await startRecordingServer();
  server.respond((_r, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ openapi: '3.0.3', info: { title: 'x', version: '1' }, paths: {}, pad: 'x'.repeat(4096) }));
  });
  await assert.rejects(openApiToolset({ spec: `${server.url}/big.json`, baseUrl: server.url, options: { spec_max_bytes: 1024 } }), (e: unknown) =>
    e instanceof ConfigError && e.issues[0]!.path === 'upstreams[0].spec' && /spec_max_bytes \(1024\)/.test(e.issues[0]!.message));
  server.respond((_r, res) => {
    res.writeHead(404);
    res.end();
  });
  await assert.rejects(openApiToolset({ spec: `${server.url}/nope.json`, baseUrl: server.url }), /fetching spec .* failed with HTTP 404/);
});
