// Small helpers for tests that run real servers: a free port chosen by the OS, and polling.
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

/**
 * A port that is free right now and stays free until the caller listens on it. The port is drawn at random below the
 * kernel's ephemeral range: a port from `listen(0)` sits inside that range, and the kernel hands it out again as the
 * source port of any outgoing connection (a test's client calls) in the moment before the caller binds it.
 */
export async function freePort(): Promise<number> {
  const [low] = ephemeralRange();
  const floor = Math.max(1024, low - 12_000);
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = floor + Math.floor(Math.random() * (low - floor));
    if (await canListen(port)) return port;
  }
  throw new Error(`no free port found between ${floor} and ${low}`);
}

function ephemeralRange(): [number, number] {
  try {
    const [low, high] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    if (low! > 2048 && high! > low!) return [low!, high!];
  } catch {}
  return [32768, 60999];
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

/** Polls `check` every 50 ms until it is true; fails after `timeoutMs` naming what it waited for. */
export async function waitFor(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if (await check()) return;
    } catch {}
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
