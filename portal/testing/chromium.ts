import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { chromium, type BrowserContext } from 'playwright-core';

/** What this machine's Chromium needs to start headless as root without reaching the network. */
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

export const PHONE = { width: 360, height: 740 };
export const DESKTOP = { width: 1280, height: 900 };

/**
 * Debian's Chromium with a profile of its own, closed and its profile removed when the test ends
 * (after-hooks run in the order they were added, so start what the browser talks to after it).
 */
export async function openChromium(
  t: TestContext,
  options: { javaScriptEnabled: boolean; viewport?: { width: number; height: number } },
): Promise<BrowserContext> {
  const profile = await mkdtemp(join(tmpdir(), 'tp-chromium-'));
  const browser = await chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    javaScriptEnabled: options.javaScriptEnabled,
    viewport: options.viewport ?? DESKTOP,
    args: CHROMIUM_ARGS,
  });
  t.after(async () => {
    await browser.close();
    await rm(profile, { recursive: true, force: true });
  });
  return browser;
}

/** The page a fresh browser opened with, or a new one. */
export async function firstPage(browser: BrowserContext) {
  return browser.pages()[0] ?? (await browser.newPage());
}
