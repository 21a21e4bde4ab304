import { dirname, resolve } from 'node:path';
import { loadConfig } from '../config/load.ts';
import { ConfigError } from '../config/errors.ts';
import { startGateway } from '../gateway.ts';
import { log } from '../log.ts';
import { parseFlags } from './args.ts';

const help = `Usage: deputy serve --config deputy.yaml

Runs the gateway. Stops gracefully on SIGINT/SIGTERM (in-flight requests finish, audit is flushed).`;

export async function run(argv: string[]): Promise<number> {
  const { values } = parseFlags('serve', argv, { config: { type: 'string', short: 'c', default: 'deputy.yaml' } });
  if (values.help) return void console.log(help), 0;
  const path = resolve(String(values.config));
  let config;
  try {
    config = await loadConfig(path);
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      return 2;
    }
    throw error;
  }
  const gateway = await startGateway(config, { baseDir: dirname(path) });
  log.info('deputy listening', { url: gateway.url, endpoints: [...gateway.routes.keys()], public_url: config.server.publicUrl });
  await new Promise<void>((resolveStop) => {
    const stop = (signal: string) => {
      log.info('shutting down', { signal });
      gateway.close().then(resolveStop, resolveStop);
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  return 0;
}
