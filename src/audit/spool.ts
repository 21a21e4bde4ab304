// The on-disk spool of the PostgreSQL audit store: while the database is unreachable, events (already
// chained) are appended to a JSON-lines file and inserted, in order, when it returns. One file per
// sink instance; files left behind by a process that died are adopted and drained by the next one.
import { appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import type { ChainedEvent } from './chain.ts';

const PREFIX = 'deputy-audit-spool.';
/** Replica ids spooling in this process: their files are never adopted by a sibling sink. */
const liveReplicas = new Set<string>();

export class Spool {
  readonly dir: string;
  readonly path: string;
  readonly #replicaId: string;
  #lines = 0;

  constructor(dir: string, replicaId: string) {
    this.dir = dir;
    this.#replicaId = replicaId;
    this.path = join(dir, `${PREFIX}${process.pid}.${replicaId}.jsonl`);
    liveReplicas.add(replicaId);
  }

  append(events: ChainedEvent[]): void {
    if (events.length === 0) return;
    mkdirSync(this.dir, { recursive: true });
    appendFileSync(this.path, events.map((e) => `${JSON.stringify(e)}\n`).join(''));
    this.#lines += events.length;
  }

  /** Events waiting in this instance's file. */
  get size(): number {
    return this.#lines;
  }

  /** This instance's file (first, if it exists) and orphans of dead processes: what a drain must insert. */
  files(): string[] {
    const out: string[] = [];
    if (!existsSync(this.dir)) return out;
    for (const name of readdirSync(this.dir)) {
      if (!name.startsWith(PREFIX) || !name.endsWith('.jsonl')) continue;
      const path = join(this.dir, name);
      if (path === this.path || isOrphan(name)) out.push(path);
    }
    // Orphans first (they are older), then ours.
    return out.sort((a, b) => (a === this.path ? 1 : b === this.path ? -1 : statSync(a).mtimeMs - statSync(b).mtimeMs));
  }

  /** Reads a spool file; a torn last line (crash mid-write) is reported, not fatal. */
  static read(path: string): { events: ChainedEvent[]; torn: number } {
    const events: ChainedEvent[] = [];
    let torn = 0;
    for (const line of readFileSync(path, 'utf8').split('\n')) {
      if (!line) continue;
      try {
        events.push(JSON.parse(line) as ChainedEvent);
      } catch {
        torn++;
      }
    }
    return { events, torn };
  }

  /** Called once a file's events are all in the database. */
  remove(path: string): void {
    try {
      unlinkSync(path);
    } catch {}
    if (path === this.path) this.#lines = 0;
  }

  close(): void {
    liveReplicas.delete(this.#replicaId);
  }
}

function isOrphan(name: string): boolean {
  const [pidText, ...rest] = name.slice(PREFIX.length, -'.jsonl'.length).split('.');
  const pid = Number(pidText);
  const replicaId = rest.join('.');
  if (!Number.isInteger(pid)) return false;
  if (pid === process.pid) return !liveReplicas.has(replicaId); // same pid, earlier life (containers run as pid 1)
  try {
    process.kill(pid, 0);
    return false; // its owner is alive and drains it itself
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}
