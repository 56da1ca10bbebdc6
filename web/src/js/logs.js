// Log explorer: LogQL editor with autocomplete, a volume histogram by
// level, the matching lines with expandable fields, surrounding lines,
// trace links and live tail, over the Loki-compatible API (/loki/api/v1).
// The query, range, end time, limit and order live in the URL query string.
//
// Log lines are untrusted input: they only ever reach the page through
// textContent and attribute values, never as markup.

import { ApiError, loki, lokiQueryRange, lokiTailURL } from './api.js';
import { Autocomplete } from './autocomplete.js';
import { autoStep, bindTimeRange, fitHeight, readTimeRange, renderTimeRange, setURL } from './explorer.js';
import { el, formatCount, formatDuration, parseDuration } from './format.js';
import { Graph } from './graph.js';
import {
  LEVELS, LEVEL_LABEL, STAGE_KEYWORDS, addLabelFilter, addNs, addStreamMatcher, analyzeLogQL, compareNs,
  addParser, entriesFromStreams, functionItems, isLabelName, isLogQuery, lineFields, nsFromMs, streamSelector, traceIdOf, volumeQuery,
  volumeStep,
} from './logql.js';
import { Volume } from './volume.js';

const LIMITS = [100, 500, 1000, 5000];
const DEFAULT_LIMIT = 1000;
/** TAIL_MAX_ROWS bounds the list while live tail adds lines; the oldest go first. */
export const TAIL_MAX_ROWS = 1000;
// Lines the tail sends per message at most, and how far behind now it reads
// (lines stored up to a second after their timestamp still arrive).
const TAIL_BATCH = 200;
const TAIL_DELAY_SECONDS = 1;
// A row shows at most this much of its line; the details show all of it.
const ROW_MAX_CHARS = 2000;
// Surrounding lines: how many on each side, and how far to look.
const CONTEXT_LINES = 20;
const CONTEXT_WINDOW_NS = 6n * 3600n * 1000000000n;
// Label look-ups for autocomplete consider recent data only.
const LOOKBACK_SECONDS = 12 * 3600;
const CACHE_TTL_MS = 60 * 1000;

function readState() {
  const p = new URLSearchParams(location.search);
  const limit = Number(p.get('limit'));
  return {
    expr: p.get('q') || '',
    ...readTimeRange(p),
    limit: Number.isInteger(limit) && limit > 0 && limit <= 5000 ? limit : DEFAULT_LIMIT,
    dir: p.get('order') === 'oldest' ? 'forward' : 'backward',
  };
}

function stateURL(state) {
  const p = new URLSearchParams();
  if (state.expr) p.set('q', state.expr);
  p.set('range', state.range);
  if (state.end) p.set('end', state.end.toISOString());
  if (state.limit !== DEFAULT_LIMIT) p.set('limit', String(state.limit));
  if (state.dir === 'forward') p.set('order', 'oldest');
  return `${location.pathname}?${p}`;
}

/** formatLogTime prints a time in milliseconds as a local date and time with milliseconds. */
export function formatLogTime(ms) {
  const d = new Date(ms);
  const pad = (n, w = 2) => String(n).padStart(w, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ` +
    `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
}

// levelClass maps a level to a CSS class suffix; other names share one.
function levelClass(level) {
  return LEVELS.includes(level) ? level : 'other';
}

function sortedPairs(labels) {
  return Object.entries(labels || {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

/** LogAutocomplete completes LogQL: stream labels and values, detected fields, stages and functions. */
class LogAutocomplete extends Autocomplete {
  constructor(textarea, list, { onRun, timeWindow }) {
    super(textarea, list, { onRun });
    this.timeWindow = timeWindow;
  }

  analyze(text, caret) {
    return analyzeLogQL(text, caret);
  }

  window(params = {}) {
    const [start, end] = this.timeWindow();
    return { ...params, start, end };
  }

  labelNames() {
    return this.cached('labels', () => loki('labels', this.window()).then((b) => b.data));
  }

  prefetch() {
    this.labelNames().catch(() => {});
  }

  async candidates(ctx) {
    if (ctx.kind === 'function') return functionItems();
    if (ctx.kind === 'labelName') {
      const used = new Set(ctx.used);
      return (await this.labelNames()).filter((n) => !used.has(n)).map((text) => ({ text, kind: 'label' }));
    }
    if (ctx.kind === 'labelValue') {
      if (ctx.filter && ctx.label === LEVEL_LABEL) return LEVELS.map((text) => ({ text, kind: 'level' }));
      if (!isLabelName(ctx.label)) return [];
      const values = await this.cached(`values|${ctx.label}`,
        () => loki(`label/${encodeURIComponent(ctx.label)}/values`, this.window()).then((b) => b.data));
      return values.map((text) => ({ text, kind: 'value' }));
    }
    // Fields: what the store detects in recent lines of the selector, then
    // (right after "|") the stages.
    let fields = [];
    if (ctx.selector) {
      try {
        const body = await this.cached(`fields|${ctx.selector}`,
          () => loki('detected_fields', this.window({ query: ctx.selector })));
        fields = (body.fields || []).map((f) => ({ text: f.label, kind: f.type ? `field · ${f.type}` : 'field' }));
      } catch {
        fields = [];
      }
    }
    if (ctx.grouping) {
      const labels = await this.labelNames().catch(() => []);
      const seen = new Set(fields.map((f) => f.text));
      return fields.concat(labels.filter((n) => !seen.has(n)).map((text) => ({ text, kind: 'label' })));
    }
    if (!ctx.stage) return fields;
    return fields.concat(STAGE_KEYWORDS.map((text) => ({ text, kind: 'stage' })));
  }
}

/**
 * LogList renders entries as rows (time, level, line) into one list and
 * builds a row's details only when it is expanded. One click handler serves
 * every row, so a row costs one cloned template and three text nodes.
 */
class LogList {
  constructor(container, { onFilter, onContext }) {
    this.onFilter = onFilter;
    this.onContext = onContext;
    this.list = el('ol', { class: 'log-list', id: 'log-list', 'data-testid': 'log-list', 'aria-label': 'Log lines' });
    container.append(this.list);
    this.entry = new WeakMap(); // row -> entry
    this.template = el('li', { class: 'log-row', 'data-testid': 'log-row' },
      el('button', { type: 'button', class: 'log-time', 'data-testid': 'log-toggle', 'aria-expanded': 'false', title: 'Show fields' }),
      el('span', { class: 'level-badge', 'data-testid': 'log-level' }),
      el('span', { class: 'log-line', 'data-testid': 'log-line' }));
    this.list.addEventListener('click', (e) => this.click(e));
  }

  row(entry) {
    const li = this.template.cloneNode(true);
    const cls = levelClass(entry.level);
    li.className = `log-row lvl-${cls}`;
    const [time, badge, line] = li.children;
    time.textContent = formatLogTime(entry.ms);
    badge.textContent = entry.level;
    badge.className = `level-badge lvl-${cls}`;
    line.textContent = entry.line.length > ROW_MAX_CHARS ? `${entry.line.slice(0, ROW_MAX_CHARS)}…` : entry.line;
    this.entry.set(li, entry);
    return li;
  }

  fragment(entries, extraClass) {
    const frag = document.createDocumentFragment();
    for (const e of entries) {
      const li = this.row(e);
      if (extraClass) li.classList.add(extraClass);
      frag.append(li);
    }
    return frag;
  }

  set(entries) {
    this.list.replaceChildren(this.fragment(entries));
  }

  clear() {
    this.list.replaceChildren();
  }

  get size() {
    return this.list.childElementCount;
  }

  /** entries returns the listed entries in display order. */
  entries() {
    return Array.from(this.list.children, (li) => this.entry.get(li));
  }

  /** newestNs returns the newest listed timestamp, or "". */
  newestNs() {
    let newest = '';
    for (const li of this.list.children) {
      const e = this.entry.get(li);
      if (e && (!newest || compareNs(e.ns, newest) > 0)) newest = e.ns;
    }
    return newest;
  }

  /**
   * addLive adds tailed entries (oldest first) at the newest end of the
   * list and drops rows from the oldest end beyond max.
   */
  addLive(entries, newestFirst, max) {
    if (entries.length === 0) return;
    if (newestFirst) {
      this.list.prepend(this.fragment([...entries].reverse(), 'log-new'));
      while (this.list.childElementCount > max) this.list.lastElementChild.remove();
    } else {
      this.list.append(this.fragment(entries, 'log-new'));
      while (this.list.childElementCount > max) this.list.firstElementChild.remove();
    }
  }

  click(e) {
    const li = e.target.closest('li.log-row');
    if (!li || !this.list.contains(li)) return;
    const details = li.querySelector(':scope > .log-details');
    if (details && details.contains(e.target)) return; // its own buttons handle it
    const onToggle = e.target.closest('button.log-time');
    // Selecting text in a line should not fold the row.
    if (!onToggle && String(window.getSelection()).length > 0) return;
    this.toggle(li);
  }

  toggle(li) {
    const button = li.querySelector(':scope > .log-time');
    const open = li.querySelector(':scope > .log-details');
    if (open) {
      open.remove();
      li.classList.remove('expanded');
      button.setAttribute('aria-expanded', 'false');
      return;
    }
    li.append(this.details(this.entry.get(li)));
    li.classList.add('expanded');
    button.setAttribute('aria-expanded', 'true');
  }

  details(entry) {
    const contextBox = el('div', { class: 'log-context', 'data-testid': 'log-context', hidden: true });
    // Fields of a JSON or logfmt line the query did not parse, shown as
    // Grafana shows detected fields.
    const detected = Object.keys(entry.parsed || {}).length ? { parser: '', fields: {} } : lineFields(entry.line);
    const traceId = traceIdOf({ ...entry, lineFields: detected.fields });
    const contextButton = el('button', {
      type: 'button', class: 'btn small', 'data-testid': 'log-context-button', text: 'Show context',
      title: `Lines of the same stream before and after this one (${CONTEXT_LINES} each)`,
    });
    contextButton.addEventListener('click', () => {
      if (!contextBox.hidden) {
        contextBox.hidden = true;
        contextBox.replaceChildren();
        contextButton.textContent = 'Show context';
        return;
      }
      contextBox.hidden = false;
      contextButton.textContent = 'Hide context';
      this.onContext(entry, contextBox);
    });
    const actions = el('div', { class: 'log-actions' },
      contextButton,
      traceId ? el('a', {
        class: 'btn small', href: `/traces/${encodeURIComponent(traceId)}`, 'data-link': true,
        'data-testid': 'log-trace-link', title: `Open trace ${traceId}`, text: 'View trace',
      }) : null,
      el('span', { class: 'muted small mono', title: 'Timestamp in nanoseconds', text: entry.ns }));

    const groups = [
      ['Stream labels', entry.stream, 'stream'],
      ['Structured metadata', entry.meta, 'meta'],
      ['Parsed fields', entry.parsed, 'parsed'],
      [`Fields in the line (${detected.parser})`, detected.fields, 'line'],
    ].filter(([, labels]) => labels && Object.keys(labels).length > 0);
    const fields = el('div', { class: 'log-fields' }, ...groups.map(([title, labels, category]) => el('section', {
      class: 'log-field-group', 'data-category': category,
    },
    el('h4', { text: title }),
    el('dl', { class: 'kv log-kv' }, ...sortedPairs(labels).flatMap(([name, value]) => [
      el('dt', { text: name }),
      el('dd', {}, isLabelName(name)
        ? el('button', {
          type: 'button', class: 'field-value', 'data-testid': 'log-field', 'data-category': category,
          'data-name': name, title: `Filter for ${name}="${value}"`, text: value,
          onclick: () => this.onFilter(category, name, value, detected.parser),
        })
        : el('span', { class: 'field-value plain', text: value })),
    ])))));
    const full = entry.line.length > ROW_MAX_CHARS ? el('pre', { class: 'log-full', text: entry.line }) : null;
    return el('div', { class: 'log-details', 'data-testid': 'log-details' }, actions, fields, full, contextBox);
  }
}

/** mount renders the log explorer into root and returns {unmount, update}. */
export function mount(root) {
  let state = readState();
  let controller = null;
  let tail = null; // {socket, stopped, count}
  let graph = null;
  // Names seen as stream labels, to sort tailed labels (which come merged).
  const streamNames = new Set();

  const input = el('textarea', {
    id: 'query-input', class: 'query-input', 'data-testid': 'query-input', rows: 1, spellcheck: 'false',
    autocomplete: 'off', autocapitalize: 'off', 'aria-label': 'LogQL query', 'aria-autocomplete': 'list',
    'aria-controls': 'autocomplete-list', 'aria-describedby': 'query-hint',
    placeholder: 'LogQL query, e.g. {app="api"} |= "error" | json',
  });
  const suggestions = el('ul', {
    id: 'autocomplete-list', class: 'autocomplete', role: 'listbox',
    'aria-label': 'Suggestions', 'data-testid': 'autocomplete', hidden: true,
  });
  const runButton = el('button', { type: 'button', id: 'run-query', 'data-testid': 'run-query', class: 'btn primary', text: 'Run' });
  const tailButton = el('button', {
    type: 'button', id: 'logs-tail', 'data-testid': 'logs-tail', class: 'btn', 'aria-pressed': 'false',
    title: 'Stream new lines as they arrive', text: 'Live tail',
  });
  const errorBox = el('div', { id: 'query-error', class: 'alert error', role: 'alert', 'data-testid': 'query-error', hidden: true });

  const rangeSelect = el('select', { id: 'range-select', 'data-testid': 'range-select' });
  const endInput = el('input', { type: 'datetime-local', id: 'end-input', 'data-testid': 'end-input' });
  const endNow = el('button', { type: 'button', class: 'btn small', id: 'end-now', text: 'Now', title: 'Query up to the current time' });
  const limitSelect = el('select', { id: 'limit-select', 'data-testid': 'limit-select' });
  const orderSelect = el('select', { id: 'order-select', 'data-testid': 'order-select' },
    el('option', { value: 'backward', text: 'Newest first' }),
    el('option', { value: 'forward', text: 'Oldest first' }));
  const stats = el('span', { id: 'query-stats', class: 'stats', 'data-testid': 'query-stats', 'aria-live': 'polite' });
  const tailStatus = el('p', { id: 'tail-status', class: 'tail-status', 'data-testid': 'tail-status', 'aria-live': 'polite', hidden: true });

  const volumeBox = el('div', { class: 'volume', id: 'logs-volume', 'data-testid': 'logs-volume', hidden: true });
  const graphPanel = el('div', { id: 'graph-panel', class: 'tab-panel', hidden: true });
  const listNote = el('p', { class: 'note', id: 'logs-note', 'data-testid': 'logs-note', hidden: true });
  const empty = el('p', { class: 'empty', id: 'logs-empty', 'data-testid': 'logs-empty', hidden: true });
  const placeholder = el('p', {
    class: 'empty', id: 'logs-placeholder',
    text: 'Enter a LogQL query, such as {app="api"}, and press Run.',
  });
  const listBox = el('div', { id: 'logs-result', class: 'logs-result' });

  root.append(el('section', { class: 'page logs', 'aria-labelledby': 'logs-title' },
    el('h1', { id: 'logs-title', class: 'visually-hidden', text: 'Explore logs' }),
    el('div', { class: 'card' },
      el('div', { class: 'editor-row' },
        el('div', { class: 'editor' }, input, suggestions),
        el('div', { class: 'editor-actions' }, tailButton, runButton)),
      el('p', { id: 'query-hint', class: 'hint' },
        el('kbd', { text: 'Enter' }), ' runs · ', el('kbd', { text: 'Shift+Enter' }), ' new line · ',
        el('kbd', { text: 'Tab' }), ' completes · ', el('kbd', { text: 'Ctrl+Space' }), ' suggests · ',
        'click a field value to filter by it'),
      errorBox,
      el('div', { class: 'toolbar' },
        el('div', { class: 'controls' },
          el('label', { for: 'range-select' }, 'Range'), rangeSelect,
          el('label', { for: 'end-input' }, 'End'), endInput, endNow,
          el('label', { for: 'limit-select' }, 'Limit'), limitSelect,
          el('label', { for: 'order-select' }, 'Order'), orderSelect),
        stats),
      volumeBox,
      graphPanel,
      placeholder,
      tailStatus,
      listNote,
      empty,
      listBox),
  ));

  const volume = new Volume(volumeBox, {
    onSelect: (from, to) => {
      state.end = new Date(Math.round(to) * 1000);
      state.range = formatDuration(Math.max(1, Math.round(to - from)));
      syncControls();
      run({ push: true });
    },
    onLevel: (level) => addFilter('meta', LEVEL_LABEL, level),
  });
  const list = new LogList(listBox, { onFilter: addFilter, onContext: showContext });
  const autocomplete = new LogAutocomplete(input, suggestions, {
    onRun: () => run({ push: true }),
    timeWindow: () => {
      const now = Date.now() / 1000;
      return [Math.floor(now - LOOKBACK_SECONDS), Math.ceil(now)];
    },
  });
  autocomplete.prefetch();

  const resizeInput = () => fitHeight(input);

  function syncControls() {
    input.value = state.expr;
    resizeInput();
    renderTimeRange(rangeSelect, endInput, state);
    const limits = LIMITS.includes(state.limit) ? LIMITS : [...LIMITS, state.limit].sort((a, b) => a - b);
    limitSelect.replaceChildren(...limits.map((n) => el('option', { value: n, text: formatCount(n) })));
    limitSelect.value = String(state.limit);
    orderSelect.value = state.dir;
  }

  function showError(message) {
    errorBox.replaceChildren(el('strong', { text: 'Error: ' }), message);
    errorBox.hidden = false;
  }

  function clearError() {
    errorBox.hidden = true;
    errorBox.replaceChildren();
  }

  const updateURL = (push) => setURL(stateURL(state), push);

  function clearResults() {
    list.clear();
    volume.clear();
    volumeBox.hidden = true;
    if (graph) graph.clear();
    graphPanel.hidden = true;
    listNote.hidden = true;
    empty.hidden = true;
  }

  function rememberStreams(entries) {
    for (const e of entries) for (const k in e.stream) streamNames.add(k);
  }

  async function run({ push = false } = {}) {
    state.expr = input.value.trim();
    updateURL(push);
    const resumeTail = tail !== null;
    stopTail();
    if (controller) controller.abort();
    controller = null;
    clearError();
    runButton.disabled = false;
    listBox.removeAttribute('aria-busy');
    if (!state.expr) {
      clearResults();
      placeholder.hidden = false;
      stats.textContent = '';
      return;
    }
    placeholder.hidden = true;
    controller = new AbortController();
    const { signal } = controller;
    const endMs = state.end ? state.end.getTime() : Date.now();
    const rangeSec = parseDuration(state.range);
    listBox.setAttribute('aria-busy', 'true');
    runButton.disabled = true;
    stats.textContent = 'Loading…';
    const t0 = performance.now();
    try {
      if (isLogQuery(state.expr)) await runLogQuery(signal, endMs, rangeSec, t0);
      else await runMetricQuery(signal, endMs, rangeSec, t0);
      if (resumeTail && !signal.aborted) startTail();
    } catch (err) {
      if (err.name === 'AbortError' || signal.aborted) return;
      stats.textContent = '';
      clearResults();
      showError(err.message);
    } finally {
      if (!signal.aborted) {
        listBox.removeAttribute('aria-busy');
        runButton.disabled = false;
      }
    }
  }

  async function runLogQuery(signal, endMs, rangeSec, t0) {
    // The volume buckets sit on a grid of their width, so that they stay put
    // from one run to the next.
    const step = volumeStep(rangeSec);
    const endSec = endMs / 1000;
    const n = Math.max(1, Math.ceil(rangeSec / step));
    const gridEnd = Math.ceil(endSec / step) * step;
    const gridStart = gridEnd - n * step;
    const vq = volumeQuery(state.expr, formatDuration(step));
    const [logs, vol] = await Promise.allSettled([
      lokiQueryRange({
        query: state.expr, start: nsFromMs(endMs - rangeSec * 1000), end: nsFromMs(endMs), limit: state.limit, direction: state.dir,
      }, { signal, categorize: true }),
      vq ? lokiQueryRange({
        query: vq.query, start: nsFromMs((gridStart + step) * 1000), end: nsFromMs(gridEnd * 1000), step,
      }, { signal }) : Promise.resolve(null),
    ]);
    if (signal.aborted) return;
    if (logs.status === 'rejected') throw logs.reason;
    const data = logs.value.data || {};
    if (data.resultType !== 'streams') throw new ApiError(`unexpected result type "${data.resultType}" for a log query`);
    const t1 = performance.now();
    const entries = entriesFromStreams(data.result, { direction: state.dir });
    rememberStreams(entries);
    if (graph) graph.clear();
    graphPanel.hidden = true;

    volumeBox.hidden = false;
    if (vol.status === 'fulfilled' && vol.value) {
      volume.render(vol.value.data.result, {
        start: gridStart, step, n,
        note: vq.partial ? 'The volume counts the lines the selector and the filters before the first parser keep.' : '',
      });
    } else {
      volume.clear();
      volume.note.textContent = `Volume unavailable: ${vol.reason ? vol.reason.message : 'not a log query'}`;
      volume.note.hidden = false;
    }

    list.set(entries);
    empty.hidden = entries.length > 0;
    empty.textContent = 'No lines match in this time range.';
    const limited = entries.length >= state.limit;
    listNote.hidden = !limited;
    listNote.textContent = limited
      ? `Showing the ${state.dir === 'forward' ? 'oldest' : 'newest'} ${formatCount(entries.length)} lines (the limit). ` +
        'Narrow the query, shorten the range or raise the limit to see others.'
      : '';
    const renderMs = Math.round(performance.now() - t1);
    stats.textContent = `Load time: ${Math.round(t1 - t0)} ms · Render: ${renderMs} ms · Lines: ${formatCount(entries.length)}`;
    stats.dataset.lines = String(entries.length);
  }

  async function runMetricQuery(signal, endMs, rangeSec, t0) {
    const endSec = endMs / 1000;
    const step = autoStep(rangeSec);
    const start = endSec - Math.floor(rangeSec / step) * step;
    const body = await lokiQueryRange({
      query: state.expr, start: nsFromMs(start * 1000), end: nsFromMs(endSec * 1000), step,
    }, { signal });
    if (signal.aborted) return;
    list.clear();
    volume.clear();
    volumeBox.hidden = true;
    listNote.hidden = true;
    empty.hidden = true;
    if (!graph) graph = new Graph(graphPanel);
    graphPanel.hidden = false;
    const data = body.data || {};
    graph.render(data, start, endSec, step);
    const n = Array.isArray(data.result) ? data.result.length : 0;
    stats.textContent = `Load time: ${Math.round(performance.now() - t0)} ms · Resolution: ${formatDuration(step)} · Result series: ${formatCount(n)}`;
  }

  function addFilter(category, name, value, parser) {
    let expr = input.value.trim() || state.expr;
    if (category === 'line') expr = addParser(expr, parser); // the field exists once the line is parsed
    if (expr === null) return;
    const next = category === 'stream' ? addStreamMatcher(expr, name, value) : addLabelFilter(expr, name, value);
    if (next === null) return;
    input.value = next;
    run({ push: true });
  }

  async function showContext(entry, box) {
    box.replaceChildren(el('p', { class: 'muted small', text: 'Loading surrounding lines…' }));
    const selector = streamSelector(entry.stream);
    const common = { query: selector, limit: CONTEXT_LINES + 1 };
    try {
      const [before, after] = await Promise.all([
        lokiQueryRange({
          ...common, limit: CONTEXT_LINES, direction: 'backward',
          start: addNs(entry.ns, -CONTEXT_WINDOW_NS), end: entry.ns,
        }, { categorize: true }),
        lokiQueryRange({
          ...common, direction: 'forward', start: entry.ns, end: addNs(entry.ns, CONTEXT_WINDOW_NS),
        }, { categorize: true }),
      ]);
      const older = entriesFromStreams(before.data.result, { direction: 'forward' });
      const newer = entriesFromStreams(after.data.result, { direction: 'forward' });
      let anchor = newer.findIndex((e) => e.ns === entry.ns && e.line === entry.line);
      if (anchor < 0) {
        newer.unshift(entry);
        anchor = 0;
      }
      const rows = [...older, ...newer];
      const anchorAt = older.length + anchor;
      box.replaceChildren(
        el('div', { class: 'context-head' },
          el('strong', { text: 'Surrounding lines' }),
          el('span', { class: 'muted small' }, ` ${formatCount(older.length)} before and ${formatCount(newer.length - anchor - 1)} after in `,
            el('code', { text: selector }))),
        el('ol', { class: 'context-list', 'data-testid': 'context-list' }, ...rows.map((e, i) => el('li', {
          class: `context-row${i === anchorAt ? ' anchor' : ''}`, 'data-testid': 'context-row',
          'aria-current': i === anchorAt ? 'true' : null,
        },
        el('span', { class: 'log-time-text', text: formatLogTime(e.ms) }),
        el('span', { class: `level-badge lvl-${levelClass(e.level)}`, text: e.level }),
        el('span', { class: 'log-line', text: e.line.length > ROW_MAX_CHARS ? `${e.line.slice(0, ROW_MAX_CHARS)}…` : e.line })))),
      );
      const current = box.querySelector('.context-row.anchor');
      if (current) current.scrollIntoView({ block: 'nearest' });
    } catch (err) {
      box.replaceChildren(el('div', { class: 'alert error', role: 'alert', text: `Cannot load surrounding lines: ${err.message}` }));
    }
  }

  function setTailUI(on) {
    tailButton.setAttribute('aria-pressed', String(on));
    tailButton.classList.toggle('live', on);
    tailButton.textContent = on ? 'Stop tail' : 'Live tail';
    tailStatus.hidden = !on;
  }

  function tailText() {
    if (!tail) return '';
    const what = tail.open ? 'Live' : 'Connecting…';
    return `${what} · ${formatCount(tail.count)} new ${tail.count === 1 ? 'line' : 'lines'}`;
  }

  function startTail() {
    stopTail();
    const expr = state.expr;
    if (!expr) return;
    if (!isLogQuery(expr)) {
      showError('Live tail needs a log query (a stream selector with an optional pipeline), not a metric query.');
      return;
    }
    clearError();
    // Continue from the newest line shown when that is recent, so that the
    // lines in between arrive first; otherwise from now.
    const nowMs = Date.now();
    const newest = list.newestNs();
    const start = newest && compareNs(newest, nsFromMs(nowMs - 3600 * 1000)) > 0 ? addNs(newest, 1) : nsFromMs(nowMs);
    const socket = new WebSocket(lokiTailURL({ query: expr, start, limit: TAIL_BATCH, delayFor: TAIL_DELAY_SECONDS }));
    const t = { socket, stopped: false, open: false, count: 0 };
    tail = t;
    setTailUI(true);
    tailStatus.textContent = tailText();
    placeholder.hidden = true;
    loki('labels', { start: nsFromMs(nowMs - 3600 * 1000), end: nsFromMs(nowMs) })
      .then((b) => { for (const n of b.data || []) if (n !== LEVEL_LABEL) streamNames.add(n); })
      .catch(() => {});
    socket.addEventListener('open', () => {
      t.open = true;
      if (tail === t) tailStatus.textContent = tailText();
    });
    socket.addEventListener('message', (ev) => {
      if (tail !== t) return;
      let msg;
      try {
        msg = JSON.parse(ev.data);
      } catch {
        return;
      }
      const entries = entriesFromStreams(msg.streams, { direction: 'forward', streamNames });
      if (entries.length === 0) return;
      t.count += entries.length;
      list.addLive(entries, state.dir === 'backward', TAIL_MAX_ROWS);
      empty.hidden = true;
      listNote.hidden = true;
      tailStatus.textContent = tailText();
    });
    socket.addEventListener('close', (ev) => {
      if (tail !== t) return;
      tail = null;
      setTailUI(false);
      if (!t.stopped) {
        showError(`Live tail stopped: ${ev.reason || `the connection closed (code ${ev.code})`}`);
      }
    });
  }

  function stopTail() {
    if (!tail) return;
    const t = tail;
    tail = null;
    t.stopped = true;
    t.socket.close(1000);
    setTailUI(false);
  }

  runButton.addEventListener('click', () => run({ push: true }));
  input.addEventListener('input', resizeInput);
  tailButton.addEventListener('click', () => {
    if (tail) {
      stopTail();
      return;
    }
    state.expr = input.value.trim();
    updateURL(true);
    startTail();
  });
  bindTimeRange({ rangeSelect, endInput, endNow }, () => state, syncControls, () => run({ push: true }));
  limitSelect.addEventListener('change', () => {
    state.limit = Number(limitSelect.value);
    run({ push: true });
  });
  orderSelect.addEventListener('change', () => {
    state.dir = orderSelect.value === 'forward' ? 'forward' : 'backward';
    run({ push: true });
  });

  syncControls();
  if (state.expr) run();
  else input.focus();

  return {
    unmount() {
      stopTail();
      if (controller) controller.abort();
      autocomplete.destroy();
      volume.destroy();
      if (graph) graph.destroy();
    },
    // update re-reads the URL after back/forward navigation.
    update() {
      state = readState();
      syncControls();
      run();
    },
  };
}
