import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

/** Debian's Chromium; the browser tests drive it and nothing downloads another. */
export const CHROMIUM = '/usr/bin/chromium';

/** Where page screenshots go, for a person to look at (git-ignored). */
export const SCREENSHOTS = join(import.meta.dirname, '..', '..', 'test-artifacts', 'ui');

/**
 * Whether the browser suite runs: with Chromium installed, or under CI, where a missing browser
 * must fail the suite rather than skip it quietly.
 */
export function browserSuiteRuns(): boolean {
  if (existsSync(CHROMIUM)) return true;
  if (process.env.CI === 'true') return true;
  console.log(
    `skipping the admin UI browser tests: no Chromium at ${CHROMIUM} (set CI=true to fail instead)`,
  );
  return false;
}

/** Launches Debian's Chromium headless, with nothing reaching out to the network. */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `Chromium is required for the admin UI tests under CI and is missing at ${CHROMIUM}`,
    );
  }
  await mkdir(SCREENSHOTS, { recursive: true });
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-quic',
      '--no-first-run',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/** A page whose script errors and policy violations are collected for the test to check. */
export interface WatchedPage {
  context: BrowserContext;
  page: Page;
  /** Uncaught exceptions and console errors other than refused requests the test caused. */
  problems: string[];
  /** Every request that left for another origin than the gateway's. */
  foreignRequests: string[];
}

/** A new browser context and page on the gateway, watched for problems. */
export async function openPage(browser: Browser, baseURL: string): Promise<WatchedPage> {
  const context = await browser.newContext({
    baseURL,
    viewport: { width: 1366, height: 860 },
    locale: 'en-GB',
    timezoneId: 'UTC',
  });
  // Wide enough for a slow CI machine; a page that works answers in well under a second.
  context.setDefaultTimeout(30_000);
  const page = await context.newPage();
  const problems: string[] = [];
  const foreignRequests: string[] = [];
  const origin = new URL(baseURL).origin;

  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() !== 'error') return;
    // A 4xx/5xx answer the test provoked is logged by Chromium as a failed load; the pages show
    // those themselves. Everything else (CSP violations above all) is a problem.
    if (message.text().startsWith('Failed to load resource')) return;
    problems.push(`console: ${message.text()}`);
  });
  page.on('request', (request) => {
    const url = request.url();
    if (url.startsWith('data:')) return;
    if (new URL(url).origin !== origin) foreignRequests.push(url);
  });
  return { context, page, problems, foreignRequests };
}

/** Saves a full-page screenshot under test-artifacts/ui/. */
export async function screenshot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
}
