// Time series graph for range query results, drawn with uPlot.

import { el, formatAxis, formatCount, formatNumber, formatTime, parseSample, seriesName, seriesNode } from './format.js';

/** MAX_GRAPH_SERIES bounds the series handed to uPlot and listed in the legend. */
export const MAX_GRAPH_SERIES = 200;
const HEIGHT = 380;

/** colorFor returns a distinct, readable color for the i-th series. */
export function colorFor(i) {
  const palette = ['#2451c7', '#d9480f', '#2b8a3e', '#ae3ec9', '#c2255c', '#0b7285', '#e67700', '#5c7cfa', '#5f3dc4', '#087f5b'];
  if (i < palette.length) return palette[i];
  const hue = (i * 137.508) % 360; // golden angle spreads the hues
  return `hsl(${hue.toFixed(0)}, 65%, 42%)`;
}

/**
 * buildData turns a matrix result into uPlot's column layout. Samples are
 * placed on the start + k*step grid that the range query evaluated; missing
 * points and non-finite values become gaps (null).
 */
export function buildData(result, start, end, step) {
  const n = Math.floor((end - start) / step + 1e-9) + 1;
  const xs = new Array(n);
  for (let i = 0; i < n; i++) xs[i] = start + i * step;
  const columns = [xs];
  for (const series of result) {
    const ys = new Array(n).fill(null);
    for (const [t, v] of series.values || []) {
      const i = Math.round((t - start) / step);
      const y = parseSample(v);
      if (i >= 0 && i < n && Number.isFinite(y)) ys[i] = y;
    }
    columns.push(ys);
  }
  return columns;
}

/** hasIsolatedPoint reports whether a column has a value with gaps on both sides. */
export function hasIsolatedPoint(ys) {
  for (let i = 0; i < ys.length; i++) {
    if (ys[i] !== null && (i === 0 || ys[i - 1] === null) && (i === ys.length - 1 || ys[i + 1] === null)) return true;
  }
  return false;
}

/**
 * Graph owns one uPlot instance, its legend and its hover tooltip inside
 * container. Call render for every new result and destroy when done.
 */
export class Graph {
  constructor(container) {
    this.container = container;
    this.note = el('p', { class: 'note', id: 'graph-note', 'data-testid': 'graph-note', hidden: true });
    this.chartBox = el('div', { class: 'chart', id: 'graph-chart', 'data-testid': 'graph-chart' });
    this.tooltip = el('div', { class: 'chart-tooltip', id: 'graph-tooltip', role: 'status', hidden: true });
    this.empty = el('p', { class: 'empty', id: 'graph-empty', hidden: true });
    this.legend = el('ul', { class: 'legend', id: 'graph-legend', 'data-testid': 'graph-legend', 'aria-label': 'Series' });
    this.chartBox.append(this.tooltip);
    container.append(this.note, this.empty, this.chartBox, this.legend);
    this.plot = null;
    this.focused = null;
    this.resizer = new ResizeObserver(() => this.resize());
    this.resizer.observe(this.chartBox);
  }

  destroy() {
    this.resizer.disconnect();
    this.clear();
  }

  clear() {
    if (this.plot) this.plot.destroy();
    this.plot = null;
    this.focused = null;
    this.tooltip.hidden = true;
    this.legend.replaceChildren();
    this.note.hidden = true;
    this.empty.hidden = true;
  }

  resize() {
    if (!this.plot) return;
    const width = this.chartBox.clientWidth;
    if (width > 0 && width !== this.plot.width) this.plot.setSize({ width, height: HEIGHT });
  }

  /** render draws a range query result; start, end and step are in seconds. */
  render(data, start, end, step) {
    this.clear();
    const result = data.resultType === 'matrix' ? data.result : [];
    const withFloats = result.filter((s) => s.values && s.values.length > 0);
    const histograms = result.length - withFloats.length;
    const drawn = withFloats.slice(0, MAX_GRAPH_SERIES);

    const notes = [];
    if (withFloats.length > drawn.length) {
      notes.push(`Showing ${formatCount(drawn.length)} of ${formatCount(withFloats.length)} series in the graph. ` +
        'Narrow the query (label matchers, topk) to see the others.');
    }
    if (histograms > 0) {
      notes.push(`${formatCount(histograms)} native histogram series not graphed; use histogram_quantile or histogram_count.`);
    }
    this.note.textContent = notes.join(' ');
    this.note.hidden = notes.length === 0;

    if (drawn.length === 0) {
      this.empty.textContent = 'No data points in this time range.';
      this.empty.hidden = false;
      return;
    }

    const uPlot = window.uPlot;
    const names = drawn.map((s) => seriesName(s.metric));
    const columns = buildData(drawn, start, end, step);
    const opts = {
      width: Math.max(this.chartBox.clientWidth, 300),
      height: HEIGHT,
      legend: { show: false },
      scales: { x: { time: true } },
      focus: { alpha: 0.3 },
      cursor: {
        focus: { prox: 24 },
        points: { size: 7 },
        drag: { x: true, y: false, setScale: true },
      },
      axes: [
        { stroke: '#4a5160', grid: { stroke: '#e6e8ec' }, ticks: { stroke: '#d5d8de' } },
        {
          stroke: '#4a5160',
          size: 64,
          grid: { stroke: '#e6e8ec' },
          ticks: { stroke: '#d5d8de' },
          values: (u, ticks) => ticks.map(formatAxis),
        },
      ],
      series: [
        { value: (u, v) => (v === null ? '' : formatTime(v)) },
        ...drawn.map((s, i) => ({
          label: names[i],
          stroke: colorFor(i),
          width: 1.5,
          spanGaps: false,
          // A line needs two neighbouring points; draw lone samples as dots
          // so that new or sparse series are still visible.
          points: { show: hasIsolatedPoint(columns[i + 1]), size: 6, fill: colorFor(i) },
        })),
      ],
      hooks: {
        setSeries: [(u, idx) => { this.focused = idx; this.updateTooltip(); }],
        setCursor: [() => this.updateTooltip()],
      },
    };
    this.plot = new uPlot(opts, columns, this.chartBox);
    this.renderLegend(drawn);
  }

  renderLegend(drawn) {
    const frag = document.createDocumentFragment();
    drawn.forEach((s, i) => {
      const idx = i + 1;
      const button = el('button', {
        type: 'button',
        class: 'legend-item',
        'data-testid': 'legend-item',
        'aria-pressed': 'true',
        title: 'Click to hide or show this series',
        onclick: () => {
          const show = !this.plot.series[idx].show;
          this.plot.setSeries(idx, { show });
          button.setAttribute('aria-pressed', String(show));
          button.classList.toggle('off', !show);
        },
        onmouseenter: () => this.plot && this.plot.series[idx].show && this.plot.setSeries(idx, { focus: true }),
        onmouseleave: () => this.plot && this.plot.setSeries(null, { focus: false }),
      },
      el('span', { class: 'swatch', style: `background:${colorFor(i)}`, 'aria-hidden': 'true' }),
      seriesNode(s.metric));
      frag.append(el('li', {}, button));
    });
    this.legend.replaceChildren(frag);
  }

  updateTooltip() {
    const u = this.plot;
    const idx = u && u.cursor.idx;
    const si = this.focused;
    if (!u || idx === null || idx === undefined || si === null || si === undefined || si < 1) {
      this.tooltip.hidden = true;
      return;
    }
    const y = u.data[si][idx];
    if (y === null || y === undefined) {
      this.tooltip.hidden = true;
      return;
    }
    this.tooltip.replaceChildren(
      el('div', { class: 'tt-time', text: formatTime(u.data[0][idx]) }),
      el('div', { class: 'tt-series' },
        el('span', { class: 'swatch', style: `background:${colorFor(si - 1)}` }),
        el('span', { text: u.series[si].label })),
      el('div', { class: 'tt-value', text: formatNumber(y) }),
    );
    this.tooltip.hidden = false;
    const left = u.cursor.left + u.over.offsetLeft;
    const top = u.valToPos(y, 'y') + u.over.offsetTop;
    const boxWidth = this.chartBox.clientWidth;
    const tipWidth = this.tooltip.offsetWidth;
    this.tooltip.style.left = `${Math.min(left + 12, boxWidth - tipWidth - 4)}px`;
    this.tooltip.style.top = `${Math.max(top - this.tooltip.offsetHeight - 10, 0)}px`;
  }
}
