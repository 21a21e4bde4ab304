// `deputy tools diff|approve`: review tool-definition pinning. `diff` shows each pending change (a
// definition that differs from the one pinned at first sight) as a readable line diff of its
// canonical JSON; `approve` accepts changes, which are then served again (and audited as approved).
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { openAuditSink } from '../audit/index.ts';
import { loadConfig } from '../config/load.ts';
import { openPinStore, type PinRow } from '../governance/pin-store.ts';
import { ToolPins, type PinKind } from '../governance/pins.ts';
import { definitionDiff } from '../governance/diff.ts';
import { parseFlags, UsageError } from './args.ts';

const help = `Usage: deputy tools diff    [--config deputy.yaml] [--upstream U] [--json]
       deputy tools approve [--config deputy.yaml] --upstream U (--tool NAME | --prompt NAME | --template URI | --all) [--by WHO]

diff:    pending changes: definitions that differ from what was pinned at first sight, as a diff.
approve: accepts pending changes; the new definition becomes the pin and is served again.
Exit codes: 0 ok (diff: nothing pending) · 1 diff: changes pending; approve: nothing matched · 2 usage error`;

export async function run(argv: string[]): Promise<number> {
  const [action, ...rest] = argv;
  if (!action || action === '-h' || action === '--help') return void console.log(help), 0;
  if (action !== 'diff' && action !== 'approve') throw new UsageError(`deputy tools: unknown action '${action}' (diff or approve)\n\n${help}`);
  const { values } = parseFlags(`tools ${action}`, rest, {
    config: { type: 'string', short: 'c' }, upstream: { type: 'string' }, tool: { type: 'string' }, prompt: { type: 'string' }, template: { type: 'string' },
    all: { type: 'boolean' }, by: { type: 'string' }, json: { type: 'boolean' },
  });
  if (values.help) return void console.log(help), 0;
  const configPath = resolve((values.config as string | undefined) ?? 'deputy.yaml');
  if (!existsSync(configPath)) throw new UsageError(`deputy tools: no config at ${configPath}; pass --config`);
  const config = await loadConfig(configPath);
  for (const s of config.secrets) s.close();
  const baseDir = dirname(configPath);
  const audit = await openAuditSink(config.audit.store, baseDir, {});
  const pins = new ToolPins(await openPinStore(config.audit.store, baseDir), () => 'enforce', () => audit);
  try {
    const upstream = values.upstream as string | undefined;
    const pending = await pins.pending(upstream);
    if (action === 'diff') {
      if (values.json) console.log(JSON.stringify(pending.map((p) => ({ upstream: p.upstream, kind: p.kind, name: p.name, pinned: JSON.parse(p.definition), pending: JSON.parse(p.pendingDefinition!), changedAt: new Date(p.changedAt!).toISOString() })), null, 2));
      else {
        for (const p of pending) console.log(describe(p));
        console.error(`${pending.length} pending change(s)${pending.length ? `; approve with: deputy tools approve --upstream U --tool NAME` : ''}`);
      }
      return pending.length ? 1 : 0;
    }
    if (!upstream) throw new UsageError('deputy tools approve: --upstream is required');
    const wanted: [PinKind, string | undefined][] = [['tool', values.tool as string | undefined], ['prompt', values.prompt as string | undefined], ['resource_template', values.template as string | undefined]];
    const chosen = values.all ? pending : pending.filter((p) => wanted.some(([k, n]) => k === p.kind && n === p.name));
    if (!values.all && !wanted.some(([, n]) => n)) throw new UsageError('deputy tools approve: give --tool, --prompt, --template or --all');
    let approved = 0;
    for (const p of chosen) if (await pins.approve(p.upstream, p.kind, p.name, (values.by as string | undefined) ?? process.env.USER ?? 'operator')) approved++;
    console.log(`${approved} change(s) approved`);
    await audit.flush();
    return approved ? 0 : 1;
  } finally {
    await pins.close();
    await audit.close();
  }
}

/** A pending change as a line diff of the pretty-printed canonical definitions. */
function describe(p: PinRow): string {
  return [`--- ${p.upstream} ${p.kind} ${p.name} (pinned)`, `+++ ${p.upstream} ${p.kind} ${p.name} (changed ${new Date(p.changedAt!).toISOString()})`, ...definitionDiff(p), ''].join('\n');
}
