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
