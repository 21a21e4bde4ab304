// Child process: closed-loop load with autocannon (fallback when wrk is not installed).
import autocannon from 'autocannon';
import type { LoadSpec } from './load.ts';

const spec = JSON.parse(process.argv[2]!) as LoadSpec;
const result = await autocannon({
  url: spec.url,
  connections: spec.connections,
  duration: spec.durationSec,
  requests: spec.requests.map((r) => ({ method: 'POST', headers: r.headers, body: r.body })),
});
process.stdout.write(JSON.stringify({
  tool: 'autocannon',
  requests: result.requests.total,
  rps: result.requests.total / spec.durationSec,
  p50Ms: result.latency.p50,
  p99Ms: result.latency.p99,
  maxMs: result.latency.max,
  errors: result.errors + result.non2xx + result.timeouts,
}));
