// Preloaded into the Deputy process by `npm run soak` (`node --import bench/soak-probe.ts src/cli/main.ts
// serve …`) for what Deputy's /metrics does not tell (and everything, on a build whose /metrics has no
// process metrics): V8 heap, heap after the latest major GC, active handles, event-loop delay in
// one-second windows, and the heaps of worker threads. Once a
// second it replaces the JSON file named by DEPUTY_SOAK_PROBE (write + rename, so readers never see half
// a file). Observation only: one unref'd timer, a GC observer and an event-loop histogram; without the
// environment variable it does nothing. Worker threads inherit --import (Deputy's SQLite audit writer is
// one): each writes its own file, `<DEPUTY_SOAK_PROBE>.worker-<threadId>`, so its heap is seen too.
import { renameSync, writeFileSync } from 'node:fs';
import { constants, monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';
import { getHeapStatistics } from 'node:v8';
import { isMainThread, threadId } from 'node:worker_threads';

export interface ProbeWindow {
  /** End of the one-second window (ms since the epoch). */
  t: number;
  p50: number;
  p99: number;
  max: number;
}

export interface ProbeSnapshot {
  t: number;
  pid: number;
  rss: number;
  heapUsed: number;
  heapTotal: number;
  external: number;
  arrayBuffers: number;
  heapLimit: number;
  /** heapUsed observed right after the latest major (mark-compact) GC; 0 before the first one. */
  heapAfterMajorGc: number;
  majorGcs: number;
  minorGcs: number;
  gcPauseMs: number;
  /** process.getActiveResourcesInfo(): what keeps the event loop alive, by type. */
  handles: Record<string, number>;
  handlesTotal: number;
  /** Event-loop delay (ms) of the last ~120 one-second windows, oldest first. */
  windows: ProbeWindow[];
  /** Event-loop delay (ms) since the process started. */
  total: { p50: number; p99: number; max: number };
}

const base = process.env.DEPUTY_SOAK_PROBE;
const out = base && (isMainThread ? base : `${base}.worker-${threadId}`);
if (out) {
  const ms = (ns: number) => Math.round(ns / 1e4) / 100;
  const summary = (h: ReturnType<typeof monitorEventLoopDelay>) => ({ p50: ms(h.percentile(50)), p99: ms(h.percentile(99)), max: ms(h.max) });
  const window = monitorEventLoopDelay({ resolution: 10 });
  const total = monitorEventLoopDelay({ resolution: 10 });
  window.enable();
  total.enable();
  const gc = { heapAfterMajorGc: 0, majorGcs: 0, minorGcs: 0, pauseMs: 0 };
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      gc.pauseMs += e.duration;
      if ((e as unknown as { detail?: { kind?: number } }).detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR) {
        gc.majorGcs++;
        gc.heapAfterMajorGc = process.memoryUsage().heapUsed;
      } else gc.minorGcs++;
    }
  }).observe({ entryTypes: ['gc'] });
  const windows: ProbeWindow[] = [];
  const tmp = `${out}.tmp`;
  setInterval(() => {
    windows.push({ t: Date.now(), ...summary(window) });
    if (windows.length > 120) windows.shift();
    window.reset();
    const m = process.memoryUsage();
    const handles: Record<string, number> = {};
    const active = process.getActiveResourcesInfo();
    for (const h of active) handles[h] = (handles[h] ?? 0) + 1;
    const snapshot: ProbeSnapshot = {
      t: Date.now(), pid: process.pid, rss: m.rss, heapUsed: m.heapUsed, heapTotal: m.heapTotal, external: m.external, arrayBuffers: m.arrayBuffers,
      heapLimit: getHeapStatistics().heap_size_limit, heapAfterMajorGc: gc.heapAfterMajorGc, majorGcs: gc.majorGcs, minorGcs: gc.minorGcs,
      gcPauseMs: Math.round(gc.pauseMs), handles, handlesTotal: active.length, windows, total: summary(total),
    };
    try {
      writeFileSync(tmp, JSON.stringify(snapshot));
      renameSync(tmp, out);
    } catch {
      // the soak's work folder is gone (it is shutting down): nothing to report to
    }
  }, 1000).unref();
}
