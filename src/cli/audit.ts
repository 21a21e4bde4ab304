// `deputy audit`: print recent audit events from the configured (or given) store;
// `deputy audit verify`: check the per-replica hash chains and name the first broken row.
import { dirname, resolve } from 'node:path';
import { existsSync } from 'node:fs';
import { verifyChain, type ChainReport } from '../audit/chain.ts';
import { openAuditSink, type AuditEvent, type AuditSink } from '../audit/index.ts';
import { isPostgresSink } from '../audit/postgres-guard.ts';
import { SqliteAuditSink } from '../audit/sqlite.ts';
import { loadConfig } from '../config/load.ts';
import { parseFlags, UsageError } from './args.ts';

const help = `Usage: deputy audit [--config deputy.yaml | --store sqlite:PATH|postgres://…] [--since 1h|30m|2d|ISO-8601] [--limit N] [--json]
       deputy audit verify [--config deputy.yaml | --store …] [--json]

Prints recent audit events, oldest first. Without --config or --store, uses ./deputy.yaml if present,
else sqlite:./deputy-audit.db.

verify: recomputes every replica's hash chain (replica_id, seq, prev_hash, hash) and reports the
first broken row of each chain (edited, deleted or reordered events). Exit code 0 intact, 1 broken.`;

export async function run(argv: string[]): Promise<number> {
  if (argv[0] === 'verify') return verify(argv.slice(1));
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
  const sink = await openStore(values.config as string | undefined, values.store as string | undefined);
  if (!sink) return 1;
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

async function verify(argv: string[]): Promise<number> {
  const { values } = parseFlags('audit verify', argv, { config: { type: 'string', short: 'c' }, store: { type: 'string' }, json: { type: 'boolean' } });
  if (values.help) return void console.log(help), 0;
  const sink = await openStore(values.config as string | undefined, values.store as string | undefined);
  if (!sink) return 1;
  let report: ChainReport;
  try {
    if (sink instanceof SqliteAuditSink) {
      const { rows, unchained } = await sink.chainRows();
      report = await verifyChain(rows, unchained);
    } else if (isPostgresSink(sink)) {
      report = await verifyChain(sink.chainRows());
    } else {
      console.error('deputy audit verify: only sqlite: and postgres:// stores keep a hash chain');
      return 2;
    }
  } finally {
    await sink.close();
  }
  if (values.json) console.log(JSON.stringify(report, null, 2));
  else {
    for (const r of report.replicas) {
      const broken = report.breaks.find((b) => b.replicaId === r.replicaId);
      console.log(`${broken ? 'BROKEN' : 'ok    '} replica ${r.replicaId}: ${r.events} event(s) ${r.firstTime ?? ''} … ${r.lastTime ?? ''}`);
      if (broken) console.log(`       first broken row: id ${broken.id}, seq ${broken.seq}: ${broken.problem}`);
    }
    if (report.unchained) console.log(`note: ${report.unchained} event(s) were written before the hash chain existed and are not covered`);
    console.error(report.ok ? `chain intact: ${report.events} event(s) in ${report.replicas.length} replica chain(s)` : `chain BROKEN in ${report.breaks.length} of ${report.replicas.length} replica chain(s)`);
  }
  return report.ok ? 0 : 1;
}

/** The store named by --store, by --config (or ./deputy.yaml), else the default SQLite file; undefined (message printed) when absent. */
async function openStore(configFlag: string | undefined, storeFlag: string | undefined): Promise<AuditSink | undefined> {
  let store = storeFlag;
  let baseDir = process.cwd();
  if (!store) {
    const configPath = configFlag ? resolve(configFlag) : existsSync('deputy.yaml') ? resolve('deputy.yaml') : undefined;
    if (configPath) {
      const config = await loadConfig(configPath);
      for (const s of config.secrets) s.close();
      store = config.audit.store;
      baseDir = dirname(configPath);
    } else store = 'sqlite:./deputy-audit.db';
  }
  if (store.startsWith('sqlite:') && store !== 'sqlite::memory:' && !existsSync(resolve(baseDir, store.slice(7)))) {
    console.error(`deputy audit: no audit database at ${resolve(baseDir, store.slice(7))} (has Deputy run with this config yet?)`);
    return undefined;
  }
  return openAuditSink(store, baseDir, { readOnly: true });
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
