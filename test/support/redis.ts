// A real redis-server for tests: started on 127.0.0.1 in a temp dir (no persistence), and stoppable
// and restartable on the same port mid-test so outage handling can be exercised.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { onCleanup } from './cleanup.ts';
import { freePort, waitFor } from './ports.ts';

export interface RedisServer {
  url: string;
  port: number;
  /** Kills the server (SIGKILL: an abrupt outage, as when a node dies). */
  kill(): Promise<void>;
  /** Starts it again on the same port (empty: nothing was persisted). */
  start(): Promise<void>;
  /** A one-off command through redis-cli (for assertions such as KEYS). */
  cli(...args: string[]): string;
  stop(): Promise<void>;
}

export async function startRedis(): Promise<RedisServer> {
  const dir = mkdtempSync(join(tmpdir(), 'deputy-redis-'));
  const port = await freePort();
  const pidfile = join(dir, 'redis.pid');
  let running = false;

  const cli = (...args: string[]) => execFileSync('redis-cli', ['-h', '127.0.0.1', '-p', String(port), ...args], { encoding: 'utf8' });
  const pid = () => (existsSync(pidfile) ? Number(readFileSync(pidfile, 'utf8').trim()) : undefined);

  const start = async () => {
    execFileSync('redis-server', ['--bind', '127.0.0.1', '--port', String(port), '--save', '', '--appendonly', 'no', '--daemonize', 'yes', '--pidfile', pidfile, '--dir', dir, '--logfile', join(dir, 'redis.log')]);
    await waitFor(() => spawnSync('redis-cli', ['-h', '127.0.0.1', '-p', String(port), 'ping'], { encoding: 'utf8' }).stdout.trim() === 'PONG', `redis on port ${port}`);
    running = true;
  };
  const kill = async () => {
    const p = pid();
    if (p) {
      try {
        process.kill(p, 'SIGKILL');
      } catch {}
      await waitFor(() => !alive(p), `redis ${p} to exit`);
      rmSync(pidfile, { force: true });
    }
    running = false;
  };
  await start();
  const server: RedisServer = {
    url: `redis://127.0.0.1:${port}`, port, kill, start, cli,
    async stop() {
      if (running) await kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  onCleanup(() => server.stop());
  return server;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
