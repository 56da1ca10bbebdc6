// Rules page: alerting and recording rule groups from /api/v1/rules.

import { get } from './api.js';
import { labelChips, renderMarkdown, safeUrl, stateBadge, timeNode } from './alerting.js';
import { el, formatCount, formatDuration, formatSeconds } from './format.js';

const REFRESH_MS = 15_000;

function plural(n, noun) {
  return `${formatCount(n)} ${noun}${n === 1 ? '' : 's'}`;
}

function meta(label, value, attrs = {}) {
  if (value === null || value === undefined || value === '') return null;
  return el('span', { class: 'meta-item', ...attrs }, el('span', { class: 'meta-label', text: `${label} ` }), value);
}

function queryLink(expr) {
  return el('a', { href: `/graph?${new URLSearchParams({ q: expr, tab: 'table' })}`, 'data-link': true, class: 'small', text: 'Open in Explore' });
}

function ruleBlock(rule, now) {
  const alerting = rule.type === 'alerting';
  const active = alerting ? (rule.alerts || []) : [];
  const firing = active.filter((a) => a.state === 'firing').length;
  const pending = active.filter((a) => a.state === 'pending').length;
  const annotations = Object.entries(rule.annotations || {}).sort(([a], [b]) => (a < b ? -1 : 1));
  const health = rule.health || 'unknown';
  return el('article', {
    class: `rule rule-${rule.type}`, 'data-testid': 'rule', 'data-rule': rule.name, 'data-type': rule.type, 'data-health': health,
  },
  el('div', { class: 'rule-head' },
    el('span', { class: `type-tag type-${rule.type}`, 'data-testid': 'rule-type', text: alerting ? 'alert' : 'record' }),
    el('span', { class: 'rule-name', 'data-testid': 'rule-name', text: rule.name }),
    alerting ? stateBadge(rule.state || 'inactive', { 'data-testid': 'rule-state' }) : null,
    stateBadge(health === 'ok' ? 'ok' : health === 'err' ? 'error' : health, { 'data-testid': 'rule-health', title: `health: ${health}` }),
    alerting
      ? el('span', { class: 'rule-active', 'data-testid': 'rule-active', title: `${firing} firing, ${pending} pending` },
        `${plural(active.length, 'active alert')}`,
        active.length ? el('span', { class: 'muted', text: ` (${firing} firing, ${pending} pending)` }) : null)
      : null),
  el('div', { class: 'rule-query' }, el('pre', { class: 'query', 'data-testid': 'rule-query', text: rule.query }), queryLink(rule.query)),
  el('div', { class: 'alert-meta' },
    alerting ? meta('For', formatDuration(rule.duration || 0) || '0s') : null,
    alerting ? meta('Keep firing for', formatDuration(rule.keepFiringFor || 0) || '0s') : null,
    meta('Last evaluation', timeNode(rule.lastEvaluation, { now, absolute: false })),
    meta('took', formatSeconds(rule.evaluationTime))),
  rule.lastError ? el('div', { class: 'alert error', 'data-testid': 'rule-error', text: rule.lastError }) : null,
  Object.keys(rule.labels || {}).length ? el('div', { class: 'rule-labels' }, el('span', { class: 'meta-label', text: 'Labels' }), labelChips(rule.labels)) : null,
  annotations.length ? el('dl', { class: 'kv annotations' }, ...annotations.flatMap(([k, v]) => [el('dt', { text: k }), annotationValue(k, v)])) : null,
  );
}

// annotationValue shows the template text of an annotation; runbook is
// markdown and runbook_url a link, as on the Alerts page.
function annotationValue(name, value) {
  if (name === 'runbook') return el('dd', {}, renderMarkdown(value));
  const href = name === 'runbook_url' ? safeUrl(value) : null;
  if (href) return el('dd', {}, el('a', { href, target: '_blank', rel: 'noopener noreferrer', text: value }));
  return el('dd', { text: value });
}

function groupCard(group, rules, now) {
  const id = `rule-group-${`${group.file}-${group.name}`.replace(/[^a-zA-Z0-9_-]/g, '_')}`;
  const bad = rules.filter((r) => r.health === 'err').length;
  return el('section', { class: 'card rule-group', id, 'data-testid': 'rule-group', 'data-group': group.name, 'aria-labelledby': `${id}-title` },
    el('h2', { id: `${id}-title`, class: 'pool-title' },
      el('span', { text: group.name }),
      el('span', { class: `pool-count ${bad ? 'bad' : 'ok'}`, text: bad ? `${bad} unhealthy` : plural(group.rules.length, 'rule') })),
    el('div', { class: 'alert-meta group-meta' },
      meta('File', el('code', { 'data-testid': 'rule-group-file', text: group.file })),
      meta('Interval', formatDuration(group.interval) || '—', { 'data-testid': 'rule-group-interval' }),
      group.limit ? meta('Limit', String(group.limit)) : null,
      meta('Last evaluation', timeNode(group.lastEvaluation, { now }), { 'data-testid': 'rule-group-last-eval' }),
      meta('Evaluation took', formatSeconds(group.evaluationTime), { 'data-testid': 'rule-group-eval-time' })),
    ...rules.map((r) => ruleBlock(r, now)));
}

function ruleText(r) {
  return [r.name, r.query, ...Object.entries(r.labels || {}).map(([k, v]) => `${k}="${v}"`)].join(' ').toLowerCase();
}

/** mount renders the rules page into root. */
export function mount(root) {
  const controller = new AbortController();
  const filterInput = el('input', {
    type: 'search', id: 'rules-filter', 'data-testid': 'rules-filter', spellcheck: 'false',
    placeholder: 'Filter by name, query or labels', 'aria-label': 'Filter rules',
  });
  const typeSelect = el('select', { id: 'rules-type', 'aria-label': 'Rule type' },
    el('option', { value: '', text: 'All rules' }),
    el('option', { value: 'alerting', text: 'Alerting rules' }),
    el('option', { value: 'recording', text: 'Recording rules' }));
  const unhealthy = el('input', { type: 'checkbox', id: 'rules-unhealthy' });
  const refresh = el('button', { type: 'button', class: 'btn', id: 'rules-refresh', text: 'Refresh' });
  const summary = el('p', { class: 'muted', id: 'rules-summary', 'data-testid': 'rules-summary', 'aria-live': 'polite' });
  const errorBox = el('div', { class: 'alert error', role: 'alert', id: 'rules-error', hidden: true });
  const list = el('div', { id: 'rules-list', 'data-testid': 'rules-list' });

  root.append(el('section', { class: 'page', 'aria-labelledby': 'rules-title' },
    el('div', { class: 'page-head' },
      el('h1', { id: 'rules-title', text: 'Rules' }),
      el('div', { class: 'controls' }, filterInput, typeSelect, el('label', { class: 'check' }, unhealthy, ' Unhealthy only'), refresh)),
    summary, errorBox, list));

  let groups = null;
  let timer = null;
  let seq = 0;

  function render() {
    if (groups === null) return;
    const filter = filterInput.value.trim().toLowerCase();
    const type = typeSelect.value;
    const now = Date.now();
    const all = groups.flatMap((g) => g.rules || []);
    const alerting = all.filter((r) => r.type === 'alerting');
    const bad = all.filter((r) => r.health === 'err').length;
    summary.textContent = `${plural(groups.length, 'group')}, ${plural(alerting.length, 'alerting rule')}, ` +
      `${plural(all.length - alerting.length, 'recording rule')}` + (bad ? `, ${formatCount(bad)} unhealthy.` : '.');
    const cards = groups.map((g) => {
      const rules = (g.rules || []).filter((r) => (!type || r.type === type) && (!unhealthy.checked || r.health !== 'ok') &&
        (!filter || ruleText(r).includes(filter) || g.name.toLowerCase().includes(filter)));
      return rules.length ? groupCard(g, rules, now) : null;
    }).filter(Boolean);
    if (groups.length === 0) list.replaceChildren(el('p', { class: 'empty', text: 'No rules are loaded. Add rule files with rule_files in the configuration.' }));
    else if (cards.length === 0) list.replaceChildren(el('p', { class: 'empty', text: 'No rules match the filter.' }));
    else list.replaceChildren(...cards);
  }

  async function load() {
    const mine = ++seq;
    list.setAttribute('aria-busy', 'true');
    try {
      const data = await get('rules', {}, { signal: controller.signal });
      if (mine !== seq) return;
      groups = (data && data.groups) || [];
      errorBox.hidden = true;
      render();
    } catch (err) {
      if (err.name === 'AbortError') return;
      errorBox.textContent = `Cannot load rules: ${err.message}`;
      errorBox.hidden = false;
    } finally {
      if (mine === seq) list.removeAttribute('aria-busy');
    }
  }

  filterInput.addEventListener('input', render);
  typeSelect.addEventListener('change', render);
  unhealthy.addEventListener('change', render);
  refresh.addEventListener('click', load);
  load();
  timer = setInterval(() => {
    if (!document.hidden) load();
  }, REFRESH_MS);
  return () => {
    controller.abort();
    clearInterval(timer);
  };
}
