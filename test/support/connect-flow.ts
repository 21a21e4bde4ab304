// A person following a connect link in headless Chromium: signs in at the IdP (interactive demo AS),
// allows Deputy's sign-in if asked, signs in at the third-party AS and allows (or denies) access.
// Returns Deputy's last status and the page's heading.
import assert from 'node:assert/strict';
import type { Browser } from 'playwright-core';

export async function followConnectLink(browser: Browser, url: string, o: { deputyUrl: string; thirdPartyIssuer: string; person: string; trackerUser: string; decision?: 'Allow' | 'Deny' }): Promise<{ status: number; heading: string }> {
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    let last = 0;
    page.on('response', (r) => {
      if (r.url().startsWith(o.deputyUrl)) last = r.status();
    });
    await page.goto(url);
    await page.getByLabel('Username').fill(o.person);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForLoadState();
    if (await page.getByRole('button', { name: 'Allow' }).count()) await page.getByRole('button', { name: 'Allow' }).click(); // the IdP's consent for Deputy's sign-in
    await page.waitForLoadState();
    if (page.url().startsWith(o.thirdPartyIssuer)) {
      await page.getByLabel('Username').fill(o.trackerUser);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('button', { name: o.decision ?? 'Allow' }).click();
    }
    await page.getByRole('heading').first().waitFor();
    const heading = await page.getByRole('heading').first().innerText();
    assert.ok(!(await page.content()).includes('code='), 'no authorization code on a page');
    return { status: last, heading };
  } finally {
    await context.close();
  }
}
