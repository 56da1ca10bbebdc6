// Notifications page: the history of notifications Lookout's Alertmanager
// sent (/api/v1/notifications), newest first, refreshed automatically.

import { get } from './api.js';
import { labelChips, stateBadge, timeNode, toMillis } from './alerting.js';
import { el, formatCount, formatSeconds } from './format.js';

const REFRESH_MS = 5_000;
const LIMITS = [50, 100, 500, 1000];

function plural(n, noun) {
  return `${formatCount(n)} ${noun}${n === 1 ? '' : 's'}`;
}

/** sortNotifications returns the records newest first (stable for equal times). */
export function sortNotifications(records) {
  return records
    .map((r, i) => [r, i])
    .sort(([a, i], [b, j]) => (toMillis(b.time) || 0) - (toMillis(a.time) || 0) || i - j)
    .map(([r]) => r);
}

function recordKey(n) {
  return [n.time, n.receiver, n.integration, n.index, n.groupKey].join('\u0000');
}

// Alert lists the user opened stay open across refreshes.
const openLists = new Set();

function alertsCell(n) {
  const alerts = n.alerts || [];
  const counts = [
    n.firing ? el('span', { class: 'count count-firing', text: `${n.firing} firing` }) : null,
    n.resolved ? el('span', { class: 'count count-resolved', text: `${n.resolved} resolved` }) : null,
  ];
  return el('td', { class: 'cell-group' },
    Object.keys(n.groupLabels || {}).length ? labelChips(n.groupLabels, { title: n.groupKey || '' }) : el('code', { class: 'small', text: n.groupKey || '{}' }),
    el('div', { class: 'counts' }, ...counts),
    alerts.length
      ? el('details', {
        class: 'alert-list',
        open: openLists.has(recordKey(n)),
        ontoggle: (e) => (e.target.open ? openLists.add(recordKey(n)) : openLists.delete(recordKey(n))),
      },
        el('summary', { text: plural(alerts.length, 'alert') }),
        el('ul', {}, ...alerts.map((a) => el('li', { class: 'mono small', text: a }))))
      : null);
}

function row(n, now) {
  const attempts = Number(n.attempts) || 0;
  return el('tr', { 'data-testid': 'notification-row', 'data-status': n.status, 'data-receiver': n.receiver },
    el('td', { class: 'nowrap' }, timeNode(n.time, { now })),
    el('td', { class: 'nowrap', 'data-testid': 'notification-receiver', text: n.receiver }),
    el('td', { class: 'nowrap', 'data-testid': 'notification-integration' },
      n.integration || '', n.index ? el('span', { class: 'muted', text: `[${n.index}]` }) : null),
    alertsCell(n),
    el('td', {}, stateBadge(n.status === 'success' ? 'success' : 'failed', { 'data-testid': 'notification-status' })),
    el('td', { class: 'num', title: `${attempts} attempt${attempts === 1 ? '' : 's'}, ${Math.max(attempts - 1, 0)} retries` },
      String(attempts), attempts > 1 ? el('span', { class: 'muted', text: ` (${attempts - 1} retr${attempts === 2 ? 'y' : 'ies'})` }) : null),
    el('td', { class: 'cell-error' }, n.error ? el('span', { class: 'error-text', text: n.error }) : ''),
    el('td', { class: 'num', text: formatSeconds(n.durationSeconds) }));
}

/** mount renders the notifications page into root. */
export function mount(root) {
  const controller = new AbortController();
  const receiverSelect = el('select', { id: 'notifications-receiver', 'aria-label': 'Receiver' });
  const statusSelect = el('select', { id: 'notifications-status', 'aria-label': 'Status' },
    el('option', { value: '', text: 'All results' }),
    el('option', { value: 'success', text: 'Succeeded' }),
    el('option', { value: 'failed', text: 'Failed' }));
  const limitSelect = el('select', { id: 'notifications-limit', 'aria-label': 'How many to load' },
    ...LIMITS.map((n) => el('option', { value: String(n), text: `Last ${n}` })));
  limitSelect.value = '100';
  const auto = el('input', { type: 'checkbox', id: 'notifications-auto', checked: true });
  const refresh = el('button', { type: 'button', class: 'btn', id: 'notifications-refresh', text: 'Refresh' });
  const summary = el('p', { class: 'muted', id: 'notifications-summary', 'data-testid': 'notifications-summary', 'aria-live': 'polite' });
  const errorBox = el('div', { class: 'alert error', role: 'alert', id: 'notifications-error', hidden: true });
  const list = el('div', { id: 'notifications-list', 'data-testid': 'notifications-list' });

  root.append(el('section', { class: 'page', 'aria-labelledby': 'notifications-title' },
    el('div', { class: 'page-head' },
      el('h1', { id: 'notifications-title', text: 'Notifications' }),
      el('div', { class: 'controls' }, receiverSelect, statusSelect, limitSelect,
        el('label', { class: 'check' }, auto, ' Auto-refresh'), refresh)),
    summary, errorBox, list));

  let records = null;
  let timer = null;
  let seq = 0;

  function fillReceivers() {
    const current = receiverSelect.value;
    const names = [...new Set((records || []).map((r) => r.receiver))].sort();
    if (current && !names.includes(current)) names.push(current);
    receiverSelect.replaceChildren(el('option', { value: '', text: 'All receivers' }), ...names.map((n) => el('option', { value: n, text: n })));
    receiverSelect.value = current;
  }

  function render() {
    if (records === null) return;
    const receiver = receiverSelect.value;
    const status = statusSelect.value;
    const visible = records.filter((r) => (!receiver || r.receiver === receiver) && (!status || r.status === status));
    const failed = records.filter((r) => r.status !== 'success').length;
    summary.textContent = records.length === 0
      ? 'No notifications have been sent yet.'
      : `The last ${plural(records.length, 'notification')}, ${formatCount(failed)} failed.` +
        (visible.length !== records.length ? ` Showing ${formatCount(visible.length)}.` : '');
    if (records.length === 0) {
      list.replaceChildren(el('p', { class: 'empty', text: 'Nothing has been sent. Notifications appear here when Alertmanager sends firing or resolved alerts to a receiver.' }));
      return;
    }
    if (visible.length === 0) {
      list.replaceChildren(el('p', { class: 'empty', text: 'No notifications match the filter.' }));
      return;
    }
    const now = Date.now();
    list.replaceChildren(el('div', { class: 'card table-card' }, el('div', { class: 'table-scroll' },
      el('table', { class: 'data notifications-table', 'data-testid': 'notifications-table' },
        el('thead', {}, el('tr', {},
          ...['Time', 'Receiver', 'Integration', 'Group and alerts', 'Result', 'Attempts', 'Error', 'Duration']
            .map((h, i) => el('th', { scope: 'col', class: i >= 7 || i === 5 ? 'num' : null, text: h })))),
        el('tbody', {}, ...visible.map((r) => row(r, now)))))));
  }

  async function load() {
    const mine = ++seq;
    list.setAttribute('aria-busy', 'true');
    try {
      const data = await get('notifications', { limit: limitSelect.value }, { signal: controller.signal });
      if (mine !== seq) return;
      if (!data || typeof data !== 'object' || !('notifications' in data)) {
        throw new Error('this server does not keep a notification history (no data.notifications in the response)');
      }
      records = sortNotifications(data.notifications || []);
      errorBox.hidden = true;
      fillReceivers();
      render();
    } catch (err) {
      if (err.name === 'AbortError') return;
      errorBox.textContent = `Cannot load notifications: ${err.message}`;
      errorBox.hidden = false;
    } finally {
      if (mine === seq) list.removeAttribute('aria-busy');
    }
  }

  function schedule() {
    clearInterval(timer);
    timer = auto.checked ? setInterval(() => {
      if (!document.hidden) load();
    }, REFRESH_MS) : null;
  }

  receiverSelect.addEventListener('change', render);
  statusSelect.addEventListener('change', render);
  limitSelect.addEventListener('change', load);
  auto.addEventListener('change', schedule);
  refresh.addEventListener('click', load);
  fillReceivers();
  load();
  schedule();
  return () => {
    controller.abort();
    clearInterval(timer);
  };
}
