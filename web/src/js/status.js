// Status page: build and runtime information, TSDB statistics and the
// loaded configuration.

import { get } from './api.js';
import { el, formatBytes, formatCount, formatDuration, formatTime } from './format.js';

const buildFields = [
  ['version', 'Version'], ['revision', 'Revision'], ['branch', 'Branch'],
  ['buildUser', 'Build user'], ['buildDate', 'Build date'], ['goVersion', 'Go version'],
];

const runtimeFields = [
  ['startTime', 'Start time', (v) => `${formatTime(Date.parse(v) / 1000)} (up ${formatDuration((Date.now() - Date.parse(v)) / 1000)})`],
  ['CWD', 'Working directory'],
  ['reloadConfigSuccess', 'Configuration reload', (v) => (v ? 'successful' : 'failed')],
  ['lastConfigTime', 'Last configuration load', (v) => formatTime(Date.parse(v) / 1000)],
  ['corruptionCount', 'WAL corruptions'],
  ['goroutineCount', 'Goroutines'],
  ['GOMAXPROCS', 'GOMAXPROCS'],
  ['GOMEMLIMIT', 'GOMEMLIMIT', (v) => (v >= 2 ** 62 ? 'unlimited' : formatBytes(v))],
  ['GOGC', 'GOGC'],
  ['GODEBUG', 'GODEBUG'],
  ['storageRetention', 'Storage retention'],
  ['hostname', 'Hostname'],
  ['serverTime', 'Server time', (v) => formatTime(Date.parse(v) / 1000)],
];

function kvList(id, rows) {
  return el('dl', { class: 'kv', id, 'data-testid': id },
    ...rows.flatMap(([label, value, valueId]) => [
      el('dt', { text: label }),
      el('dd', { id: valueId, 'data-testid': valueId, text: value === '' || value === undefined ? '—' : String(value) }),
    ]));
}

function section(id, title, ...children) {
  return el('section', { class: 'card', id, 'aria-labelledby': `${id}-title` },
    el('h2', { id: `${id}-title`, text: title }), ...children);
}

function renderBuild(body, data) {
  const rows = buildFields.map(([key, label]) => [label, data[key], key === 'version' ? 'build-version' : `build-${key}`]);
  body.replaceChildren(kvList('build-info', rows));
}

function renderRuntime(body, data) {
  const known = new Set(runtimeFields.map(([k]) => k));
  const rows = runtimeFields.filter(([k]) => k in data).map(([key, label, fmt]) => {
    let value = data[key];
    try {
      if (fmt) value = fmt(value);
    } catch {
      // Show the raw value when it is not in the expected shape.
    }
    return [label, value, `runtime-${key}`];
  });
  for (const [key, value] of Object.entries(data)) {
    if (!known.has(key)) rows.push([key, typeof value === 'object' ? JSON.stringify(value) : value, `runtime-${key}`]);
  }
  body.replaceChildren(kvList('runtime-info', rows));
}

function topTable(id, title, entries, { nameHeader, valueHeader, link = false, bytes = false }) {
  if (!entries || entries.length === 0) return null;
  return el('div', { class: 'top-table' },
    el('h3', { text: title }),
    el('table', { class: 'data compact', id, 'data-testid': id },
      el('thead', {}, el('tr', {},
        el('th', { scope: 'col', text: nameHeader }), el('th', { scope: 'col', class: 'num', text: valueHeader }))),
      el('tbody', {}, ...entries.map((e) => el('tr', {},
        el('td', {}, link
          ? el('a', { href: `/graph?${new URLSearchParams({ q: e.name, tab: 'table' })}`, 'data-link': true, text: e.name })
          : el('code', { text: e.name })),
        el('td', { class: 'num', text: bytes ? formatBytes(e.value) : formatCount(e.value) }))))));
}

function renderTSDB(body, data) {
  const head = data.headStats || {};
  const span = head.maxTime > head.minTime ? formatDuration((head.maxTime - head.minTime) / 1000) : '';
  const stats = kvList('tsdb-head', [
    ['Head series', formatCount(head.numSeries ?? 0), 'tsdb-head-series'],
    ['Label pairs', formatCount(head.numLabelPairs ?? 0), 'tsdb-label-pairs'],
    ['Chunks', formatCount(head.chunkCount ?? 0), 'tsdb-chunks'],
    ['Oldest sample in head', head.minTime > 0 ? formatTime(head.minTime / 1000) : '', 'tsdb-min-time'],
    ['Newest sample in head', head.maxTime > 0 ? `${formatTime(head.maxTime / 1000)}${span ? ` (${span} span)` : ''}` : '', 'tsdb-max-time'],
  ]);
  body.replaceChildren(stats, el('div', { class: 'top-grid' },
    topTable('tsdb-top-metrics', 'Top metrics by series count', data.seriesCountByMetricName,
      { nameHeader: 'Metric', valueHeader: 'Series', link: true }),
    topTable('tsdb-top-labels', 'Top labels by value count', data.labelValueCountByLabelName,
      { nameHeader: 'Label', valueHeader: 'Values' }),
    topTable('tsdb-top-pairs', 'Top label pairs by series count', data.seriesCountByLabelValuePair,
      { nameHeader: 'Label pair', valueHeader: 'Series' }),
    topTable('tsdb-top-memory', 'Label memory use', data.memoryInBytesByLabelName,
      { nameHeader: 'Label', valueHeader: 'Bytes', bytes: true }),
  ));
}

function renderConfig(body, data) {
  body.replaceChildren(el('pre', { class: 'config', id: 'config-yaml', 'data-testid': 'config-yaml', tabindex: '0', text: data.yaml || '' }));
}

/** mount renders the status page into root and returns its cleanup function. */
export function mount(root) {
  const controller = new AbortController();
  const parts = [
    ['status-build', 'Build information', 'status/buildinfo', renderBuild],
    ['status-runtime', 'Runtime information', 'status/runtimeinfo', renderRuntime],
    ['status-tsdb', 'TSDB status', 'status/tsdb', renderTSDB],
    ['status-config', 'Configuration', 'status/config', renderConfig],
  ];
  const page = el('section', { class: 'page status', 'aria-labelledby': 'status-title' },
    el('div', { class: 'page-head' }, el('h1', { id: 'status-title', text: 'Status' })));
  const grid = el('div', { class: 'status-grid' });
  page.append(grid);
  root.append(page);

  for (const [id, title, path, render] of parts) {
    const body = el('div', { 'aria-busy': 'true' }, el('p', { class: 'muted', text: 'Loading…' }));
    grid.append(section(id, title, body));
    get(path, {}, { signal: controller.signal })
      .then((data) => render(body, data || {}))
      .catch((err) => {
        if (err.name === 'AbortError') return;
        body.replaceChildren(el('div', { class: 'alert error', role: 'alert', text: `Cannot load ${path}: ${err.message}` }));
      })
      .finally(() => body.removeAttribute('aria-busy'));
  }
  return () => controller.abort();
}
