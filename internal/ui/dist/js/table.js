// Table view of an instant query result.

import { el, formatCount, formatNumber, formatTime, parseSample, seriesNode } from './format.js';

/** MAX_TABLE_ROWS bounds the rows built for one result. */
export const MAX_TABLE_ROWS = 1000;
// Range vectors (up[5m]) list their samples in one cell; long ones are cut.
const MAX_SAMPLES_PER_ROW = 100;

function histogramText(h) {
  const [, hist] = h;
  if (!hist) return '';
  return `histogram: count=${hist.count} sum=${hist.sum} (${(hist.buckets || []).length} buckets)`;
}

function sampleText(pair) {
  return formatNumber(parseSample(pair[1]));
}

function row(label, value) {
  return el('tr', { 'data-testid': 'result-row' },
    el('td', { class: 'cell-series' }, label),
    el('td', { class: 'cell-value', 'data-testid': 'result-value' }, value),
  );
}

function matrixCell(series) {
  const samples = [
    ...(series.values || []).map((p) => [p[0], sampleText(p)]),
    ...(series.histograms || []).map((p) => [p[0], histogramText(p)]),
  ].sort((a, b) => a[0] - b[0]);
  const shown = samples.slice(-MAX_SAMPLES_PER_ROW);
  const cell = el('div', { class: 'samples' });
  if (samples.length > shown.length) {
    cell.append(el('div', { class: 'muted', text: `… ${formatCount(samples.length - shown.length)} earlier samples not shown` }));
  }
  for (const [t, v] of shown) {
    cell.append(el('div', {}, v, el('span', { class: 'muted', text: ` @ ${t} (${formatTime(t)})` })));
  }
  return cell;
}

/**
 * renderTable replaces the contents of container with a table for data
 * (the query API's data field). It builds at most MAX_TABLE_ROWS rows.
 */
export function renderTable(container, data) {
  const { resultType, result } = data;
  const tbody = el('tbody');
  let total = 1;
  let unit = 'series';

  if (resultType === 'scalar') {
    tbody.append(row(el('span', { class: 'muted', text: 'scalar' }), sampleText(result)));
  } else if (resultType === 'string') {
    tbody.append(row(el('span', { class: 'muted', text: 'string' }), result[1]));
  } else {
    total = result.length;
    const frag = document.createDocumentFragment();
    for (const series of result.slice(0, MAX_TABLE_ROWS)) {
      let value;
      if (resultType === 'matrix') value = matrixCell(series);
      else if (series.histogram) value = histogramText(series.histogram);
      else value = sampleText(series.value);
      frag.append(row(seriesNode(series.metric), value));
    }
    tbody.append(frag);
    if (resultType !== 'vector' && resultType !== 'matrix') unit = 'results';
  }

  const children = [];
  if (total > MAX_TABLE_ROWS) {
    children.push(el('p', {
      class: 'note', id: 'table-note', 'data-testid': 'table-note',
      text: `Showing ${formatCount(MAX_TABLE_ROWS)} of ${formatCount(total)} ${unit}. ` +
        'Narrow the query (label matchers, topk) to see the others.',
    }));
  }
  if (total === 0) {
    children.push(el('p', { class: 'empty', id: 'table-empty', text: 'Empty query result.' }));
  } else {
    children.push(el('div', { class: 'table-scroll' },
      el('table', { class: 'data result-table', id: 'result-table', 'data-testid': 'result-table' },
        el('thead', {}, el('tr', {},
          el('th', { scope: 'col', text: 'Series' }),
          el('th', { scope: 'col', class: 'cell-value', text: resultType === 'matrix' ? 'Samples' : 'Value' }))),
        tbody)));
  }
  container.replaceChildren(...children);
}
