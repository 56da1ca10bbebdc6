// Alerts page: firing and pending alerts from /api/v1/alerts, joined with
// Alertmanager's groups (/alertmanager/api/v2/alerts/groups) for receivers
// and silenced or inhibited state; grouped, filtered by label matchers.

import { alertmanager, get } from './api.js';
import {
  GROUP_BY_AM, GROUP_BY_NONE, compileMatchers, formatMatcher, groupAlerts, labelChips, matchersFromLabels,
  mergeAlerts, parseMatchers, renderMarkdown, safeUrl, stateBadge, timeNode,
} from './alerting.js';
import { el, formatCount, formatNumber, parseSample } from './format.js';

const REFRESH_MS = 10_000;
const STATES = ['firing', 'pending', 'silenced', 'inhibited', 'muted'];
// Annotations shown in their own place rather than in the generic list.
const SPECIAL_ANNOTATIONS = new Set(['summary', 'description', 'runbook_url', 'runbook']);

function plural(n, noun) {
  return `${formatCount(n)} ${noun}${n === 1 ? '' : 's'}`;
}

/** silenceHref links to the silence form pre-filled with an alert's labels. */
export function silenceHref(labels) {
  const q = new URLSearchParams({ new: '1' });
  for (const m of matchersFromLabels(labels)) q.append('matcher', formatMatcher(m));
  return `/silences?${q}`;
}

function alertValue(value) {
  if (value === null || value === undefined || value === '') return '—';
  const n = parseSample(value);
  return Number.isNaN(n) && value !== 'NaN' ? String(value) : formatNumber(n);
}

function alertItem(a, now) {
  const ann = a.annotations || {};
  const runbookUrl = safeUrl(ann.runbook_url || '');
  const others = Object.entries(ann).filter(([k]) => !SPECIAL_ANNOTATIONS.has(k)).sort(([x], [y]) => (x < y ? -1 : 1));
  const suppressedBy = [
    ...a.silencedBy.map((id) => el('a', { href: `/silences?id=${encodeURIComponent(id)}`, 'data-link': true, class: 'mono', text: id.slice(0, 8) })),
  ];
  return el('article', {
    class: `alert-item state-${a.state}`, 'data-testid': 'alert-item', 'data-state': a.state,
    'data-alertname': a.labels.alertname || '',
  },
  el('div', { class: 'alert-head' },
    stateBadge(a.state, { 'data-testid': 'alert-state' }),
    labelChips(a.labels, { 'data-testid': 'alert-labels' }),
    el('div', { class: 'alert-actions' },
      runbookUrl
        ? el('a', { class: 'btn small', href: runbookUrl, target: '_blank', rel: 'noopener noreferrer', 'data-testid': 'alert-runbook-link', text: 'Runbook ↗' })
        : (ann.runbook_url ? el('span', { class: 'muted small', title: ann.runbook_url, text: 'runbook_url is not an http(s) link' }) : null),
      el('a', { class: 'btn small', href: silenceHref(a.labels), 'data-link': true, 'data-testid': 'alert-silence', text: 'Silence' }))),
  el('div', { class: 'alert-meta' },
    el('span', {}, el('span', { class: 'meta-label', text: 'Value ' }), el('code', { 'data-testid': 'alert-value', text: alertValue(a.value) })),
    el('span', {}, el('span', { class: 'meta-label', text: 'Active since ' }), timeNode(a.activeAt, { now })),
    a.receivers.length
      ? el('span', {}, el('span', { class: 'meta-label', text: a.receivers.length === 1 ? 'Receiver ' : 'Receivers ' }), a.receivers.join(', '))
      : null,
    suppressedBy.length ? el('span', {}, el('span', { class: 'meta-label', text: 'Silenced by ' }), ...suppressedBy) : null,
    a.inhibitedBy.length ? el('span', { class: 'muted', text: `Inhibited by ${plural(a.inhibitedBy.length, 'alert')}` }) : null,
    a.source === 'alertmanager' ? el('span', { class: 'muted', text: 'received by Alertmanager from another client' }) : null),
  ann.summary ? el('p', { class: 'alert-summary', 'data-testid': 'alert-summary', text: ann.summary }) : null,
  ann.description ? el('p', { class: 'alert-description', text: ann.description }) : null,
  ann.runbook ? el('div', { class: 'runbook' },
    el('div', { class: 'runbook-title', text: 'Runbook' }),
    renderMarkdown(ann.runbook, { 'data-testid': 'alert-runbook' })) : null,
  others.length ? el('dl', { class: 'kv annotations' }, ...others.flatMap(([k, v]) => [el('dt', { text: k }), el('dd', { text: v })])) : null,
  );
}

function groupCard(g, by, now) {
  const counts = STATES.filter((s) => g.counts[s]).map((s) => el('span', { class: `count count-${s}`, text: `${g.counts[s]} ${s}` }));
  let heading;
  if (by === GROUP_BY_AM && !g.receivers) {
    heading = [el('span', { class: 'group-receiver muted', text: 'Not in Alertmanager (pending, or not delivered yet)' })];
  } else if (by === GROUP_BY_AM) {
    heading = [
      el('span', { class: 'group-receiver' }, el('span', { class: 'meta-label', text: 'Receiver ' }),
        el('strong', { 'data-testid': 'group-receiver', text: g.receivers.join(', ') })),
      Object.keys(g.labels).length ? labelChips(g.labels) : el('span', { class: 'muted', text: '{}' }),
    ];
  } else {
    heading = [
      el('span', { class: 'group-name', text: g.title }),
      g.receivers && g.receivers.length
        ? el('span', { class: 'group-receiver' }, el('span', { class: 'meta-label', text: '→ ' }),
          el('span', { 'data-testid': 'group-receiver', text: g.receivers.join(', ') }))
        : null,
    ];
  }
  return el('section', { class: 'card alert-group', 'data-testid': 'alert-group', 'data-group': g.title },
    el('h2', { class: 'group-title' }, ...heading, el('span', { class: 'counts' }, ...counts)),
    ...g.alerts.map((a) => alertItem(a, now)));
}

/** mount renders the alerts page into root. */
export function mount(root) {
  const controller = new AbortController();
  const filterInput = el('input', {
    type: 'search', id: 'alerts-filter', 'data-testid': 'alerts-filter', spellcheck: 'false',
    placeholder: '{severity="critical", instance=~"db.*"}', 'aria-label': 'Filter alerts by label matchers',
    'aria-describedby': 'alerts-filter-error',
  });
  const groupSelect = el('select', { id: 'alerts-group-by', 'data-testid': 'alerts-group-by', 'aria-label': 'Group alerts by' });
  const stateSelect = el('select', { id: 'alerts-state', 'data-testid': 'alerts-state', 'aria-label': 'Show alerts in state' },
    el('option', { value: '', text: 'All states' }),
    ...STATES.map((s) => el('option', { value: s, text: s[0].toUpperCase() + s.slice(1) })));
  const auto = el('input', { type: 'checkbox', id: 'alerts-auto', checked: true });
  const refresh = el('button', { type: 'button', class: 'btn', id: 'alerts-refresh', 'data-testid': 'alerts-refresh', text: 'Refresh' });
  const filterError = el('p', { class: 'field-error', id: 'alerts-filter-error', role: 'alert', hidden: true });
  const summary = el('p', { class: 'muted', id: 'alerts-summary', 'data-testid': 'alerts-summary', 'aria-live': 'polite' });
  const errorBox = el('div', { class: 'alert error', role: 'alert', id: 'alerts-error', hidden: true });
  const amNote = el('div', { class: 'alert warning', id: 'alerts-am-warning', hidden: true });
  const list = el('div', { id: 'alerts-list', 'data-testid': 'alerts-list' });

  root.append(el('section', { class: 'page', 'aria-labelledby': 'alerts-title' },
    el('div', { class: 'page-head' },
      el('h1', { id: 'alerts-title', text: 'Alerts' }),
      el('div', { class: 'controls' },
        filterInput,
        el('label', { for: 'alerts-group-by', text: 'Group by' }), groupSelect,
        stateSelect,
        el('label', { class: 'check' }, auto, ' Auto-refresh'),
        refresh)),
    filterError, summary, errorBox, amNote, list));

  let alerts = null;
  let groupBy = 'alertname';
  let timer = null;
  let seq = 0;

  function readURL() {
    const q = new URLSearchParams(location.search);
    filterInput.value = q.get('filter') || '';
    groupBy = q.get('group') || 'alertname';
    stateSelect.value = STATES.includes(q.get('state')) ? q.get('state') : '';
  }

  function writeURL() {
    const q = new URLSearchParams();
    if (filterInput.value.trim()) q.set('filter', filterInput.value.trim());
    if (groupBy !== 'alertname') q.set('group', groupBy);
    if (stateSelect.value) q.set('state', stateSelect.value);
    const url = `${location.pathname}${[...q].length ? `?${q}` : ''}`;
    if (url !== location.pathname + location.search) history.replaceState(null, '', url);
  }

  function fillGroupOptions() {
    const names = new Set(['alertname']);
    for (const a of alerts || []) for (const k of Object.keys(a.labels)) names.add(k);
    names.add(groupBy);
    const special = [[GROUP_BY_AM, 'Alertmanager group'], [GROUP_BY_NONE, 'Nothing']];
    const labels = [...names].filter((n) => !n.startsWith('@')).sort((a, b) => (a === 'alertname' ? -1 : b === 'alertname' ? 1 : a < b ? -1 : 1));
    groupSelect.replaceChildren(
      ...labels.map((n) => el('option', { value: n, text: n })),
      ...special.map(([v, t]) => el('option', { value: v, text: t })));
    groupSelect.value = groupBy;
  }

  function render() {
    if (alerts === null) return;
    let match = () => true;
    filterError.hidden = true;
    filterInput.removeAttribute('aria-invalid');
    try {
      match = compileMatchers(parseMatchers(filterInput.value));
    } catch (err) {
      filterError.textContent = `Filter: ${err.message}`;
      filterError.hidden = false;
      filterInput.setAttribute('aria-invalid', 'true');
    }
    const state = stateSelect.value;
    const visible = alerts.filter((a) => match(a.labels) && (!state || a.state === state));
    const counts = {};
    for (const a of alerts) counts[a.state] = (counts[a.state] || 0) + 1;
    summary.textContent = alerts.length === 0
      ? 'No alerts are firing or pending.'
      : `${plural(alerts.length, 'alert')}: ${STATES.filter((s) => counts[s]).map((s) => `${counts[s]} ${s}`).join(', ')}.` +
        (visible.length !== alerts.length ? ` Showing ${formatCount(visible.length)}.` : '');
    const now = Date.now();
    if (alerts.length === 0) list.replaceChildren(el('p', { class: 'empty', text: 'Nothing to show: no alerting rule is firing or pending.' }));
    else if (visible.length === 0) list.replaceChildren(el('p', { class: 'empty', text: 'No alerts match the filter.' }));
    else list.replaceChildren(...groupAlerts(visible, groupBy).map((g) => groupCard(g, groupBy, now)));
  }

  async function load() {
    const mine = ++seq;
    list.setAttribute('aria-busy', 'true');
    const [prom, am] = await Promise.allSettled([
      get('alerts', {}, { signal: controller.signal }),
      alertmanager('alerts/groups', { params: { active: true, silenced: true, inhibited: true }, signal: controller.signal }),
    ]);
    if (controller.signal.aborted || mine !== seq) return;
    list.removeAttribute('aria-busy');
    if (prom.status === 'rejected') {
      errorBox.textContent = `Cannot load alerts: ${prom.reason.message}`;
      errorBox.hidden = false;
      return;
    }
    errorBox.hidden = true;
    if (am.status === 'rejected') {
      amNote.textContent = `Alertmanager state (receivers, silences, inhibitions) is unavailable: ${am.reason.message}`;
      amNote.hidden = false;
    } else {
      amNote.hidden = true;
    }
    alerts = mergeAlerts((prom.value && prom.value.alerts) || [], am.status === 'fulfilled' ? am.value : []);
    fillGroupOptions();
    render();
  }

  function schedule() {
    clearInterval(timer);
    timer = auto.checked ? setInterval(load, REFRESH_MS) : null;
  }

  filterInput.addEventListener('input', () => {
    writeURL();
    render();
  });
  groupSelect.addEventListener('change', () => {
    groupBy = groupSelect.value;
    writeURL();
    render();
  });
  stateSelect.addEventListener('change', () => {
    writeURL();
    render();
  });
  auto.addEventListener('change', schedule);
  refresh.addEventListener('click', load);

  readURL();
  fillGroupOptions();
  load();
  schedule();
  return {
    unmount() {
      controller.abort();
      clearInterval(timer);
    },
    update() {
      readURL();
      fillGroupOptions();
      render();
    },
  };
}
