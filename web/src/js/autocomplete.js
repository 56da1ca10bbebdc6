// PromQL autocomplete for the query editor: metric names, functions,
// and label names and values inside {...} selectors.

import { get } from './api.js';
import { el } from './format.js';

const MAX_ITEMS = 50;
// Label look-ups only consider recent data; all-time look-ups can be slow
// on a large store and rarely help while typing.
const LOOKBACK_SECONDS = 12 * 3600;
const CACHE_TTL_MS = 60 * 1000;

const aggregations = [
  'sum', 'min', 'max', 'avg', 'group', 'stddev', 'stdvar', 'count', 'count_values',
  'bottomk', 'topk', 'quantile', 'limitk', 'limit_ratio',
];

const functions = [
  'abs', 'absent', 'absent_over_time', 'acos', 'acosh', 'asin', 'asinh', 'atan', 'atanh',
  'avg_over_time', 'ceil', 'changes', 'clamp', 'clamp_max', 'clamp_min', 'cos', 'cosh',
  'count_over_time', 'day_of_month', 'day_of_week', 'day_of_year', 'days_in_month', 'deg',
  'delta', 'deriv', 'double_exponential_smoothing', 'exp', 'floor', 'histogram_avg',
  'histogram_count', 'histogram_fraction', 'histogram_quantile', 'histogram_stddev',
  'histogram_stdvar', 'histogram_sum', 'hour', 'idelta', 'increase', 'irate', 'label_join',
  'label_replace', 'last_over_time', 'ln', 'log10', 'log2', 'mad_over_time', 'max_over_time',
  'min_over_time', 'minute', 'month', 'pi', 'predict_linear', 'present_over_time',
  'quantile_over_time', 'rad', 'rate', 'resets', 'round', 'scalar', 'sgn', 'sin', 'sinh',
  'sort', 'sort_by_label', 'sort_by_label_desc', 'sort_desc', 'sqrt', 'stddev_over_time',
  'stdvar_over_time', 'sum_over_time', 'tan', 'tanh', 'time', 'timestamp', 'vector', 'year',
];

const keywords = ['by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'offset', 'bool', 'and', 'or', 'unless'];

const identTail = /[a-zA-Z0-9_:]*/y;

/**
 * analyze works out what kind of token the caret is in. It returns null when
 * nothing should be suggested, or {kind, prefix, from, to, ...}, where
 * from/to is the text range a suggestion replaces.
 */
export function analyze(text, caret) {
  const before = text.slice(0, caret);
  const braces = []; // offsets of unclosed '{'
  let quote = null;
  let quoteStart = -1;
  let inBracket = false;
  for (let i = 0; i < before.length; i++) {
    const ch = before[i];
    if (quote) {
      if (ch === '\\' && quote !== '`') i++;
      else if (ch === quote) quote = null;
      continue;
    }
    if (ch === '#') {
      const nl = before.indexOf('\n', i);
      if (nl < 0) return null; // caret is inside a comment
      i = nl;
    } else if (ch === '"' || ch === "'" || ch === '`') {
      quote = ch;
      quoteStart = i;
    } else if (ch === '{') braces.push(i);
    else if (ch === '}') braces.pop();
    else if (ch === '[') inBracket = true;
    else if (ch === ']') inBracket = false;
  }

  identTail.lastIndex = caret;
  const after = identTail.exec(text);
  const to = caret + (after ? after[0].length : 0);

  if (braces.length > 0) {
    const open = braces[braces.length - 1];
    const metric = (before.slice(0, open).match(/([a-zA-Z_:][a-zA-Z0-9_:]*)\s*$/) || [])[1] || '';
    const inside = before.slice(open + 1);
    const used = [...inside.matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)\s*(?:=~|!~|!=|=)/g)].map((m) => m[1]);
    if (quote) {
      const op = before.slice(0, quoteStart).match(/([a-zA-Z_][a-zA-Z0-9_]*)\s*(?:=~|!~|!=|=)\s*$/);
      if (!op) return null;
      // Replace up to and including an existing closing quote; without
      // one, replace only what was typed so far.
      const close = findQuoteEnd(text, caret, quote);
      return {
        kind: 'labelValue', label: op[1], metric, prefix: before.slice(quoteStart + 1),
        from: quoteStart + 1, to: close < 0 ? caret : close + 1, quote,
      };
    }
    const eq = inside.match(/([a-zA-Z_][a-zA-Z0-9_]*)\s*(?:=~|!~|!=|=)\s*$/);
    if (eq) {
      return { kind: 'labelValue', label: eq[1], metric, prefix: '', from: caret, to: caret, quote: '"', openQuote: true };
    }
    const name = inside.match(/(?:^|,)\s*([a-zA-Z_][a-zA-Z0-9_]*)?$/);
    if (!name) return null;
    const prefix = name[1] || '';
    return { kind: 'labelName', metric, used, prefix, from: caret - prefix.length, to };
  }
  if (quote || inBracket) return null;

  const grouping = before.match(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\(([^()]*)$/);
  if (grouping) {
    const name = grouping[1].match(/(?:^|,)\s*([a-zA-Z_][a-zA-Z0-9_]*)?$/);
    if (!name) return null;
    const prefix = name[1] || '';
    return { kind: 'labelName', metric: '', used: [], prefix, from: caret - prefix.length, to };
  }

  const word = before.match(/[a-zA-Z_:][a-zA-Z0-9_:]*$/);
  if (!word) return null;
  const from = caret - word[0].length;
  // "5m" in "offset 5m" or "1e3" is a number, not a name.
  if (from > 0 && /[0-9.]/.test(before[from - 1])) return null;
  return { kind: 'metric', prefix: word[0], from, to };
}

// findQuoteEnd returns the offset of the quote that closes the string the
// caret is in, or -1 when the string is not closed on this line.
function findQuoteEnd(text, pos, quote) {
  for (let i = pos; i < text.length; i++) {
    if (text[i] === '\\' && quote !== '`') i++;
    else if (text[i] === quote) return i;
    else if (text[i] === '\n') return -1;
  }
  return -1;
}

/** rank filters candidates by prefix (first) and substring (second), case-insensitively. */
export function rank(candidates, prefix, limit = MAX_ITEMS) {
  const p = prefix.toLowerCase();
  const starts = [];
  const contains = [];
  for (const c of candidates) {
    const t = c.text.toLowerCase();
    if (t.startsWith(p)) starts.push(c);
    else if (p && t.includes(p)) contains.push(c);
    if (starts.length >= limit) break;
  }
  return starts.concat(contains).slice(0, limit);
}

function escapeValue(value, quote) {
  if (quote === '`') return value;
  return value.replace(/\\/g, '\\\\').replace(new RegExp(quote, 'g'), `\\${quote}`).replace(/\n/g, '\\n');
}

/**
 * Autocomplete wires suggestions to a textarea. onRun is called when Enter
 * (without an active suggestion) or Ctrl+Enter is pressed.
 */
export class Autocomplete {
  constructor(textarea, list, { onRun }) {
    this.textarea = textarea;
    this.list = list;
    this.onRun = onRun;
    this.items = [];
    this.active = -1;
    this.context = null;
    this.seq = 0;
    this.suppress = false;
    this.cache = new Map(); // key -> {at, promise}
    this.metricNames = null;

    this.onInput = () => {
      if (this.suppress) {
        this.suppress = false;
        return;
      }
      this.update();
    };
    this.onKeyDown = (e) => this.keydown(e);
    this.onBlur = () => this.close();
    this.onClickCaret = () => { if (this.isOpen()) this.update(); };
    textarea.addEventListener('input', this.onInput);
    textarea.addEventListener('keydown', this.onKeyDown);
    textarea.addEventListener('blur', this.onBlur);
    textarea.addEventListener('click', this.onClickCaret);
    // Keep focus in the editor when an item is clicked.
    list.addEventListener('mousedown', (e) => e.preventDefault());
    list.addEventListener('click', (e) => {
      const li = e.target.closest('li[data-index]');
      if (li) this.accept(Number(li.dataset.index));
    });
  }

  destroy() {
    this.seq++;
    this.textarea.removeEventListener('input', this.onInput);
    this.textarea.removeEventListener('keydown', this.onKeyDown);
    this.textarea.removeEventListener('blur', this.onBlur);
    this.textarea.removeEventListener('click', this.onClickCaret);
  }

  isOpen() {
    return !this.list.hidden;
  }

  keydown(e) {
    if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) {
      e.preventDefault();
      this.close();
      this.onRun();
      return;
    }
    if (e.key === ' ' && e.ctrlKey) {
      e.preventDefault();
      this.update();
      return;
    }
    if (this.isOpen()) {
      if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
        e.preventDefault();
        const n = this.items.length;
        this.setActive(e.key === 'ArrowDown' ? (this.active + 1) % n : (this.active - 1 + n) % n);
        return;
      }
      if (e.key === 'Tab' && !e.shiftKey) {
        e.preventDefault();
        this.accept(this.active >= 0 ? this.active : 0);
        return;
      }
      if (e.key === 'Enter' && !e.shiftKey && this.active >= 0) {
        e.preventDefault();
        this.accept(this.active);
        return;
      }
      if (e.key === 'Escape') {
        e.preventDefault();
        this.close();
        return;
      }
    }
    if (e.key === 'Enter' && !e.shiftKey) {
      e.preventDefault();
      this.close();
      this.onRun();
    }
  }

  async update() {
    const seq = ++this.seq;
    const { value, selectionStart, selectionEnd } = this.textarea;
    if (selectionStart !== selectionEnd) return this.close();
    const ctx = this.analyze(value, selectionStart);
    if (!ctx) return this.close();
    let candidates;
    try {
      candidates = await this.candidates(ctx);
    } catch {
      candidates = [];
    }
    if (seq !== this.seq || document.activeElement !== this.textarea) return;
    let items = rank(candidates, ctx.prefix);
    if (items.length === 1 && items[0].text === ctx.prefix && ctx.kind !== 'labelValue') items = [];
    this.context = ctx;
    this.show(items);
  }

  /** analyze finds the completion context at the caret; the log explorer overrides it for LogQL. */
  analyze(text, caret) {
    return analyze(text, caret);
  }

  async candidates(ctx) {
    if (ctx.kind === 'metric') {
      const names = (await this.metricNameList()).map((text) => ({ text, kind: 'metric' }));
      const fns = functions.map((text) => ({ text, kind: 'function', insert: `${text}(` }));
      const aggs = aggregations.map((text) => ({ text, kind: 'aggregation', insert: `${text}(` }));
      const kws = keywords.map((text) => ({ text, kind: 'keyword' }));
      return names.concat(aggs, fns, kws);
    }
    const match = ctx.metric ? [ctx.metric] : undefined;
    if (ctx.kind === 'labelName') {
      const names = await this.cached(`labels|${ctx.metric}`, () => get('labels', this.window({ 'match[]': match })));
      const used = new Set(ctx.used);
      return names.filter((n) => !used.has(n) && n !== '__name__').map((text) => ({ text, kind: 'label' }));
    }
    const values = await this.cached(`values|${ctx.label}|${ctx.metric}`,
      () => get(`label/${encodeURIComponent(ctx.label)}/values`, this.window({ 'match[]': match })));
    return values.map((text) => ({ text, kind: 'value' }));
  }

  window(params) {
    const now = Date.now() / 1000;
    return { ...params, start: Math.floor(now - LOOKBACK_SECONDS), end: Math.ceil(now) };
  }

  metricNameList() {
    return this.cached('__name__', () => get('label/__name__/values', this.window({})));
  }

  /** prefetch loads metric names early so the first keystrokes have suggestions. */
  prefetch() {
    this.metricNameList().catch(() => {});
  }

  cached(key, load) {
    const hit = this.cache.get(key);
    if (hit && Date.now() - hit.at < CACHE_TTL_MS) return hit.promise;
    const promise = load().then((v) => v || []);
    promise.catch(() => this.cache.delete(key));
    this.cache.set(key, { at: Date.now(), promise });
    return promise;
  }

  show(items) {
    this.items = items;
    this.active = -1;
    if (items.length === 0) return this.close();
    const prefixLen = this.context.prefix.length;
    const frag = document.createDocumentFragment();
    items.forEach((item, i) => {
      const starts = item.text.toLowerCase().startsWith(this.context.prefix.toLowerCase());
      frag.append(el('li', {
        id: `autocomplete-item-${i}`,
        role: 'option',
        'aria-selected': 'false',
        'data-index': i,
        'data-testid': 'autocomplete-item',
        class: 'ac-item',
      },
      el('span', { class: 'ac-text' },
        starts && prefixLen ? el('mark', { text: item.text.slice(0, prefixLen) }) : null,
        starts && prefixLen ? item.text.slice(prefixLen) : item.text),
      el('span', { class: `ac-kind ac-${item.kind}`, text: item.kind }),
      ));
    });
    this.list.replaceChildren(frag);
    this.list.hidden = false;
    this.textarea.removeAttribute('aria-activedescendant');
  }

  setActive(i) {
    const prev = this.list.children[this.active];
    if (prev) prev.setAttribute('aria-selected', 'false');
    this.active = i;
    const cur = this.list.children[i];
    if (cur) {
      cur.setAttribute('aria-selected', 'true');
      cur.scrollIntoView({ block: 'nearest' });
      this.textarea.setAttribute('aria-activedescendant', cur.id);
    }
  }

  close() {
    this.seq++;
    this.items = [];
    this.active = -1;
    this.list.hidden = true;
    this.list.replaceChildren();
    this.textarea.removeAttribute('aria-activedescendant');
  }

  accept(i) {
    const item = this.items[i];
    const ctx = this.context;
    if (!item || !ctx) return;
    let text = item.insert || item.text;
    if (ctx.kind === 'labelValue') {
      text = (ctx.openQuote ? ctx.quote : '') + escapeValue(item.text, ctx.quote) + ctx.quote;
    }
    const to = ctx.to;
    this.close();
    this.suppress = true;
    const ta = this.textarea;
    ta.focus();
    ta.setSelectionRange(ctx.from, to);
    // execCommand keeps the browser's undo history; setRangeText is the fallback.
    if (!document.execCommand('insertText', false, text)) {
      ta.setRangeText(text, ctx.from, to, 'end');
      ta.dispatchEvent(new Event('input', { bubbles: true }));
    }
    this.suppress = false;
  }
}
