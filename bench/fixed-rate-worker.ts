// Child process: open-loop load at a fixed request rate. Each request's latency is measured from its
// *scheduled* send time, so a stall shows up in the percentiles instead of silently lowering the rate.
// The schedule is kept by a ticker thread sleeping in Atomics.wait (sub-millisecond precision without
// spinning a core); Node's own timers round to whole milliseconds, which alone put ~1 ms of generator
// jitter into every latency at 2,000 req/s.
import { Worker } from 'node:worker_threads';
import { Pool } from 'undici';
import type { LoadSpec } from './load.ts';

const spec = JSON.parse(process.argv[2]!) as LoadSpec & { rate: number };
const u = new URL(spec.url);
const pool = new Pool(u.origin, { connections: spec.connections, pipelining: 1 });
// The first second warms connections and JIT on both sides and is not counted.
const warm = Math.round(spec.rate);
const total = warm + Math.round(spec.rate * spec.durationSec);
const latencies = new Float64Array(total);
const interval = 1000 / spec.rate;
const start = performance.timeOrigin + performance.now() + 50; // absolute ms, comparable across threads
let errors = 0;
let done = 0;
let next = 0;

const ticker = new Worker(`
  const { parentPort, workerData: { start, interval, total } } = require('node:worker_threads');
  const sleeper = new Int32Array(new SharedArrayBuffer(4));
  const now = () => performance.timeOrigin + performance.now();
  for (let i = 0; i < total; ) {
    const wait = start + i * interval - now();
    if (wait > 0.05) { Atomics.wait(sleeper, 0, 0, wait); continue; }
    // Send everything that is due (after a descheduling, a burst: exactly what an open loop does).
    let due = i;
    while (due < total && start + due * interval <= now()) due++;
    i = due;
    parentPort.postMessage(due);
  }
`, { eval: true, workerData: { start, interval, total } });

await new Promise<void>((resolve) => {
  ticker.on('message', (due: number) => {
    while (next < due) {
      const i = next++;
      const scheduled = start + i * interval;
      const r = spec.requests[i % spec.requests.length]!;
      pool.request({ path: u.pathname, method: 'POST', headers: r.headers, body: r.body }).then(async (res) => {
        await res.body.dump();
        if (res.statusCode !== 200) errors++;
      }, () => { errors++; }).finally(() => {
        latencies[i] = (performance.timeOrigin + performance.now() - scheduled) * 1000;
        if (++done === total) resolve();
      });
    }
  });
});
await ticker.terminate();
await pool.close();
const sorted = Array.from(latencies.subarray(warm)).sort((a, b) => a - b);
const pct = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
process.stdout.write(JSON.stringify({ rate: spec.rate, sent: total - warm, p50Us: pct(50), p90Us: pct(90), p99Us: pct(99), p999Us: pct(99.9), maxUs: sorted.at(-1), errors }));
