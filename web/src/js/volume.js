// Log volume histogram: lines per time bucket as bars stacked by level,
// drawn with uPlot. Dragging across it selects a time range.

import { el, formatAxis, formatCount, formatTime } from './format.js';
import { stackColumns, volumeColumns } from './logql.js';

const HEIGHT = 150;

/** LEVEL_COLORS gives each normalised level its color (bars, badges and legend). */
export const LEVEL_COLORS = {
  critical: '#862e9c',
  error: '#d6336c',
  warn: '#f08c00',
  info: '#2f9e44',
  debug: '#1c7ed6',
  trace: '#74a3d8',
  unknown: '#98a0ad',
};

/** levelColor returns a level's color; names outside LEVELS share a grey. */
export function levelColor(level) {
  return LEVEL_COLORS[level] || '#6b7280';
}

/**
 * Volume owns the histogram's uPlot instance, legend and tooltip inside
 * container. onSelect(fromSeconds, toSeconds) is called when a range is
 * dragged across the bars, onLevel(level) when a level in the legend is
 * clicked.
 */
export class Volume {
  constructor(container, { onSelect, onLevel } = {}) {
    this.onSelect = onSelect;
    this.onLevel = onLevel;
    this.note = el('p', { class: 'muted small volume-note', id: 'volume-note', 'data-testid': 'volume-note', hidden: true });
    this.chartBox = el('div', { class: 'volume-chart', id: 'volume-chart', 'data-testid': 'volume-chart' });
    this.tooltip = el('div', { class: 'chart-tooltip', id: 'volume-tooltip', role: 'status', hidden: true });
    this.legend = el('ul', { class: 'volume-legend', id: 'volume-legend', 'data-testid': 'volume-legend', 'aria-label': 'Lines by level' });
    this.chartBox.append(this.tooltip);
    container.append(this.chartBox, this.legend, this.note);
    this.plot = null;
    this.data = null;
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
    this.data = null;
    this.tooltip.hidden = true;
    this.legend.replaceChildren();
    this.note.hidden = true;
    this.chartBox.removeAttribute('data-total');
  }

  resize() {
    if (!this.plot) return;
    const width = this.chartBox.clientWidth;
    if (width > 0 && width !== this.plot.width) this.plot.setSize({ width, height: HEIGHT });
  }

  /**
   * render draws the volume query's matrix. Buckets end at start + k*step
   * (k = 1..n); each bar covers (t-step, t] and is drawn at its middle.
   */
  render(result, { start, step, n, note = '' }) {
    this.clear();
    const { xs, levels, counts } = volumeColumns(result, start + step, step, n);
    const centers = xs.map((x) => x - step / 2);
    const totals = counts.map((ys) => ys.reduce((s, y) => s + (y || 0), 0));
    const total = totals.reduce((a, b) => a + b, 0);
    this.chartBox.dataset.total = String(total);
    this.data = { xs, levels, counts, step };
    this.note.textContent = note;
    this.note.hidden = !note;

    this.legend.replaceChildren(...levels.map((level, i) => el('li', {
      class: 'volume-legend-item', 'data-testid': 'volume-legend-item', 'data-level': level, 'data-count': totals[i],
    },
    el('button', {
      type: 'button', class: 'volume-level-button', title: `Show only ${level} lines`, disabled: !this.onLevel,
      onclick: () => this.onLevel && this.onLevel(level),
    },
    el('span', { class: 'swatch', style: `background:${levelColor(level)}`, 'aria-hidden': 'true' }),
    el('span', { class: 'volume-level', text: level }),
    el('span', { class: 'muted', text: formatCount(totals[i]) })))));
    if (levels.length === 0) {
      this.legend.append(el('li', { class: 'muted small', text: 'No lines in this time range.' }));
    }

    // uPlot draws series in order and has no stacking: each level is drawn
    // as a bar up to the running total of itself and the levels below it,
    // topmost first, so that each lower level paints over the part that is
    // not its own.
    const stacked = stackColumns(counts);
    const order = levels.map((_, i) => i).reverse();
    const uPlot = window.uPlot;
    const bars = uPlot.paths.bars({ size: [0.86, 48, 1], align: 0 });
    const opts = {
      width: Math.max(this.chartBox.clientWidth, 300),
      height: HEIGHT,
      legend: { show: false },
      padding: [8, 8, 0, 0],
      scales: {
        x: { time: true, range: () => [start, start + n * step] },
        y: { range: (u, min, max) => [0, Math.max(1, max)] },
      },
      cursor: {
        y: false,
        points: { show: false },
        drag: { x: true, y: false, setScale: false },
      },
      axes: [
        { stroke: '#4a5160', grid: { show: false }, ticks: { stroke: '#d5d8de' } },
        {
          stroke: '#4a5160',
          size: 48,
          grid: { stroke: '#eef0f3' },
          ticks: { show: false },
          values: (u, ticks) => ticks.map((t) => (Number.isInteger(t) ? formatAxis(t) : '')),
        },
      ],
      series: [
        {},
        ...order.map((i) => ({
          label: levels[i],
          fill: levelColor(levels[i]),
          stroke: levelColor(levels[i]),
          width: 0,
          paths: bars,
          points: { show: false },
        })),
      ],
      hooks: {
        setCursor: [(u) => this.updateTooltip(u)],
        setSelect: [(u) => this.selected(u)],
      },
    };
    this.plot = new uPlot(opts, [centers, ...order.map((i) => stacked[i])], this.chartBox);
  }

  selected(u) {
    const { left, width } = u.select;
    if (width < 4 || !this.onSelect) return;
    const from = u.posToVal(left, 'x');
    const to = u.posToVal(left + width, 'x');
    u.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false);
    this.onSelect(from, to);
  }

  updateTooltip(u) {
    const idx = u.cursor.idx;
    if (!this.data || idx === null || idx === undefined) {
      this.tooltip.hidden = true;
      return;
    }
    const { xs, levels, counts, step } = this.data;
    const rows = [];
    let total = 0;
    levels.forEach((level, i) => {
      const c = counts[i][idx];
      if (!c) return;
      total += c;
      rows.push(el('div', { class: 'tt-series' },
        el('span', { class: 'swatch', style: `background:${levelColor(level)}` }),
        el('span', { text: `${level}: ${formatCount(c)}` })));
    });
    if (total === 0) {
      this.tooltip.hidden = true;
      return;
    }
    this.tooltip.replaceChildren(
      el('div', { class: 'tt-time', text: `${formatTime(xs[idx] - step)} – ${formatTime(xs[idx])}` }),
      ...rows,
      el('div', { class: 'tt-value', text: `${formatCount(total)} ${total === 1 ? 'line' : 'lines'}` }),
    );
    this.tooltip.hidden = false;
    const left = u.cursor.left + u.over.offsetLeft;
    const boxWidth = this.chartBox.clientWidth;
    const tipWidth = this.tooltip.offsetWidth;
    this.tooltip.style.left = `${Math.max(0, Math.min(left + 12, boxWidth - tipWidth - 4))}px`;
    this.tooltip.style.top = '0px';
  }
}
