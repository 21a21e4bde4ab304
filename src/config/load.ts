import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { parseDocument } from 'yaml';
import { ConfigError } from './errors.ts';
import { parseConfig, type DeputyConfig } from './schema.ts';

/** Reads and validates a deputy.yaml; relative paths in it resolve against the file's folder. */
export async function loadConfig(path: string, env: NodeJS.ProcessEnv = process.env): Promise<DeputyConfig> {
  const file = resolve(path);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new ConfigError([{ path: '', message: code === 'ENOENT' ? `config file not found: ${file}` : `cannot read ${file}: ${(error as Error).message}` }]);
  }
  return parseConfigText(text, { baseDir: dirname(file), env, source: file });
}

export function parseConfigText(text: string, opts: { baseDir: string; env?: NodeJS.ProcessEnv; source?: string }): DeputyConfig {
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length) {
    throw new ConfigError(doc.errors.map((e) => ({ path: '', message: `YAML syntax: ${e.message.split('\n')[0]}` })), opts.source);
  }
  let raw: unknown;
  try {
    // Aliases are expanded here: a "billion laughs" document or an unresolved alias fails as a config error.
    raw = doc.toJS({ maxAliasCount: 1000 });
  } catch (error) {
    throw new ConfigError([{ path: '', message: `YAML: ${(error as Error).message.split('\n')[0]}` }], opts.source);
  }
  return parseConfig(raw, opts);
}
