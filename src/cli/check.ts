// `deputy check`: validate a config and lint it for security problems. Exit 1 on errors.
import { resolve } from 'node:path';
import { ConfigError, type ConfigIssue } from '../config/errors.ts';
import { loadConfig } from '../config/load.ts';
import { parseFlags } from './args.ts';

const help = `Usage: deputy check --config deputy.yaml [--json]

Validates the configuration (every problem, with the exact key and a fix) and reports security
warnings (token passthrough, plain-http upstreams, …). Exit code 0 when valid, 1 when not.`;

export async function run(argv: string[]): Promise<number> {
  const { values } = parseFlags('check', argv, { config: { type: 'string', short: 'c', default: 'deputy.yaml' }, json: { type: 'boolean' } });
  if (values.help) return void console.log(help), 0;
  const path = resolve(String(values.config));
  let errors: ConfigIssue[] = [];
  let warnings: ConfigIssue[] = [];
  try {
    const config = await loadConfig(path);
    warnings = config.warnings;
    for (const s of config.secrets) s.close();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    errors = error.issues;
  }
  if (values.json) {
    console.log(JSON.stringify({ config: path, valid: errors.length === 0, errors, warnings }, null, 2));
  } else {
    for (const e of errors) console.error(`error   ${e.path || '(file)'}: ${e.message}`);
    for (const w of warnings) console.error(`warning ${w.path}: ${w.message}`);
    console.error(errors.length ? `${path}: ${errors.length} error(s), ${warnings.length} warning(s)` : `${path}: valid, ${warnings.length} warning(s)`);
  }
  return errors.length ? 1 : 0;
}
