// Preloaded into Deputy by bench scripts (`node --expose-gc --import bench/gc-on-signal.ts …`): SIGUSR2
// runs a full garbage collection, so a memory sample measures what is retained, not garbage not yet
// collected. Bench-only; never part of Deputy.
process.on('SIGUSR2', () => (globalThis as { gc?: () => void }).gc?.());
