// Browser tests of the log explorer (Logs). They push a known set of lines
// through Lookout's Loki push API, with timestamps in the last minutes and
// an app label unique to the run, so that they can run again against the
// same server:
//
//   stream {app=APP, pod="a"}: JSON lines at info, warn and error (the
//   error with a trace_id), a logfmt line, another JSON line and a line of
//   HTML that must show as text;
//   stream {app=APP, pod="b"}: one debug line, between them in time.
//
//   LOOKOUT_URL=http://127.0.0.1:9090 node --test e2e/logs.test.mjs

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BASE, screenshot as shoot, useBrowser } from './browser.mjs';

const READY_TIMEOUT_MS = 60_000;
const RUN = Date.now().toString(36);
const APP = `e2e-logs-${RUN}`;
const BULK_APP = `e2e-bulk-${RUN}`;
const BULK_LINES = 5000;
const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const XSS_LINE = '<img src=x onerror="window.__xss=1"> <b>not bold</b> level=info';

let page;

function ns(ms) {
  return `${BigInt(Math.round(ms)) * 1000000n}`;
}

async function push(streams) {
  const res = await fetch(`${BASE}/loki/api/v1/push`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ streams }),
  });
  assert.equal(res.status, 204, `push: HTTP ${res.status}: ${(await res.text()).slice(0, 300)}`);
}

async function lokiJSON(pathAndQuery) {
  const res = await fetch(`${BASE}${pathAndQuery}`);
  const text = await res.text();
  assert.ok(res.ok, `${pathAndQuery}: HTTP ${res.status}: ${text.slice(0, 300)}`);
  return JSON.parse(text);
}

async function eventually(what, fn, timeoutMs = READY_TIMEOUT_MS) {
  const deadline = Date.now() + timeoutMs;
  let last = 'no result';
  while (Date.now() < deadline) {
    try {
      const v = await fn();
      if (v) return v;
      last = `got ${JSON.stringify(v)}`;
    } catch (err) {
      last = err.message;
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`${what} within ${timeoutMs / 1000}s (last: ${last})`);
}

async function countLines(query, limit = 5000) {
  const q = new URLSearchParams({ query, limit: String(limit), start: ns(Date.now() - 3600_000), end: ns(Date.now() + 1000) });
  const body = await lokiJSON(`/loki/api/v1/query_range?${q}`);
  return body.data.result.reduce((n, s) => n + s.values.length, 0);
}

async function seed() {
  const now = Date.now();
  const a = { app: APP, pod: 'a' };
  await push([
    {
      stream: a,
      values: [
        [ns(now - 240_000), JSON.stringify({ level: 'info', msg: 'user logged in', user: 'alice', duration_ms: 42 })],
        [ns(now - 180_000), JSON.stringify({ level: 'warn', msg: 'slow response', path: '/api/orders', duration_ms: 1500 })],
        [ns(now - 120_000), JSON.stringify({ level: 'error', msg: 'payment failed', order: 'A-17', trace_id: TRACE_ID })],
        [ns(now - 90_000), 'level=info msg="cache refreshed" entries=120 component=cache'],
        [ns(now - 60_000), JSON.stringify({ level: 'info', msg: 'order created', order: 'A-18' })],
        [ns(now - 30_000), XSS_LINE],
      ],
    },
    { stream: { app: APP, pod: 'b' }, values: [[ns(now - 100_000), JSON.stringify({ level: 'debug', msg: 'other pod heartbeat' })]] },
  ]);
  // Many lines for the rendering check, spread over the last ten minutes.
  const values = [];
  const levels = ['info', 'info', 'info', 'debug', 'warn', 'error'];
  for (let i = 0; i < BULK_LINES; i++) {
    const t = now - 600_000 + i * (590_000 / BULK_LINES);
    values.push([ns(t), JSON.stringify({ level: levels[i % levels.length], msg: `bulk line ${i}`, i, request_id: `r-${i % 97}` })]);
  }
  await push([{ stream: { app: BULK_APP }, values }]);
  await eventually('the pushed lines are not all queryable', async () => (
    await countLines(`{app="${APP}"}`) === 7 && await countLines(`{app="${BULK_APP}"}`) === BULK_LINES
  ));
}

function screenshot(name, opts) {
  return shoot(page, name, opts);
}

function rows() {
  return page.getByTestId('log-row');
}

function row(text) {
  return rows().filter({ hasText: text });
}

async function waitForRowCount(n) {
  await page.waitForFunction((want) => document.querySelectorAll('[data-testid="log-row"]').length === want, n);
}

async function runQuery(query) {
  const input = page.getByTestId('query-input');
  await input.fill(query);
  await input.press('Enter');
}

async function openLogs(query, extra = '') {
  await page.goto(`${BASE}/logs?q=${encodeURIComponent(query)}${extra}`);
}

async function expand(text) {
  const r = row(text).first();
  await r.getByTestId('log-toggle').click();
  const details = r.getByTestId('log-details');
  await details.waitFor();
  return { row: r, details };
}

function field(scope, category, name) {
  return scope.locator(`[data-testid="log-field"][data-category="${category}"][data-name="${name}"]`);
}

useBrowser({
  prepare: async () => {
    await eventually(`the Loki API is not served at ${BASE}/loki/api/v1`, async () => {
      const body = await lokiJSON('/loki/api/v1/labels');
      return body.status === 'success';
    });
    await seed();
  },
  onPage: (p) => { page = p; },
});

test('logs page shows lines, the level volume and parsed fields', { timeout: 90_000 }, async () => {
  await page.goto(`${BASE}/logs`);
  const nav = page.getByTestId('nav-logs');
  assert.equal(await nav.getAttribute('aria-current'), 'page');
  await runQuery(`{app="${APP}"}`);
  await waitForRowCount(7);
  const url = new URL(page.url());
  assert.equal(url.searchParams.get('q'), `{app="${APP}"}`, 'the query is kept in the URL');
  assert.equal(url.searchParams.get('range'), '1h');
  await page.getByTestId('range-select').selectOption('6h');
  await page.waitForURL((u) => u.searchParams.get('range') === '6h');
  await waitForRowCount(7);

  // Newest first: the HTML line (30s ago) leads, the first info line ends.
  assert.equal(await rows().first().getByTestId('log-line').textContent(), XSS_LINE);
  assert.match(await rows().last().getByTestId('log-line').textContent(), /user logged in/);
  assert.equal((await row('payment failed').getByTestId('log-level').textContent()).trim(), 'error');
  assert.equal((await row('slow response').getByTestId('log-level').textContent()).trim(), 'warn');
  assert.equal((await row('cache refreshed').getByTestId('log-level').textContent()).trim(), 'info');
  // Log lines are text, never markup.
  assert.equal(await page.locator('#log-list img, #log-list b').count(), 0);
  assert.equal(await page.evaluate(() => window.__xss), undefined);

  // The volume histogram: 7 lines, stacked by level, drawn on the canvas.
  const chart = page.getByTestId('volume-chart');
  await chart.locator('canvas').waitFor();
  assert.equal(await chart.getAttribute('data-total'), '7');
  const legend = page.getByTestId('volume-legend-item');
  assert.equal(await legend.filter({ hasText: 'error' }).getAttribute('data-count'), '1');
  assert.equal(await legend.filter({ hasText: 'warn' }).getAttribute('data-count'), '1');
  assert.equal(await legend.filter({ hasText: 'debug' }).getAttribute('data-count'), '1');
  const painted = await chart.locator('canvas').evaluate((canvas) => {
    const { data } = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height);
    const near = (i, [r, g, b]) => Math.abs(data[i] - r) < 12 && Math.abs(data[i + 1] - g) < 12 && Math.abs(data[i + 2] - b) < 12;
    const count = { error: 0, warn: 0 };
    for (let i = 0; i < data.length; i += 4) {
      if (near(i, [0xd6, 0x33, 0x6c])) count.error++;
      if (near(i, [0xf0, 0x8c, 0x00])) count.warn++;
    }
    return count;
  });
  assert.ok(painted.error > 0 && painted.warn > 0, `bars in the error and warn colors: ${JSON.stringify(painted)}`);
  await screenshot('logs');

  // Expanding a row shows its stream labels, structured metadata and the
  // fields of its JSON line (detected in the page, as Grafana does), and
  // links its trace.
  const { details } = await expand('payment failed');
  assert.equal(await field(details, 'stream', 'app').textContent(), APP);
  assert.equal(await field(details, 'stream', 'pod').textContent(), 'a');
  assert.equal(await field(details, 'line', 'order').textContent(), 'A-17');
  assert.equal(await field(details, 'meta', 'detected_level').textContent(), 'error');
  assert.equal(await details.getByTestId('log-trace-link').getAttribute('href'), `/traces/${TRACE_ID}`);
  await screenshot('logs-expanded');

  // Rows without a trace ID have no trace link.
  const other = await expand('slow response');
  await other.details.getByTestId('log-context-button').waitFor();
  assert.equal(await other.details.getByTestId('log-trace-link').count(), 0);
});

test('clicking field values adds filters and narrows the result', { timeout: 90_000 }, async () => {
  const base = `{app="${APP}"}`;
  await openLogs(base);
  await waitForRowCount(7);
  const input = page.getByTestId('query-input');

  // Structured metadata becomes a label filter.
  let { details } = await expand('slow response');
  await field(details, 'meta', 'detected_level').click();
  await waitForRowCount(1);
  assert.equal(await input.inputValue(), `${base} | detected_level="warn"`);
  assert.match(await rows().first().textContent(), /slow response/);
  assert.equal(new URL(page.url()).searchParams.get('q'), `${base} | detected_level="warn"`);
  await page.getByTestId('volume-chart').locator('canvas').waitFor();
  assert.equal(await page.getByTestId('volume-chart').getAttribute('data-total'), '1');

  // A stream label goes into the selector.
  await openLogs(base);
  await waitForRowCount(7);
  ({ details } = await expand('other pod heartbeat'));
  await field(details, 'stream', 'pod').click();
  await waitForRowCount(1);
  assert.equal(await input.inputValue(), `{app="${APP}", pod="b"}`);

  // A level in the histogram's legend filters by that level.
  await openLogs(base);
  await waitForRowCount(7);
  await page.locator('[data-testid="volume-legend-item"][data-level="error"] button').click();
  await waitForRowCount(1);
  assert.equal(await input.inputValue(), `${base} | detected_level="error"`);
  assert.match(await rows().first().textContent(), /payment failed/);

  // A parsed label (from | logfmt) becomes a label filter after the parser.
  const logfmt = `{app="${APP}", pod="a"} |= "component=" | logfmt`;
  await openLogs(logfmt);
  await waitForRowCount(1);
  ({ details } = await expand('cache refreshed'));
  await field(details, 'parsed', 'component').click();
  await page.waitForFunction(() => document.querySelector('[data-testid="query-input"]').value.endsWith('| component="cache"'));
  await waitForRowCount(1);
  assert.equal(await input.inputValue(), `${logfmt} | component="cache"`);
  await screenshot('logs-filtered');
});

test('context shows the surrounding lines of the same stream', { timeout: 60_000 }, async () => {
  await openLogs(`{app="${APP}"} |= "payment failed"`);
  await waitForRowCount(1);
  const { details } = await expand('payment failed');
  await details.getByTestId('log-context-button').click();
  const context = details.getByTestId('log-context');
  const ctxRows = context.getByTestId('context-row');
  await ctxRows.first().waitFor();
  // pod="a" has two lines before and three after; pod="b" is another stream.
  assert.equal(await ctxRows.count(), 6);
  const texts = await ctxRows.allTextContents();
  assert.match(texts[0], /user logged in/);
  assert.match(texts[1], /slow response/);
  assert.match(texts[2], /payment failed/);
  assert.match(texts[3], /cache refreshed/);
  assert.match(texts[5], /not bold/);
  assert.ok(!texts.some((t) => t.includes('other pod heartbeat')), 'context stays in the stream');
  assert.equal(await ctxRows.nth(2).getAttribute('aria-current'), 'true');
  await screenshot('logs-context');
});

test('live tail appends lines pushed after it starts', { timeout: 90_000 }, async () => {
  await openLogs(`{app="${APP}"}`);
  await waitForRowCount(7);
  const toggle = page.getByTestId('logs-tail');
  await toggle.click();
  assert.equal(await toggle.getAttribute('aria-pressed'), 'true');
  const status = page.getByTestId('tail-status');
  await page.waitForFunction(() => /^Live/.test(document.querySelector('[data-testid="tail-status"]').textContent));

  const text = `tailed line ${RUN}`;
  await push([{ stream: { app: APP, pod: 'a' }, values: [[ns(Date.now()), JSON.stringify({ level: 'error', msg: text })]] }]);
  const tailed = row(text);
  await tailed.waitFor({ timeout: 30_000 });
  // Newest first: the new line is at the top, with its level.
  assert.match(await rows().first().textContent(), new RegExp(text));
  assert.equal((await tailed.getByTestId('log-level').textContent()).trim(), 'error');
  assert.equal(await rows().count(), 8);
  assert.match(await status.textContent(), /1 new line/);
  await screenshot('logs-tail');

  await toggle.click();
  assert.equal(await toggle.getAttribute('aria-pressed'), 'false');
  assert.ok(await status.isHidden());
  assert.ok(await page.getByTestId('query-error').isHidden(), 'stopping the tail is not an error');
});

test('logs page shows parse errors inline', { timeout: 60_000 }, async () => {
  await page.goto(`${BASE}/logs`);
  await runQuery(`{app="${APP}"} |= `);
  const alert = page.getByRole('alert').filter({ hasText: 'parse error at line 1' });
  await alert.waitFor();
  assert.equal(await alert.getAttribute('id'), 'query-error');
  assert.equal(await rows().count(), 0);
  await screenshot('logs-error');
});

test('logs page autocompletes labels, values and fields', { timeout: 60_000 }, async () => {
  await page.goto(`${BASE}/logs`);
  const input = page.getByTestId('query-input');
  const items = page.getByTestId('autocomplete-item');

  await input.pressSequentially('{');
  await items.filter({ hasText: /^app\s*label$/ }).first().waitFor();
  await input.pressSequentially('app="e2e-logs-');
  await items.filter({ hasText: new RegExp(`^${APP}\\s*value$`) }).first().waitFor();
  await items.filter({ hasText: new RegExp(`^${APP}\\s*value$`) }).first().click();
  assert.equal(await input.inputValue(), `{app="${APP}"`);

  await input.pressSequentially('} | ');
  await items.filter({ hasText: /^order\s*field/ }).first().waitFor();
  await items.filter({ hasText: /^json\s*stage$/ }).first().waitFor();
  await screenshot('logs-autocomplete');
  await input.pressSequentially('detected_level="');
  await items.filter({ hasText: /^warn\s*level$/ }).first().waitFor();
});

test('logs page renders and stays usable with 5000 lines', { timeout: 90_000 }, async () => {
  await openLogs(`{app="${BULK_APP}"}`, '&limit=5000');
  await waitForRowCount(BULK_LINES);
  const stats = page.getByTestId('query-stats');
  assert.equal(await stats.getAttribute('data-lines'), String(BULK_LINES));
  // Render time is reported, not asserted: the machines are shared and noisy.
  console.log(`render of ${BULK_LINES} rows: ${(await stats.textContent()).match(/Render: (\d+) ms/)?.[1]} ms`);
  assert.match(await page.getByTestId('logs-note').textContent(), /newest 5,000 lines/);
  assert.equal(await page.getByTestId('volume-chart').getAttribute('data-total'), String(BULK_LINES));

  // The page stays responsive: scrolling to the end and expanding a row.
  await rows().last().scrollIntoViewIfNeeded();
  const { details } = await expand('bulk line 0"');
  assert.equal(await field(details, 'line', 'request_id').textContent(), 'r-0');
  await screenshot('logs-5000', { fullPage: false });
});
