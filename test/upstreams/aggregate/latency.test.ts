// Measurement, not an assertion on time: a cold tools/list on /mcp across five upstreams (fan-out in
// parallel, upstream sessions opened on demand) next to a cold tools/list of the slowest upstream
// alone through /mcp/<upstream>. Printed for the record; the test asserts only completeness.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { connectClient, startAs, startDeputy, startUpstream, userToken } from '../../support/stack.ts';

test('cold tools/list: /mcp over 5 upstreams vs the slowest upstream alone (printed)', async () => {
  const as = await startAs();
  const names = ['u1', 'u2', 'u3', 'u4', 'u5'];
  const ups = await Promise.all(names.map((name) => startUpstream({ name })));
  const deputy = await startDeputy(as, {
    upstreams: names.map((name, i) => ({ name, type: 'mcp', url: ups[i]!.url, credentials: { type: 'static', headers: { Authorization: { env: 'UP' } } } })),
    env: { UP: 'Bearer s' },
  });
  // Warm Deputy's own paths (token verification keys, connection pools) with a throwaway principal.
  await (await connectClient(`${deputy.url}/mcp`, await userToken(as, `${deputy.url}/mcp`, { sub: 'warm' }))).listTools();

  const cold = async (path: string, sub: string) => {
    const client = await connectClient(`${deputy.url}${path}`, await userToken(as, `${deputy.url}${path}`, { sub }));
    const t0 = performance.now();
    const r = await client.listTools(); // on /mcp this opens the upstream sessions of a new principal
    return { ms: performance.now() - t0, count: r.tools.length };
  };
  const aggregated = await cold('/mcp', 'agg-user');
  const alone = await Promise.all(names.map(async (n) => ({ n, ...(await cold(`/mcp/${n}`, `solo-${n}`)) })));
  const slowest = alone.reduce((a, b) => (b.ms > a.ms ? b : a));
  console.log(`cold tools/list: /mcp over 5 upstreams ${aggregated.ms.toFixed(1)} ms (${aggregated.count} tools); slowest upstream alone (/mcp/${slowest.n}) ${slowest.ms.toFixed(1)} ms; per upstream ${alone.map((a) => `${a.n} ${a.ms.toFixed(1)}`).join(', ')}`);
  assert.equal(aggregated.count, alone.reduce((s, a) => s + a.count, 0));
});
