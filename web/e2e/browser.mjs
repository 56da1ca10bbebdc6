// Shared set-up of the browser tests: the server under test (LOOKOUT_URL),
// the system Chromium, a fresh page per test that fails the test on any
// uncaught page error, and screenshots in TEST_OUTPUT_DIR.

import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { after, afterEach, before, beforeEach } from 'node:test';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));
export const BASE = (process.env.LOOKOUT_URL || '').replace(/\/+$/, '');
export const OUTPUT_DIR = path.resolve(process.env.TEST_OUTPUT_DIR || path.join(here, 'output'));
const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

// useBrowser registers the test hooks. prepare runs once before Chromium
// starts (waiting for the server's data); onPage receives each test's page.
export function useBrowser({ prepare, onPage }) {
  let browser;
  let context;
  let pageErrors;
  before(async () => {
    assert.ok(BASE, 'set LOOKOUT_URL to the base URL of a running Lookout server');
    await mkdir(OUTPUT_DIR, { recursive: true });
    if (prepare) await prepare();
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
        '--disable-background-networking', '--disable-component-update', '--disable-sync',
      ],
    });
  });
  after(async () => {
    if (browser) await browser.close();
  });
  beforeEach(async () => {
    context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
    const page = await context.newPage();
    page.setDefaultTimeout(20_000);
    pageErrors = [];
    page.on('pageerror', (err) => pageErrors.push(err.message));
    onPage(page);
  });
  afterEach(async () => {
    await context.close();
    assert.deepEqual(pageErrors, [], 'uncaught errors in the page');
  });
}

// screenshot saves the whole page, or only the viewport with
// { fullPage: false } (for pages thousands of rows long).
export async function screenshot(page, name, { fullPage = true } = {}) {
  await page.screenshot({ path: path.join(OUTPUT_DIR, `${name}.png`), fullPage });
}
