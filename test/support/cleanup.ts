// Resources started by helpers are closed once, after all tests of the file. (Calling `after()`
// inside a `before()` hook would attach it to the hook and close things before the tests run.) A cleanup
// that hangs is abandoned after a while, so it cannot keep the file's process waiting. (`--test-force-exit`
// is not used: with process isolation it let a file's last results go unreported in one run.)
import { after } from 'node:test';

const cleanups: (() => unknown)[] = [];

export function onCleanup(fn: () => unknown): void {
  cleanups.push(fn);
}

/** A cleanup that has not finished by then (a server waiting on a client's keep-alive socket) is left behind. */
const CLEANUP_TIMEOUT_MS = 15_000;

after(async () => {
  for (const fn of cleanups.reverse()) {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<void>((resolve) => { timer = setTimeout(resolve, CLEANUP_TIMEOUT_MS); timer.unref(); });
    await Promise.race([Promise.resolve().then(fn).catch(() => {}), late]);
    clearTimeout(timer);
  }
});
