// A person following a connect link in headless Chromium: signs in at the IdP (interactive demo AS),
// allows Deputy's sign-in if asked, signs in at the third-party AS and allows (or denies) access.
// Returns Deputy's last status and the page's heading. Also: the connect link a tool call produced.
import assert from 'node:assert/strict';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { Browser } from 'playwright-core';

/** The connect link from the -32042 URLElicitationRequired error a call without a connected account gets. */
export async function consentLink(client: Client, tool = 'whoami'): Promise<{ url: string; elicitationId: string }> {
  try {
    await client.callTool({ name: tool, arguments: {} });
  } catch (error) {
    const e = error as { code?: number; data?: { elicitations?: { url: string; elicitationId: string; mode: string }[] } };
    assert.equal(e.code, -32042, `expected URLElicitationRequired, got ${(error as Error).message}`);
    const [el] = e.data!.elicitations!;
    assert.equal(el!.mode, 'url');
    return el!;
  }
  throw new Error('the call succeeded without a connected account');
}

export async function followConnectLink(browser: Browser, url: string, o: { deputyUrl: string; thirdPartyIssuer: string; person: string; trackerUser: string; decision?: 'Allow' | 'Deny'; /** Deputy behind a test certificate (test/support/tls-front.ts). */ ignoreHTTPSErrors?: boolean }): Promise<{ status: number; heading: string }> {
  const context = await browser.newContext({ ignoreHTTPSErrors: o.ignoreHTTPSErrors ?? false });
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
