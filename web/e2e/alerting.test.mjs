// Browser tests of the alerting pages (Alerts, Silences, Rules,
// Notifications). They need a server started with
// web/e2e/fixtures/lookout.yml, as scripts/browser-test.sh does: the rule
// E2EAlwaysFiring (vector(1), severity=warning, with summary, runbook_url
// and a markdown runbook) fires within a second or two, E2EPending stays
// pending, and Alertmanager routes warnings to the webhook receiver
// e2e-webhook, whose deliveries fail (nothing listens on its port).
//
//   LOOKOUT_URL=http://127.0.0.1:9090 node --test e2e/alerting.test.mjs

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BASE, screenshot as shoot, useBrowser } from './browser.mjs';

const READY_TIMEOUT_MS = 60_000;
const ALERT = 'E2EAlwaysFiring';
const AM = '/alertmanager/api/v2';

let page;

async function getJSON(pathAndQuery, init) {
  const res = await fetch(`${BASE}${pathAndQuery}`, init);
  const text = await res.text();
  assert.ok(res.ok, `${pathAndQuery}: HTTP ${res.status}: ${text.slice(0, 300)}`);
  return text ? JSON.parse(text) : null;
}

// eventually retries fn until it returns a truthy value.
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

function screenshot(name) {
  return shoot(page, name);
}

function alertItem(name = ALERT) {
  return page.locator(`[data-testid="alert-item"][data-alertname="${name}"]`);
}

// expireTestSilences expires silences an interrupted earlier run against the
// same server may have left on the test alert.
async function expireTestSilences() {
  const silences = await getJSON(`${AM}/silences`);
  for (const s of silences) {
    if (s.status.state === 'expired') continue;
    if (!s.matchers.some((m) => m.name === 'alertname' && m.value === ALERT)) continue;
    await getJSON(`${AM}/silence/${s.id}`, { method: 'DELETE' });
  }
}

useBrowser({
  prepare: async () => {
    const status = await getJSON(`${AM}/status`).catch((err) => {
      throw new Error(`the Alertmanager API is not served at ${BASE}${AM}: ${err.message}`);
    });
    assert.ok(status.config, 'Alertmanager status has a config');
    await expireTestSilences();
    // The rule fires on its first evaluation; wait until Alertmanager has it.
    await eventually(`${ALERT} did not reach Alertmanager`, async () => {
      const alerts = await getJSON(`${AM}/alerts?${new URLSearchParams({ filter: `alertname="${ALERT}"` })}`);
      return alerts.length === 1 && alerts[0].status.state === 'active';
    });
  },
  onPage: (p) => { page = p; },
});

test('alerts page shows the firing alert with its runbook', { timeout: 90_000 }, async () => {
  await page.goto(`${BASE}/`);
  await page.getByTestId('nav-alerts').click();
  assert.equal(new URL(page.url()).pathname, '/alerts');
  const item = alertItem();
  await item.waitFor();
  assert.equal(await item.getAttribute('data-state'), 'firing');
  assert.equal((await item.getByTestId('alert-state').textContent()).trim(), 'firing');
  assert.equal((await item.getByTestId('alert-value').textContent()).trim(), '1');
  assert.equal((await item.getByTestId('alert-summary').textContent()).trim(), 'The browser-test alert is firing');
  const labels = await item.getByTestId('alert-labels').textContent();
  assert.match(labels, /alertname="E2EAlwaysFiring"/);
  assert.match(labels, /severity="warning"/);
  await item.locator('time').first().waitFor();
  assert.match(await item.locator('time').first().textContent(), /ago|just now/);

  // Grouped by alertname, with the Alertmanager receiver of the group.
  const group = page.locator(`[data-testid="alert-group"][data-group="${ALERT}"]`);
  assert.equal((await group.getByTestId('group-receiver').textContent()).trim(), 'e2e-webhook');

  const runbookLink = item.getByTestId('alert-runbook-link');
  assert.equal(await runbookLink.getAttribute('href'), 'https://runbooks.example.com/e2e-always-firing');
  assert.equal(await runbookLink.getAttribute('target'), '_blank');

  // The runbook annotation is rendered markdown, and its HTML stays text.
  const runbook = item.getByTestId('alert-runbook');
  assert.equal((await runbook.locator('strong').first().textContent()).trim(), 'always fires');
  assert.equal(await runbook.locator('ol > li').count(), 2);
  assert.equal(await runbook.locator('code').first().textContent(), 'vector(1)');
  const guide = runbook.getByRole('link', { name: 'the alerting guide' });
  assert.equal(await guide.getAttribute('href'), 'https://runbooks.example.com/guide');
  assert.equal(await runbook.locator('script').count(), 0);
  assert.match(await runbook.textContent(), /<script>window\.__runbookXSS = 1<\/script>/);
  const hrefs = await runbook.locator('a').evaluateAll((as) => as.map((a) => a.getAttribute('href')));
  assert.ok(hrefs.every((h) => /^https?:/.test(h)), `only http(s) links: ${hrefs}`);
  assert.match(await runbook.textContent(), /unsafe links lose their link/);
  assert.equal(await page.evaluate(() => window.__runbookXSS), undefined);

  // The pending alert is listed too.
  await alertItem('E2EPending').waitFor();
  assert.equal(await alertItem('E2EPending').getAttribute('data-state'), 'pending');
  await screenshot('alerts');

  // Label-matcher filter.
  const filter = page.getByTestId('alerts-filter');
  await filter.fill('severity="info"');
  await item.waitFor({ state: 'detached' });
  await alertItem('E2EPending').waitFor();
  await filter.fill('{alertname=~"E2EAlways.*"}');
  await item.waitFor();
  assert.equal(await alertItem('E2EPending').count(), 0);
  assert.match(page.url(), /[?&]filter=/, 'the filter is kept in the URL');
  await filter.fill('severity=~"("');
  const filterError = page.locator('#alerts-filter-error');
  await filterError.waitFor();
  assert.match(await filterError.textContent(), /invalid regular expression/);
  await filter.fill('');
  await filterError.waitFor({ state: 'hidden' });
});

test('silence an alert from the alerts page, then expire it', { timeout: 120_000 }, async () => {
  await page.goto(`${BASE}/alerts`);
  await alertItem().getByTestId('alert-silence').click();

  // The form opens pre-filled with the alert's labels.
  const form = page.getByTestId('silence-form');
  await form.waitFor();
  assert.equal(new URL(page.url()).pathname, '/silences');
  const rows = form.getByTestId('matcher-row');
  assert.equal(await rows.count(), 2);
  const matchers = [];
  for (let i = 0; i < 2; i++) {
    const row = rows.nth(i);
    matchers.push([
      await row.getByTestId('matcher-name').inputValue(),
      await row.getByTestId('matcher-op').inputValue(),
      await row.getByTestId('matcher-value').inputValue(),
    ]);
  }
  assert.deepEqual(matchers, [['alertname', '=', ALERT], ['severity', '=', 'warning']]);

  // The preview asks Alertmanager which alerts the matchers select.
  const preview = form.locator(`[data-testid="preview-alert"][data-alertname="${ALERT}"]`);
  await preview.waitFor();
  assert.equal(await form.getByTestId('preview-alert').count(), 1);
  assert.match(await form.getByTestId('silence-preview-summary').textContent(), /1 alert matches/);

  // Widening a matcher updates the preview.
  await rows.nth(0).getByTestId('matcher-op').selectOption('=~');
  await rows.nth(0).getByTestId('matcher-value').fill('E2E.*');
  await rows.nth(1).getByTestId('matcher-remove').click();
  // Pending alerts never reach Alertmanager, so E2EPending is not listed.
  await preview.waitFor();
  assert.equal(await form.getByTestId('preview-alert').count(), 1);
  await form.getByTestId('matcher-add').click();
  await rows.nth(1).getByTestId('matcher-name').fill('severity');
  await rows.nth(1).getByTestId('matcher-value').fill('warning');
  await preview.waitFor();

  await form.getByTestId('silence-creator').fill('e2e-test');
  await form.getByTestId('silence-comment').fill('Silenced by the browser test');

  // An end before the start is refused by the API, and its message shows inline.
  const past = await page.evaluate(() => {
    const d = new Date(Date.now() - 3600e3);
    const pad = (n) => String(n).padStart(2, '0');
    return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
  });
  await form.getByTestId('silence-end').fill(past);
  await form.getByTestId('silence-submit').click();
  const formError = form.getByTestId('silence-form-error');
  await formError.waitFor();
  const message = await formError.textContent();
  assert.match(message, /HTTP 400/, message);
  assert.match(message, /time/i, message);
  await screenshot('silence-form-error');

  // A client-side problem is shown next to its field.
  await form.getByTestId('silence-duration').fill('2 hours');
  await form.getByTestId('silence-submit').click();
  await form.locator('#silence-duration-error').waitFor();
  assert.equal(await form.getByTestId('silence-duration').getAttribute('aria-invalid'), 'true');

  await form.getByTestId('silence-duration').fill('1h');
  assert.notEqual(await form.getByTestId('silence-end').inputValue(), past, 'the end follows the duration');
  await screenshot('silence-form');
  await form.getByTestId('silence-submit').click();
  const created = page.getByTestId('silence-created-id');
  await created.waitFor();
  const id = (await created.textContent()).trim();
  assert.match(id, /^[0-9a-f-]{36}$/, `silence ID ${id}`);
  await form.waitFor({ state: 'hidden' });

  // The new silence is listed as active.
  const row = page.locator(`[data-testid="silence-row"][data-silence-id="${id}"]`);
  await page.getByTestId('silences-active').locator(`[data-silence-id="${id}"]`).waitFor();
  assert.equal(await row.getAttribute('data-state'), 'active');
  assert.match(await row.textContent(), /e2e-test/);
  assert.match(await row.textContent(), /Silenced by the browser test/);
  const shown = await row.getByTestId('matcher').allTextContents();
  assert.deepEqual(shown, [`alertname=~"E2E.*"`, 'severity="warning"']);
  assert.match(await row.locator('time').nth(1).textContent(), /^in (59m|1h)/, 'ends in an hour');
  await screenshot('silences-active');

  // The alert now shows as silenced, with a link to its silence.
  await page.getByTestId('nav-alerts').click();
  const item = alertItem();
  await item.waitFor();
  await eventually('the alert did not show as silenced', async () => {
    if ((await item.getAttribute('data-state')) === 'silenced') return true;
    await page.getByTestId('alerts-refresh').click();
    return false;
  }, 30_000);
  assert.equal((await item.getByTestId('alert-state').textContent()).trim(), 'silenced');
  assert.equal(await item.locator(`a[href="/silences?id=${id}"]`).count(), 1);
  await screenshot('alerts-silenced');

  // The silence link leads to the Silences page, where it can be expired.
  await item.locator(`a[href="/silences?id=${id}"]`).click();
  await row.waitFor();
  assert.equal(await page.getByTestId('silences-filter').inputValue(), id);
  await row.getByTestId('silence-expire').click();
  await page.getByTestId('silences-expired').locator(`[data-silence-id="${id}"]`).waitFor();
  assert.equal(await row.getAttribute('data-state'), 'expired');
  assert.equal((await row.getByTestId('silence-state').textContent()).trim(), 'expired');
  assert.equal(await row.getByTestId('silence-expire').count(), 0);
  await page.getByTestId('silences-filter').fill('');
  await screenshot('silences');

  // And the alert fires again.
  await page.getByTestId('nav-alerts').click();
  await alertItem().waitFor();
  await eventually('the alert did not return to firing', async () => {
    if ((await alertItem().getAttribute('data-state')) === 'firing') return true;
    await page.getByTestId('alerts-refresh').click();
    return false;
  }, 30_000);
});

test('rules page shows the rule groups with their rules', { timeout: 60_000 }, async () => {
  await page.goto(`${BASE}/alerts`);
  await page.getByTestId('nav-rules').click();
  const group = page.locator('[data-testid="rule-group"][data-group="e2e-alerts"]');
  await group.waitFor();
  assert.match(await group.getByTestId('rule-group-file').textContent(), /rules\.yml$/);
  assert.match(await group.getByTestId('rule-group-interval').textContent(), /Interval 1s/);
  assert.match(await group.getByTestId('rule-group-last-eval').textContent(), /ago|just now/);
  assert.match(await group.getByTestId('rule-group-eval-time').textContent(), /took \d/);

  const firing = group.locator(`[data-testid="rule"][data-rule="${ALERT}"]`);
  assert.equal((await firing.getByTestId('rule-type').textContent()).trim(), 'alert');
  assert.equal((await firing.getByTestId('rule-state').textContent()).trim(), 'firing');
  assert.equal((await firing.getByTestId('rule-health').textContent()).trim(), 'ok');
  assert.equal((await firing.getByTestId('rule-query').textContent()).trim(), 'vector(1)');
  assert.match(await firing.getByTestId('rule-active').textContent(), /^1 active alert \(1 firing, 0 pending\)/);
  assert.match(await firing.textContent(), /severity="warning"/);
  assert.match(await firing.textContent(), /The browser-test alert is firing/);

  const pending = group.locator('[data-testid="rule"][data-rule="E2EPending"]');
  assert.equal((await pending.getByTestId('rule-state').textContent()).trim(), 'pending');
  assert.match(await pending.textContent(), /For 1h/);

  const recording = page.locator('[data-testid="rule"][data-rule="e2e:up:sum"]');
  assert.equal((await recording.getByTestId('rule-type').textContent()).trim(), 'record');
  assert.equal((await recording.getByTestId('rule-health').textContent()).trim(), 'ok');
  assert.equal(await recording.getByTestId('rule-state').count(), 0);
  await screenshot('rules');
});

test('notifications page lists the webhook deliveries', { timeout: 90_000 }, async () => {
  // The webhook's port has no listener, so the history holds failed attempts.
  const records = await eventually('no notification for e2e-webhook was recorded', async () => {
    const body = await getJSON('/api/v1/notifications?limit=100');
    const list = body.data.notifications.filter((n) => n.receiver === 'e2e-webhook');
    return list.length > 0 && list;
  });
  await page.goto(`${BASE}/alerts`);
  await page.getByTestId('nav-notifications').click();
  const row = page.locator('[data-testid="notification-row"][data-receiver="e2e-webhook"]').first();
  await row.waitFor();
  assert.equal((await row.getByTestId('notification-receiver').textContent()).trim(), 'e2e-webhook');
  assert.match(await row.getByTestId('notification-integration').textContent(), /^webhook/);
  assert.equal((await row.getByTestId('notification-status').textContent()).trim(), 'failed');
  assert.match(await row.textContent(), /alertname="E2EAlwaysFiring"/);
  assert.match(await row.textContent(), /connection refused/);
  assert.match(await row.textContent(), /1 firing/);
  assert.equal(records[0].status, 'failed');
  assert.match(await page.getByTestId('notifications-summary').textContent(), /notification/);

  // Newest first.
  const times = await page.locator('[data-testid="notification-row"] time').evaluateAll((ts) => ts.map((t) => Date.parse(t.getAttribute('datetime'))));
  assert.deepEqual(times, [...times].sort((a, b) => b - a));
  await screenshot('notifications');
});
