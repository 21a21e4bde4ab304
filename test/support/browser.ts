// A real headless browser for tests of the browser flows (IdP sign-in, connecting an account at a
// third-party AS): the system's Debian Chromium driven by playwright-core, with no downloaded browser
// and no background network traffic, closed once after the file's tests.
import { chromium, type Browser } from 'playwright-core';
import { onCleanup } from './cleanup.ts';

export const CHROMIUM_PATH = '/usr/bin/chromium';

export async function launchBrowser(): Promise<Browser> {
  const browser = await chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  onCleanup(() => browser.close());
  return browser;
}
