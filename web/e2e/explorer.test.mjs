// Browser tests for the Lookout web UI. They drive a running server whose
// URL is in LOOKOUT_URL (scripts/browser-test.sh starts one) with the
// system Chromium, and save screenshots to TEST_OUTPUT_DIR.
//
//   LOOKOUT_URL=http://127.0.0.1:9090 node --test e2e/*.test.mjs

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BASE, screenshot as shoot, useBrowser } from './browser.mjs';

const READY_TIMEOUT_MS = 60_000;

let page;

async function api(pathAndQuery) {
  const res = await fetch(`${BASE}${pathAndQuery}`);
  const body = await res.json();
  assert.equal(body.status, 'success', `${pathAndQuery}: ${body.error}`);
  return body.data;
}

// waitForSelfScrape polls until the server has scraped itself at least once,
// so that up{job="lookout"} exists.
async function waitForSelfScrape() {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  let last = 'no response';
  while (Date.now() < deadline) {
    try {
      const data = await api(`/api/v1/query?query=${encodeURIComponent('up{job="lookout"}')}`);
      if (data.result.length > 0) return;
      last = 'empty result';
    } catch (err) {
      last = err.message;
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
  throw new Error(`up{job="lookout"} did not appear within ${READY_TIMEOUT_MS / 1000}s (${last})`);
}

function screenshot(name) {
  return shoot(page, name);
}

useBrowser({ prepare: waitForSelfScrape, onPage: (p) => { page = p; } });

test('explorer runs a query and shows table and graph', { timeout: 90_000 }, async () => {
  await page.goto(`${BASE}/graph`);
  const input = page.getByTestId('query-input');
  await input.pressSequentially('up');
  await input.press('Enter');

  const row = page.getByTestId('result-row').filter({ hasText: 'job="lookout"' }).first();
  await row.waitFor();
  assert.equal((await row.getByTestId('result-value').textContent()).trim(), '1');
  assert.match(page.url(), /[?&]q=up(&|$)/, 'query is kept in the URL');
  await screenshot('explorer-table');

  await page.getByTestId('tab-graph').click();
  await page.locator('#graph-chart canvas').waitFor();
  const legend = page.getByTestId('legend-item').filter({ hasText: 'job="lookout"' });
  await legend.first().waitFor();
  assert.ok(await legend.count() >= 1);
  assert.match(page.url(), /[?&]tab=graph(&|$)/);
  await screenshot('explorer-graph');
});

test('explorer shows parse errors inline', { timeout: 60_000 }, async () => {
  await page.goto(`${BASE}/graph`);
  await page.getByTestId('query-input').fill('rate(up[5m]');
  await page.getByTestId('run-query').click();
  const alert = page.getByRole('alert').filter({ hasText: 'parse error' });
  await alert.waitFor();
  assert.equal(await alert.getAttribute('id'), 'query-error');
  await screenshot('explorer-error');
});

test('explorer restores query and range from the URL', { timeout: 60_000 }, async () => {
  await page.goto(`${BASE}/graph?q=${encodeURIComponent('up{job="lookout"}')}&range=15m&tab=graph`);
  assert.equal(await page.getByTestId('query-input').inputValue(), 'up{job="lookout"}');
  assert.equal(await page.getByTestId('range-select').inputValue(), '15m');
  await page.getByTestId('legend-item').filter({ hasText: 'job="lookout"' }).first().waitFor();

  // Changing the range runs the query again and records it in the URL, also
  // after going back, when the page has replaced its state.
  await page.getByTestId('range-select').selectOption('1h');
  await page.waitForURL((u) => u.searchParams.get('range') === '1h');
  await page.goBack();
  await page.waitForURL((u) => u.searchParams.get('range') === '15m');
  assert.equal(await page.getByTestId('range-select').inputValue(), '15m');
  await page.getByTestId('range-select').selectOption('6h');
  await page.waitForURL((u) => u.searchParams.get('range') === '6h');
});

test('explorer autocompletes metric names, label names and values', { timeout: 60_000 }, async () => {
  await page.goto(`${BASE}/graph`);
  const input = page.getByTestId('query-input');
  const items = page.getByTestId('autocomplete-item');

  await input.pressSequentially('u');
  await items.filter({ hasText: /^up\s*metric$/ }).first().waitFor();

  await input.fill('');
  await input.pressSequentially('up{');
  await items.filter({ hasText: /^job\s*label$/ }).first().waitFor();

  await input.pressSequentially('job="look');
  await items.filter({ hasText: /^lookout\s*value$/ }).first().waitFor();
  await screenshot('explorer-autocomplete');
  await input.press('Tab');
  assert.equal(await input.inputValue(), 'up{job="lookout"');
});

test('targets page lists the lookout target as up', { timeout: 60_000 }, async () => {
  await page.goto(`${BASE}/targets`);
  const row = page.locator('[data-testid="target-row"][data-pool="lookout"]').first();
  await row.waitFor();
  assert.equal((await row.getByTestId('target-health').textContent()).trim(), 'up');
  await screenshot('targets');
});

test('status page shows the build version', { timeout: 60_000 }, async () => {
  const { version } = await api('/api/v1/status/buildinfo');
  assert.ok(version, 'buildinfo has a version');
  await page.goto(`${BASE}/status`);
  const shown = page.getByTestId('build-version');
  await shown.waitFor();
  assert.equal((await shown.textContent()).trim(), version);
  await page.getByTestId('tsdb-head-series').waitFor();
  await screenshot('status');
});
