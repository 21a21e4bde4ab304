// Operational log: JSON lines on stderr. Kept off the hot path (start-up, warnings, failures only);
// per-request records belong to the audit trail. Never pass tokens or secrets here.
type Level = 'debug' | 'info' | 'warn' | 'error';
const order: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };
let threshold = order[(process.env.DEPUTY_LOG_LEVEL as Level) ?? 'info'] ?? order.info;
let sink: (line: string) => void = (line) => process.stderr.write(`${line}\n`);

export function setLogSink(fn: (line: string) => void, level: Level = 'debug'): void {
  sink = fn;
  threshold = order[level];
}

function emit(level: Level, msg: string, fields?: Record<string, unknown>): void {
  if (order[level] < threshold) return;
  sink(JSON.stringify({ time: new Date().toISOString(), level, msg, ...fields }));
}

export const log = {
  debug: (msg: string, fields?: Record<string, unknown>) => emit('debug', msg, fields),
  info: (msg: string, fields?: Record<string, unknown>) => emit('info', msg, fields),
  warn: (msg: string, fields?: Record<string, unknown>) => emit('warn', msg, fields),
  error: (msg: string, fields?: Record<string, unknown>) => emit('error', msg, fields),
};

/**
 * For warnings a request can trigger (an upstream down during every listing, a flood of malformed
 * requests): the first occurrence per key is logged at once, then at most one line per `intervalMs`
 * per key, carrying how many were folded into it. At most 1,000 keys are tracked.
 */
export function throttledWarning(msg: string, intervalMs = 60_000): (key: string, fields?: Record<string, unknown>) => void {
  const seen = new Map<string, { last: number; folded: number }>();
  return (key, fields) => {
    const now = Date.now();
    const s = seen.get(key);
    if (s && now - s.last < intervalMs) return void s.folded++;
    if (!s && seen.size >= 1000) seen.delete(seen.keys().next().value!);
    emit('warn', msg, { key, ...fields, ...(s?.folded ? { similarSinceLastLine: s.folded } : {}) });
    seen.set(key, { last: now, folded: 0 });
  };
}
