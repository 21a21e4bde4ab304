// Every operation of a large real-world spec (github.json, fetched by scripts/fetch-openapi-fixtures.ts).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkSpec, requireFixture } from './fixture-check.ts';

test('fixture github.json: every operation is a valid tool and never carries the client token', async () => {
  const stats = await checkSpec(requireFixture('github.json'));
  if (process.env.OPENAPI_FIXTURE_STATS) console.log(JSON.stringify(stats));
  assert.ok(stats.tools > 400);
  assert.ok(stats.requestsSent > stats.tools / 2, 'most tools were actually called');
});
