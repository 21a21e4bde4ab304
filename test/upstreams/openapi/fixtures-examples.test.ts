// Every operation of @readme/oas-examples (Swagger 2.0, OpenAPI 3.0 and 3.1 edge cases) and Scalar's Galaxy.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { CACHE, checkSpec, requireFixture } from './fixture-check.ts';
import { openApiToolset } from './support.ts';

const dir = requireFixture('oas-examples');
const specs = ['2.0', '3.0', '3.1'].flatMap((v) => readdirSync(join(dir, v)).filter((f) => f.endsWith('.json')).map((f) => `oas-examples/${v}/${f}`));
specs.push('galaxy.json');

for (const rel of specs) {
  test(`fixture ${rel}: every operation is a valid tool and never carries the client token`, async () => {
    const stats = await checkSpec(join(CACHE, rel));
    assert.ok(stats.tools + Object.values(stats.excluded).reduce((a, b) => a + b, 0) === stats.operations);
    if (process.env.OPENAPI_FIXTURE_STATS) console.log(JSON.stringify(stats));
  });
}

test('names and schemas do not depend on key order in the document', async () => {
  for (const rel of ['galaxy.json', 'oas-examples/3.0/petstore.json', 'oas-examples/2.0/petstore.json']) {
    const doc = JSON.parse(readFileSync(requireFixture(rel), 'utf8'));
    const reverse = (o: Record<string, unknown>) => Object.fromEntries(Object.entries(o).reverse());
    const shuffled = { ...doc, paths: reverse(Object.fromEntries(Object.entries(doc.paths).map(([p, item]) => [p, reverse(item as Record<string, unknown>)]))) };
    if (doc.components?.schemas) shuffled.components = { ...doc.components, schemas: reverse(doc.components.schemas) };
    if (doc.definitions) shuffled.definitions = reverse(doc.definitions);
    const file = join(mkdtempSync(join(tmpdir(), 'deputy-oas-')), 'shuffled.json');
    writeFileSync(file, JSON.stringify(shuffled));
    const a = await (await openApiToolset({ spec: requireFixture(rel), baseUrl: 'http://127.0.0.1:9' })).listTools(undefined as never);
    const b = await (await openApiToolset({ spec: file, baseUrl: 'http://127.0.0.1:9' })).listTools(undefined as never);
    assert.deepEqual(b.map((t) => t.name), a.map((t) => t.name));
    const byName = new Map(b.map((t) => [t.name, t]));
    for (const t of a) assert.deepEqual(Object.keys(byName.get(t.name)!.inputSchema.properties ?? {}).sort(), Object.keys(t.inputSchema.properties ?? {}).sort());
  }
});
