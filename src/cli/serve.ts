import { watch, type FSWatcher } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { loadConfig } from '../config/load.ts';
import { ConfigError } from '../config/errors.ts';
import { startGateway, type Gateway } from '../gateway.ts';
import { log } from '../log.ts';
import { parseFlags } from './args.ts';

const help = `Usage: deputy serve --config deputy.yaml [--no-watch]

Runs the gateway.
  SIGTERM/SIGINT  graceful shutdown: stop accepting, let in-flight requests and streams finish
                  (up to server.shutdown_grace_ms), flush the audit trail, exit.
  SIGHUP          reload the config (also done when the config file changes, unless --no-watch):
                  a valid new config replaces the request pipeline without dropping connections;
                  an invalid one is logged and the running config keeps serving.`;

export async function run(argv: string[]): Promise<number> {
  const { values } = parseFlags('serve', argv, { config: { type: 'string', short: 'c', default: 'deputy.yaml' }, 'no-watch': { type: 'boolean' } });
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
  log.info('deputy listening', { url: gateway.url, endpoints: [...gateway.routes.keys()], public_url: config.server.publicUrl, pid: process.pid });

  const reloader = new Reloader(path, gateway);
  process.on('SIGHUP', () => reloader.reload('SIGHUP'));
  const watcher = values['no-watch'] ? undefined : reloader.watch();

  await new Promise<void>((resolveStop) => {
    const stop = (signal: string) => {
      const grace = gateway.config.server.shutdownGraceMs;
      log.info('shutting down: no new connections; waiting for in-flight requests', { signal, grace_ms: grace });
      watcher?.close();
      gateway.close(grace).then(
        () => {
          log.info('shut down cleanly');
          resolveStop();
        },
        (error: Error) => {
          log.error('error during shutdown', { error: error.message });
          resolveStop();
        },
      );
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  return 0;
}

/** Reloads one at a time; a change while reloading triggers one more reload afterwards. */
class Reloader {
  readonly #path: string;
  readonly #gateway: Gateway;
  #running?: Promise<void>;
  #again = false;

  constructor(path: string, gateway: Gateway) {
    this.#path = path;
    this.#gateway = gateway;
  }

  reload(reason: string): void {
    if (this.#running) {
      this.#again = true;
      return;
    }
    this.#running = this.#reloadOnce(reason).finally(() => {
      this.#running = undefined;
      if (this.#again) {
        this.#again = false;
        this.reload(reason);
      }
    });
  }

  /** Watches the config file's folder (editors and Kubernetes ConfigMaps replace files rather than write them). */
  watch(): FSWatcher | undefined {
    let timer: NodeJS.Timeout | undefined;
    const file = this.#path.slice(dirname(this.#path).length + 1);
    try {
      return watch(dirname(this.#path), { persistent: false }, (_event, name) => {
        if (name !== null && name !== file && name !== '..data') return;
        clearTimeout(timer);
        timer = setTimeout(() => this.reload('config file changed'), 200);
      });
    } catch (error) {
      log.warn('cannot watch the config file; reload with SIGHUP', { config: this.#path, error: (error as Error).message });
      return undefined;
    }
  }

  async #reloadOnce(reason: string): Promise<void> {
    let next;
    try {
      next = await loadConfig(this.#path);
    } catch (error) {
      const message = error instanceof ConfigError ? error.message : (error as Error).message;
      log.error('config reload rejected; the running config keeps serving', { reason, config: this.#path, error: message });
      return;
    }
    try {
      await this.#gateway.reload(next);
      log.info('config reloaded', { reason, endpoints: [...this.#gateway.routes.keys()] });
    } catch (error) {
      for (const s of next.secrets) s.close();
      log.error('config reload failed; the running config keeps serving', { reason, error: (error as Error).message });
    }
  }
}
