// Targets page: scrape targets from /api/v1/targets, grouped by scrape pool.

import { get } from './api.js';
import { el, formatAgo, formatCount, formatSeconds, labelPairs } from './format.js';

// Rows built per pool; a pool with thousands of targets is cut with a note.
const MAX_ROWS_PER_POOL = 500;

function healthBadge(health) {
  const h = health === 'up' || health === 'down' ? health : 'unknown';
  return el('span', { class: `badge badge-${h}`, 'data-testid': 'target-health', text: h });
}

function labelChips(labels) {
  return el('div', { class: 'chips' }, ...labelPairs(labels).map(([k, v]) =>
    el('span', { class: 'chip', title: `${k}="${v}"` },
      el('span', { class: 'label-name', text: k }), '=', el('span', { class: 'label-value', text: `"${v}"` }))));
}

function plural(n, noun) {
  return `${formatCount(n)} ${noun}${n === 1 ? '' : 's'}`;
}

function matches(target, filter, unhealthyOnly) {
  if (unhealthyOnly && target.health === 'up') return false;
  if (!filter) return true;
  const hay = [target.scrapeUrl, ...Object.entries(target.labels || {}).map(([k, v]) => `${k}="${v}"`)].join(' ').toLowerCase();
  return hay.includes(filter);
}

function poolSection(pool, targets, filter, unhealthyOnly) {
  const up = targets.filter((t) => t.health === 'up').length;
  const visible = targets.filter((t) => matches(t, filter, unhealthyOnly));
  if (visible.length === 0) return null;
  const shown = visible.slice(0, MAX_ROWS_PER_POOL);
  const rows = document.createDocumentFragment();
  for (const t of shown) {
    rows.append(el('tr', { 'data-testid': 'target-row', 'data-pool': pool, 'data-health': t.health },
      el('td', { class: 'cell-endpoint' }, el('a', { href: t.scrapeUrl, target: '_blank', rel: 'noopener noreferrer', text: t.scrapeUrl })),
      el('td', {}, healthBadge(t.health)),
      el('td', {}, labelChips(t.labels)),
      el('td', { class: 'nowrap', title: t.lastScrape || '' }, formatAgo(t.lastScrape)),
      el('td', { class: 'nowrap' }, formatSeconds(t.lastScrapeDuration)),
      el('td', { class: 'cell-error' }, t.lastError ? el('span', { class: 'error-text', text: t.lastError }) : ''),
    ));
  }
  const id = `pool-${pool.replace(/[^a-zA-Z0-9_-]/g, '_')}`;
  const allUp = up === targets.length;
  return el('section', { class: 'card pool', id, 'data-testid': 'scrape-pool', 'data-pool': pool, 'aria-labelledby': `${id}-title` },
    el('h2', { id: `${id}-title`, class: 'pool-title' },
      el('span', { text: pool }),
      el('span', { class: `pool-count ${allUp ? 'ok' : 'bad'}`, text: `${up}/${targets.length} up` })),
    el('div', { class: 'table-scroll' },
      el('table', { class: 'data targets-table' },
        el('thead', {}, el('tr', {},
          ...['Endpoint', 'State', 'Labels', 'Last scrape', 'Scrape duration', 'Error'].map((h) => el('th', { scope: 'col', text: h })))),
        el('tbody', {}, rows))),
    visible.length > shown.length
      ? el('p', { class: 'note', text: `Showing ${formatCount(shown.length)} of ${formatCount(visible.length)} targets in this pool.` })
      : null,
  );
}

/** mount renders the targets page into root and returns its cleanup function. */
export function mount(root) {
  const controller = new AbortController();
  const filterInput = el('input', {
    type: 'search', id: 'targets-filter', placeholder: 'Filter by endpoint or labels', 'aria-label': 'Filter targets',
  });
  const unhealthy = el('input', { type: 'checkbox', id: 'targets-unhealthy' });
  const refresh = el('button', { type: 'button', class: 'btn', id: 'targets-refresh', text: 'Refresh' });
  const summary = el('p', { class: 'muted', id: 'targets-summary', 'aria-live': 'polite' });
  const errorBox = el('div', { class: 'alert error', role: 'alert', id: 'targets-error', hidden: true });
  const list = el('div', { id: 'targets-list', 'data-testid': 'targets-list' });
  let pools = new Map();

  root.append(el('section', { class: 'page', 'aria-labelledby': 'targets-title' },
    el('div', { class: 'page-head' },
      el('h1', { id: 'targets-title', text: 'Targets' }),
      el('div', { class: 'controls' },
        filterInput,
        el('label', { class: 'check' }, unhealthy, ' Unhealthy only'),
        refresh)),
    summary, errorBox, list));

  function render() {
    const filter = filterInput.value.trim().toLowerCase();
    const sections = [...pools].map(([pool, ts]) => poolSection(pool, ts, filter, unhealthy.checked)).filter(Boolean);
    if (pools.size === 0) list.replaceChildren(el('p', { class: 'empty', text: 'No active targets.' }));
    else if (sections.length === 0) list.replaceChildren(el('p', { class: 'empty', text: 'No targets match the filter.' }));
    else list.replaceChildren(...sections);
  }

  async function load() {
    list.setAttribute('aria-busy', 'true');
    try {
      const data = await get('targets', { state: 'active' }, { signal: controller.signal });
      errorBox.hidden = true;
      pools = new Map();
      for (const t of data.activeTargets || []) {
        if (!pools.has(t.scrapePool)) pools.set(t.scrapePool, []);
        pools.get(t.scrapePool).push(t);
      }
      pools = new Map([...pools].sort(([a], [b]) => a.localeCompare(b)));
      const all = [...pools.values()].flat();
      const up = all.filter((t) => t.health === 'up').length;
      summary.textContent = `${plural(all.length, 'target')} in ${plural(pools.size, 'scrape pool')}, ${formatCount(up)} up.`;
      render();
    } catch (err) {
      if (err.name === 'AbortError') return;
      errorBox.textContent = `Cannot load targets: ${err.message}`;
      errorBox.hidden = false;
    } finally {
      list.removeAttribute('aria-busy');
    }
  }

  filterInput.addEventListener('input', render);
  unhealthy.addEventListener('change', render);
  refresh.addEventListener('click', load);
  load();
  return () => controller.abort();
}
