// Child process: open-loop load at a fixed request rate. Each request's latency is measured from its
// *scheduled* send time, so a stall shows up in the percentiles instead of silently lowering the rate.
import { Pool } from 'undici';
import type { LoadSpec } from './load.ts';

const spec = JSON.parse(process.argv[2]!) as LoadSpec & { rate: number };
const u = new URL(spec.url);
const pool = new Pool(u.origin, { connections: spec.connections, pipelining: 1 });
// The first second warms connections and JIT on both sides and is not counted.
const warm = Math.round(spec.rate);
const total = warm + Math.round(spec.rate * spec.durationSec);
const latencies = new Float64Array(total);
let errors = 0;
let done = 0;
const start = performance.now() + 20;
const interval = 1000 / spec.rate;

await new Promise<void>((resolve) => {
  let next = 0;
  const tick = () => {
    const now = performance.now();
    while (next < total && start + next * interval <= now) {
      const i = next++;
      const scheduled = start + i * interval;
      const r = spec.requests[i % spec.requests.length]!;
      pool.request({ path: u.pathname, method: 'POST', headers: r.headers, body: r.body }).then(async (res) => {
        await res.body.dump();
        if (res.statusCode !== 200) errors++;
      }, () => { errors++; }).finally(() => {
        latencies[i] = (performance.now() - scheduled) * 1000;
        if (++done === total) resolve();
      });
    }
    // Sleep until the next request is due (a setImmediate spin would burn a core that Deputy and
    // the upstream need on a small machine, and distort the very latencies being measured).
    if (next < total) setTimeout(tick, Math.max(0, start + next * interval - performance.now()));
  };
  tick();
});
await pool.close();
const sorted = Array.from(latencies.subarray(warm)).sort((a, b) => a - b);
const pct = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
process.stdout.write(JSON.stringify({ rate: spec.rate, sent: total - warm, p50Us: pct(50), p99Us: pct(99), maxUs: sorted.at(-1), errors }));
