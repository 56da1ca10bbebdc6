// Metrics explorer: PromQL editor, graph and table of the result.
// The query, range, end time, step and tab live in the URL query string.

import { formatQuery, query, queryRange } from './api.js';
import { Autocomplete } from './autocomplete.js';
import { el, formatCount, formatDuration, formatTime, parseDuration } from './format.js';
import { Graph } from './graph.js';
import { renderTable } from './table.js';

/** RANGES are the ranges offered by the time pickers (the log explorer uses them too). */
export const RANGES = ['5m', '15m', '1h', '3h', '6h', '12h', '24h', '7d'];
export const DEFAULT_RANGE = '1h';
const STEP_CHOICES = ['1s', '5s', '15s', '30s', '1m', '5m', '15m', '1h'];
// Prometheus rejects range queries with more than 11,000 points per series.
const MAX_POINTS = 11000;

/** autoStep picks a step that gives about 250 points across the range. */
export function autoStep(rangeSeconds) {
  return Math.max(1, Math.floor(rangeSeconds / 250));
}

/** readTimeRange reads the range and end parameters the time pickers keep in the URL. */
export function readTimeRange(p) {
  const range = p.get('range') || DEFAULT_RANGE;
  const endText = p.get('end') || '';
  let end = null;
  if (endText) {
    const t = /^\d+(\.\d+)?$/.test(endText) ? Number(endText) * 1000 : Date.parse(endText);
    if (Number.isFinite(t)) end = new Date(t);
  }
  return {
    range: Number.isFinite(parseDuration(range)) && parseDuration(range) > 0 ? range : DEFAULT_RANGE,
    end,
  };
}

function readState() {
  const p = new URLSearchParams(location.search);
  return {
    expr: p.get('q') || '',
    ...readTimeRange(p),
    step: p.get('step') || '',
    tab: p.get('tab') === 'graph' ? 'graph' : 'table',
  };
}

function stateURL(state) {
  const p = new URLSearchParams();
  if (state.expr) p.set('q', state.expr);
  p.set('range', state.range);
  if (state.end) p.set('end', state.end.toISOString());
  if (state.step) p.set('step', state.step);
  p.set('tab', state.tab);
  return `${location.pathname}?${p}`;
}

/** toLocalInput formats a Date for <input type="datetime-local">. */
export function toLocalInput(d) {
  const pad = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

// The time-range controls (a "Last …" select, an end time and its "now"
// button), shared by the metrics and the logs explorer.

/** renderTimeRange shows state.range and state.end in the controls. */
export function renderTimeRange(rangeSelect, endInput, state) {
  const ranges = RANGES.includes(state.range) ? RANGES : [...RANGES, state.range];
  rangeSelect.replaceChildren(...ranges.map((r) => el('option', { value: r, selected: r === state.range, text: `Last ${r}` })));
  rangeSelect.value = state.range;
  endInput.value = state.end ? toLocalInput(state.end) : '';
}

/**
 * bindTimeRange copies the controls' changes into the state getState returns
 * (the page replaces its state on navigation) and reruns the query with run.
 * A new range also calls syncControls first, since it may change the step.
 */
export function bindTimeRange({ rangeSelect, endInput, endNow }, getState, syncControls, run) {
  rangeSelect.addEventListener('change', () => {
    getState().range = rangeSelect.value;
    syncControls();
    run();
  });
  endInput.addEventListener('change', () => {
    const t = endInput.value ? new Date(endInput.value) : null;
    getState().end = t && Number.isFinite(t.getTime()) ? t : null;
    run();
  });
  endNow.addEventListener('click', () => {
    getState().end = null;
    endInput.value = '';
    run();
  });
}

/** setURL shows url in the address bar, as a new history entry when push is set. */
export function setURL(url, push) {
  if (url === location.pathname + location.search) return;
  if (push) history.pushState(null, '', url);
  else history.replaceState(null, '', url);
}

/** fitHeight grows a textarea to its content. */
export function fitHeight(input) {
  input.style.height = 'auto';
  input.style.height = `${input.scrollHeight + 2}px`;
}

/** mount renders the explorer into root and returns {unmount, update}. */
export function mount(root) {
  let state = readState();
  let controller = null;

  const input = el('textarea', {
    id: 'query-input',
    class: 'query-input',
    'data-testid': 'query-input',
    rows: 1,
    spellcheck: 'false',
    autocomplete: 'off',
    autocapitalize: 'off',
    'aria-label': 'PromQL expression',
    'aria-autocomplete': 'list',
    'aria-controls': 'autocomplete-list',
    'aria-describedby': 'query-hint',
    placeholder: 'PromQL expression, e.g. rate(http_requests_total[5m])',
  });
  const suggestions = el('ul', {
    id: 'autocomplete-list', class: 'autocomplete', role: 'listbox',
    'aria-label': 'Suggestions', 'data-testid': 'autocomplete', hidden: true,
  });
  const runButton = el('button', { type: 'button', id: 'run-query', 'data-testid': 'run-query', class: 'btn primary', text: 'Run' });
  const formatButton = el('button', {
    type: 'button', id: 'format-query', class: 'btn', text: 'Format', title: 'Pretty-print the expression',
  });
  const errorBox = el('div', { id: 'query-error', class: 'alert error', role: 'alert', 'data-testid': 'query-error', hidden: true });
  const warnBox = el('div', { id: 'query-warnings', class: 'alert warning', role: 'status', 'data-testid': 'query-warnings', hidden: true });

  const rangeSelect = el('select', { id: 'range-select', 'data-testid': 'range-select' });
  const endInput = el('input', { type: 'datetime-local', id: 'end-input', 'data-testid': 'end-input' });
  const endNow = el('button', { type: 'button', class: 'btn small', id: 'end-now', text: 'Now', title: 'Evaluate up to the current time' });
  const stepInput = el('input', {
    type: 'text', id: 'step-input', 'data-testid': 'step-input', list: 'step-choices', size: 8,
    autocomplete: 'off', spellcheck: 'false',
  });
  const stepChoices = el('datalist', { id: 'step-choices' }, ...STEP_CHOICES.map((s) => el('option', { value: s })));

  const tabTable = el('button', {
    type: 'button', role: 'tab', id: 'tab-table', 'data-testid': 'tab-table', 'aria-controls': 'table-panel', text: 'Table',
  });
  const tabGraph = el('button', {
    type: 'button', role: 'tab', id: 'tab-graph', 'data-testid': 'tab-graph', 'aria-controls': 'graph-panel', text: 'Graph',
  });
  const stats = el('span', { id: 'query-stats', class: 'stats', 'data-testid': 'query-stats', 'aria-live': 'polite' });
  const evalInfo = el('p', { id: 'eval-info', class: 'muted small' });
  const tableResult = el('div', { id: 'table-result' });
  const tablePanel = el('div', { id: 'table-panel', role: 'tabpanel', 'aria-labelledby': 'tab-table', class: 'tab-panel' }, evalInfo, tableResult);
  const graphPanel = el('div', { id: 'graph-panel', role: 'tabpanel', 'aria-labelledby': 'tab-graph', class: 'tab-panel' });
  const placeholder = el('p', { class: 'empty', id: 'explorer-placeholder', text: 'Enter an expression and press Run.' });

  root.append(el('section', { class: 'page explorer', 'aria-labelledby': 'explorer-title' },
    el('h1', { id: 'explorer-title', class: 'visually-hidden', text: 'Explore metrics' }),
    el('div', { class: 'card' },
      el('div', { class: 'editor-row' },
        el('div', { class: 'editor' }, input, suggestions),
        el('div', { class: 'editor-actions' }, formatButton, runButton)),
      el('p', { id: 'query-hint', class: 'hint' },
        el('kbd', { text: 'Enter' }), ' runs · ', el('kbd', { text: 'Shift+Enter' }), ' new line · ',
        el('kbd', { text: 'Tab' }), ' completes · ', el('kbd', { text: 'Ctrl+Space' }), ' suggests'),
      errorBox,
      warnBox,
      el('div', { class: 'toolbar' },
        el('div', { role: 'tablist', class: 'tabs', 'aria-label': 'Result view' }, tabTable, tabGraph),
        el('div', { class: 'controls' },
          el('label', { for: 'range-select' }, 'Range'), rangeSelect,
          el('label', { for: 'end-input' }, 'End'), endInput, endNow,
          el('label', { for: 'step-input' }, 'Step'), stepInput, stepChoices),
        stats),
      placeholder,
      tablePanel,
      graphPanel),
  ));

  const graph = new Graph(graphPanel);
  const autocomplete = new Autocomplete(input, suggestions, { onRun: () => run({ push: true }) });
  autocomplete.prefetch();

  const resizeInput = () => fitHeight(input);

  function syncControls() {
    input.value = state.expr;
    resizeInput();
    renderTimeRange(rangeSelect, endInput, state);
    stepInput.value = state.step;
    stepInput.placeholder = `auto (${formatDuration(autoStep(parseDuration(state.range)))})`;
    for (const [tab, button, panel] of [['table', tabTable, tablePanel], ['graph', tabGraph, graphPanel]]) {
      const selected = state.tab === tab;
      button.setAttribute('aria-selected', String(selected));
      button.tabIndex = selected ? 0 : -1;
      panel.hidden = !selected;
    }
  }

  function showError(message) {
    errorBox.replaceChildren(el('strong', { text: 'Error: ' }), message);
    errorBox.hidden = false;
  }

  function clearMessages() {
    errorBox.hidden = true;
    errorBox.replaceChildren();
    warnBox.hidden = true;
    warnBox.replaceChildren();
  }

  function showWarnings(envelope) {
    const lines = [
      ...(envelope.warnings || []).map((w) => `Warning: ${w}`),
      ...(envelope.infos || []).map((w) => `Info: ${w}`),
    ];
    if (lines.length === 0) return;
    warnBox.replaceChildren(...lines.map((l) => el('div', { text: l })));
    warnBox.hidden = false;
  }

  const updateURL = (push) => setURL(stateURL(state), push);

  function stepSeconds(rangeSeconds) {
    if (!state.step) return autoStep(rangeSeconds);
    const s = parseDuration(state.step);
    if (!Number.isFinite(s) || s <= 0) throw new Error(`invalid step "${state.step}": use a duration such as 15s or 1m`);
    return s;
  }

  async function run({ push = false } = {}) {
    state.expr = input.value.trim();
    updateURL(push);
    if (controller) controller.abort();
    controller = null;
    clearMessages();
    runButton.disabled = false;
    tablePanel.removeAttribute('aria-busy');
    graphPanel.removeAttribute('aria-busy');
    if (!state.expr) {
      placeholder.hidden = false;
      tableResult.replaceChildren();
      evalInfo.textContent = '';
      graph.clear();
      stats.textContent = '';
      return;
    }
    placeholder.hidden = true;
    controller = new AbortController();
    const { signal } = controller;
    const endSec = (state.end ? state.end.getTime() : Date.now()) / 1000;
    const panel = state.tab === 'graph' ? graphPanel : tablePanel;
    panel.setAttribute('aria-busy', 'true');
    runButton.disabled = true;
    stats.textContent = 'Loading…';
    const t0 = performance.now();
    try {
      if (state.tab === 'graph') {
        const rangeSec = parseDuration(state.range);
        const step = stepSeconds(rangeSec);
        if (rangeSec / step > MAX_POINTS) {
          throw new Error(`step ${formatDuration(step)} gives more than ${formatCount(MAX_POINTS)} points for ${state.range}; use a larger step`);
        }
        // Anchor the step grid at the end so that the newest point is "now".
        const start = endSec - Math.floor(rangeSec / step) * step;
        const envelope = await queryRange(state.expr, start, endSec, step, { signal });
        if (signal.aborted) return;
        showWarnings(envelope);
        graph.render(envelope.data, start, endSec, step);
        const n = envelope.data.result.length;
        stats.textContent = `Load time: ${Math.round(performance.now() - t0)} ms · Resolution: ${formatDuration(step)} · Result series: ${formatCount(n)}`;
      } else {
        const envelope = await query(state.expr, endSec, { signal });
        if (signal.aborted) return;
        showWarnings(envelope);
        evalInfo.textContent = `Evaluated at ${formatTime(endSec)}`;
        renderTable(tableResult, envelope.data);
        const { resultType, result } = envelope.data;
        const n = resultType === 'vector' || resultType === 'matrix' ? result.length : 1;
        stats.textContent = `Load time: ${Math.round(performance.now() - t0)} ms · Result series: ${formatCount(n)}`;
      }
    } catch (err) {
      if (err.name === 'AbortError' || signal.aborted) return;
      stats.textContent = '';
      if (state.tab === 'graph') graph.clear();
      else {
        tableResult.replaceChildren();
        evalInfo.textContent = '';
      }
      showError(err.errorType ? `${err.errorType}: ${err.message}` : err.message);
    } finally {
      if (!signal.aborted) {
        panel.removeAttribute('aria-busy');
        runButton.disabled = false;
      }
    }
  }

  function selectTab(tab) {
    if (state.tab === tab) return;
    state.tab = tab;
    syncControls();
    (tab === 'graph' ? tabGraph : tabTable).focus();
    run();
  }

  runButton.addEventListener('click', () => run({ push: true }));
  formatButton.addEventListener('click', async () => {
    const expr = input.value.trim();
    if (!expr) return;
    clearMessages();
    try {
      input.value = await formatQuery(expr);
      resizeInput();
    } catch (err) {
      showError(err.errorType ? `${err.errorType}: ${err.message}` : err.message);
    }
  });
  input.addEventListener('input', resizeInput);
  tabTable.addEventListener('click', () => selectTab('table'));
  tabGraph.addEventListener('click', () => selectTab('graph'));
  for (const tab of [tabTable, tabGraph]) {
    tab.addEventListener('keydown', (e) => {
      if (e.key === 'ArrowLeft' || e.key === 'ArrowRight') {
        e.preventDefault();
        selectTab(state.tab === 'table' ? 'graph' : 'table');
      }
    });
  }
  bindTimeRange({ rangeSelect, endInput, endNow }, () => state, syncControls, () => run({ push: true }));
  stepInput.addEventListener('change', () => {
    state.step = stepInput.value.trim();
    run({ push: true });
  });

  syncControls();
  if (state.expr) run();
  else input.focus();

  return {
    unmount() {
      if (controller) controller.abort();
      autocomplete.destroy();
      graph.destroy();
    },
    // update re-reads the URL after back/forward navigation.
    update() {
      state = readState();
      syncControls();
      run();
    },
  };
}
