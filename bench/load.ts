// Load generators, each run in its own process so it does not share an event loop with what it
// measures: wrk (closed loop, max throughput; preferred when installed) or autocannon as a fallback,
// and an open-loop fixed-rate generator (µs latency, corrected for coordinated omission).
import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

export interface RequestSpec {
  headers: Record<string, string>;
  body: string;
}

export interface LoadSpec {
  url: string;
  requests: RequestSpec[];
  connections: number;
  durationSec: number;
}

export interface LoadResult {
  tool: string;
  requests: number;
  rps: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  errors: number;
}

const run = promisify(execFile);
/** wrk when installed, unless BENCH_LOAD_TOOL=autocannon asks for the fallback (what a machine without wrk runs). */
export const hasWrk = () => process.env.BENCH_LOAD_TOOL !== 'autocannon' && spawnSync('wrk', ['--version']).error === undefined;

export async function closedLoop(spec: LoadSpec): Promise<LoadResult> {
  return hasWrk() ? wrk(spec) : autocannon(spec);
}

async function wrk(spec: LoadSpec): Promise<LoadResult> {
  const dir = mkdtempSync(join(tmpdir(), 'deputy-bench-wrk-'));
  const u = new URL(spec.url);
  const lua = `
local reqs = {}
${spec.requests.map((r) => `table.insert(reqs, wrk.format("POST", ${JSON.stringify(u.pathname)}, {${Object.entries({ host: u.host, ...r.headers }).map(([k, v]) => `[${JSON.stringify(k)}] = ${JSON.stringify(v)}`).join(', ')}}, ${JSON.stringify(r.body)}))`).join('\n')}
local i = 0
request = function()
  i = i % #reqs + 1
  return reqs[i]
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT %d %d %f %f %f %d %d\\n", summary.requests, summary.duration, latency:percentile(50), latency:percentile(99), latency.max, e.connect + e.read + e.write + e.timeout, e.status))
end`;
  writeFileSync(join(dir, 'script.lua'), lua);
  const { stdout } = await run('wrk', ['-t1', `-c${spec.connections}`, `-d${spec.durationSec}s`, '-s', join(dir, 'script.lua'), spec.url], { maxBuffer: 1 << 20 });
  const m = /RESULT (\d+) (\d+) ([\d.]+) ([\d.]+) ([\d.]+) (\d+) (\d+)/.exec(stdout);
  if (!m) throw new Error(`wrk printed no result:\n${stdout}`);
  const [, n, durUs, p50, p99, max, errors, non2xx] = m.map(Number) as number[];
  return { tool: 'wrk', requests: n!, rps: n! / (durUs! / 1e6), p50Ms: p50! / 1000, p99Ms: p99! / 1000, maxMs: max! / 1000, errors: errors! + non2xx! };
}

async function autocannon(spec: LoadSpec): Promise<LoadResult> {
  const { stdout } = await run(process.execPath, [new URL('./autocannon-worker.ts', import.meta.url).pathname, JSON.stringify(spec)], { maxBuffer: 1 << 24 });
  return JSON.parse(stdout);
}

export interface FixedRateResult {
  rate: number;
  sent: number;
  p50Us: number;
  p90Us: number;
  p99Us: number;
  p999Us: number;
  maxUs: number;
  errors: number;
}

export async function fixedRate(spec: LoadSpec & { rate: number }): Promise<FixedRateResult> {
  const { stdout } = await run(process.execPath, [new URL('./fixed-rate-worker.ts', import.meta.url).pathname, JSON.stringify(spec)], { maxBuffer: 1 << 24 });
  return JSON.parse(stdout);
}
