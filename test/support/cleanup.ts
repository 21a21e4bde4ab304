// Resources started by helpers are closed once, after all tests of the file. (Calling `after()`
// inside a `before()` hook would attach it to the hook and close things before the tests run.)
import { after } from 'node:test';

const cleanups: (() => unknown)[] = [];

export function onCleanup(fn: () => unknown): void {
  cleanups.push(fn);
}

after(async () => {
  for (const fn of cleanups.reverse()) await Promise.resolve().then(fn).catch(() => {});
});
