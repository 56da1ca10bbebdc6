// Logic shared by the alerting pages (Alerts, Rules, Silences, Notifications):
// label matchers, the minimal markdown used in runbook annotations, merging
// Prometheus' alerts with Alertmanager's view of them, grouping and relative
// times. Everything except the render* functions is pure and unit-tested.

import { el, formatTime, parseDuration } from './format.js';

// ---------------------------------------------------------------------------
// Label matchers

/** OPERATORS are the four matcher operators, in the order the form offers them. */
export const OPERATORS = ['=', '!=', '=~', '!~'];

const plainLabelName = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** MatcherError is a matcher expression that cannot be parsed or compiled. */
export class MatcherError extends Error {
  constructor(message) {
    super(message);
    this.name = 'MatcherError';
  }
}

/**
 * formatMatcher writes one matcher the way Alertmanager's filter parameter
 * and amtool read it: name="value", with the value always double-quoted and
 * the name quoted only when it is not a classic label name.
 */
export function formatMatcher({ name, op, value }) {
  const n = plainLabelName.test(name) ? name : JSON.stringify(name);
  return `${n}${op}${JSON.stringify(String(value ?? ''))}`;
}

/** formatMatchers writes a matcher list as {a="b", c=~"d"}. */
export function formatMatchers(matchers) {
  return `{${matchers.map(formatMatcher).join(', ')}}`;
}

const escapes = { n: '\n', t: '\t', r: '\r', '\\': '\\', '"': '"', "'": "'" };

/**
 * parseMatchers reads a list of matchers such as `{alertname="X", severity=~"crit|warn"}`.
 * Braces are optional, values may be double- or single-quoted or bare
 * (`severity=warning`), and commas separate matchers. It returns
 * [{name, op, value}] and throws MatcherError with the position of the problem.
 */
export function parseMatchers(text) {
  const s = String(text ?? '');
  let i = 0;
  const out = [];
  const fail = (msg) => {
    throw new MatcherError(`${msg} at character ${i + 1}`);
  };
  const skipSpace = () => {
    while (i < s.length && /\s/.test(s[i])) i++;
  };
  const readQuoted = () => {
    const quote = s[i];
    const start = i;
    i++;
    let value = '';
    while (i < s.length && s[i] !== quote) {
      if (s[i] === '\\') {
        const next = s[i + 1];
        if (next === 'u' && /^[0-9a-fA-F]{4}$/.test(s.slice(i + 2, i + 6))) {
          value += String.fromCharCode(parseInt(s.slice(i + 2, i + 6), 16));
          i += 6;
          continue;
        }
        if (next === undefined || !(next in escapes)) fail(`unknown escape sequence "\\${next ?? ''}"`);
        value += escapes[next];
        i += 2;
        continue;
      }
      value += s[i];
      i++;
    }
    if (i >= s.length) {
      i = start;
      fail(`unterminated quoted string`);
    }
    i++; // closing quote
    return value;
  };

  skipSpace();
  let braced = false;
  if (s[i] === '{') {
    braced = true;
    i++;
  }
  for (;;) {
    skipSpace();
    if (i >= s.length) {
      if (braced) fail('missing closing "}"');
      break;
    }
    if (braced && s[i] === '}') {
      i++;
      skipSpace();
      if (i < s.length) fail('unexpected text after "}"');
      break;
    }
    let name;
    if (s[i] === '"' || s[i] === "'") {
      name = readQuoted();
    } else {
      const m = /^[^\s=!~,{}"']+/.exec(s.slice(i));
      if (!m) fail('expected a label name');
      name = m[0];
      i += name.length;
    }
    if (name === '') fail('empty label name');
    skipSpace();
    const op = ['=~', '!~', '!=', '='].find((o) => s.startsWith(o, i));
    if (!op) fail(`expected an operator (=, !=, =~ or !~) after "${name}"`);
    i += op.length;
    skipSpace();
    let value;
    if (s[i] === '"' || s[i] === "'") {
      value = readQuoted();
    } else {
      const m = /^[^,{}"']*/.exec(s.slice(i));
      value = m[0].trim();
      i += m[0].length;
      if (s[i] === '"' || s[i] === "'" || s[i] === '{') fail('unexpected quote or brace in an unquoted value');
    }
    out.push({ name, op, value });
    skipSpace();
    if (s[i] === ',') {
      i++;
      continue;
    }
    if (i >= s.length || (braced && s[i] === '}')) continue;
    fail('expected "," between matchers');
  }
  return out;
}

/** parseMatcher reads exactly one matcher. */
export function parseMatcher(text) {
  const ms = parseMatchers(text);
  if (ms.length !== 1) throw new MatcherError(`expected one matcher, got ${ms.length}`);
  return ms[0];
}

/**
 * compileMatchers turns matchers into a predicate over label sets. Regular
 * expressions are anchored at both ends like in Prometheus and Alertmanager;
 * a missing label matches as the empty string. Throws MatcherError for an
 * invalid regular expression.
 */
export function compileMatchers(matchers) {
  const tests = matchers.map(({ name, op, value }) => {
    if (!OPERATORS.includes(op)) throw new MatcherError(`unknown operator ${op}`);
    if (op === '=' || op === '!=') {
      const want = op === '=';
      return (labels) => ((labels[name] ?? '') === value) === want;
    }
    let re;
    try {
      re = new RegExp(`^(?:${value})$`, 's');
    } catch (err) {
      throw new MatcherError(`invalid regular expression for ${name}: ${err.message.replace(/^Invalid regular expression: /, '')}`);
    }
    const want = op === '=~';
    return (labels) => re.test(labels[name] ?? '') === want;
  });
  return (labels) => tests.every((t) => t(labels || {}));
}

/** toApiMatcher converts {name, op, value} to Alertmanager's {name, value, isRegex, isEqual}. */
export function toApiMatcher({ name, op, value }) {
  return { name, value, isRegex: op === '=~' || op === '!~', isEqual: op === '=' || op === '=~' };
}

/** fromApiMatcher converts Alertmanager's matcher object to {name, op, value}. */
export function fromApiMatcher(m) {
  const equal = m.isEqual !== false; // isEqual defaults to true in the API
  const op = m.isRegex ? (equal ? '=~' : '!~') : (equal ? '=' : '!=');
  return { name: m.name, op, value: m.value };
}

/** matchersFromLabels makes equality matchers for a label set, alertname first. */
export function matchersFromLabels(labels) {
  return sortedLabelPairs(labels).map(([name, value]) => ({ name, op: '=', value }));
}

/** sortedLabelPairs returns [name, value] pairs with alertname first, then by name. */
export function sortedLabelPairs(labels) {
  return Object.entries(labels || {}).sort(([a], [b]) => {
    if (a === b) return 0;
    if (a === 'alertname') return -1;
    if (b === 'alertname') return 1;
    return a < b ? -1 : 1;
  });
}

// ---------------------------------------------------------------------------
// Markdown (a small, safe subset for runbook annotations)

/**
 * safeUrl returns the normalised URL when text is an absolute http or https
 * URL, and null for anything else (javascript:, data:, relative paths).
 */
export function safeUrl(text) {
  if (typeof text !== 'string') return null;
  let url;
  try {
    url = new URL(text.trim());
  } catch {
    return null;
  }
  return url.protocol === 'http:' || url.protocol === 'https:' ? url.href : null;
}

const bareUrl = /https?:\/\/[^\s<>"'`()[\]]*[^\s<>"'`()[\].,;:!?]/y;

/**
 * parseInline splits text into inline nodes: {type: 'text', text},
 * {type: 'code', text}, {type: 'strong', children} and
 * {type: 'link', href, children}. Links whose target is not http(s) become
 * their text. Nothing is ever interpreted as HTML.
 */
export function parseInline(text, { links = true } = {}) {
  const nodes = [];
  const pushText = (t) => {
    if (t === '') return;
    const last = nodes[nodes.length - 1];
    if (last && last.type === 'text') last.text += t;
    else nodes.push({ type: 'text', text: t });
  };
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (c === '\\' && i + 1 < text.length && /[\\`*_[\]()#+\-.!<>]/.test(text[i + 1])) {
      pushText(text[i + 1]);
      i += 2;
      continue;
    }
    if (c === '`') {
      const end = text.indexOf('`', i + 1);
      if (end > i + 1) {
        nodes.push({ type: 'code', text: text.slice(i + 1, end) });
        i = end + 1;
        continue;
      }
    }
    if ((c === '*' || c === '_') && text[i + 1] === c && canOpenStrong(text, i)) {
      const end = findStrongClose(text, i + 2, c);
      if (end > i + 2) {
        nodes.push({ type: 'strong', children: parseInline(text.slice(i + 2, end), { links }) });
        i = end + 2;
        continue;
      }
    }
    if (c === '[' && links) {
      const close = findClosingBracket(text, i);
      if (close > i && text[close + 1] === '(') {
        const end = findClosingParen(text, close + 1);
        if (end > close + 1) {
          const label = text.slice(i + 1, close);
          const target = text.slice(close + 2, end).trim().split(/\s+/)[0] || '';
          const href = safeUrl(target);
          const children = parseInline(label, { links: false });
          if (href) nodes.push({ type: 'link', href, children });
          else children.forEach((n) => (n.type === 'text' ? pushText(n.text) : nodes.push(n)));
          i = end + 1;
          continue;
        }
      }
    }
    if (links && (c === 'h' || c === 'H')) {
      bareUrl.lastIndex = i;
      const m = bareUrl.exec(text);
      if (m && (i === 0 || /[\s(]/.test(text[i - 1]))) {
        const href = safeUrl(m[0]);
        if (href) {
          nodes.push({ type: 'link', href, children: [{ type: 'text', text: m[0] }] });
          i += m[0].length;
          continue;
        }
      }
    }
    pushText(c);
    i++;
  }
  return nodes;
}

const wordChar = /[\p{L}\p{N}_]/u;

// canOpenStrong: ** or __ at i starts bold when followed by a non-space;
// __ also needs no word character before it (snake_case__names stay text).
function canOpenStrong(text, i) {
  const next = text[i + 2];
  if (next === undefined || /\s/.test(next)) return false;
  return text[i] === '*' || i === 0 || !wordChar.test(text[i - 1]);
}

// findStrongClose finds the closing ** or __: preceded by a non-space, and
// for __ not followed by a word character.
function findStrongClose(text, from, c) {
  for (let end = text.indexOf(c + c, from); end !== -1; end = text.indexOf(c + c, end + 1)) {
    if (/\s/.test(text[end - 1])) continue;
    if (c === '_' && end + 2 < text.length && wordChar.test(text[end + 2])) continue;
    return end;
  }
  return -1;
}

function findClosingBracket(text, open) {
  let depth = 0;
  for (let i = open; i < text.length; i++) {
    if (text[i] === '\\') {
      i++;
      continue;
    }
    if (text[i] === '[') depth++;
    else if (text[i] === ']' && --depth === 0) return i;
  }
  return -1;
}

function findClosingParen(text, open) {
  let depth = 0;
  for (let i = open; i < text.length; i++) {
    if (text[i] === '(') depth++;
    else if (text[i] === ')' && --depth === 0) return i;
  }
  return -1;
}

const listItem = /^\s{0,3}([-*+]|\d{1,9}[.)])\s+(.*)$/;

/**
 * parseMarkdown splits text into blocks: {type: 'paragraph', children},
 * {type: 'heading', level, children}, {type: 'list', ordered, items: [children]}
 * and {type: 'codeblock', text} (``` fences). See parseInline for children.
 */
export function parseMarkdown(text) {
  const lines = String(text ?? '').replace(/\r\n?/g, '\n').split('\n');
  const blocks = [];
  let para = null; // lines of the open paragraph
  let list = null; // { ordered, items: [string] }
  const flush = () => {
    if (para) blocks.push({ type: 'paragraph', children: parseInline(para.join(' ')) });
    if (list) blocks.push({ type: 'list', ordered: list.ordered, items: list.items.map((t) => parseInline(t)) });
    para = null;
    list = null;
  };
  for (let n = 0; n < lines.length; n++) {
    const line = lines[n];
    const fence = /^\s{0,3}(```|~~~)/.exec(line);
    if (fence) {
      flush();
      const body = [];
      n++;
      while (n < lines.length && !lines[n].trimStart().startsWith(fence[1])) body.push(lines[n++]);
      blocks.push({ type: 'codeblock', text: body.join('\n') });
      continue;
    }
    if (line.trim() === '') {
      flush();
      continue;
    }
    const heading = /^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$/.exec(line);
    if (heading) {
      flush();
      blocks.push({ type: 'heading', level: heading[1].length, children: parseInline(heading[2]) });
      continue;
    }
    const item = listItem.exec(line);
    if (item) {
      const ordered = /\d/.test(item[1]);
      if (para || (list && list.ordered !== ordered)) flush();
      if (!list) list = { ordered, items: [] };
      list.items.push(item[2]);
      continue;
    }
    if (list && /^\s/.test(line)) {
      list.items[list.items.length - 1] += ` ${line.trim()}`;
      continue;
    }
    if (list) flush();
    if (!para) para = [];
    para.push(line.trim());
  }
  flush();
  return blocks;
}

function renderInline(nodes) {
  return nodes.map((n) => {
    switch (n.type) {
      case 'code': return el('code', { text: n.text });
      case 'strong': return el('strong', {}, renderInline(n.children));
      case 'link': return el('a', { href: n.href, target: '_blank', rel: 'noopener noreferrer nofollow' }, renderInline(n.children));
      default: return document.createTextNode(n.text);
    }
  });
}

/**
 * renderMarkdown builds DOM nodes for text with parseMarkdown. Text only
 * ever becomes text nodes, so HTML in the input shows as typed.
 */
export function renderMarkdown(text, attrs = {}) {
  const root = el('div', { ...attrs, class: `markdown${attrs.class ? ` ${attrs.class}` : ''}` });
  for (const b of parseMarkdown(text)) {
    if (b.type === 'paragraph') root.append(el('p', {}, renderInline(b.children)));
    else if (b.type === 'heading') root.append(el('p', { class: `md-heading md-h${b.level}` }, el('strong', {}, renderInline(b.children))));
    else if (b.type === 'codeblock') root.append(el('pre', {}, el('code', { text: b.text })));
    else if (b.type === 'list') root.append(el(b.ordered ? 'ol' : 'ul', {}, b.items.map((item) => el('li', {}, renderInline(item)))));
  }
  return root;
}

// ---------------------------------------------------------------------------
// Alerts: merging the two APIs, states and grouping

/** labelsKey is a canonical string for a label set. */
export function labelsKey(labels) {
  return JSON.stringify(Object.entries(labels || {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

function isSubset(small, big) {
  return Object.entries(small || {}).every(([k, v]) => big && big[k] === v);
}

/**
 * amState maps an Alertmanager alert status to the state the UI shows:
 * firing, silenced, inhibited or muted (by a time interval).
 */
export function amState(status) {
  if (!status || status.state !== 'suppressed') return 'firing';
  if ((status.silencedBy || []).length > 0) return 'silenced';
  if ((status.inhibitedBy || []).length > 0) return 'inhibited';
  if ((status.mutedBy || []).length > 0) return 'muted';
  return 'silenced';
}

/**
 * mergeAlerts combines Prometheus' /api/v1/alerts (firing and pending, with
 * value and activeAt) with Alertmanager's /api/v2/alerts/groups (receivers,
 * silenced and inhibited state). Alerts that only Alertmanager knows (sent by
 * other clients) are kept too. Each result is
 * {key, labels, annotations, state, activeAt, value, receivers, groups,
 *  silencedBy, inhibitedBy, fingerprint, source}.
 */
export function mergeAlerts(promAlerts, amGroups) {
  const am = new Map(); // labelsKey -> { alert, groups }
  for (const g of amGroups || []) {
    for (const a of g.alerts || []) {
      const key = labelsKey(a.labels);
      if (!am.has(key)) am.set(key, { alert: a, groups: [], used: false });
      am.get(key).groups.push({ receiver: (g.receiver && g.receiver.name) || '', labels: g.labels || {} });
    }
  }
  const entries = [...am.values()];
  const out = [];
  const fromAM = (entry) => ({
    receivers: [...new Set([...entry.groups.map((g) => g.receiver), ...(entry.alert.receivers || []).map((r) => r.name)])].filter(Boolean),
    groups: entry.groups,
    silencedBy: (entry.alert.status && entry.alert.status.silencedBy) || [],
    inhibitedBy: (entry.alert.status && entry.alert.status.inhibitedBy) || [],
    fingerprint: entry.alert.fingerprint || '',
  });
  for (const p of promAlerts || []) {
    const key = labelsKey(p.labels);
    let entry = null;
    if (p.state !== 'pending') {
      entry = am.get(key) || null;
      // Alertmanager's copy may carry external labels on top.
      if (!entry) entry = entries.find((e) => !e.used && isSubset(p.labels, e.alert.labels)) || null;
    }
    if (entry) entry.used = true;
    out.push({
      key,
      labels: p.labels || {},
      annotations: p.annotations || {},
      state: p.state === 'pending' ? 'pending' : entry ? amState(entry.alert.status) : 'firing',
      activeAt: p.activeAt || '',
      value: p.value ?? null,
      source: 'prometheus',
      ...(entry ? fromAM(entry) : { receivers: [], groups: [], silencedBy: [], inhibitedBy: [], fingerprint: '' }),
    });
  }
  for (const entry of entries) {
    if (entry.used) continue;
    out.push({
      key: labelsKey(entry.alert.labels),
      labels: entry.alert.labels || {},
      annotations: entry.alert.annotations || {},
      state: amState(entry.alert.status),
      activeAt: entry.alert.startsAt || '',
      value: null,
      source: 'alertmanager',
      ...fromAM(entry),
    });
  }
  return out;
}

/** GROUP_BY_AM groups alerts the way Alertmanager's routes group them. */
export const GROUP_BY_AM = '@alertmanager';
/** GROUP_BY_NONE puts all alerts in one list. */
export const GROUP_BY_NONE = '@none';

const stateOrder = ['firing', 'pending', 'inhibited', 'muted', 'silenced'];

/** compareAlerts orders alerts by state (firing first), then by labels. */
export function compareAlerts(a, b) {
  const s = stateOrder.indexOf(a.state) - stateOrder.indexOf(b.state);
  if (s !== 0) return s;
  return a.key < b.key ? -1 : a.key > b.key ? 1 : 0;
}

/**
 * groupAlerts groups merged alerts. by is a label name (alertname by
 * default), GROUP_BY_AM for Alertmanager's groups (an alert routed to two
 * receivers is in both; alerts Alertmanager does not have go in a group with
 * receiver null) or GROUP_BY_NONE. Returns [{id, title, labels, receivers,
 * alerts, counts}] sorted by title, the alerts inside sorted by compareAlerts.
 */
export function groupAlerts(alerts, by = 'alertname') {
  const groups = new Map();
  const add = (id, init, alert) => {
    if (!groups.has(id)) groups.set(id, { id, ...init, alerts: [] });
    groups.get(id).alerts.push(alert);
  };
  for (const a of alerts) {
    if (by === GROUP_BY_NONE) {
      add('all', { title: 'All alerts', labels: {}, receivers: null }, a);
    } else if (by === GROUP_BY_AM) {
      if (a.groups.length === 0) {
        add('\u0000none', { title: 'Not in Alertmanager', labels: {}, receivers: null }, a);
        continue;
      }
      for (const g of a.groups) {
        const title = Object.keys(g.labels).length ? formatLabelSet(g.labels) : '{}';
        add(`${g.receiver}\u0000${labelsKey(g.labels)}`, { title, labels: g.labels, receivers: [g.receiver] }, a);
      }
    } else {
      const value = (a.labels || {})[by] ?? '';
      add(value, { title: value === '' ? `(no ${by})` : value, labels: value === '' ? {} : { [by]: value }, receivers: [] }, a);
    }
  }
  const out = [...groups.values()];
  for (const g of out) {
    g.alerts.sort(compareAlerts);
    if (by !== GROUP_BY_AM && by !== GROUP_BY_NONE) {
      g.receivers = [...new Set(g.alerts.flatMap((a) => a.receivers))].sort();
    }
    g.counts = {};
    for (const a of g.alerts) g.counts[a.state] = (g.counts[a.state] || 0) + 1;
  }
  const cmp = (x, y) => (x < y ? -1 : x > y ? 1 : 0);
  return out.sort((a, b) => {
    if (a.id === '\u0000none' || b.id === '\u0000none') return a.id === '\u0000none' ? 1 : -1;
    return (by === GROUP_BY_AM ? cmp(a.receivers[0], b.receivers[0]) : 0) || cmp(a.title, b.title) || cmp(a.id, b.id);
  });
}

/** formatLabelSet writes labels as {a="b", c="d"} with alertname first. */
export function formatLabelSet(labels) {
  return `{${sortedLabelPairs(labels).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(', ')}}`;
}

// ---------------------------------------------------------------------------
// Times

const roughUnits = [['y', 365 * 86400], ['d', 86400], ['h', 3600], ['m', 60], ['s', 1]];

/**
 * roughDuration prints seconds with the two largest non-zero units:
 * "45s", "3m 12s", "2h 5m", "4d 3h". Under a second it prints "<1s".
 */
export function roughDuration(seconds, parts = 2) {
  if (!Number.isFinite(seconds)) return '';
  let rest = Math.floor(Math.abs(seconds));
  if (rest === 0) return '<1s';
  const out = [];
  for (const [unit, size] of roughUnits) {
    if (out.length === parts) break;
    const n = Math.floor(rest / size);
    if (n > 0 || out.length > 0) {
      if (n > 0) out.push(`${n}${unit}`);
      else out.push(null);
      rest -= n * size;
    }
  }
  return out.filter(Boolean).join(' ');
}

/** toMillis reads an RFC 3339 string, a Date or milliseconds; NaN when absent or zero-time. */
export function toMillis(value) {
  if (value instanceof Date) return value.getTime();
  if (typeof value === 'number') return value;
  const t = Date.parse(value);
  return Number.isFinite(t) && t > 0 ? t : NaN;
}

/** relativeTime prints "3m 12s ago", "in 2h", or "just now" within a second. */
export function relativeTime(value, now = Date.now()) {
  const t = toMillis(value);
  if (!Number.isFinite(t)) return 'never';
  const seconds = (t - now) / 1000;
  if (Math.abs(seconds) < 1) return 'just now';
  const d = roughDuration(seconds);
  return seconds < 0 ? `${d} ago` : `in ${d}`;
}

/** absoluteTime prints a timestamp as local date and time to the second. */
export function absoluteTime(value) {
  const t = toMillis(value);
  if (!Number.isFinite(t)) return '';
  return formatTime(Math.floor(t / 1000));
}

/** timeNode shows a relative time with the absolute time next to it and in its title. */
export function timeNode(value, { now = Date.now(), absolute = true } = {}) {
  const t = toMillis(value);
  if (!Number.isFinite(t)) return el('span', { class: 'muted', text: 'never' });
  const abs = absoluteTime(t);
  const iso = new Date(t).toISOString();
  return el('span', { class: 'when' },
    el('time', { datetime: iso, title: `${abs} (${iso})`, text: relativeTime(t, now) }),
    absolute ? el('span', { class: 'when-abs', text: abs }) : null);
}

// ---------------------------------------------------------------------------
// Silences

/**
 * toDateTimeLocal formats milliseconds for an <input type="datetime-local">
 * in local time, to the minute.
 */
export function toDateTimeLocal(ms) {
  const d = new Date(ms);
  const pad = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/**
 * silenceState classifies a silence by its times the way Alertmanager does,
 * for silences whose status is missing.
 */
export function silenceState(silence, now = Date.now()) {
  if (silence.status && silence.status.state) return silence.status.state;
  const start = toMillis(silence.startsAt);
  const end = toMillis(silence.endsAt);
  if (end <= now) return 'expired';
  if (start > now) return 'pending';
  return 'active';
}

/**
 * sortSilences orders silences for display: active ones ending soonest first,
 * pending ones starting soonest first, expired ones most recently ended first.
 */
export function sortSilences(silences, now = Date.now()) {
  const by = { active: [], pending: [], expired: [] };
  for (const s of silences) (by[silenceState(s, now)] || by.expired).push(s);
  by.active.sort((a, b) => toMillis(a.endsAt) - toMillis(b.endsAt));
  by.pending.sort((a, b) => toMillis(a.startsAt) - toMillis(b.startsAt));
  by.expired.sort((a, b) => toMillis(b.endsAt) - toMillis(a.endsAt));
  return by;
}

/** FormError is a problem with one field of the silence form. */
export class FormError extends Error {
  constructor(field, message) {
    super(message);
    this.name = 'FormError';
    this.field = field;
  }
}

/**
 * buildSilence turns the silence form's values into the body of
 * POST /api/v2/silences. form is {matchers: [{name, op, value}], startsAt,
 * endsAt (datetime-local strings; an empty start means now), duration
 * (e.g. "2h"), useEnd (take endsAt rather than the duration), createdBy,
 * comment}. Rows with neither name nor value are skipped. It throws
 * FormError for what cannot be sent; whether the end is after the start
 * is left to the API, which says so itself.
 */
export function buildSilence(form, now = Date.now()) {
  const matchers = [];
  for (const m of form.matchers || []) {
    const name = (m.name || '').trim();
    if (name === '' && (m.value || '') === '') continue;
    if (name === '') throw new FormError('matchers', 'a matcher has a value but no label name');
    if (!OPERATORS.includes(m.op)) throw new FormError('matchers', `unknown operator ${m.op}`);
    matchers.push(toApiMatcher({ name, op: m.op, value: m.value || '' }));
  }
  if (matchers.length === 0) throw new FormError('matchers', 'add at least one matcher');
  let start = now;
  if (form.startsAt) {
    start = Date.parse(form.startsAt);
    if (!Number.isFinite(start)) throw new FormError('startsAt', `invalid start time "${form.startsAt}"`);
  }
  let end;
  if (form.useEnd) {
    end = Date.parse(form.endsAt || '');
    if (!Number.isFinite(end)) throw new FormError('endsAt', 'enter an end time');
  } else {
    const seconds = parseDuration(form.duration || '');
    if (!Number.isFinite(seconds) || seconds <= 0) {
      throw new FormError('duration', `invalid duration "${form.duration || ''}"; use e.g. 30m, 2h or 1d12h`);
    }
    end = start + seconds * 1000;
  }
  return {
    matchers,
    startsAt: new Date(start).toISOString(),
    endsAt: new Date(end).toISOString(),
    createdBy: (form.createdBy || '').trim(),
    comment: (form.comment || '').trim(),
  };
}

// ---------------------------------------------------------------------------
// Small DOM helpers shared by the pages

/** labelChips shows a label set as name="value" chips, alertname first. */
export function labelChips(labels, attrs = {}) {
  return el('div', { class: 'chips', ...attrs }, ...sortedLabelPairs(labels).map(([k, v]) =>
    el('span', { class: 'chip', title: `${k}=${JSON.stringify(v)}` },
      el('span', { class: 'label-name', text: k }), '=', el('span', { class: 'label-value', text: JSON.stringify(v) }))));
}

/** matcherChips shows matchers ({name, op, value}) as chips. */
export function matcherChips(matchers, attrs = {}) {
  return el('div', { class: 'chips', ...attrs }, ...matchers.map((m) =>
    el('span', { class: 'chip', 'data-testid': 'matcher', title: formatMatcher(m) },
      el('span', { class: 'label-name', text: m.name }),
      el('span', { class: 'op', text: m.op }),
      el('span', { class: 'label-value', text: JSON.stringify(m.value) }))));
}

/** stateBadge shows an alert, rule or silence state. */
export function stateBadge(state, attrs = {}) {
  const s = String(state || 'unknown');
  return el('span', { class: `badge badge-${s.replace(/[^a-z]/g, '')}`, ...attrs, text: s });
}
