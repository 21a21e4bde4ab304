// A real PostgreSQL 15 for tests: initdb in a temp dir owned by the `postgres` user (initdb refuses
// root), listening on 127.0.0.1 with trust auth. Stoppable and restartable mid-test.
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { onCleanup } from './cleanup.ts';
import { freePort, waitFor } from './ports.ts';

/** Debian's layout: /usr/lib/postgresql/<major>/bin (15 on bookworm); the newest installed major wins. */
const BIN = (() => {
  const root = '/usr/lib/postgresql';
  const majors = existsSync(root) ? readdirSync(root).filter((v) => /^\d+$/.test(v)).sort((x, y) => Number(y) - Number(x)) : [];
  if (!majors.length) throw new Error('PostgreSQL is not installed (apt-get install postgresql); .ci/run installs it');
  return join(root, majors[0]!, 'bin');
})();

export interface PostgresServer {
  url: string;
  port: number;
  /** Fast shutdown (connections are cut, as in an outage). */
  stop(): Promise<void>;
  start(): Promise<void>;
  /** Runs SQL through a short-lived connection. */
  query<T extends pg.QueryResultRow = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
  destroy(): Promise<void>;
}

export async function startPostgres(): Promise<PostgresServer> {
  const dir = mkdtempSync(join(tmpdir(), 'deputy-pg-'));
  const data = join(dir, 'data');
  const port = await freePort();
  const asRoot = userInfo().uid === 0;
  if (asRoot) {
    const { uid, gid } = postgresUser();
    chownSync(dir, uid, gid);
  }
  chmodSync(dir, 0o700);
  // Asynchronous, so servers under test in this process keep running while PostgreSQL stops or starts.
  const run = async (cmd: string, args: string[]) => {
    const argv = asRoot ? ['-u', 'postgres', '--', join(BIN, cmd), ...args] : args;
    await promisify(execFile)(asRoot ? 'runuser' : join(BIN, cmd), argv, { cwd: dir });
  };
  await run('initdb', ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8']);
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  let running = false;

  const query = async <T extends pg.QueryResultRow>(sql: string, params: unknown[] = []) => {
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    try {
      return (await c.query<T>(sql, params)).rows;
    } finally {
      await c.end();
    }
  };
  const start = async () => {
    await run('pg_ctl', ['-D', data, '-l', join(dir, 'pg.log'), '-o', `-p ${port} -c listen_addresses=127.0.0.1 -k ${dir} -c fsync=off`, '-w', 'start']);
    await waitFor(async () => (await query('SELECT 1')).length === 1, `postgres on port ${port}`);
    running = true;
  };
  const stop = async () => {
    await run('pg_ctl', ['-D', data, '-m', 'fast', '-w', 'stop']);
    running = false;
  };
  await start();
  const server: PostgresServer = {
    url, port, start, stop, query,
    async destroy() {
      if (running) await stop().catch(() => {});
      rmSync(dir, { recursive: true, force: true });
    },
  };
  onCleanup(() => server.destroy());
  return server;
}

function postgresUser(): { uid: number; gid: number } {
  const [uid, gid] = execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim().split('\n').concat(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
  return { uid: Number(uid), gid: Number(gid) };
}
