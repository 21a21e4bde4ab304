// `deputy audit`: print recent audit events from the configured (or given) store.
import { dirname, resolve } from 'node:path';
import { existsSync } from 'node:fs';
import { openAuditSink, type AuditEvent } from '../audit/index.ts';
import { loadConfig } from '../config/load.ts';
import { parseFlags, UsageError } from './args.ts';

const help = `Usage: deputy audit [--config deputy.yaml | --store sqlite:PATH] [--since 1h|30m|2d|ISO-8601] [--limit N] [--json]

Prints recent audit events, oldest first. Without --config or --store, uses ./deputy.yaml if present,
else sqlite:./deputy-audit.db.`;

export async function run(argv: string[]): Promise<number> {
  const { values } = parseFlags('audit', argv, {
    config: { type: 'string', short: 'c' },
    store: { type: 'string' },
    since: { type: 'string' },
    limit: { type: 'string', default: '100' },
    json: { type: 'boolean' },
  });
  if (values.help) return void console.log(help), 0;
  const limit = Number(values.limit);
  if (!Number.isInteger(limit) || limit < 1) throw new UsageError(`deputy audit: --limit must be a positive integer, got ${values.limit}`);
  const since = values.since ? parseSince(String(values.since)) : undefined;
  let store = values.store as string | undefined;
  let baseDir = process.cwd();
  if (!store) {
    const configPath = values.config ? resolve(String(values.config)) : existsSync('deputy.yaml') ? resolve('deputy.yaml') : undefined;
    if (configPath) {
      const config = await loadConfig(configPath);
      for (const s of config.secrets) s.close();
      store = config.audit.store;
      baseDir = dirname(configPath);
    } else store = 'sqlite:./deputy-audit.db';
  }
  if (store.startsWith('sqlite:') && !existsSync(resolve(baseDir, store.slice(7)))) {
    console.error(`deputy audit: no audit database at ${resolve(baseDir, store.slice(7))} (has Deputy run with this config yet?)`);
    return 1;
  }
  const sink = await openAuditSink(store, baseDir);
  try {
    const events = await sink.query({ since, limit });
    if (values.json) console.log(JSON.stringify(events, null, 2));
    else {
      for (const e of events) console.log(formatEvent(e));
      console.error(`${events.length} event(s)`);
    }
  } finally {
    await sink.close();
  }
  return 0;
}

export function parseSince(s: string): Date {
  const m = /^(\d+)\s*(s|m|h|d)$/.exec(s);
  if (m) return new Date(Date.now() - Number(m[1]) * { s: 1e3, m: 6e4, h: 36e5, d: 864e5 }[m[2] as 's' | 'm' | 'h' | 'd']);
  const d = new Date(s);
  if (Number.isNaN(d.getTime())) throw new UsageError(`deputy audit: --since expects a duration like 30m, 2h, 7d or an ISO-8601 time, got ${JSON.stringify(s)}`);
  return d;
}

function formatEvent(e: AuditEvent): string {
  const who = e.subject ? `${e.subject}${e.clientId ? ` via ${e.clientId}` : ''}` : '-';
  const what = [e.httpMethod, e.route, e.rpcMethod, e.target].filter(Boolean).join(' ');
  return `${e.time}  ${String(e.status).padEnd(3)} ${e.outcome.padEnd(16)} ${who.padEnd(24)} ${what}${e.credentialMode ? ` [${e.credentialMode}]` : ''} ${e.latencyMs}ms${e.detail ? `  — ${e.detail}` : ''}`;
}
