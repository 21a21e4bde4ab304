// `deputy connections list|revoke`: the operator's view of connected accounts (user_oauth): who has
// connected which upstream, with which scopes, and when it was last used; and revocation, which asks
// the upstream's authorization server to revoke the tokens (RFC 7009, when it offers it) and deletes
// them from the vault. Token values are never printed.
import { dirname, resolve } from 'node:path';
import { existsSync } from 'node:fs';
import { createConnectedAccounts } from '../connect/index.ts';
import { loadConfig } from '../config/load.ts';
import { openAuditSink } from '../audit/index.ts';
import { Vault } from '../vault/vault.ts';
import { parseFlags, UsageError } from './args.ts';

const help = `Usage: deputy connections list   [--config deputy.yaml] [--subject S] [--upstream U] [--json]
       deputy connections revoke [--config deputy.yaml] [--subject S] [--upstream U] [--all] [--json]

list:   connected accounts in the vault (issuer, subject, upstream, scopes, connected, last used).
revoke: revokes the matching accounts at their authorization server (RFC 7009, where offered) and
        deletes them; the person is asked to connect again on their next call. Needs --subject or
        --upstream (or --all for every account).
Exit codes: 0 ok · 1 nothing matched (revoke) · 2 usage or configuration error`;

export async function run(argv: string[]): Promise<number> {
  const [action, ...rest] = argv;
  if (!action || action === '-h' || action === '--help') return void console.log(help), 0;
  if (action !== 'list' && action !== 'revoke') throw new UsageError(`deputy connections: unknown action '${action}' (list or revoke)\n\n${help}`);
  const { values } = parseFlags(`connections ${action}`, rest, {
    config: { type: 'string', short: 'c' },
    subject: { type: 'string' },
    upstream: { type: 'string' },
    all: { type: 'boolean' },
    json: { type: 'boolean' },
  });
  if (values.help) return void console.log(help), 0;
  const configPath = resolve((values.config as string | undefined) ?? 'deputy.yaml');
  if (!existsSync(configPath)) throw new UsageError(`deputy connections: no config at ${configPath}; pass --config`);
  const config = await loadConfig(configPath);
  try {
    if (!config.vault) throw new UsageError('deputy connections: the config has no vault: (no upstream uses user_oauth)');
    const filter = { subject: values.subject as string | undefined, upstream: values.upstream as string | undefined };
    if (action === 'revoke' && !filter.subject && !filter.upstream && !values.all) throw new UsageError('deputy connections revoke: give --subject, --upstream, or --all');
    const vault = await Vault.open(config.vault, { baseDir: dirname(configPath) });
    try {
      const found = await vault.list(filter);
      if (action === 'list') {
        if (values.json) console.log(JSON.stringify(found, null, 2));
        else {
          for (const a of found) console.log([a.upstream.padEnd(16), a.subject.padEnd(24), (a.scope ?? '-').padEnd(28), `connected ${new Date(a.connectedAt).toISOString()}`, `last used ${a.lastUsedAt ? new Date(a.lastUsedAt).toISOString() : 'never'}`, a.issuer].join('  '));
          console.error(`${found.length} connected account(s)`);
        }
        return 0;
      }
      const audit = await openAuditSink(config.audit.store, dirname(configPath), {});
      try {
        const { accounts } = createConnectedAccounts(config, vault, () => audit);
        const results = [];
        for (const a of found) {
          const r = await accounts.disconnect(a);
          results.push({ issuer: a.issuer, subject: a.subject, upstream: a.upstream, ...r });
          if (!values.json) console.log(`${r.deleted ? 'revoked' : 'not found'}: ${a.upstream} for ${a.subject}${r.revoked ? ' (revoked at the authorization server)' : r.deleted ? ' (deleted; the authorization server offers no revocation or refused it)' : ''}`);
        }
        if (values.json) console.log(JSON.stringify(results, null, 2));
        await audit.flush();
        return found.length ? 0 : 1;
      } finally {
        await audit.close();
      }
    } finally {
      await vault.close();
    }
  } finally {
    for (const s of config.secrets) s.close();
  }
}
