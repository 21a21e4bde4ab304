// Resources started by helpers are closed once, after all tests of the file. (Calling `after()`
// inside a `before()` hook would attach it to the hook and close things before the tests run.) A cleanup
// that hangs is abandoned after a while, and a file whose process is still kept alive well after its tests and
// cleanups ended (a browser or socket left behind) is made to exit, naming what held it, so one leak cannot hang the
// whole run. (`--test-force-exit` is not used: with process isolation it let a file's last results go unreported.)
import { after } from 'node:test';

const cleanups: (() => unknown)[] = [];

export function onCleanup(fn: () => unknown): void {
  cleanups.push(fn);
}

/** A cleanup that has not finished by then (a server waiting on a client's keep-alive socket) is left behind. */
const CLEANUP_TIMEOUT_MS = 15_000;
/** How long a file's process may stay alive after its cleanups before it is made to exit. */
const EXIT_GRACE_MS = 20_000;

after(async () => {
  for (const fn of cleanups.reverse()) {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<void>((resolve) => { timer = setTimeout(resolve, CLEANUP_TIMEOUT_MS); timer.unref(); });
    await Promise.race([Promise.resolve().then(fn).catch(() => {}), late]);
    clearTimeout(timer);
  }
  // Unref'd: a file that exits by itself is not held up; one kept alive is ended once its results are long written.
  setTimeout(() => {
    process.stderr.write(`test process still alive ${EXIT_GRACE_MS / 1000} s after its cleanups, held by: ${process.getActiveResourcesInfo().join(', ')}; exiting\n`);
    process.exit();
  }, EXIT_GRACE_MS).unref();
});
